/**
 * Exactly once per idempotency key (docs/DESIGN.md, "Exactly once"; the table is in
 * docs/ARCHITECTURE.md): the key's record moves through the states below, and this module
 * makes only the moves the tables allow. A duplicate meets the stored outcome, waits a bounded
 * time for the run that holds the key, or is told to come back; a run that did not store what
 * it did leaves behind when it may have acted, so the next run can tell its own work apart.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock';
import { IdempotencyKeyMismatchError, IdempotencyStoreUnavailableError, RequestInProgressError } from './errors';
import { inherit, union, type Claim, type IdempotencyStore, type OwnedRecord, type Span, type StoreOp } from './store';
import { pollUntil, secondsUntil } from './wait';

/**
 * The states of a key's record. LAPSED is derived: an IN_PROGRESS record past its `claimUntilMs`
 * (its invocation ended without settling: killed, or the settle was lost). Every record expires
 * `ttlMs` after it is written; ABSENT is also what an expired record becomes.
 */
export type KeyState = 'ABSENT' | 'IN_PROGRESS' | 'LAPSED' | 'UNFINISHED' | 'COMPLETED';

/**
 * A claim, by the state it finds (the store takes the key over atomically only in the `run`
 * states, and only for the same fingerprint; any state with another fingerprint is 422).
 *   run    → IN_PROGRESS, inheriting the carry and the unsettled span (a lapsed claim adds its own life)
 *   wait   → no change; poll until `waitUntilMs`, then 409 with retry-after = the holder's claimUntilMs
 *   replay → no change; the stored outcome, no work
 */
export const ON_CLAIM: Readonly<Record<KeyState, 'run' | 'wait' | 'replay'>> = {
  ABSENT: 'run',
  UNFINISHED: 'run',
  LAPSED: 'run',
  IN_PROGRESS: 'wait',
  COMPLETED: 'replay',
};

/**
 * The end of a run, by how the work ended, and what its owner writes (only while it still owns
 * the key: a lost claim writes nothing, and the record lapses as it is).
 *   final     → COMPLETED: the outcome; never taken over
 *   retryable → UNFINISHED: the work's new carry, reclaimable at once
 *   threw     → UNFINISHED: the carry as claimed, and this run's life added to the unsettled span
 *   killed    → LAPSED at claimUntilMs, as claimed (nothing is written: there is nobody to write it)
 */
export const ON_END = { final: 'COMPLETED', retryable: 'UNFINISHED', threw: 'UNFINISHED', killed: 'LAPSED' } as const satisfies Record<string, KeyState>;

export interface OnceOptions {
  store: IdempotencyStore;
  clock: Pick<Clock, 'nowMs' | 'sleep'>;
  key: string;
  /** A digest of the payload: the same key with another payload is refused. */
  fingerprint: string;
  /** The claim lapses here (the invocation's end), so a killed instance blocks nobody for long. */
  claimUntilMs: number;
  /** How long a duplicate waits for the run that holds the key before it is refused with 409. */
  waitUntilMs: number;
  /** How long any record of the key is kept (IDEMPOTENCY_TTL_SECONDS). */
  ttlMs: number;
  /** Claims sent in the same round trip as the key's (a script lock); given up if the key is not taken. */
  alongside?: readonly StoreOp[];
  /** A failure to store the outcome after the work was done: reported, never thrown over a result. */
  onLostOutcome(error: unknown): void;
}

export interface KeyRecord extends OwnedRecord {
  status: 'IN_PROGRESS' | 'UNFINISHED' | 'COMPLETED';
  fingerprint: string;
  expiresAtMs: number;
  outcome?: unknown;
}

/** What a run starts from, and what it may add to the round trip that stores its end. */
export interface OnceRun<C> {
  /** What an earlier run of the key left to carry on with. */
  carried: C | undefined;
  /** When earlier runs may have acted without storing what they did. */
  unsettled: Span | undefined;
  /** The answers to `alongside`, when they went with this run's claim. */
  alongside: Claim[] | undefined;
  /** Operations to send with the end of the run (a lock's release), in the same round trip. */
  atEnd: StoreOp[];
}

/** What the work did: its value, whether that is the key's final outcome, and what to leave for a retry when not. */
export interface OnceWork<T, C> {
  value: T;
  keep: boolean;
  carry?: C;
}

export interface OnceResult<T> {
  replayed: boolean;
  value: T;
}

export function stateOf(record: KeyRecord | undefined, nowMs: number): KeyState {
  if (record === undefined) return 'ABSENT';
  if (record.status === 'IN_PROGRESS') return (record.claimUntilMs ?? 0) <= nowMs ? 'LAPSED' : 'IN_PROGRESS';
  return record.status;
}

export async function runOnce<T, C = unknown>(options: OnceOptions, work: (run: OnceRun<C>) => Promise<OnceWork<T, C>>): Promise<OnceResult<T>> {
  const { store, clock } = options;
  const nowMs = clock.nowMs();
  const claim: KeyRecord = {
    owner: randomUUID(),
    status: 'IN_PROGRESS',
    fingerprint: options.fingerprint,
    claimedAtMs: nowMs,
    claimUntilMs: options.claimUntilMs,
    reclaimableFromMs: options.claimUntilMs,
    expiresAtMs: nowMs + options.ttlMs,
  };
  const found = await claimOrWait(options, claim);
  if (found.action === 'replay') return { replayed: true, value: found.record.outcome as T };
  // The record as the store wrote it: the claim, with what it took over; the run starts from that.
  const taken = (found.previous ? inherit(claim, found.previous) : claim) as KeyRecord;
  const run: OnceRun<C> = {
    carried: taken.carry === undefined ? undefined : (JSON.parse(taken.carry) as C),
    unsettled: taken.unsettled as Span | undefined,
    alongside: found.alongside,
    atEnd: [],
  };
  let result: OnceWork<T, C>;
  try {
    result = await work(run);
  } catch (error) {
    await end(options, taken, ended(taken, 'threw', clock.nowMs(), options.ttlMs), run.atEnd).catch(options.onLostOutcome);
    throw error;
  }
  const record = ended(taken, result.keep ? 'final' : 'retryable', clock.nowMs(), options.ttlMs, result);
  await end(options, taken, record, run.atEnd).catch(options.onLostOutcome);
  return { replayed: false, value: result.value };
}

