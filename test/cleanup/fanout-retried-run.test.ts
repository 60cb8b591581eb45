// FC's retry of a whole fan-out run lists less than the first run (what was withdrawn has left
// review), so every later chunk boundary moves (issue #24.4). With a shared store each item keeps
// the chunk, and the task id, it was first given: the retry, on another instance, queues nothing twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CleanupResult } from '../../lib/cleanup/summary';
import { startFanoutStack, timerEvent, WITHDRAW_FUNCTION, type FanoutStack } from '../support/fanout-stack';
import { redisAvailable, freePort, startRedis, type RedisServer } from '../support/redis-server';
import { contextFor } from '../support/stack';

let redis: RedisServer;
let stack: FanoutStack;

beforeAll(async () => {
  if (!redisAvailable) return;
  redis = await startRedis({ password: 'fanout-store-password' });
  stack = await startFanoutStack({ IDEMPOTENCY_REDIS_URL: redis.url });
});

afterAll(async () => {
  await stack?.close();
  await redis?.stop();
});

/** Resolves once `done()` holds, polling every 10 ms for at most `timeoutMs`. */
async function until(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const endMs = Date.now() + timeoutMs; !done(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > endMs) throw new Error('condition not met in time');
  }
}

describe.runIf(redisAvailable)('FC retries a fan-out run that has partly been worked off', () => {
  it('on another instance, the retry lists 4 of 7 and queues none of them again: each goes back under its first task id', async () => {
    const { emulator, role, frontend } = stack;
    const { instanceId, stale } = stack.staleInstance(7, ['DRAFTED']);
    const oldestFirst = [...stale].reverse();
    const firstChunk = oldestFirst.slice(0, 3).map((s) => s.ScriptId);
    const before = frontend.counts(WITHDRAW_FUNCTION);
    let openQueue!: () => void;
    const queueOpen = new Promise<void>((resolve) => (openQueue = resolve));
    // The first chunk is worked off; the other two stay queued while FC runs the timer event again.
    stack.gate = (event) => (firstChunk.some((id) => event.includes(id)) ? Promise.resolve() : queueOpen);
    const event = timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 });
    let first: CleanupResult;
    let retried: CleanupResult;
    try {
      first = (await stack.cleanup(event, contextFor(role, 60, 'fanout-shifted-run'))) as CleanupResult;
      await until(() => firstChunk.every((id) => emulator.withdrawals(instanceId, id) === 1));
      retried = (await stack.anotherCleanup()(event, contextFor(role, 60, 'fanout-shifted-run'))) as CleanupResult;
    } finally {
      openQueue();
      stack.gate = async () => {};
    }
    await frontend.drain();

    expect(first).toMatchObject({ Success: true, Selected: 7, Dispatched: 7, AlreadyDispatched: 0 });
    // Listed 4 (and the young one): chunks [4 5 6] and [7] of the first run, now at positions 0 and 1.
    expect(retried).toMatchObject({ Success: true, Selected: 4, Dispatched: 4, AlreadyDispatched: 4, Failed: 0 });
    expect(retried.Chunks!.map((c) => [c.Index, c.Size, c.Code, c.TaskId])).toEqual([
      [0, 3, 'AlreadyDispatched', first.Chunks![1]!.TaskId],
      [1, 1, 'AlreadyDispatched', first.Chunks![2]!.TaskId],
    ]);
    const after = frontend.counts(WITHDRAW_FUNCTION);
    expect({ async: after.async - before.async, duplicateTasks: after.duplicateTasks - before.duplicateTasks }).toEqual({ async: 3, duplicateTasks: 2 });
    for (const s of stale) expect(emulator.withdrawals(instanceId, s.ScriptId), `withdrawals of ${s.ScriptId}`).toBe(1);
    const lines = stack.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.InstanceId === instanceId);
    expect(lines.filter((l) => l.message === 'withdrawal succeeded')).toHaveLength(7);
    expect(lines.filter((l) => String(l.message).startsWith('withdrawal') && l.message !== 'withdrawal succeeded')).toEqual([]);
  });

  it('a store that cannot be asked queues nothing: the run answers IdempotencyStoreUnavailable, and the password stays out of it', async () => {
    const { emulator, role, frontend } = stack;
    const { instanceId, stale } = stack.staleInstance(4, []);
    const before = frontend.counts(WITHDRAW_FUNCTION);
    const url = process.env.IDEMPOTENCY_REDIS_URL!;
    process.env.IDEMPOTENCY_REDIS_URL = `redis://:fanout-store-password@127.0.0.1:${await freePort()}/0`;
    let result: Record<string, unknown>;
    try {
      // A fresh instance reads the variables on its first invocation.
      result = (await stack.anotherCleanup()(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(role, 60, 'fanout-store-down'))) as Record<string, unknown>;
    } finally {
      process.env.IDEMPOTENCY_REDIS_URL = url;
    }
    await frontend.drain();
    expect(result).toMatchObject({ Success: false, Code: 'IdempotencyStoreUnavailable', HttpStatusCode: 503 });
    expect(frontend.counts(WITHDRAW_FUNCTION).async).toBe(before.async);
    for (const s of stale) expect(emulator.withdrawals(instanceId, s.ScriptId)).toBe(0);
    expect(JSON.stringify(result) + stack.stdoutLines.join('\n')).not.toContain('fanout-store-password');
  });
});
