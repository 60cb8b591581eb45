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
  status: 'IN_PROGRESS' | 'COMPLETED';
  fingerprint: string;
  expiresAtMs: number;
  outcome?: unknown;
}

export type OnceResult<T> = { replayed: false; value: T } | { replayed: true; value: T };

/** `work` says whether its value may be kept as the key's outcome. */
export async function runOnce<T>(options: OnceOptions, work: () => Promise<{ value: T; keep: boolean }>): Promise<OnceResult<T>> {
  const { store, clock, key } = options;
  const owner = randomUUID();
  const claim: KeyRecord = { owner, status: 'IN_PROGRESS', fingerprint: options.fingerprint, expiresAtMs: options.claimUntilMs };
  let busy: KeyRecord | undefined;
  const decided = await pollUntil(clock, options.waitUntilMs, async () => {
    const holder = (await store.claim(key, claim, options.claimUntilMs - clock.nowMs())) as KeyRecord | undefined;
    busy = holder?.status === 'IN_PROGRESS' && holder.fingerprint === options.fingerprint ? holder : undefined;
    return busy ? undefined : { holder };
  });
  if (decided === undefined) throw new RequestInProgressError('A delivery with this idempotency key', secondsUntil(busy!.expiresAtMs, clock.nowMs()));
  const { holder } = decided;
  if (holder && holder.fingerprint !== options.fingerprint) throw new IdempotencyKeyMismatchError();
  if (holder) return { replayed: true, value: holder.outcome as T };

  let result: { value: T; keep: boolean };
  try {
    result = await work();
  } catch (error) {
    await store.release(key, owner).catch(options.onLostOutcome);
    throw error;
  }
  await settle(options, owner, claim, result).catch(options.onLostOutcome);
  return { replayed: false, value: result.value };
}

async function settle<T>(options: OnceOptions, owner: string, claim: KeyRecord, result: { value: T; keep: boolean }): Promise<void> {
  if (!result.keep) return options.store.release(options.key, owner);
  const completed: KeyRecord = { ...claim, status: 'COMPLETED', expiresAtMs: options.clock.nowMs() + options.completedTtlMs, outcome: result.value };
  if (!(await options.store.replace(options.key, owner, completed, options.completedTtlMs))) {
    throw new Error('the claim lapsed before the outcome was stored');
  }
}
