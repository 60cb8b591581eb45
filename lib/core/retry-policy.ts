import type { Clock } from './clock';

export interface RetryPolicy {
  /** Attempts per item, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** What the policy needs to know of a failure. */
export interface FailureFacts {
  code: string;
  /** Undefined when no answer arrived (network error, timeout). */
  statusCode: number | undefined;
  /**
   * The caller's own verdict, for peers whose answers the code/status rule below does not
   * fit (the callback receiver has no OutboundBot `Code`). When set, it alone decides.
   */
  retryable?: boolean;
  /**
   * The wait the peer asked for (`retry-after`), in ms: used instead of the jittered backoff,
   * uncapped by `maxDelayMs`, and still never past the deadline.
   */
  retryAfterMs?: number;
}

/**
 * Retry what may succeed next time: no answer at all, 5xx, 429 and throttling.
 * Any other 4xx is the caller's mistake (or a script that is not under review) and
 * will fail the same way again. A failure carrying its own `retryable` verdict keeps it.
 */
export function isRetryable(failure: FailureFacts): boolean {
  if (failure.retryable !== undefined) return failure.retryable;
  if (failure.statusCode === undefined) return true;
  if (failure.statusCode >= 500 || failure.statusCode === 429) return true;
  return failure.code.startsWith('Throttling') || failure.code === 'ServiceUnavailable';
}

/** Exponential backoff with full jitter: uniform in [0, min(max, base·2^(n-1))). */
export function backoffDelayMs(retryNumber: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retryNumber - 1));
  return Math.floor(random() * ceiling);
}

/**
 * An attempt started with less time than this left could not get its answer back: it
 * would only create the ambiguous case (sent, outcome unknown) for nothing.
 */
export const MIN_ATTEMPT_MS = 50;

export type AttemptOutcome<T, F extends FailureFacts> = { ok: true; value: T } | { ok: false; failure: F };

export interface RetryRun<T, F extends FailureFacts> {
  /** Undefined when the deadline had passed before the first attempt. */
  outcome: AttemptOutcome<T, F> | undefined;
  attempts: number;
  /** True when the deadline, not the attempt budget, ended the retries. */
  deadlineReached: boolean;
  /**
   * Set only when the wait before the next retry (this many ms: the backoff or the peer's
   * `retryAfterMs`) would have ended past the deadline, and that is what ended the run.
   */
  delayPastDeadlineMs?: number;
}

/** The wait before retry number `retryNumber`: the peer's own `retryAfterMs` when it gave one, else the backoff. */
function delayBeforeRetryMs(failure: FailureFacts, retryNumber: number, policy: RetryPolicy, random: () => number): number {
  const asked = failure.retryAfterMs;
  return asked !== undefined && asked >= 0 ? asked : backoffDelayMs(retryNumber, policy, random);
}

/**
 * Runs `attempt` until it succeeds, fails for good, runs out of attempts, or the
 * next try could not start before `deadlineMs`. Each attempt is told the time left
 * so a slow answer cannot carry the invocation past its deadline. No attempt, the first
 * included, starts with less than {@link MIN_ATTEMPT_MS} left.
 */
export async function runWithRetry<T, F extends FailureFacts>(
  attempt: (remainingMs: number) => Promise<AttemptOutcome<T, F>>,
  policy: RetryPolicy,
  clock: Clock,
  deadlineMs: number,
): Promise<RetryRun<T, F>> {
  let attempts = 0;
  let outcome: AttemptOutcome<T, F> | undefined;
  for (;;) {
    const remainingMs = deadlineMs - clock.nowMs();
    if (remainingMs < MIN_ATTEMPT_MS) return { outcome, attempts, deadlineReached: true };
    attempts += 1;
    outcome = await attempt(remainingMs);
    if (outcome.ok || !isRetryable(outcome.failure) || attempts >= policy.maxAttempts) {
      return { outcome, attempts, deadlineReached: !outcome.ok && clock.nowMs() >= deadlineMs };
    }
    const delayMs = delayBeforeRetryMs(outcome.failure, attempts, policy, clock.random);
    if (clock.nowMs() + delayMs > deadlineMs - MIN_ATTEMPT_MS) {
      return { outcome, attempts, deadlineReached: true, delayPastDeadlineMs: delayMs };
    }
    await clock.sleep(delayMs);
  }
}

/** The deadline, not a refusal, is why this run failed: what was left would have been retried. */
export function endedByDeadline(run: RetryRun<unknown, FailureFacts>): boolean {
  const failure = run.outcome?.ok === false ? run.outcome.failure : undefined;
  return run.deadlineReached && run.outcome?.ok !== true && (failure === undefined || isRetryable(failure));
}
