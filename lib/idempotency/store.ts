/**
 * The persistence layer behind exactly-once (docs/DESIGN.md, "Exactly once"): a small set of
 * atomic operations on JSON records that carry the token of the invocation that owns them.
 * Every state change is one atomic step in the store (SET NX, compare-and-set, compare-and-
 * delete), so two instances can never both believe they own a key.
 */
export interface OwnedRecord {
  /** A random token of the invocation that wrote the record. */
  owner: string;
  /** A record a new claim may take over: it is handed back to the claimer (work left half done). */
  reclaimable?: boolean;
  [field: string]: unknown;
}

export type Claim = { claimed: true; /** The reclaimable record this claim replaced. */ previous?: OwnedRecord } | { claimed: false; holder: OwnedRecord };

export interface IdempotencyStore {
  /** Writes `record` for `ttlMs` unless the key holds a record that is not reclaimable; then answers that holder. */
  claim(key: string, record: OwnedRecord, ttlMs: number): Promise<Claim>;
  /** Replaces the record only while `owner` still holds it; false when the claim was lost (expired, taken over). */
  replace(key: string, owner: string, record: OwnedRecord, ttlMs: number): Promise<boolean>;
  /** Deletes the record only while `owner` still holds it. */
  release(key: string, owner: string): Promise<void>;
  read(key: string): Promise<OwnedRecord | undefined>;
  /** Writes unconditionally (an outcome others wait for). */
  put(key: string, record: OwnedRecord, ttlMs: number): Promise<void>;
}
