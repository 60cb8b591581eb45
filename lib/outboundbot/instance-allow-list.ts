/**
 * ALLOWED_INSTANCE_IDS: the OutboundBot instances this deployment may touch. RAM cannot scope
 * `WithdrawScriptReview` to one instance, so without this list a leaked WEBHOOK_SECRET reaches
 * every instance the role sees. Empty means any instance (a deployed function warns at start).
 */
import { badEntries, InvalidConfigurationError, ServiceError } from '../core/errors';
import { ID_PATTERN } from './ids';

const VARIABLE = 'ALLOWED_INSTANCE_IDS';

/** Space- or comma-separated ids; an entry that no instance id could be is refused, naming the variable. */
export function parseInstanceAllowList(value: string | undefined): string[] {
  const entries = (value ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
  // Set but naming nothing (" , "): refused rather than read as "any instance".
  if (entries.length === 0 && value !== undefined && value.trim() !== '') {
    throw new InvalidConfigurationError([{ Path: VARIABLE, Message: 'names no instance id; leave it unset to allow any' }]);
  }
  const bad = badEntries(entries, (entry) => !ID_PATTERN.test(entry));
  if (bad !== undefined) {
    throw new InvalidConfigurationError([{ Path: VARIABLE, Message: `entries must be OutboundBot instance ids, space- or comma-separated; ${bad}` }]);
  }
  return [...new Set(entries)];
}

export class InstanceNotAllowedError extends ServiceError {
  readonly code = 'InstanceNotAllowed';
  readonly statusCode = 403;
  constructor(readonly instanceIds: string[]) {
    super(`${instanceIds.length === 1 ? 'Instance' : 'Instances'} ${instanceIds.join(', ')} not in ${VARIABLE}: nothing was withdrawn`);
  }
}

/** Refuses, before any call, a request that names any instance outside a non-empty allow-list. */
export function assertInstancesAllowed(items: ReadonlyArray<{ InstanceId: string }>, allowed: readonly string[]): void {
  if (allowed.length === 0) return;
  let refused: Set<string> | undefined;
  for (const { InstanceId } of items) if (!allowed.includes(InstanceId)) (refused ??= new Set()).add(InstanceId);
  if (refused) throw new InstanceNotAllowedError([...refused]);
}
