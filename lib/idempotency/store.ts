/**
 * The persistence layer behind exactly-once (docs/DESIGN.md, "Exactly once"): a small set of
 * atomic operations on JSON records that carry the token of the invocation that owns them.
 * Every operation is one atomic step on one key (SET NX, compare-and-set, compare-and-delete),
 * so two instances can never both believe they own a key; a batch sends several in one round
 * trip, each still atomic on its own key (so a Redis or Tair cluster routes each by its key).
 */
export interface OwnedRecord {
  /** A random token of the invocation that wrote the record. */
  owner: string;
  /**
   * From this instant (epoch ms) a new claim may take the record over. Absent: never (it only
   * expires). A claim that takes a record over inherits its `carry` and its `unsettled` span.
   */
  reclaimableFromMs?: number;
  /** A record that names a fingerprint is taken over only by a claim with the same one. */
  fingerprint?: string;
  /** What the record leaves for whoever takes it over (opaque JSON text: stored as it is). */
  carry?: string;
  /** When runs of this key may have acted without storing what they did (epoch ms). */
  unsettled?: Span;
  /** While a claim holds the key: when it was taken, and when it lapses. */
  claimedAtMs?: number;
  claimUntilMs?: number;
  [field: string]: unknown;
}

export interface Span {
  sinceMs: number;
  untilMs: number;
}

export type Claim = { claimed: true; /** The record this claim took over. */ previous?: OwnedRecord } | { claimed: false; holder: OwnedRecord };

export type StoreOp =
  /** Writes `record` unless the key holds one that is not reclaimable at `nowMs`; then answers that holder. */
  | { op: 'claim'; key: string; record: OwnedRecord; ttlMs: number; nowMs: number }
  /** Replaces the record only while `owner` still holds it; false when it was lost (expired, taken over). */
  | { op: 'replace'; key: string; owner: string; record: OwnedRecord; ttlMs: number }
  /** Deletes the record only while `owner` still holds it. */
  | { op: 'release'; key: string; owner: string }
  /**
   * Gives back a claim whose answer never came, only while `owner` holds it: a record with nothing
   * to leave (no carry, no unsettled span) is deleted; else it is reclaimable from `nowMs`, without
   * the claim's own life (the claimer never saw the key, so it did nothing under it).
   */
  | { op: 'relinquish'; key: string; owner: string; nowMs: number }
  | { op: 'read'; key: string }
  /** Writes unconditionally (an outcome others wait for). */
  | { op: 'put'; key: string; record: OwnedRecord; ttlMs: number };

/** Per operation: a Claim, a boolean (replace), the record or undefined (read), undefined (release, relinquish, put). */
export type StoreAnswer = Claim | boolean | OwnedRecord | undefined;

export interface IdempotencyStore {
  /** The operations in order, in one round trip; the answers in the same order. Fails whole. */
  batch(ops: readonly StoreOp[]): Promise<StoreAnswer[]>;
  claim(key: string, record: OwnedRecord, ttlMs: number, nowMs: number): Promise<Claim>;
  replace(key: string, owner: string, record: OwnedRecord, ttlMs: number): Promise<boolean>;
  release(key: string, owner: string): Promise<void>;
  relinquish(key: string, owner: string, nowMs: number): Promise<void>;
  read(key: string): Promise<OwnedRecord | undefined>;
  put(key: string, record: OwnedRecord, ttlMs: number): Promise<void>;
}

/** The single operations, each a batch of one: an implementation writes `batch` only. */
export function storeOf(batch: IdempotencyStore['batch']): IdempotencyStore {
  const one = async <T>(op: StoreOp): Promise<T> => (await batch([op]))[0] as T;
  return {
    batch,
    claim: (key, record, ttlMs, nowMs) => one({ op: 'claim', key, record, ttlMs, nowMs }),
    replace: (key, owner, record, ttlMs) => one({ op: 'replace', key, owner, record, ttlMs }),
    release: (key, owner) => one({ op: 'release', key, owner }),
    relinquish: (key, owner, nowMs) => one({ op: 'relinquish', key, owner, nowMs }),
    read: (key) => one({ op: 'read', key }),
    put: (key, record, ttlMs) => one({ op: 'put', key, record, ttlMs }),
  };
}

/**
 * What a claim writes when it takes `previous` over (the one rule both stores follow; the Redis
 * store runs it as Lua): the claimer's record, with the carry left behind and the span in which
 * earlier runs may have acted unsettled, a lapsed claim's own life included.
 */
export function inherit(record: OwnedRecord, previous: OwnedRecord): OwnedRecord {
  const span = unsettledAfter(previous);
  return { ...record, ...(previous.carry !== undefined ? { carry: previous.carry } : {}), ...(span ? { unsettled: span } : {}) };
}

/** When the runs behind `previous` may have acted unsettled: its span, and the life of a claim it still holds. */
function unsettledAfter(previous: OwnedRecord): Span | undefined {
  const { unsettled, claimedAtMs, claimUntilMs } = previous;
  return claimedAtMs !== undefined && claimUntilMs !== undefined ? union(unsettled, { sinceMs: claimedAtMs, untilMs: claimUntilMs }) : unsettled;
}

/** What `relinquish` leaves of `record`: undefined means the key is deleted. */
export function relinquished(record: OwnedRecord, nowMs: number): OwnedRecord | undefined {
  if (record.carry === undefined && record.unsettled === undefined) return undefined;
  const { claimedAtMs: _claimedAtMs, claimUntilMs: _claimUntilMs, ...rest } = record;
  return { ...rest, reclaimableFromMs: nowMs };
}

/** May a claim with `fingerprint` take `holder` over at `nowMs`? */
export function reclaimable(holder: OwnedRecord, fingerprint: string | undefined, nowMs: number): boolean {
  return (holder.reclaimableFromMs ?? Infinity) <= nowMs && (holder.fingerprint === undefined || holder.fingerprint === fingerprint);
}

export function union(a: Span | undefined, b: Span): Span {
  return a === undefined ? b : { sinceMs: Math.min(a.sinceMs, b.sinceMs), untilMs: Math.max(a.untilMs, b.untilMs) };
}
