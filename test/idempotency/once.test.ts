// runOnce and lockScript over both stores: one piece of work per key, one withdrawal in flight
// per script, whatever arrives concurrently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/core/clock';
import { IdempotencyKeyMismatchError, RequestInProgressError } from '../../lib/idempotency/errors';
import { createMemoryStore } from '../../lib/idempotency/memory-store';
import { runOnce, type OnceOptions } from '../../lib/idempotency/once';
import { openStore } from '../../lib/idempotency/open-store';
import { createRedisStore } from '../../lib/idempotency/redis-store';
import { lockScript } from '../../lib/idempotency/script-lock';
import type { IdempotencyStore } from '../../lib/idempotency/store';
import { redisAvailable, startRedis, type RedisServer } from '../support/redis-server';

let redis: RedisServer | undefined;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  if (redisAvailable) redis = await startRedis();
});
afterAll(async () => {
  for (const close of closers) await close();
  await redis?.stop();
});

const stores: Array<[string, () => IdempotencyStore, boolean]> = [
  ['memory', () => createMemoryStore(systemClock), true],
  [
    'redis',
    () => {
      const store = createRedisStore({ url: redis!.url, timeoutMs: 1_000, keyPrefix: `o${Math.random().toString(36).slice(2)}:` });
      closers.push(() => store.close());
      return store;
    },
    redisAvailable,
  ],
];

const counter = () => {
  let calls = 0;
  const work = (value: string, keep = true, ms = 60) => async () => {
    calls += 1;
    await systemClock.sleep(ms);
    return { value, keep };
  };
  return { work, calls: () => calls };
};

