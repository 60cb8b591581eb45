// Each item's chunk in a fan-out run (lib/cleanup/chunk-plan.ts): slices of the selection, and,
// with a record, the chunk an item was first given in the run, whatever the run lists the next time.
import { describe, expect, it } from 'vitest';
import { dispatchKey, planChunks } from '../../lib/cleanup/chunk-plan';
import { chunkTaskId } from '../../lib/cleanup/task-id';
import { createMemoryStore } from '../../lib/idempotency/memory-store';

const items = (...ids: number[]) => ids.map((n) => ({ InstanceId: 'instance-1', ScriptId: `script-${n}` }));
const nowMs = 1_800_000_000_000;
const recordIn = (store = createMemoryStore({ nowMs: () => nowMs })) => ({ store, ttlMs: 86_400_000, nowMs });
const view = (chunks: Awaited<ReturnType<typeof planChunks>>) => chunks.map((c) => [c.index, c.taskId, c.items.map((i) => i.ScriptId)]);

describe('planChunks', () => {
  it('without a record: consecutive slices of the chunk size, each under the task id of its index and items', async () => {
    const chunks = await planChunks(items(1, 2, 3, 4, 5), 'run-1', 2);
    expect(view(chunks)).toEqual([
      [0, chunkTaskId('run-1', 0, items(1, 2)), ['script-1', 'script-2']],
      [1, chunkTaskId('run-1', 1, items(3, 4)), ['script-3', 'script-4']],
      [2, chunkTaskId('run-1', 2, items(5)), ['script-5']],
    ]);
  });

  it('the first plan of a run is the slices; a retry that lists less puts each item back under its first task id', async () => {
    const record = recordIn();
    const first = await planChunks(items(1, 2, 3, 4, 5, 6, 7), 'run-1', 3, record);
    expect(view(first)).toEqual(view(await planChunks(items(1, 2, 3, 4, 5, 6, 7), 'run-1', 3)));
    // 1 and 2 were withdrawn, 5 left review: every boundary moved.
    const retried = await planChunks(items(3, 4, 6, 7), 'run-1', 3, record);
    expect(view(retried)).toEqual([
      [0, first[0]!.taskId, ['script-3']],
      [1, first[1]!.taskId, ['script-4', 'script-6']],
      [2, first[2]!.taskId, ['script-7']],
    ]);
  });

  it('an item the first run never saw gets a chunk of its own, beside those put back', async () => {
    const record = recordIn();
    const first = await planChunks(items(1, 2, 3), 'run-1', 2, record);
    const retried = await planChunks(items(2, 9, 3), 'run-1', 2, record);
    expect(view(retried)).toEqual([
      [0, first[0]!.taskId, ['script-2']],
      [1, chunkTaskId('run-1', 0, items(2, 9)), ['script-9']],
      [2, first[1]!.taskId, ['script-3']],
    ]);
  });

  it("another run (the next night) is planned afresh: records are the run's own", async () => {
    const record = recordIn();
    await planChunks(items(1, 2, 3), 'run-1', 2, record);
    expect(view(await planChunks(items(2, 3), 'run-2', 2, record))).toEqual(view(await planChunks(items(2, 3), 'run-2', 2)));
    expect(dispatchKey('run-1', items(1)[0]!)).toBe('fanout:run-1:instance-1/script-1');
  });

  it('a record that does not hold a task id FC would take is ignored: the item keeps its slice', async () => {
    const record = recordIn();
    await record.store.put(dispatchKey('run-1', items(1)[0]!), { owner: 'someone', taskId: '1 not a task id' }, 60_000);
    await record.store.put(dispatchKey('run-1', items(2)[0]!), { owner: 'someone' }, 60_000);
    expect(view(await planChunks(items(1, 2), 'run-1', 2, record))).toEqual(view(await planChunks(items(1, 2), 'run-1', 2)));
  });

  it('records each item for the TTL it is given, a thousand claims to a round trip', async () => {
    const batches: number[] = [];
    let clockMs = nowMs;
    const store = createMemoryStore({ nowMs: () => clockMs });
    const counting = { ...store, batch: (ops: Parameters<typeof store.batch>[0]) => (batches.push(ops.length), store.batch(ops)) };
    const first = await planChunks(items(1, 2, 3), 'run-1', 2, { store: counting, ttlMs: 1_000, nowMs });
    expect(batches).toEqual([3]);
    const key = dispatchKey('run-1', items(3)[0]!);
    expect(await store.read(key)).toEqual({ owner: 'run-1', taskId: first[1]!.taskId });
    clockMs = nowMs + 999;
    expect(await store.read(key)).toBeDefined();
    clockMs = nowMs + 1_000;
    expect(await store.read(key)).toBeUndefined();
    batches.length = 0;
    const many = Array.from({ length: 2_500 }, (_, n) => n);
    const chunks = await planChunks(items(...many), 'run-2', 50, { store: counting, ttlMs: 1_000, nowMs: clockMs });
    expect(batches).toEqual([1_000, 1_000, 500]);
    expect(chunks.flatMap((c) => c.items.map((i) => i.ScriptId))).toEqual(items(...many).map((i) => i.ScriptId));
  });
});
