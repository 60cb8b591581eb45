/**
 * Never two withdrawals of one script in flight across instances (docs/DESIGN.md, "Exactly
 * once"), whatever keys the requests carry. The holder publishes a definite outcome before it
 * lets go, so a request that waited on it reports that outcome instead of asking OutboundBot
 * again (which would answer "not under review" for a withdrawal that worked).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock';
import { RequestInProgressError } from './errors';
import type { IdempotencyStore, OwnedRecord } from './store';
import { pollUntil, secondsUntil } from './wait';

export interface ScriptLockOptions {
  store: IdempotencyStore;
  clock: Pick<Clock, 'nowMs' | 'sleep'>;
  /** `InstanceId/ScriptId`. */
  name: string;
  /** The lock lapses here (the holder's deadline), so a killed instance holds nothing for long. */
  holdUntilMs: number;
  waitUntilMs: number;
  /** How long a published outcome stays readable for those who waited. */
  outcomeTtlMs: number;
}

export type ScriptLock<T> =
  | { acquired: true; release(outcome: T | undefined): Promise<void> }
  | { acquired: false; outcome: T };

interface LockRecord extends OwnedRecord {
  expiresAtMs: number;
}

/** Takes the script's lock, or waits for its holder's outcome; 409 when neither comes in time. */
export async function lockScript<T>(options: ScriptLockOptions): Promise<ScriptLock<T>> {
  const { store, clock } = options;
  const lockKey = `lock:${options.name}`;
  const outcomeKey = `lock-outcome:${options.name}`;
  const owner = randomUUID();
  const holders = new Map<string, LockRecord>();
  const decided = await pollUntil(clock, options.waitUntilMs, async () => {
    // The outcome first: a holder publishes, then releases, and the free lock must not hide what it did.
    const published = holders.size > 0 ? await store.read(outcomeKey) : undefined;
    if (published && holders.has(published.owner)) return { outcome: published.outcome as T };
    const answer = await store.claim(lockKey, { owner, expiresAtMs: options.holdUntilMs }, options.holdUntilMs - clock.nowMs());
    if (answer.claimed) return { acquired: true } as const;
    holders.set(answer.holder.owner, answer.holder as LockRecord);
    return undefined;
  });
  if (decided === undefined) {
    const latest = [...holders.values()].at(-1)!;
    throw new RequestInProgressError(`A withdrawal of script ${options.name}`, secondsUntil(latest.expiresAtMs, clock.nowMs()));
  }
  if (!('acquired' in decided)) return { acquired: false, outcome: decided.outcome };
  return {
    acquired: true,
    async release(outcome) {
      if (outcome !== undefined) await store.put(outcomeKey, { owner, outcome }, options.outcomeTtlMs);
      await store.release(lockKey, owner);
    },
  };
}
