import type { FcContext } from './context';

/**
 * Every instant of one invocation, each with one name, computed here and nowhere else. FC has no
 * getRemainingTimeInMillis: all of them follow from the start and the configured timeout.
 *
 *   startMs ─ work ─ workEndMs ─ callbacks ─ callbacksEndMs ─ settle ─ answerByMs ─ margin ─ endMs
 *
 * The reserves between them are what comes after the work: the callback (its timeout), then the
 * outcome written to a shared store (one round trip, bounded by IDEMPOTENCY_TIMEOUT_MS), then the
 * answer. Each reserve is capped at a share of the invocation so that a short function still works.
 * No store call is waited on past `answerByMs` (lib/runtime/instance-state.ts): a stalled store
 * costs the outcome's record, never the answer.
 */
export interface Timeline {
  startMs: number;
  /** FC ends the invocation here, answered or not: a claim of this invocation lapses here. */
  endMs: number;
  /** The answer is out by this, with a margin to log and return before `endMs`; no store call is waited on past it. */
  answerByMs: number;
  /** Callbacks end here; the outcome is written to the store after it. */
  callbacksEndMs: number;
  /** Attempts, retries and waits for another holder end here. */
  workEndMs: number;
}

/** What follows the work in this invocation: each reserve is kept before the answer. */
export interface Reserves {
  /** CALLBACK_TIMEOUT_MS when there is a callback to send. */
  callbackTimeoutMs?: number;
  /** IDEMPOTENCY_TIMEOUT_MS when the outcome goes to a shared store. */
  storeTimeoutMs?: number;
}

/** FC's own default when a local tool passes no function timeout. */
const DEFAULT_TIMEOUT_SECONDS = 60;

/** No reserve for a callback (or a cleanup's last read) takes more than this share of the invocation's time. */
export const MAX_RESERVE_FRACTION = 0.1;

/**
 * The store's round trip gets up to twice that: IDEMPOTENCY_TIMEOUT_MS is 1 s by default, and a
 * 10 s function must still fit a whole one before its answer (a 950 ms round trip lost the outcome).
 */
const MAX_STORE_RESERVE_FRACTION = 0.2;

export function timelineOf(startMs: number, context: FcContext, reserves: Reserves = {}): Timeline {
  const timeoutMs = (context.function?.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const endMs = startMs + timeoutMs;
  const answerByMs = endMs - Math.min(1_000, timeoutMs * 0.1);
  const spanMs = Math.max(0, answerByMs - startMs);
  const cap = spanMs * MAX_RESERVE_FRACTION;
  const callbacksEndMs = answerByMs - Math.min(reserves.storeTimeoutMs ?? 0, spanMs * MAX_STORE_RESERVE_FRACTION);
  return {
    startMs,
    endMs,
    answerByMs,
    callbacksEndMs,
    workEndMs: callbacksEndMs - Math.min(reserves.callbackTimeoutMs ?? 0, cap),
  };
}
