// The store contract, run against both implementations: the in-memory one and Redis (a real
// redis-server on loopback). Exactly-once rests on these atomic steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/core/clock';
import { IdempotencyStoreUnavailableError } from '../../lib/idempotency/errors';
import { boundedBy } from '../../lib/idempotency/bounded-store';
import { createMemoryStore } from '../../lib/idempotency/memory-store';
import { openStore } from '../../lib/idempotency/open-store';
import { createRedisStore } from '../../lib/idempotency/redis-store';
import { storeOf, type IdempotencyStore } from '../../lib/idempotency/store';
import { redisAvailable, startRedis, type RedisServer } from '../support/redis-server';

type Made = { store: IdempotencyStore; close(): Promise<void> };
let redis: RedisServer | undefined;

beforeAll(async () => {
  if (redisAvailable) redis = await startRedis();
});
afterAll(async () => redis?.stop());

const makers: Array<[string, () => Made, boolean]> = [
  ['memory', () => ({ store: createMemoryStore(systemClock), close: async () => {} }), true],
  [
    'redis',
    () => {
      const store = createRedisStore({ url: redis!.url, timeoutMs: 1_000, keyPrefix: `t${Math.random().toString(36).slice(2)}:` });
      return { store, close: () => store.close() };
    },
    redisAvailable,
  ],
];

