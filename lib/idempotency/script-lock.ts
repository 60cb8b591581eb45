/**
 * Never two withdrawals of one script in flight across instances (docs/DESIGN.md, "Exactly
 * once"), whatever keys the requests carry. The holder publishes a definite outcome under a key
 * of its own before it lets go, so every request that waited on it reports that outcome instead
 * of asking OutboundBot again (which would answer "not under review" for a withdrawal that
 * worked), however many waited and whoever takes the lock next. A holder may also leave a mark
 * for later holders (what it did, kept longer); the next holder reads it in the round trip that
 * takes the lock, and since nobody else acts under the lock, it is current while the lock is held.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock';
import { RequestInProgressError } from './errors';
import type { Claim, IdempotencyStore, OwnedRecord, StoreAnswer, StoreOp } from './store';
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
  /** How long a holder's mark is kept for later holders. */
  markTtlMs: number;
}

/** The lock's first claim and the read of its mark, sent ahead (with a delivery's own claim, in one round trip), and their answers. */
export interface LockAhead {
  ops: [claim: Extract<StoreOp, { op: 'claim' }>, readMark: Extract<StoreOp, { op: 'read' }>];
  answers: [claim: Claim, mark: OwnedRecord | undefined];
}

export type ScriptLock<T> =
  | {
      acquired: true;
      /** The lock lapses here (epoch ms, this instance's clock): nothing done under it may still run then. */
      untilMs: number;
      /** What the last holder that left a mark left, read as the lock was taken. */
      mark: OwnedRecord | undefined;
      /** The operations that publish `outcome` and leave `mark` (when there are) and let go: send them, or add them to a batch. */
      releaseOps(outcome: T | undefined, mark?: Record<string, unknown>): StoreOp[];
    }
  | { acquired: false; outcome: T; /** The lock's mark, read with the outcome. */ mark: OwnedRecord | undefined };

interface LockRecord extends OwnedRecord {
  expiresAtMs: number;
}

const lockKey = (name: string) => `lock:${name}`;
const outcomeKey = (name: string, owner: string) => `lock-outcome:${name}:${owner}`;
const markKey = (name: string) => `lock-mark:${name}`;

/** The claim that takes the lock for `owner` now, and the read of its mark after it: what `lockScript` sends, or a caller sends ahead. */
export function lockClaimOps(options: Pick<ScriptLockOptions, 'name' | 'holdForMs' | 'holdUntilMs'>, owner: string, nowMs: number): LockAhead['ops'] {
  const untilMs = Math.min(options.holdUntilMs, nowMs + options.holdForMs);
  // Reclaimable at its lapse by the claimer's clock, as a delivery's claim is: the store's own expiry only collects it.
  const record = { owner, expiresAtMs: untilMs, reclaimableFromMs: untilMs };
  return [{ op: 'claim', key: lockKey(options.name), record, ttlMs: Math.max(1, untilMs - nowMs), nowMs }, { op: 'read', key: markKey(options.name) }];
}

/** Takes the script's lock, or waits for the outcome of a holder it saw; 409 when neither comes in time. */
export async function lockScript<T>(options: ScriptLockOptions, ahead?: LockAhead): Promise<ScriptLock<T>> {
  const { store, clock, name } = options;
  const owner = ahead?.ops[0].record.owner ?? randomUUID();
  const holders = new Map<string, LockRecord>();
  let sentAhead: StoreAnswer[] | undefined = ahead?.answers;
  let untilMs = ahead?.ops[0].record.expiresAtMs as number | undefined;
  let mark: OwnedRecord | undefined;
  const decided = await pollUntil(clock, options.waitUntilMs, async (): Promise<{ outcome: T } | 'acquired' | undefined> => {
    let answers = sentAhead;
    sentAhead = undefined;
    if (answers === undefined) {
      const ops = lockClaimOps(options, owner, clock.nowMs());
      untilMs = ops[0].record.expiresAtMs as number;
      // The claim, its mark, then what the holders seen so far published: a holder publishes before
      // it lets go, so a claim that finds the lock free still learns what the holder did.
      answers = await store.batch([...ops, ...[...holders.keys()].map((holder) => ({ op: 'read' as const, key: outcomeKey(name, holder) }))]);
    }
    const [answer, markRead, ...published] = answers as [Claim, OwnedRecord | undefined, ...StoreAnswer[]];
    const outcome = published.find((record) => record !== undefined) as OwnedRecord | undefined;
    mark = markRead;
    if (outcome) {
      if (answer.claimed) await store.batch([{ op: 'release', key: lockKey(name), owner }]).catch(() => undefined);
      return { outcome: outcome.outcome as T };
    }
    if (answer.claimed) return 'acquired';
    holders.set(answer.holder.owner, answer.holder as LockRecord);
    return undefined;
  });
  if (decided === undefined) {
    const latest = [...holders.values()].at(-1)!;
    throw new RequestInProgressError(`A withdrawal of script ${name}`, secondsUntil(latest.expiresAtMs, clock.nowMs()));
  }
  if (decided !== 'acquired') return { acquired: false, outcome: decided.outcome as T, mark };
  return {
    acquired: true,
    untilMs: untilMs!,
    mark,
    releaseOps: (outcome, left) => [
      ...(outcome !== undefined ? [{ op: 'put' as const, key: outcomeKey(name, owner), record: { owner, outcome }, ttlMs: options.outcomeTtlMs }] : []),
      ...(left !== undefined ? [{ op: 'put' as const, key: markKey(name), record: { ...left, owner }, ttlMs: options.markTtlMs }] : []),
      { op: 'release' as const, key: lockKey(name), owner },
    ],
  };
}