/** The record a run's owner writes when it ends (ON_END). */
function ended<T, C>(taken: KeyRecord, how: 'final' | 'retryable' | 'threw', nowMs: number, ttlMs: number, result?: OnceWork<T, C>): KeyRecord {
  const base = { owner: taken.owner, fingerprint: taken.fingerprint, expiresAtMs: nowMs + ttlMs, ...(taken.unsettled ? { unsettled: taken.unsettled as Span } : {}) };
  // Hot path: Object.assign, not a spread (docs/ARCHITECTURE.md, Conventions).
  if (how === 'final') return Object.assign({}, base, { status: ON_END.final, outcome: result!.value });
  if (how === 'retryable') {
    return { ...base, status: ON_END.retryable, reclaimableFromMs: nowMs, ...(result!.carry !== undefined ? { carry: JSON.stringify(result!.carry) } : {}) };
  }
  const unsettled = union(taken.unsettled, { sinceMs: taken.claimedAtMs!, untilMs: nowMs });
  return { ...base, status: ON_END.threw, reclaimableFromMs: nowMs, unsettled, ...(taken.carry !== undefined ? { carry: taken.carry } : {}) };
}

async function end(options: OnceOptions, taken: KeyRecord, record: KeyRecord, alongside: StoreOp[]): Promise<void> {
  const [stored] = await options.store.batch([{ op: 'replace', key: options.key, owner: taken.owner, record, ttlMs: options.ttlMs }, ...alongside]);
  if (stored !== true) throw new Error('the claim lapsed before the end of the run was stored');
}

type Found =
  | { action: 'replay'; record: KeyRecord }
  | { action: 'run'; previous: KeyRecord | undefined; alongside: Claim[] | undefined };

/** Claims the key (with `alongside` on the first try), or answers its completed holder; waits while another holds it. */
async function claimOrWait(options: OnceOptions, claim: KeyRecord): Promise<Found> {
  const { store, clock, key } = options;
  let alongside = options.alongside ?? [];
  let holder: KeyRecord | undefined;
  const found = await pollUntil(clock, options.waitUntilMs, async (): Promise<Found | undefined> => {
    const ops: StoreOp[] = [{ op: 'claim', key, record: claim, ttlMs: options.ttlMs, nowMs: clock.nowMs() }, ...alongside];
    const [answer, ...others] = (await sendClaims(store, ops, clock, options.waitUntilMs)) as Claim[];
    const sent = alongside;
    alongside = [];
    if (answer!.claimed) {
      const previous = answer!.previous as KeyRecord | undefined;
      // The store decided atomically; the table must agree, or one of them is wrong.
      const action = ON_CLAIM[stateOf(previous, clock.nowMs())];
      if (action !== 'run') throw new Error(`the store let a claim take over a record the table says to ${action} on`);
      return { action, previous, alongside: sent.length > 0 ? others : undefined };
    }
    await giveBack(store, sent, others);
    holder = answer!.holder as KeyRecord;
    if (holder.fingerprint !== options.fingerprint) throw new IdempotencyKeyMismatchError();
    const action = ON_CLAIM[stateOf(holder, clock.nowMs())];
    return action === 'replay' ? { action, record: holder } : undefined;
  });
  if (found === undefined) throw new RequestInProgressError('A delivery with this idempotency key', secondsUntil(holder!.claimUntilMs ?? holder!.expiresAtMs, clock.nowMs()));
  return found;
}

/**
 * Claims whose answer was lost may still have been written: each is given back (in one round trip,
 * tried again while the store is away, until the wait for the key would have ended) before the
 * failure is passed on, so a retry soon after does not meet its own claim and wait for it to lapse.
 * Claims never sent (no connection) are passed on at once: a store that is down answers 503 fast.
 */
async function sendClaims(store: IdempotencyStore, ops: StoreOp[], clock: Pick<Clock, 'nowMs' | 'sleep'>, untilMs: number) {
  try {
    return await store.batch(ops);
  } catch (error) {
    if (error instanceof IdempotencyStoreUnavailableError && !error.mayHaveApplied) throw error;
    const claims = ops.flatMap((op) => (op.op === 'claim' ? [{ op: 'relinquish' as const, key: op.key, owner: op.record.owner, nowMs: clock.nowMs() }] : []));
    await pollUntil(clock, untilMs, () => store.batch(claims).then(() => true, () => undefined));
    throw error;
  }
}

/** Alongside claims taken while the key was not: let go at once. */
async function giveBack(store: IdempotencyStore, sent: readonly StoreOp[], answers: Claim[]): Promise<void> {
  const taken = sent.flatMap((op, index) => (op.op === 'claim' && answers[index]?.claimed ? [{ op: 'release' as const, key: op.key, owner: op.record.owner }] : []));
  if (taken.length > 0) await store.batch(taken);
}
