import * as z from 'zod/mini';
import { InvalidParameterError } from '../core/errors';
import { isRecord } from '../core/records';
import { zodIssues } from '../core/zod-issues';
import { decodeEvent, isTimerEvent, parseJson } from '../fc/events';
import { idSchema } from '../outboundbot/ids';

/** How the run was started: a timer trigger, or a direct (`s invoke`) invocation with the same object. */
type CleanupTrigger = 'timer' | 'invoke';

/** What one cleanup run is asked to do: the timer trigger's payload (DESIGN.md §2). */
export interface CleanupRequest {
  InstanceId: string;
  /** Reviews whose script was last updated longer ago than this are withdrawn. */
  OlderThanMinutes: number;
  /** List what would be withdrawn; withdraw nothing. */
  DryRun: boolean;
  /** Caps one run; the oldest go first and the rest wait for the next run. */
  MaxWithdrawals?: number;
}

const MAX_WITHDRAWALS_PER_RUN = 10_000;
/** A year: anything longer is a typo (seconds or milliseconds meant as minutes). */
const MAX_OLDER_THAN_MINUTES = 525_600;

const positiveInt = (max: number) =>
  z.number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a number') }).check(
    z.int({ error: 'must be an integer' }),
    z.gte(1, 'must be at least 1'),
    z.lte(max, `must be at most ${max}`),
  );

/**
 * Strict: a misspelt optional field (`MaxWithdrawal`) would otherwise be dropped
 * silently and the run would withdraw without the cap the operator asked for.
 */
const requestSchema = z.strictObject({
  InstanceId: idSchema,
  OlderThanMinutes: positiveInt(MAX_OLDER_THAN_MINUTES),
  DryRun: z._default(z.boolean({ error: 'must be true or false' }), false),
  MaxWithdrawals: z.optional(positiveInt(MAX_WITHDRAWALS_PER_RUN)),
});

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
  const parsed = requestSchema.safeParse(request);
  if (!parsed.success) {
    if (!isRecord(request)) throw new InvalidParameterError([{ Path: prefix || 'event', Message: 'must be a JSON object' }]);
    throw new InvalidParameterError(zodIssues(parsed.error, prefix, Object.keys(requestSchema.shape)));
  }
  const { InstanceId, OlderThanMinutes, DryRun, MaxWithdrawals } = parsed.data;
  return { trigger, request: { InstanceId, OlderThanMinutes, DryRun, ...(MaxWithdrawals !== undefined ? { MaxWithdrawals } : {}) } };
}
