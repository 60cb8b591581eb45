import type { Clock } from '../core/clock';

const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 500;

/**
 * Asks `check` at once, then again after growing pauses, until it answers or the next pause
 * would end past `untilMs`; undefined then. Another instance's work is only visible through
 * the store, so waiting for it means asking again.
 */
export async function pollUntil<T>(clock: Pick<Clock, 'nowMs' | 'sleep'>, untilMs: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  let answer = await check();
  for (let pauseMs = FIRST_POLL_MS; answer === undefined && clock.nowMs() + pauseMs <= untilMs; pauseMs = Math.min(pauseMs * 2, MAX_POLL_MS)) {
    await clock.sleep(pauseMs);
    answer = await check();
  }
  return answer;
}

/** Whole seconds until `atMs`, at least 1: a `retry-after` value. */
export function secondsUntil(atMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((atMs - nowMs) / 1000));
}
