// Attacks on exactly-once with a shared Redis: two built instances, races, a stalled store, TTL reuse.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudEvent, mnsQueueEvent } from '../support/events';
import { freePort, redisAvailable, startRedis, type RedisServer } from '../support/redis-server';
import { storeLink } from '../support/store-link';
import { ALLOWED, calls, ctx, fresh, httpAnswer, instance, signed, sleep, useWorld } from './helpers';

const world = useWorld(redisAvailable);
let redis: RedisServer;
const PASSWORD = 'p@ss:w/rd+atk%20long';

beforeAll(async () => {
  if (redisAvailable) redis = await startRedis({ password: PASSWORD });
});
afterAll(async () => {
  await redis?.stop();
});

const env = (url = redis.url, extra: Record<string, string> = {}) => ({ IDEMPOTENCY_REDIS_URL: url, IDEMPOTENCY_TIMEOUT_MS: '500', OUTBOUNDBOT_READ_TIMEOUT_MS: '3000', ...extra });

describe.runIf(redisAvailable)('two instances, one Redis', () => {
  it('race: the same webhook-id with two different signed bodies on two instances at once: at most one withdrawal, the other 422/409', async () => {
    const [a, b] = await Promise.all([instance(world, env()), instance(world, env())]);
    const [s1, s2] = fresh(world, 2);
    const webhookId = `msg_${randomUUID()}`;
    world.emulator.setLatency(200);
    try {
      const [ra, rb] = await Promise.all([
        a.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: s1 }), { webhookId }), ctx(world)),
        b.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: s2 }), { webhookId }), ctx(world)),
      ]);
      const statuses = [httpAnswer(ra).status, httpAnswer(rb).status].sort();
      expect(calls(world, [s1!, s2!])).toBe(1);
      expect(statuses[0]).toBe(200);
      expect([409, 422]).toContain(statuses[1]);
    } finally {
      world.emulator.setLatency(0);
    }
  });

  it('the same MNS messageId redelivered by EventBridge with a new CloudEvent id to the other instance: one call', async () => {
    const [a, b] = await Promise.all([instance(world, env()), instance(world, env())]);
    const [id] = fresh(world, 1);
    const messageId = `m-${randomUUID()}`;
    const e1 = mnsQueueEvent(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id }));
    (e1.data as Record<string, unknown>).messageId = messageId;
    const e2 = { ...structuredClone(e1), id: randomUUID() };
    world.emulator.setLatency(200);
    try {
      await Promise.all([a.invoke([e1], ctx(world)), b.invoke(e2, ctx(world))]);
      expect(calls(world, [id!])).toBe(1);
    } finally {
      world.emulator.setLatency(0);
    }
  });

  it('a direct async invocation retried by FC on another instance with the same requestId: one call', async () => {
    const [a, b] = await Promise.all([instance(world, env()), instance(world, env())]);
    const [id] = fresh(world, 1);
    const requestId = randomUUID();
    world.emulator.setLatency(200);
    try {
      await Promise.all([a.invoke({ InstanceId: ALLOWED, ScriptId: id }, ctx(world, 10, requestId)), b.invoke({ InstanceId: ALLOWED, ScriptId: id }, ctx(world, 10, requestId))]);
      expect(calls(world, [id!])).toBe(1);
    } finally {
      world.emulator.setLatency(0);
    }
  });

  it('two different webhooks for one script at once on two instances: one call in flight, both told the truth', async () => {
    const [a, b] = await Promise.all([instance(world, env()), instance(world, env())]);
    const [id] = fresh(world, 1);
    world.emulator.setLatency(300);
    try {
      const body = JSON.stringify({ InstanceId: ALLOWED, ScriptId: id });
      const [ra, rb] = (await Promise.all([a.invoke(signed(body), ctx(world)), b.invoke(signed(body), ctx(world))])).map(httpAnswer);
      expect(calls(world, [id!])).toBe(1);
      expect([ra!.body.Success, rb!.body.Success]).toEqual([true, true]);
    } finally {
      world.emulator.setLatency(0);
    }
  });

  it('store down (nothing listens): HTTP 503 with retry-after, events throw, nothing withdrawn, password never shown', async () => {
    const port = await freePort();
    const url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/0`;
    const w = await instance(world, env(url));
    const [id] = fresh(world, 1);
    const h = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world)));
    expect(h.status).toBe(503);
    expect(h.headers['retry-after']).toBeDefined();
    const e = await w.invoke(mnsQueueEvent(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world));
    expect(e.error).toBeDefined();
    const arr = await w.invoke([mnsQueueEvent('garbage'), cloudEvent({ InstanceId: ALLOWED, ScriptId: id }, { id: randomUUID(), source: 's' })], ctx(world));
    expect(arr.error).toBeDefined();
    expect(calls(world, [id!])).toBe(0);
    const everything = JSON.stringify([h, e, arr]) + w.output();
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD), 'p@ss:w/rd']) expect(everything).not.toContain(form);
  });

  it('wrong Redis password: 503, password (raw/encoded) not in the answer, error or log', async () => {
    const wrong = 'wrong-pass-9f8e7d6c';
    const url = redis.url.replace(encodeURIComponent(PASSWORD), wrong);
    const w = await instance(world, env(url));
    const [id] = fresh(world, 1);
    const h = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world)));
    const e = await w.invoke({ InstanceId: ALLOWED, ScriptId: id }, ctx(world));
    expect(h.status).toBe(503);
    const everything = JSON.stringify([h, e]) + w.output();
    expect(everything).not.toContain(wrong);
    expect(calls(world, [id!])).toBe(0);
  });

  it('a malformed percent-escape in the Redis password is a 500 InvalidConfiguration (not a crash), no call', async () => {
    const url = `redis://:bad%zzpassword@127.0.0.1:${redis.port}/0`;
    const w = await instance(world, env(url));
    const [id] = fresh(world, 1);
    const h = await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world));
    expect(calls(world, [id!])).toBe(0);
    expect(w.output()).not.toContain('bad%zzpassword');
    expect(h.error).toBeUndefined();
    expect(httpAnswer(h)).toMatchObject({ status: 500, body: { Code: 'InvalidConfiguration' } });
  });

  it('a store that stalls after the withdrawal (default IDEMPOTENCY_TIMEOUT_MS): the answer still comes before context.function.timeout', async () => {
    const proxy = await storeLink(redis.port, PASSWORD);
    try {
      const w = await instance(world, env(proxy.url, { IDEMPOTENCY_TIMEOUT_MS: '__unset__' }));
      const [id] = fresh(world, 1);
      // The withdrawal is done at once; its answer comes 1.8 s later, inside the work's end (2.16 s: the 2.7 s answer less
      // a store round trip, capped at 20 %). The store stalls meanwhile, so the outcome cannot be written.
      world.emulator.injectFault({ kind: 'delay', ms: 1800 }, { action: 'WithdrawScriptReview', times: 1 });
      const event = signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id }));
      const started = Date.now();
      const pending = w.invoke(event, ctx(world, 3));
      await sleep(500);
      proxy.freeze();
      const answer = await pending;
      const elapsed = Date.now() - started;
      // Answered before FC ends the invocation at 3 s: the caller sees the withdrawal, and has nothing to retry.
      expect(httpAnswer(answer).status).toBe(200);
      expect(world.emulator.withdrawals(ALLOWED, id!)).toBe(1);
      expect(elapsed).toBeLessThan(3_000);
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('a store that stalls at the start: the 503 still comes before context.function.timeout', async () => {
    const proxy = await storeLink(redis.port, PASSWORD);
    try {
      const w = await instance(world, env(proxy.url, { IDEMPOTENCY_TIMEOUT_MS: '5000' }));
      const [id] = fresh(world, 1);
      await w.invoke({ InstanceId: ALLOWED, ScriptId: fresh(world, 1)[0] }, ctx(world)); // connect
      proxy.freeze();
      const started = Date.now();
      const answer = await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world, 2));
      const elapsed = Date.now() - started;
      proxy.thaw();
      expect(httpAnswer(answer)).toMatchObject({ status: 503, body: { Code: 'IdempotencyStoreUnavailable' } });
      expect(calls(world, [id!])).toBe(0);
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      proxy.thaw();
      await proxy.close();
    }
  }, 30_000);
});
