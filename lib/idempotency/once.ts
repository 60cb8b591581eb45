/**
 * Exactly once per idempotency key (docs/DESIGN.md, "Exactly once"): claim the key IN_PROGRESS
 * until the invocation's deadline, do the work, then store the outcome COMPLETED, or remove
 * the claim when the outcome must not be kept (a retryable failure, a refusal), so the
 * sender's retry works again. A duplicate meets the stored outcome, or waits a bounded time
 * for the first delivery, or is told to come back.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock';
import { IdempotencyKeyMismatchError, RequestInProgressError } from './errors';
import type { IdempotencyStore, OwnedRecord } from './store';
import { pollUntil, secondsUntil } from './wait';

export interface OnceOptions {
  store: IdempotencyStore;
  clock: Pick<Clock, 'nowMs' | 'sleep'>;
  key: string;
  /** A digest of the payload: the same key with another payload is refused. */
  fingerprint: string;
  /** The claim lapses here (the invocation's deadline), so a killed instance blocks nobody for long. */
  claimUntilMs: number;
  /** How long a duplicate waits for the first delivery before it is refused with 409. */
  waitUntilMs: number;
  completedTtlMs: number;
  /** A failure to store the outcome after the work was done: reported, never thrown over a result. */
  onLostOutcome(error: unknown): void;
}

interface KeyRecord extends OwnedRecord {
  status: 'IN_PROGRESS' | 'COMPLETED' | 'UNFINISHED';
  fingerprint: string;
  expiresAtMs: number;
  outcome?: unknown;
  /** What an unfinished run leaves for the next claim (work already done, attempts left ambiguous). */
  carry?: unknown;
}

/** The key's outcome, and whether it came from the store rather than from `work`. */
export interface OnceResult<T> {
  replayed: boolean;
  value: T;
}

/** What the work did: its value, whether that is the key's final outcome, and what to leave for a retry when not. */
export interface OnceWork<T, C> {
  value: T;
  keep: boolean;
  carry?: C;
}

/** `work` gets what an earlier unfinished run of the same key left behind. */
export async function runOnce<T, C = unknown>(options: OnceOptions, work: (carried: C | undefined) => Promise<OnceWork<T, C>>): Promise<OnceResult<T>> {
  const { store, key } = options;
  const owner = randomUUID();
  const claim: KeyRecord = { owner, status: 'IN_PROGRESS', fingerprint: options.fingerprint, expiresAtMs: options.claimUntilMs };
  const decided = await claimOrWait(options, claim);
  if (!decided.claimed) return { replayed: true, value: decided.holder.outcome as T };
  const previous = decided.previous as KeyRecord | undefined;
  if (previous && previous.fingerprint !== options.fingerprint) {
    await store.replace(key, owner, previous, options.completedTtlMs);
    throw new IdempotencyKeyMismatchError();
  }
  let result: OnceWork<T, C>;
  try {
    result = await work(previous?.carry as C | undefined);
  } catch (error) {
    await store.release(key, owner).catch(options.onLostOutcome);
    throw error;
  }
  await settle(options, claim, result).catch(options.onLostOutcome);
  return { replayed: false, value: result.value };
}

/** Claims the key, or answers its completed holder; waits (bounded) while another holds it in progress. */
async function claimOrWait(options: OnceOptions, claim: KeyRecord): Promise<{ claimed: true; previous?: OwnedRecord } | { claimed: false; holder: KeyRecord }> {
  const { store, clock, key } = options;
  let busy: KeyRecord | undefined;
  const decided = await pollUntil(clock, options.waitUntilMs, async () => {
    const answer = await store.claim(key, claim, options.claimUntilMs - clock.nowMs());
    const holder = answer.claimed ? undefined : (answer.holder as KeyRecord);
    if (holder && holder.fingerprint !== options.fingerprint) throw new IdempotencyKeyMismatchError();
    busy = holder?.status === 'IN_PROGRESS' ? holder : undefined;
    return busy ? undefined : answer.claimed ? answer : { claimed: false as const, holder: holder! };
  });
  if (decided === undefined) throw new RequestInProgressError('A delivery with this idempotency key', secondsUntil(busy!.expiresAtMs, clock.nowMs()));
  return decided;
}

async function settle<T, C>(options: OnceOptions, claim: KeyRecord, result: OnceWork<T, C>): Promise<void> {
  const { store, key, clock, completedTtlMs } = options;
  if (!result.keep && result.carry === undefined) return store.release(key, claim.owner);
  const expiresAtMs = clock.nowMs() + completedTtlMs;
  const record: KeyRecord = result.keep
    ? { ...claim, status: 'COMPLETED', expiresAtMs, outcome: result.value }
    : { ...claim, status: 'UNFINISHED', expiresAtMs, reclaimable: true, carry: result.carry };
  if (!(await store.replace(key, claim.owner, record, completedTtlMs))) {
    throw new Error('the claim lapsed before the outcome was stored');
  }
}
