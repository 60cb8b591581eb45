import * as z from 'zod/mini';
import { InvalidParameterError } from '../core/errors';
import { isRecord } from '../core/records';
import { integerIn, onFirstUse, parseOrRefuse } from '../core/schema';
import { decodeEvent, isTimerEvent, parseJson } from '../fc/events';
import { idSchema } from '../outboundbot/ids';

/** How the run was started: a timer trigger, or a direct (`s invoke`) invocation with the same object. */
type CleanupTrigger = 'timer' | 'invoke';

/** The most a run takes on: the bound of MaxWithdrawals, and the cap when the request sets none. */
export const MAX_WITHDRAWALS_PER_RUN = 10_000;
/** A year: anything longer is a typo (seconds or milliseconds meant as minutes). */
const MAX_OLDER_THAN_MINUTES = 525_600;
const FIELDS = 'InstanceId, OlderThanMinutes, DryRun, MaxWithdrawals';

/**
 * What one cleanup run is asked to do: the timer trigger's payload (DESIGN.md §2). Strict: a
 * misspelt optional field (`MaxWithdrawal`) would otherwise be dropped silently and the run
 * would withdraw without the cap the operator asked for.
 */
export const cleanupPayloadSchema = onFirstUse(() =>
  z.strictObject(
    {
      InstanceId: idSchema(),
      /** Reviews whose script was last updated longer ago than this are withdrawn. */
      OlderThanMinutes: integerIn(1, MAX_OLDER_THAN_MINUTES),
      /** List what would be withdrawn; withdraw nothing. */
      DryRun: z._default(z.boolean({ error: 'must be true or false' }), false),
      /** Caps one run; the oldest go first and the rest wait for the next run. */
      MaxWithdrawals: z.optional(integerIn(1, MAX_WITHDRAWALS_PER_RUN)),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `is not a known field (${FIELDS})` : undefined) },
  ),
);

export type CleanupRequest = z.output<ReturnType<typeof cleanupPayloadSchema>>;

function parsePayloadText(text: string): unknown {
  if (text.trim() === '') {
    throw new InvalidParameterError([{ Path: 'payload', Message: 'is empty; the timer trigger needs e.g. {"InstanceId":"…","OlderThanMinutes":1440}' }]);
  }
  return parseJson(text, 'payload');
}

/**
 * Reads the timer envelope (`payload` holds the request as JSON text) or the request
 * object itself (direct invocation, `s invoke`).
 * @throws InvalidParameterError naming each bad field; retrying the same event cannot fix it.
 */
export function parseCleanupRequest(event: unknown): { trigger: CleanupTrigger; request: CleanupRequest } {
  const decoded = decodeEvent(event);
  if (!isRecord(decoded)) {
    throw new InvalidParameterError([{ Path: 'event', Message: 'must be a timer event or a JSON object with InstanceId and OlderThanMinutes' }]);
  }
  const trigger: CleanupTrigger = isTimerEvent(decoded) ? 'timer' : 'invoke';
  let request: unknown = decoded;
  let prefix = '';
  if (trigger === 'timer') {
    prefix = 'payload';
    request = typeof decoded.payload === 'string' ? parsePayloadText(decoded.payload) : decoded.payload;
  }
  if (!isRecord(request)) throw new InvalidParameterError([{ Path: prefix || 'event', Message: 'must be a JSON object' }]);
  return { trigger, request: parseOrRefuse(cleanupPayloadSchema(), request, (issues) => new InvalidParameterError(issues), prefix) };
}