describe.each(makers)('%s store', (_, make, available) => {
  const run = available ? it : it.skip;
  const withStore = (body: (store: IdempotencyStore) => Promise<void>) => async () => {
    const made = make();
    try {
      await body(made.store);
    } finally {
      await made.close();
    }
  };

  run('claims a free key once; a second claim gets the holder', withStore(async (store) => {
    expect(await store.claim('k', { owner: 'a', n: 1 }, 5_000, Date.now())).toEqual({ claimed: true });
    expect(await store.claim('k', { owner: 'b', n: 2 }, 5_000, Date.now())).toEqual({ claimed: false, holder: { owner: 'a', n: 1 } });
    expect(await store.read('k')).toEqual({ owner: 'a', n: 1 });
  }));

  run('of many concurrent claims exactly one wins', withStore(async (store) => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claim('race', { owner: `o${i}` }, 5_000, Date.now())));
    const winners = answers.flatMap((answer, i) => (answer.claimed ? [`o${i}`] : []));
    expect(winners).toHaveLength(1);
    expect(answers.filter((a) => !a.claimed && a.holder.owner !== winners[0])).toEqual([]);
  }));

  run('replaces and releases only for the owner', withStore(async (store) => {
    await store.claim('k', { owner: 'a', state: 'IN_PROGRESS' }, 5_000, Date.now());
    expect(await store.replace('k', 'b', { owner: 'b', state: 'COMPLETED' }, 5_000)).toBe(false);
    await store.release('k', 'b');
    expect(await store.read('k')).toEqual({ owner: 'a', state: 'IN_PROGRESS' });
    expect(await store.replace('k', 'a', { owner: 'a', state: 'COMPLETED' }, 5_000)).toBe(true);
    expect(await store.read('k')).toEqual({ owner: 'a', state: 'COMPLETED' });
    await store.release('k', 'a');
    expect(await store.read('k')).toBeUndefined();
    expect(await store.replace('k', 'a', { owner: 'a' }, 5_000)).toBe(false);
  }));

  run('forgets a record when its time runs out', withStore(async (store) => {
    await store.claim('short', { owner: 'a' }, 80, Date.now());
    await store.put('put', { owner: 'p' }, 80);
    expect(await store.read('short')).toBeDefined();
    await systemClock.sleep(150);
    expect(await store.read('short')).toBeUndefined();
    expect(await store.read('put')).toBeUndefined();
    expect(await store.claim('short', { owner: 'b' }, 5_000, Date.now())).toEqual({ claimed: true });
  }));

  run('lets a claim take over a record once it is reclaimable, handing it back and keeping its carry', withStore(async (store) => {
    const now = Date.now();
    await store.put('k', { owner: 'a', reclaimableFromMs: now + 1_000, carry: '["done"]' }, 5_000);
    expect(await store.claim('k', { owner: 'b' }, 5_000, now + 999)).toEqual({ claimed: false, holder: { owner: 'a', reclaimableFromMs: now + 1_000, carry: '["done"]' } });
    expect(await store.claim('k', { owner: 'b' }, 5_000, now + 1_000)).toEqual({ claimed: true, previous: { owner: 'a', reclaimableFromMs: now + 1_000, carry: '["done"]' } });
    expect(await store.read('k')).toEqual({ owner: 'b', carry: '["done"]' });
    expect(await store.claim('k', { owner: 'c' }, 5_000, now + 10_000)).toEqual({ claimed: false, holder: { owner: 'b', carry: '["done"]' } });
  }));

  run('hands a lapsed claim\'s life and the span before it to the claim that takes it over', withStore(async (store) => {
    const now = Date.now();
    const lapsed = { owner: 'a', fingerprint: 'f', claimedAtMs: now - 500, claimUntilMs: now - 100, reclaimableFromMs: now - 100, unsettled: { sinceMs: now - 900, untilMs: now - 700 } };
    await store.put('k', lapsed, 5_000);
    expect(await store.claim('k', { owner: 'b', fingerprint: 'f', claimedAtMs: now, claimUntilMs: now + 1_000, reclaimableFromMs: now + 1_000 }, 5_000, now)).toEqual({ claimed: true, previous: lapsed });
    expect((await store.read('k'))?.unsettled).toEqual({ sinceMs: now - 900, untilMs: now - 100 });
  }));

  run('never lets a claim with another fingerprint take a record over', withStore(async (store) => {
    const now = Date.now();
    await store.put('k', { owner: 'a', fingerprint: 'f', reclaimableFromMs: now - 1 }, 5_000);
    expect(await store.claim('k', { owner: 'b', fingerprint: 'g' }, 5_000, now)).toEqual({ claimed: false, holder: { owner: 'a', fingerprint: 'f', reclaimableFromMs: now - 1 } });
  }));

  run('lets only a claim naming the same fingerprint take over a record that names one, even an empty one', withStore(async (store) => {
    const now = Date.now();
    const named = { owner: 'a', fingerprint: '', reclaimableFromMs: now - 1 };
    await store.put('k', named, 5_000);
    expect(await store.claim('k', { owner: 'b' }, 5_000, now)).toEqual({ claimed: false, holder: named });
    expect(await store.claim('k', { owner: 'c', fingerprint: '' }, 5_000, now)).toEqual({ claimed: true, previous: named });
    await store.put('bare', { owner: 'a', reclaimableFromMs: now - 1 }, 5_000);
    expect(await store.claim('bare', { owner: 'b', fingerprint: 'f' }, 5_000, now)).toMatchObject({ claimed: true });
  }));

  run('lets release and relinquish of a key that holds nothing (expired, never written) pass quietly', withStore(async (store) => {
    await store.release('absent', 'a');
    await store.relinquish('absent', 'a', Date.now());
    expect(await store.read('absent')).toBeUndefined();
  }));

  run('answers a read with a copy: changing it changes nothing stored', withStore(async (store) => {
    await store.put('k', { owner: 'a', carry: '["done"]' }, 5_000);
    const answer = (await store.read('k'))!;
    answer.owner = 'mallory';
    answer.carry = '[]';
    expect(await store.read('k')).toEqual({ owner: 'a', carry: '["done"]' });
  }));

  run('release deletes the owner\'s record whatever it leaves behind', withStore(async (store) => {
    const now = Date.now();
    await store.put('k', { owner: 'a', carry: '["done"]', unsettled: { sinceMs: now - 10, untilMs: now }, reclaimableFromMs: now }, 5_000);
    await store.release('k', 'a');
    expect(await store.read('k')).toBeUndefined();
  }));

  run('relinquishes for the owner only: deletes what has nothing to leave, else makes it reclaimable without the claim\'s life', withStore(async (store) => {
    const now = Date.now();
    await store.claim('bare', { owner: 'a', claimedAtMs: now, claimUntilMs: now + 1_000 }, 5_000, now);
    await store.relinquish('bare', 'b', now);
    expect(await store.read('bare')).toBeDefined();
    await store.relinquish('bare', 'a', now);
    expect(await store.read('bare')).toBeUndefined();
    await store.put('k', { owner: 'a', carry: '{}', claimedAtMs: now, claimUntilMs: now + 1_000, reclaimableFromMs: now + 1_000 }, 5_000);
    await store.relinquish('k', 'a', now + 5);
    expect(await store.read('k')).toEqual({ owner: 'a', carry: '{}', reclaimableFromMs: now + 5 });
  }));

  run('keeps, when relinquished, a record whose only legacy is its unsettled span: the next run must still reconcile within it', withStore(async (store) => {
    const now = Date.now();
    const unsettled = { sinceMs: now - 900, untilMs: now - 100 };
    await store.put('k', { owner: 'a', unsettled, claimedAtMs: now, claimUntilMs: now + 1_000, reclaimableFromMs: now + 1_000 }, 5_000);
    await store.relinquish('k', 'a', now + 5);
    expect(await store.read('k')).toEqual({ owner: 'a', unsettled, reclaimableFromMs: now + 5 });
  }));

  run('runs a batch in order, each operation on its own key, and answers each', withStore(async (store) => {
    const now = Date.now();
    const answers = await store.batch([
      { op: 'claim', key: 'x', record: { owner: 'a' }, ttlMs: 5_000, nowMs: now },
      { op: 'claim', key: 'x', record: { owner: 'b' }, ttlMs: 5_000, nowMs: now },
      { op: 'put', key: 'y', record: { owner: 'p' }, ttlMs: 5_000 },
      { op: 'read', key: 'y' },
      { op: 'replace', key: 'x', owner: 'a', record: { owner: 'a', done: true }, ttlMs: 5_000 },
      { op: 'release', key: 'y', owner: 'p' },
      { op: 'read', key: 'y' },
    ]);
    expect(answers).toEqual([{ claimed: true }, { claimed: false, holder: { owner: 'a' } }, undefined, { owner: 'p' }, true, undefined, undefined]);
    expect(await store.read('x')).toEqual({ owner: 'a', done: true });
  }));
});

