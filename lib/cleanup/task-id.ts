/**
 * The `x-fc-async-task-id` of each chunk the fan-out queues: made from the run and the chunk, so
 * that sending the same chunk again (a dispatch retried after a timeout, or FC's async retry of
 * the whole cleanup, which keeps its requestId) is refused by FC with 409 instead of queued twice.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { WithdrawalItem } from '../withdraw/withdraw-item';

/**
 * FC's rule for the task id (InvokeFunction, API 2023-03-30, header `x-fc-async-task-id`):
 * a letter or an underscore first, then letters, digits, underscores and hyphens, at most 128
 * characters. The local FC front end refuses any other id, as FC does.
 */
export const FC_TASK_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** A request id short and plain enough is kept as it is, so the operator can find the run in it. */
const PLAIN_RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The run's requestId as it goes in ids and keys: as it is when plain and short, else hashed. */
export const runIdOf = (runRequestId: string): string => (PLAIN_RUN_ID.test(runRequestId) ? runRequestId : `h${sha256Hex(runRequestId).slice(0, 32)}`);

/**
 * `cleanup-<run>-<index>-<digest>`: `<run>` the cleanup invocation's requestId (hashed when it is
 * long or has characters FC refuses), `<digest>` 64 bits of SHA-256 over the chunk's items in
 * order. The items are part of it because a rerun may list differently: a chunk at the same
 * index but with other scripts is other work, and must be queued, not refused as a duplicate.
 * At most 8 + 64 + 1 + 5 + 1 + 16 = 95 characters for the 10 000 items a run may select.
 */
export function chunkTaskId(runRequestId: string, index: number, items: readonly WithdrawalItem[]): string {
  const run = runIdOf(runRequestId);
  const digest = sha256Hex(items.map((item) => `${item.InstanceId}/${item.ScriptId}`).join('\n')).slice(0, 16);
  return `cleanup-${run}-${index}-${digest}`;
}
