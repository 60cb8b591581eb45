import { InvalidParameterError, type Issue } from '../core/errors';
import { booleanOr, prefixPaths, requiredInteger, unknownKeys } from '../core/fields';
import { isRecord } from '../core/records';
import { decodeEvent, isTimerEvent, parseJson } from '../fc/events';
import { checkId } from '../outboundbot/ids';

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

const KNOWN_FIELDS: ReadonlySet<string> = new Set(['InstanceId', 'OlderThanMinutes', 'DryRun', 'MaxWithdrawals']);
const UNKNOWN_FIELD = `is not a known field (${[...KNOWN_FIELDS].join(', ')})`;

/**
 * Strict: a misspelt optional field (`MaxWithdrawal`) would otherwise be dropped
 * silently and the run would withdraw without the cap the operator asked for.
 */
function readRequest(value: Record<string, unknown>, issues: Issue[]): CleanupRequest | undefined {
  const InstanceId = checkId(value.InstanceId, 'InstanceId', issues);
  const OlderThanMinutes = requiredInteger(value.OlderThanMinutes, 'OlderThanMinutes', issues, 1, MAX_OLDER_THAN_MINUTES);
  const DryRun = booleanOr(value.DryRun, 'DryRun', issues, false);
  const MaxWithdrawals =
    value.MaxWithdrawals === undefined ? undefined : requiredInteger(value.MaxWithdrawals, 'MaxWithdrawals', issues, 1, MAX_WITHDRAWALS_PER_RUN);
  unknownKeys(value, KNOWN_FIELDS, issues, UNKNOWN_FIELD);
  if (InstanceId === undefined || OlderThanMinutes === undefined || DryRun === undefined || issues.length > 0) return undefined;
  return { InstanceId, OlderThanMinutes, DryRun, ...(MaxWithdrawals !== undefined ? { MaxWithdrawals } : {}) };
}

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
  const issues: Issue[] = [];
  const parsed = readRequest(request, issues);
  if (parsed === undefined) {
    if (prefix) prefixPaths(issues, 0, prefix);
    throw new InvalidParameterError(issues);
  }
  return { trigger, request: parsed };
}
