import type { Clock } from '../core/clock';
import { inherit, reclaimable, relinquished, storeOf, type IdempotencyStore, type OwnedRecord, type StoreAnswer, type StoreOp } from './store';

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

  function apply(op: StoreOp): StoreAnswer {
    const current = live(op.key);
    switch (op.op) {
      case 'claim': {
        if (current && !reclaimable(current, op.record.fingerprint, op.nowMs)) return { claimed: false, holder: structuredClone(current) };
        write(op.key, current ? inherit(op.record, current) : op.record, op.ttlMs);
        return current ? { claimed: true, previous: structuredClone(current) } : { claimed: true };
      }
      case 'replace':
        if (current?.owner !== op.owner) return false;
        write(op.key, op.record, op.ttlMs);
        return true;
      case 'release':
        if (current?.owner === op.owner) records.delete(op.key);
        return undefined;
      case 'relinquish': {
        if (current?.owner !== op.owner) return undefined;
        const left = relinquished(current, op.nowMs);
        if (left) records.set(op.key, { record: left, expiresAtMs: records.get(op.key)!.expiresAtMs });
        else records.delete(op.key);
        return undefined;
      }
      case 'read':
        return current && structuredClone(current);
      case 'put':
        write(op.key, op.record, op.ttlMs);
        return undefined;
    }
  }

  return storeOf(async (ops) => ops.map(apply));
}
