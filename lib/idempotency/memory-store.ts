import type { Clock } from '../core/clock';
import type { IdempotencyStore, OwnedRecord } from './store';

/**
 * Bounds the instance's memory whatever the traffic: a record with its results is 1–2 KB. One
 * instance serves one request at a time, so this memory only meets redeliveries that land on
 * the same instance: the last thousand deliveries and locks are plenty (a shared store is the
 * answer for the rest).
 */
const MAX_RECORDS = 1_000;

/**
 * The store for one instance (local runs, a function pinned to one instance): the same
 * semantics as Redis within one process, nothing shared across instances.
 */
export function createMemoryStore(clock: Pick<Clock, 'nowMs'>, maxRecords = MAX_RECORDS): IdempotencyStore {
  const records = new Map<string, { record: OwnedRecord; expiresAtMs: number }>();

  function live(key: string): OwnedRecord | undefined {
    const entry = records.get(key);
    if (entry && entry.expiresAtMs > clock.nowMs()) return entry.record;
    records.delete(key);
    return undefined;
  }

  /**
   * Kept as given: callers never change a record after writing it, and a copy per write was a
   * fifth of a warm withdrawal's CPU. What leaves the store is copied instead (rarely: replays).
   * Full, the oldest written goes (Map keeps insertion order): O(1), never a scan.
   */
  function write(key: string, record: OwnedRecord, ttlMs: number): void {
    records.delete(key);
    if (records.size >= maxRecords) records.delete(records.keys().next().value!);
    records.set(key, { record, expiresAtMs: clock.nowMs() + ttlMs });
  }

  return {
    async claim(key, record, ttlMs) {
      const existing = live(key);
      if (existing && existing.reclaimable !== true) return { claimed: false, holder: structuredClone(existing) };
      write(key, record, ttlMs);
      return existing ? { claimed: true, previous: structuredClone(existing) } : { claimed: true };
    },
    async replace(key, owner, record, ttlMs) {
      if (live(key)?.owner !== owner) return false;
      write(key, record, ttlMs);
      return true;
    },
    async release(key, owner) {
      if (live(key)?.owner === owner) records.delete(key);
    },
    async read(key) {
      const existing = live(key);
      return existing && structuredClone(existing);
    },
    async put(key, record, ttlMs) {
      write(key, record, ttlMs);
    },
  };
}
