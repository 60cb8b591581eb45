import type { Clock } from '../core/clock';
import type { IdempotencyStore, OwnedRecord } from './store';

/** Bounds the instance's memory whatever the traffic; 10,000 records are about 5 MB. */
const MAX_RECORDS = 10_000;

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

  function write(key: string, record: OwnedRecord, ttlMs: number): void {
    records.delete(key);
    if (records.size >= maxRecords) evict();
    records.set(key, { record: structuredClone(record), expiresAtMs: clock.nowMs() + ttlMs });
  }

  /** Expired records first, then the oldest written (Map keeps insertion order). */
  function evict(): void {
    const nowMs = clock.nowMs();
    for (const [key, entry] of records) if (entry.expiresAtMs <= nowMs) records.delete(key);
    if (records.size >= maxRecords) records.delete(records.keys().next().value!);
  }

  return {
    async claim(key, record, ttlMs) {
      const existing = live(key);
      if (existing && existing.reclaimable !== true) return { claimed: false, holder: structuredClone(existing) };
      write(key, record, ttlMs);
      return existing ? { claimed: true, previous: existing } : { claimed: true };
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
