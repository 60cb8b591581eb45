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
  /** Set when the holder let go with a definite outcome: the lock is free, the outcome readable. */
  outcome?: unknown;
}

/**
 * Takes the script's lock, or waits for its holder's outcome; 409 when neither comes in time.
 * A holder lets go by turning its record into a reclaimable one that carries the outcome: one
 * store step frees the lock and publishes what happened, and the next claim hands it back.
 */
export async function lockScript<T>(options: ScriptLockOptions): Promise<ScriptLock<T>> {
  const { store, clock } = options;
  const key = `lock:${options.name}`;
  const owner = randomUUID();
  const holders = new Map<string, LockRecord>();
  const decided = await pollUntil(clock, options.waitUntilMs, async () => {
    const answer = await store.claim(key, { owner, expiresAtMs: options.holdUntilMs }, options.holdUntilMs - clock.nowMs());
    if (!answer.claimed) {
      holders.set(answer.holder.owner, answer.holder as LockRecord);
      return undefined;
    }
    const previous = answer.previous as LockRecord | undefined;
    // Only the outcome of a holder we waited for is ours to report; an older one is history.
    return previous && holders.has(previous.owner) ? { outcome: previous.outcome as T } : { acquired: true as const };
  });
  if (decided === undefined) {
    const latest = [...holders.values()].at(-1)!;
    throw new RequestInProgressError(`A withdrawal of script ${options.name}`, secondsUntil(latest.expiresAtMs, clock.nowMs()));
  }
  if ('outcome' in decided) {
    // The claim that found the outcome took the lock too: give it back as found.
    await store.release(key, owner);
    return { acquired: false, outcome: decided.outcome as T };
  }
  return {
    acquired: true,
    async release(outcome) {
      if (outcome === undefined) return store.release(key, owner);
      const published: LockRecord = { owner, expiresAtMs: clock.nowMs() + options.outcomeTtlMs, reclaimable: true, outcome };
      await store.replace(key, owner, published, options.outcomeTtlMs);
    },
  };
}