describe.each(stores)('runOnce over the %s store', (_, makeStore, available) => {
  const run = available ? it : it.skip;
  const options = (store: IdempotencyStore, extra: Partial<OnceOptions> = {}): OnceOptions => ({
    store,
    clock: systemClock,
    key: 'delivery-1',
    fingerprint: 'fp-1',
    claimUntilMs: Date.now() + 5_000,
    waitUntilMs: Date.now() + 2_000,
    ttlMs: 60_000,
    onLostOutcome: (error) => {
      throw error;
    },
    ...extra,
  });

  run('does concurrent duplicates once; the second gets the first outcome', async () => {
    const store = makeStore();
    const { work, calls } = counter();
    const [a, b] = await Promise.all([runOnce(options(store), work('first')), runOnce(options(store), work('second'))]);
    expect(calls()).toBe(1);
    expect([a, b].map((r) => r.value)).toEqual(['first', 'first']);
    expect([a, b].filter((r) => r.replayed)).toHaveLength(1);
  });

  run('answers a later duplicate from the store without working', async () => {
    const store = makeStore();
    const { work, calls } = counter();
    await runOnce(options(store), work('done'));
    expect(await runOnce(options(store), work('again'))).toEqual({ replayed: true, value: 'done' });
    expect(calls()).toBe(1);
  });

  run('refuses the same key with another payload, working not at all', async () => {
    const store = makeStore();
    const { work, calls } = counter();
    await runOnce(options(store), work('done'));
    await expect(runOnce(options(store, { fingerprint: 'fp-other' }), work('x'))).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
    expect(calls()).toBe(1);
  });

  run('lets a retry work again after an outcome that must not be kept, or a crash', async () => {
    const store = makeStore();
    const { work, calls } = counter();
    await runOnce(options(store), work('502', false));
    await expect(runOnce(options(store), async () => Promise.reject(new Error('crash')))).rejects.toThrow('crash');
    expect(await runOnce(options(store), work('ok'))).toEqual({ replayed: false, value: 'ok' });
    expect(calls()).toBe(2);
  });

  run('gives up waiting with 409 and a retry-after until the holder lapses', async () => {
    const store = makeStore();
    const slow = runOnce(options(store), counter().work('slow', true, 800));
    await systemClock.sleep(20);
    const error = await runOnce(options(store, { waitUntilMs: Date.now() + 200 }), counter().work('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestInProgressError);
    expect((error as RequestInProgressError).retryAfterSeconds).toBeGreaterThanOrEqual(4);
    expect((error as RequestInProgressError).retryAfterSeconds).toBeLessThanOrEqual(5);
    await slow;
  });

  run('hands what an unfinished run carried to the next run of the key', async () => {
    const store = makeStore();
    const first = await runOnce<string, string[]>(options(store), async ({ carried }) => ({ value: `first saw ${carried}`, keep: false, carry: ['item-1 done'] }));
    expect(first.value).toBe('first saw undefined');
    const second = await runOnce<string, string[]>(options(store), async ({ carried }) => ({ value: `second saw ${carried}`, keep: true }));
    expect(second).toEqual({ replayed: false, value: 'second saw item-1 done' });
    expect(await runOnce(options(store), counter().work('x'))).toEqual({ replayed: true, value: 'second saw item-1 done' });
  });

  run('refuses another payload under a key an unfinished run left, and keeps what it carried', async () => {
    const store = makeStore();
    await runOnce<string, string>(options(store), async () => ({ value: 'partial', keep: false, carry: 'kept' }));
    await expect(runOnce(options(store, { fingerprint: 'fp-other' }), counter().work('x'))).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
    const again = await runOnce<string, string>(options(store), async ({ carried }) => ({ value: `saw ${carried}`, keep: true }));
    expect(again.value).toBe('saw kept');
  });

  run('takes over a claim whose holder died once it lapses', async () => {
    const store = makeStore();
    const now = Date.now();
    const killed = { owner: 'killed', status: 'IN_PROGRESS', fingerprint: 'fp-1', claimedAtMs: now, claimUntilMs: now + 150, reclaimableFromMs: now + 150, expiresAtMs: now + 60_000 };
    await store.claim('delivery-1', killed, 60_000, now);
    await expect(runOnce(options(store, { waitUntilMs: Date.now() + 50 }), counter().work('early'))).rejects.toBeInstanceOf(RequestInProgressError);
    await systemClock.sleep(160);
    let seen: unknown;
    expect(await runOnce(options(store), async ({ unsettled }) => ((seen = unsettled), { value: 'after', keep: true }))).toEqual({ replayed: false, value: 'after' });
    // The killed run may have acted during its whole claim: the run that takes over is told so.
    expect(seen).toEqual({ sinceMs: now, untilMs: now + 150 });
  });
});

describe.each(stores)('lockScript over the %s store', (_, makeStore, available) => {
  const run = available ? it : it.skip;
  const lockOptions = (store: IdempotencyStore, waitMs = 2_000) => ({
    store,
    clock: systemClock,
    name: 'inst/script',
    holdForMs: 5_000,
    holdUntilMs: Date.now() + 5_000,
    waitUntilMs: Date.now() + waitMs,
    outcomeTtlMs: 60_000,
    markTtlMs: 60_000,
  });

  run('lets one holder in; a concurrent request reports the holder outcome', async () => {
    const store = makeStore();
    const first = await lockScript<string>(lockOptions(store));
    expect(first.acquired).toBe(true);
    const second = lockScript<string>(lockOptions(store));
    await systemClock.sleep(120);
    if (first.acquired) await store.batch(first.releaseOps('withdrawn by the first'));
    expect(await second).toEqual({ acquired: false, outcome: 'withdrawn by the first' });
  });

  run('tells every waiter the holder outcome, however many waited and whoever takes the lock next', async () => {
    const store = makeStore();
    const first = await lockScript<string>(lockOptions(store));
    const waiters = [lockScript<string>(lockOptions(store)), lockScript<string>(lockOptions(store)), lockScript<string>(lockOptions(store))];
    await systemClock.sleep(120);
    if (first.acquired) await store.batch(first.releaseOps('withdrawn by the first'));
    // A request that never saw the holder: the lock is free for it, the outcome is not its to report.
    const late = await lockScript<string>(lockOptions(store));
    expect(late.acquired).toBe(true);
    expect(await Promise.all(waiters)).toEqual(Array.from({ length: 3 }, () => ({ acquired: false, outcome: 'withdrawn by the first' })));
    if (late.acquired) await store.batch(late.releaseOps(undefined));
  });

  run('hands the lock on when the holder had no definite outcome', async () => {
    const store = makeStore();
    const first = await lockScript<string>(lockOptions(store));
    const second = lockScript<string>(lockOptions(store));
    await systemClock.sleep(120);
    if (first.acquired) await store.batch(first.releaseOps(undefined));
    const next = await second;
    expect(next.acquired).toBe(true);
    if (next.acquired) await store.batch(next.releaseOps(undefined));
  });

  run('does not report an outcome published before it started waiting', async () => {
    const store = makeStore();
    const earlier = await lockScript<string>(lockOptions(store));
    if (earlier.acquired) await store.batch(earlier.releaseOps('an old outcome'));
    const later = await lockScript<string>(lockOptions(store));
    expect(later.acquired).toBe(true);
    if (later.acquired) await store.batch(later.releaseOps(undefined));
  });

  run('hands the mark a holder left to the next holder, read as it takes the lock', async () => {
    const store = makeStore();
    const first = await lockScript<string>(lockOptions(store));
    expect(first.acquired && first.mark).toBeUndefined();
    if (first.acquired) await store.batch(first.releaseOps('withdrawn', { UpdateTime: 42 }));
    const next = await lockScript<string>(lockOptions(store));
    expect(next.acquired && next.mark).toMatchObject({ UpdateTime: 42 });
    if (next.acquired) await store.batch(next.releaseOps(undefined));
  });

  run('lets go of the lock it found free when the holder it waited on published an outcome in the meantime', async () => {
    const store = makeStore();
    const holder = await lockScript<string>(lockOptions(store));
    const waiter = lockScript<string>(lockOptions(store));
    await systemClock.sleep(30); // the waiter has seen the holder
    if (holder.acquired) await store.batch(holder.releaseOps('withdrawn by the holder'));
    expect(await waiter).toMatchObject({ acquired: false, outcome: 'withdrawn by the holder' });
    // The lock the waiter claimed with that read is free again: the next one takes it at once.
    const started = Date.now();
    const next = await lockScript<string>(lockOptions(store));
    expect(next.acquired).toBe(true);
    expect(Date.now() - started).toBeLessThan(40);
    if (next.acquired) await store.batch(next.releaseOps(undefined));
  });

  run('answers 409 when the holder keeps it past the wait', async () => {
    const store = makeStore();
    const first = await lockScript<string>(lockOptions(store));
    const refused = await lockScript<string>(lockOptions(store, 200)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RequestInProgressError);
    expect((refused as Error).message).toContain('A withdrawal of script inst/script');
    if (first.acquired) await store.batch(first.releaseOps(undefined));
  });
});
