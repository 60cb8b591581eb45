/**
 * Never two withdrawals of one script in flight across instances (docs/DESIGN.md, "Exactly
 * once"), whatever keys the requests carry. The holder publishes a definite outcome under a key
 * of its own before it lets go, so every request that waited on it reports that outcome instead
 * of asking OutboundBot again (which would answer "not under review" for a withdrawal that
 * worked), however many waited and whoever takes the lock next.
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
  /** The lock lapses this long after it is taken (the longest the holder's work can run)… */
  holdForMs: number;
  /** …and never after this (the holder's invocation end), so a killed instance holds nothing for long. */
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

/** Takes the script's lock, or waits for the outcome of a holder it saw; 409 when neither comes in time. */
export async function lockScript<T>(options: ScriptLockOptions): Promise<ScriptLock<T>> {
  const { store, clock } = options;
  const key = `lock:${options.name}`;
  const outcomeKey = (owner: string) => `lock-outcome:${options.name}:${owner}`;
  const owner = randomUUID();
  const holders = new Map<string, LockRecord>();
  const decided = await pollUntil(clock, options.waitUntilMs, async () => {
    // The outcomes first: a holder publishes, then lets go, and the free lock must not hide what it did.
    for (const holder of holders.keys()) {
      const published = await store.read(outcomeKey(holder));
      if (published) return { outcome: published.outcome as T };
    }
    const untilMs = Math.min(options.holdUntilMs, clock.nowMs() + options.holdForMs);
    const answer = await store.claim(key, { owner, expiresAtMs: untilMs }, untilMs - clock.nowMs());
    if (answer.claimed) return { acquired: true as const };
    holders.set(answer.holder.owner, answer.holder as LockRecord);
    return undefined;
  });
  if (decided === undefined) {
    const latest = [...holders.values()].at(-1)!;
    throw new RequestInProgressError(`A withdrawal of script ${options.name}`, secondsUntil(latest.expiresAtMs, clock.nowMs()));
  }
  if ('outcome' in decided) return { acquired: false, outcome: decided.outcome as T };
  return {
    acquired: true,
    async release(outcome) {
      if (outcome !== undefined) await store.put(outcomeKey(owner), { owner, outcome }, options.outcomeTtlMs);
      await store.release(key, owner);
    },
  };
}