describe('memory store bound', () => {
  it('keeps at most its capacity, dropping the oldest', async () => {
    const store = createMemoryStore(systemClock, 3);
    for (const key of ['a', 'b', 'c', 'd']) await store.put(key, { owner: key }, 60_000);
    expect(await store.read('a')).toBeUndefined();
    expect((await Promise.all(['b', 'c', 'd'].map((k) => store.read(k)))).map((r) => r?.owner)).toEqual(['b', 'c', 'd']);
  });

  it('gives the place of a claim relinquished with nothing to leave back at once', async () => {
    const store = createMemoryStore(systemClock, 2);
    await store.put('kept', { owner: 'k' }, 60_000);
    await store.claim('given-back', { owner: 'g' }, 60_000, Date.now());
    await store.relinquish('given-back', 'g', Date.now());
    await store.put('next', { owner: 'n' }, 60_000);
    expect(await store.read('kept')).toEqual({ owner: 'k' });
  });
});

describe.runIf(redisAvailable)('redis store failures', () => {
  it('answers IdempotencyStoreUnavailable within its timeout when nothing listens, and never names the password', async () => {
    const store = await openStore({ redisUrl: 'redis://:s3cret-pass@127.0.0.1:1/0', timeoutMs: 300 }, systemClock);
    const startMs = Date.now();
    const error = await store.claim('k', { owner: 'a' }, 1_000, Date.now()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdempotencyStoreUnavailableError);
    expect(Date.now() - startMs).toBeLessThan(1_500);
    expect(JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack })).not.toContain('s3cret-pass');
  });

  it('refuses a wrong password as unavailable, without echoing it', async () => {
    const secured = await startRedis({ password: 'right-password-123' });
    try {
      const store = await openStore({ redisUrl: `redis://:wrong-password-456@127.0.0.1:${secured.port}/0`, timeoutMs: 500 }, systemClock);
      const error = await store.read('k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyStoreUnavailableError);
      expect((error as Error).message).not.toMatch(/wrong-password|right-password/);
      const good = await openStore({ redisUrl: secured.url, timeoutMs: 500 }, systemClock);
      expect(await good.claim('k', { owner: 'a' }, 1_000, Date.now())).toEqual({ claimed: true });
    } finally {
      await secured.stop();
    }
  });

  it('fails fast while redis-server is down and recovers after it restarts', async () => {
    const own = await startRedis();
    const store = await openStore({ redisUrl: own.url, timeoutMs: 400, keyPrefix: 'restart:' }, systemClock);
    try {
      expect(await store.claim('before', { owner: 'a' }, 5_000, Date.now())).toEqual({ claimed: true });
      await own.stop();
      const startMs = Date.now();
      await expect(store.read('before')).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
      expect(Date.now() - startMs).toBeLessThan(1_000);
      await own.restart();
      let recovered: unknown;
      for (let i = 0; i < 40 && recovered === undefined; i++) {
        recovered = await store.claim('after', { owner: 'b' }, 5_000, Date.now()).then(() => true, () => undefined);
        if (recovered === undefined) await systemClock.sleep(100);
      }
      expect(recovered).toBe(true);
      expect(await store.read('after')).toEqual({ owner: 'b' });
    } finally {
      await own.stop();
    }
  });
});

describe('a store bounded by the invocation', () => {
  const stalled: IdempotencyStore = storeOf(() => new Promise(() => undefined));

  it('a store that stalls fails as unavailable at the bound, whatever its own timeout, saying so and that the call may have applied', async () => {
    const bounded = boundedBy(stalled, Date.now() + 80, systemClock);
    const startMs = Date.now();
    const error = (await bounded.put('k', { owner: 'o' }, 1_000).catch((e: unknown) => e)) as IdempotencyStoreUnavailableError;
    expect(error).toBeInstanceOf(IdempotencyStoreUnavailableError);
    expect(error.message).toBe('The idempotency store did not answer before the invocation ends');
    expect(error.mayHaveApplied).toBe(true);
    expect(Date.now() - startMs).toBeGreaterThanOrEqual(70);
    expect(Date.now() - startMs).toBeLessThan(500);
    // Past the bound, a call fails at once.
    await expect(bounded.read('k')).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
  });

  it('answers as the store does inside the bound', async () => {
    const bounded = boundedBy(createMemoryStore(systemClock), Date.now() + 5_000, systemClock);
    expect(await bounded.claim('k', { owner: 'o' }, 1_000, Date.now())).toEqual({ claimed: true });
    expect(await bounded.read('k')).toEqual({ owner: 'o' });
  });
});
