import type { Clock } from '../core/clock';
import { mapWithConcurrency } from '../core/concurrency';
import { MAX_RESERVE_FRACTION, type Timeline } from '../fc/timeline';

/** How one cleanup run spends the time FC gives it, as epoch-ms instants. */
export interface CleanupBudget {
  /** No new listing page is asked for after this, and a page's attempts end by it: the rest of the time withdraws. */
  listEndMs: number;
  /** No new withdrawal or chunk starts after this: what is left goes to `Remaining`. */
  intakeEndMs: number;
  /** Attempts (listing, withdrawals, dispatches) end by this, retries included. */
  workEndMs: number;
  /** The invocation's `answerByMs` (lib/fc/timeline.ts): the callback and the answer fit before it. */
  answerByMs: number;
}

/**
 * Splits the run's work (the timeline already keeps the callback's reserve after it): before
 * its end a reserve so that work started last still gets a full read timeout. Work started later
 * would likely end as a timed-out attempt whose outcome is unknown; leaving it for the next run
 * is cleaner, and the next run lists it again anyway.
 */
export function planBudget(timeline: Timeline, readTimeoutMs: number): CleanupBudget {
  const { startMs, workEndMs, answerByMs } = timeline;
  const intakeEndMs = workEndMs - Math.min(readTimeoutMs, Math.max(0, answerByMs - startMs) * MAX_RESERVE_FRACTION);
  return { listEndMs: startMs + Math.max(0, intakeEndMs - startMs) * LISTING_SHARE, intakeEndMs, workEndMs, answerByMs };
}

/**
 * The listing's share of the time before intake ends. Listing may not use it all: a listing that
 * ran to the deadline left nothing for the withdrawals, night after night (100,000 scripts at
 * 25 ms a page in a 20 s function: 657 pages read, nothing withdrawn).
 */
export const LISTING_SHARE = 0.5;

interface IntakeRun<T, R> {
  /** In input order, for the items that were started. */
  done: R[];
  /** Items not started because `intakeEndMs` had passed, in input order. */
  notStarted: T[];
}

/**
 * Runs `fn` over `items` with at most `limit` in flight and starts nothing once
 * `intakeEndMs` has passed. `fn` reports failures in its result (withdrawItem and
 * dispatchChunk never throw for them), so one failure never stops the others.
 */
export async function mapUntil<T, R>(
  items: readonly T[],
  limit: number,
  intakeEndMs: number,
  clock: Clock,
  fn: (item: T) => Promise<R>,
): Promise<IntakeRun<T, R>> {
  const outcomes = await mapWithConcurrency(items, limit, async (item) =>
    clock.nowMs() < intakeEndMs ? { started: true as const, result: await fn(item) } : { started: false as const },
  );
  const done: R[] = [];
  const notStarted: T[] = [];
  outcomes.forEach((outcome, index) => (outcome.started ? done.push(outcome.result) : notStarted.push(items[index]!)));
  return { done, notStarted };
}
