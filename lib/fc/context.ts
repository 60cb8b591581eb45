import type { FcCredentials } from '../core/credentials';

/** The parts of the FC 3.0 Node.js context this project reads. */
export interface FcContext {
  requestId: string;
  credentials?: FcCredentials;
  function?: { name?: string; timeout?: number; memory?: number };
  region?: string;
  accountId?: string;
}

/** FC's own default when a local tool passes no function timeout. */
const DEFAULT_TIMEOUT_SECONDS = 60;

/**
 * FC has no getRemainingTimeInMillis: the deadline is the invocation start plus the
 * configured timeout, less a margin to log, call back and answer before FC kills us.
 */
export function invocationDeadlineMs(startMs: number, context: FcContext): number {
  const timeoutMs = (context.function?.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const marginMs = Math.min(1_000, timeoutMs * 0.1);
  return startMs + timeoutMs - marginMs;
}

/** When FC ends the invocation, answered or not: nothing of it can still be running after this. */
export function invocationEndMs(startMs: number, context: FcContext): number {
  return startMs + (context.function?.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
}

/**
 * The last instant a store call may still be waited on: after the work the outcome is written in
 * the margin before FC ends the invocation, and the answer must still leave before that end.
 */
export function lastStoreCallMs(startMs: number, context: FcContext): number {
  const endMs = invocationEndMs(startMs, context);
  return endMs - Math.min(200, (endMs - startMs) * 0.05);
}

/** No reserve (for the callback, for a last read) takes more than this share of the invocation's time. */
export const MAX_RESERVE_FRACTION = 0.1;

/**
 * When the work must end so that its result, a 504 at the deadline included, can still be
 * called back before `deadlineMs`: a reserve of the callback timeout, capped at 10% of the
 * invocation (the cleanup's planBudget splits its run the same way).
 */
export function endOfWorkBeforeCallbackMs(startMs: number, deadlineMs: number, callbackTimeoutMs: number | undefined): number {
  if (callbackTimeoutMs === undefined) return deadlineMs;
  return deadlineMs - Math.min(callbackTimeoutMs, Math.max(0, deadlineMs - startMs) * MAX_RESERVE_FRACTION);
}
