import type { Clock } from '../core/clock';
import { ServiceError } from '../core/errors';
import { lockScript, type LockAhead, type ScriptLock } from '../idempotency/script-lock';
import type { IdempotencyStore, StoreOp } from '../idempotency/store';
import type { TrackedWithdrawal, WithdrawalItem, WithdrawResult } from './withdraw-item';

export interface ExclusiveSettings {
  store: IdempotencyStore;
  /** The lock never outlives this (this invocation's answer), so a killed instance holds nothing for long. */
  holdUntilMs: number;
  /** No waiting past this (the work's end); each withdrawal waits at most DUPLICATE_WAIT_MS from when it asks. */
  waitUntilMs: number;
  /** The lock's first claim, already sent with the delivery's own (a single-item delivery: one round trip for both). */
  ahead?: LockAhead;
  /** Where the release goes when it is to leave with the delivery's outcome (same round trip); else it is sent at once. */
  atEnd?: StoreOp[];
  /** How long a withdrawal's mark is kept (IDEMPOTENCY_TTL_SECONDS): as long as a retry may still reconcile. */
  markTtlMs: number;
}



/** How long a request waits for another instance's work on the same delivery or script before 409. */
export const DUPLICATE_WAIT_MS = 5_000;

/** Long enough for every request that waited on the holder to read its outcome. */
const OUTCOME_TTL_MS = 60_000;

/**
 * Runs `withdraw` holding the script's lock, so no two withdrawals of one script are in flight
 * across instances; a request that found the script being withdrawn elsewhere reports that
 * withdrawal's outcome (with no attempt of its own). A store that cannot be asked, or a holder
 * that outlasts the wait, is this item's retryable failure: nothing was sent.
 */
export async function exclusively(
  item: WithdrawalItem,
  /** `holdForMs`: the longest the withdrawal can run; the lock lapses that long after it is taken. */
  settings: ExclusiveSettings & { holdForMs: number },
  clock: Clock,
  /**
   * Gets the lock's lapse (its attempts must be over by then) and the UpdateTime of the last
   * withdrawal another holder made and saw answered (its mark): a change that is not ours.
   */
  withdraw: (lockUntilMs: number, withdrawnElsewhereAtMs: number | undefined) => Promise<TrackedWithdrawal>,
): Promise<TrackedWithdrawal> {
  const name = `${item.InstanceId}/${item.ScriptId}`;
  let lock: ScriptLock<WithdrawResult>;
  try {
    const waitUntilMs = Math.min(settings.waitUntilMs, clock.nowMs() + DUPLICATE_WAIT_MS);
    // Hot path: Object.assign, not a spread (docs/ARCHITECTURE.md, Conventions).
    lock = await lockScript<WithdrawResult>(Object.assign({}, settings, { waitUntilMs, clock, name, outcomeTtlMs: OUTCOME_TTL_MS }), settings.ahead);
  } catch (error) {
    if (error instanceof ServiceError) return { result: notAttempted(item, error) };
    throw error;
  }
  const marked = lock.mark?.UpdateTime;
  const withdrawnElsewhereAtMs = typeof marked === 'number' ? marked : undefined;
  if (!lock.acquired) return { result: { ...lock.outcome, Attempts: 0 }, withdrawnElsewhereAtMs };
  let tracked: TrackedWithdrawal | undefined;
  try {
    tracked = await withdraw(lock.untilMs, withdrawnElsewhereAtMs);
    return tracked;
  } finally {
    // Only a definite outcome is worth reporting to waiters; a lost release lapses with the lock.
    const outcome = tracked && !tracked.result.Retryable ? tracked.result : undefined;
    const release = lock.releaseOps(outcome, markOf(outcome));
    if (settings.atEnd) settings.atEnd.push(...release);
    else await settings.store.batch(release).catch(() => undefined);
  }
}

/**
 * The mark of a withdrawal this request made and saw answered: the script's UpdateTime, so that a
 * later holder whose own attempt got no answer does not take this change for its own. A reconciled
 * one leaves none: it is an inference, and another request whose window covers the same change may
 * be the one that made it; a mark would turn that request's truth into a refusal.
 */
function markOf(outcome: WithdrawResult | undefined): { UpdateTime: number } | undefined {
  const updateTime = outcome?.Success && !outcome.Reconciled ? outcome.Script?.UpdateTime : undefined;
  return typeof updateTime === 'number' ? { UpdateTime: updateTime } : undefined;
}

function notAttempted(item: WithdrawalItem, error: ServiceError): WithdrawResult {
  return {
    InstanceId: item.InstanceId,
    ScriptId: item.ScriptId,
    Success: false,
    HttpStatusCode: error.statusCode,
    Code: error.code,
    Message: error.message,
    Attempts: 0,
    Retryable: error.retryable,
    ...(error.retryAfterSeconds !== undefined ? { RetryAfterSeconds: error.retryAfterSeconds } : {}),
  };
}
