// Adversary (issue #24): FC's retry of a whole fan-out run, on another instance with a shared
// Redis, against the built bundles and the local FC front end (409 on a reused task id). The
// promise: no stale review is queued twice in one run, none is lost, and the counts are true.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CleanupResult } from '../../lib/cleanup/summary';
import { startFanoutStack, timerEvent, type FanoutStack } from '../support/fanout-stack';
import { redisAvailable, startRedis, type RedisServer } from '../support/redis-server';
import { storeLink, type StoreLink } from '../support/store-link';
import { contextFor } from '../support/stack';

const PASSWORD = 'adv24-fanout-redis-password';
let redis: RedisServer;
let link: StoreLink;
let stack: FanoutStack;

beforeAll(async () => {
  if (!redisAvailable) return;
  redis = await startRedis({ password: PASSWORD });
  link = await storeLink(redis.port, PASSWORD);
  stack = await startFanoutStack({ IDEMPOTENCY_REDIS_URL: link.url });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await link?.close();
  await redis?.stop();
});

/** Resolves once `done()` holds, polling every 10 ms. */
async function until(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const endMs = Date.now() + timeoutMs; !done(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > endMs) throw new Error('condition not met in time');
  }
}

/**
 * Counts how many queued invocations of the withdraw function carried each ScriptId (FC's queue
 * running them), holding every invocation that names none of `released` until `open()`.
 */
function watchQueue(released: readonly string[]) {
  const queuedTimes = new Map<string, number>();
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  stack.gate = (event) => {
    const items = (JSON.parse(event.toString()) as { Items: Array<{ ScriptId: string }> }).Items;
    for (const { ScriptId } of items) queuedTimes.set(ScriptId, (queuedTimes.get(ScriptId) ?? 0) + 1);
    return items.some((item) => released.includes(item.ScriptId)) ? Promise.resolve() : opened;
  };
  return { queuedTimes, open };
}

const run = (handler: FanoutStack['cleanup'], instanceId: string, requestId: string) =>
  handler(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(stack.role, 60, requestId)) as Promise<CleanupResult>;

