/**
 * Which chunk each selected item is queued in, and under which task id (issue #24.4).
 *
 * A chunk's task id is made from its items (task-id.ts), so FC refuses the same chunk sent
 * again. FC's retry of the whole run lists less, though: the scripts already withdrawn have left
 * review, every later chunk boundary moves, and chunks still queued would be queued again under
 * new ids. So, with a shared store, each item's chunk is recorded before anything is queued (a
 * claim per item, a thousand to a round trip; the first claim of an item wins): a retried run puts
 * every item it finds recorded back under that chunk's task id, which FC refuses if it holds it
 * and queues if the earlier run never got to send it. Items found unrecorded get chunks of their own.
 *
 * @module
 */
import type { Claim, IdempotencyStore, StoreOp } from '../idempotency/store';
import type { WithdrawalItem } from '../withdraw/withdraw-item';
import { chunkTaskId, FC_TASK_ID_PATTERN, runIdOf } from './task-id';

/** One async invocation of the withdraw function: `{"Items": items}` under `taskId`. */
export interface PlannedChunk {
  /** Position in the run's `Chunks`, from 0. */
  index: number;
  taskId: string;
  items: WithdrawalItem[];
}

/** Where the run records each item's chunk: the shared store, for as long as FC may retry the run. */
export interface ChunkRecord {
  store: IdempotencyStore;
  ttlMs: number;
  nowMs: number;
}

/** Claims per store round trip: 10,000 items (a run's most) take 10. */
export const CLAIMS_PER_BATCH = 1_000;

/** Consecutive slices of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** The store key of an item's chunk in one run: the same for FC's every retry of the run (same requestId). */
export const dispatchKey = (runRequestId: string, item: WithdrawalItem): string => `fanout:${runIdOf(runRequestId)}:${item.InstanceId}/${item.ScriptId}`;

/**
 * The run's chunks, oldest items first: consecutive slices of `chunkSize`, each item moved to the
 * chunk `record` already holds for it in this run.
 * @throws IdempotencyStoreUnavailableError when the store cannot be asked: nothing is queued then.
 */
export async function planChunks(items: readonly WithdrawalItem[], runRequestId: string, chunkSize: number, record?: ChunkRecord): Promise<PlannedChunk[]> {
  const slices = chunk(items, chunkSize).map((slice, index) => ({ taskId: chunkTaskId(runRequestId, index, slice), items: slice }));
  if (record === undefined) return slices.map((slice, index) => ({ index, ...slice }));
  const ops: StoreOp[] = slices.flatMap(({ taskId, items }) =>
    items.map((item) => ({ op: 'claim' as const, key: dispatchKey(runRequestId, item), record: { owner: runRequestId, taskId }, ttlMs: record.ttlMs, nowMs: record.nowMs })),
  );
  const answers: Claim[] = [];
  // A round trip per CLAIMS_PER_BATCH: each answers within the store's timeout however many items a run selects.
  for (let start = 0; start < ops.length; start += CLAIMS_PER_BATCH) answers.push(...((await record.store.batch(ops.slice(start, start + CLAIMS_PER_BATCH))) as Claim[]));
  const byTask = new Map<string, WithdrawalItem[]>();
  let next = 0;
  for (const { taskId, items } of slices) {
    for (const item of items) {
      const answer = answers[next++]!;
      const chosen = answer.claimed ? taskId : recordedTaskId(answer.holder.taskId) ?? taskId;
      const group = byTask.get(chosen);
      if (group) group.push(item);
      else byTask.set(chosen, [item]);
    }
  }
  return [...byTask].map(([taskId, items], index) => ({ index, taskId, items }));
}

/** A recorded task id FC would take; anything else (a key written by something else) is ignored. */
const recordedTaskId = (value: unknown): string | undefined => (typeof value === 'string' && FC_TASK_ID_PATTERN.test(value) ? value : undefined);