describe.runIf(redisAvailable)('adversary: FC retries a fan-out run on another instance (shared Redis)', () => {
  it.fails('LIMIT (docs/DESIGN.md, "Fan-out task ids"): a Redis restarted empty between the run and its retry forgets each item\'s chunk, so the items still queued are queued again', async () => {
    const { emulator } = stack;
    const { instanceId, stale } = stack.staleInstance(7, ['DRAFTED']);
    const oldestFirst = [...stale].reverse().map((s) => s.ScriptId);
    const queue = watchQueue(oldestFirst.slice(0, 3));
    const requestId = `adv24-restart-${randomUUID()}`;
    let first: CleanupResult;
    let retried: CleanupResult;
    try {
      first = await run(stack.cleanup, instanceId, requestId);
      await until(() => oldestFirst.slice(0, 3).every((id) => emulator.withdrawals(instanceId, id) === 1));
      await redis.restart();
      retried = await run(stack.anotherCleanup(), instanceId, requestId);
    } finally {
      queue.open();
      stack.gate = async () => {};
    }
    await stack.frontend.drain();
    expect(first).toMatchObject({ Success: true, Dispatched: 7 });
    // Each of the 4 still queued is queued again under a new task id (its chunk's index moved).
    for (const id of oldestFirst) expect(queue.queuedTimes.get(id), `times ${id} was queued`).toBe(1);
    expect(retried, 'the retry: every item it lists is already queued').toMatchObject({ Selected: 4, Dispatched: 4, AlreadyDispatched: 4 });
  }, 30_000);

  it('HELD: a retry whose listing shifted both ways (some withdrawn, one approved, new stale ones) queues each item once and the new ones too', async () => {
    const { emulator } = stack;
    const { instanceId, stale, all } = stack.staleInstance(8, ['DRAFTED']);
    const oldestFirst = [...stale].reverse().map((s) => s.ScriptId);
    const queue = watchQueue(oldestFirst.slice(0, 3));
    const requestId = `adv24-shift-${randomUUID()}`;
    let first: CleanupResult;
    let retried: CleanupResult;
    const fresh = Array.from({ length: 2 }, (_, i) => ({ ScriptId: randomUUID(), ScriptName: 'new', Status: 'EXAMINE_IN_PROGRESS', UpdateTime: Date.now() - (700 + i) * 60_000 }));
    try {
      first = await run(stack.cleanup, instanceId, requestId);
      await until(() => oldestFirst.slice(0, 3).every((id) => emulator.withdrawals(instanceId, id) === 1));
      // A reviewer approves one still queued; two older reviews appear (oldest first: they lead the retry's listing).
      emulator.review(instanceId, oldestFirst[4]!, 'PUBLISHED');
      const now = all.map((s) => emulator.script(instanceId, s.ScriptId)!);
      emulator.addInstance(instanceId, [...now, ...fresh]);
      retried = await run(stack.anotherCleanup(), instanceId, requestId);
    } finally {
      queue.open();
      stack.gate = async () => {};
    }
    await stack.frontend.drain();
    expect(first).toMatchObject({ Success: true, Dispatched: 8 });
    // Listed: 4 still queued (one approved left review) + 2 new.
    expect(retried).toMatchObject({ Selected: 6, Dispatched: 6, AlreadyDispatched: 4, Failed: 0, Remaining: [] });
    for (const id of [...oldestFirst, ...fresh.map((s) => s.ScriptId)]) expect(queue.queuedTimes.get(id), `times ${id} was queued`).toBe(1);
    for (const s of fresh) expect(emulator.withdrawals(instanceId, s.ScriptId)).toBe(1);
  }, 30_000);

  it('HELD: two attempts of the run at once (a retry overlapping a first attempt still running) queue each item once', async () => {
    const { emulator } = stack;
    const { instanceId, stale } = stack.staleInstance(10, []);
    const queue = watchQueue([]);
    const requestId = `adv24-overlap-${randomUUID()}`;
    let answers: CleanupResult[];
    try {
      answers = await Promise.all([run(stack.cleanup, instanceId, requestId), run(stack.anotherCleanup(), instanceId, requestId)]);
    } finally {
      queue.open();
      stack.gate = async () => {};
    }
    await stack.frontend.drain();
    for (const s of stale) expect(queue.queuedTimes.get(s.ScriptId), `times ${s.ScriptId} was queued`).toBe(1);
    for (const s of stale) expect(emulator.withdrawals(instanceId, s.ScriptId)).toBe(1);
    // Between them, every chunk queued once and refused once.
    expect(answers.map((a) => a.Dispatched)).toEqual([10, 10]);
    expect(answers[0]!.AlreadyDispatched! + answers[1]!.AlreadyDispatched!).toBe(10);
  }, 30_000);

  it('HELD: the claim\'s reply lost (Redis applied it): the run queues nothing and says so; FC\'s retry then queues each item once', async () => {
    const { emulator } = stack;
    const { instanceId, stale } = stack.staleInstance(5, []);
    const requestId = `adv24-cut-${randomUUID()}`;
    const before = stack.frontend.counts('withdraw-script-review-withdraw').async;
    link.cutOn(`fanout:${requestId}`, 300);
    const cutRun = (await stack.anotherCleanup()(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(stack.role, 60, requestId))) as Record<string, unknown>;
    expect(cutRun).toMatchObject({ Success: false, Code: 'IdempotencyStoreUnavailable' });
    expect(stack.frontend.counts('withdraw-script-review-withdraw').async).toBe(before);
    await new Promise((r) => setTimeout(r, 400));
    const queue = watchQueue(stale.map((s) => s.ScriptId));
    const retried = await run(stack.anotherCleanup(), instanceId, requestId);
    await stack.frontend.drain();
    stack.gate = async () => {};
    expect(retried).toMatchObject({ Success: true, Dispatched: 5, Failed: 0 });
    for (const s of stale) expect(queue.queuedTimes.get(s.ScriptId)).toBe(1);
    for (const s of stale) expect(emulator.withdrawals(instanceId, s.ScriptId)).toBe(1);
    expect(JSON.stringify(cutRun) + stack.stdoutLines.join('\n')).not.toContain(PASSWORD);
  }, 30_000);

  it('FIXED: a store that does not answer the claims of 400 items: the answer and its log line stay short (no "claim+claim+…")', async () => {
    const { instanceId } = stack.staleInstance(400, []);
    link.freeze();
    let answer: Record<string, unknown>;
    try {
      answer = (await stack.anotherCleanup()(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(stack.role, 60, `adv24-frozen-${randomUUID()}`))) as Record<string, unknown>;
    } finally {
      link.thaw();
    }
    expect(answer).toMatchObject({ Success: false, Code: 'IdempotencyStoreUnavailable' });
    // The message names the operation once per op: 400 claims, 2.4 KB; 56,000 claims (tests/attack/cleanup-memory), a 280 KB answer.
    expect(String(answer.Message).length, String(answer.Message).slice(0, 120)).toBeLessThan(500);
  }, 30_000);

  it('HELD: a wrong Redis password: the run queues nothing, and neither password reaches the answer or a log line', async () => {
    const { instanceId } = stack.staleInstance(2, []);
    const wrong = 'adv24-wrong-redis-password';
    const url = process.env.IDEMPOTENCY_REDIS_URL!;
    const before = stack.frontend.counts('withdraw-script-review-withdraw').async;
    process.env.IDEMPOTENCY_REDIS_URL = `redis://:${wrong}@127.0.0.1:${redis.port}/0`;
    let answer: Record<string, unknown>;
    try {
      answer = (await stack.anotherCleanup()(timerEvent({ InstanceId: instanceId, OlderThanMinutes: 60 }), contextFor(stack.role, 60, `adv24-wrongpass-${randomUUID()}`))) as Record<string, unknown>;
    } finally {
      process.env.IDEMPOTENCY_REDIS_URL = url;
    }
    expect(answer).toMatchObject({ Success: false, Code: 'IdempotencyStoreUnavailable' });
    expect(stack.frontend.counts('withdraw-script-review-withdraw').async).toBe(before);
    const seen = JSON.stringify(answer) + stack.stdoutLines.join('\n');
    expect(seen).not.toContain(wrong);
    expect(seen).not.toContain(PASSWORD);
  }, 30_000);
});
