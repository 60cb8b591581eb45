// The store the settings name, and what its failures tell the caller: IdempotencyStoreUnavailable
// (503, nothing withdrawn) naming the operation, never the password, and whether the commands may
// have been applied — once.ts gives back a claim whose answer was lost, and only then.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStoreUnavailableError } from '../../lib/idempotency/errors';
import { guarded, openStore } from '../../lib/idempotency/open-store';
import { storeOf } from '../../lib/idempotency/store';
import { FakeClock } from '../support/fake-clock';
import { freePort, redisAvailable, startRedis, type RedisServer } from '../support/redis-server';
import { storeLink } from '../support/store-link';

const PASSWORD = 'open-store-pass-7x';

/** The error `work` fails with; failing the test when it answers instead. */
const failure = (work: Promise<unknown>): Promise<IdempotencyStoreUnavailableError> =>
  work.then(
    () => expect.fail('the store answered'),
    (error: unknown) => error as IdempotencyStoreUnavailableError,
  );

describe('openStore without a Redis URL', () => {
  it('keeps records in the instance\'s memory, timed by the clock it is given', async () => {
    const clock = new FakeClock();
    const store = await openStore({ redisUrl: undefined, timeoutMs: 100 }, clock);
    expect(await store.claim('k', { owner: 'a' }, 1_000, clock.now)).toEqual({ claimed: true });
    expect(await store.read('k')).toEqual({ owner: 'a' });
    clock.advance(1_000);
    expect(await store.read('k')).toBeUndefined();
  });
});

describe.runIf(redisAvailable)('openStore with a Redis URL', () => {
  let redis: RedisServer;
  let raw: Redis;
  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  const open = (redisUrl: string, timeoutMs: number, keyPrefix?: string) => openStore({ redisUrl, timeoutMs, ...(keyPrefix ? { keyPrefix } : {}) }, new FakeClock());

  it('keeps every key under wsr: unless told another namespace: deployments sharing one Redis never meet', async () => {
    const production = await open(redis.url, 1_000);
    const staging = await open(redis.url, 1_000, 'staging:');
    await production.put('delivery:1', { owner: 'prod' }, 60_000);
    expect(await staging.read('delivery:1')).toBeUndefined();
    await staging.put('delivery:1', { owner: 'stage' }, 60_000);
    expect(JSON.parse((await raw.get('wsr:delivery:1'))!)).toEqual({ owner: 'prod' });
    expect(JSON.parse((await raw.get('staging:delivery:1'))!)).toEqual({ owner: 'stage' });
    expect(await production.read('delivery:1')).toEqual({ owner: 'prod' });
  });

  it('with nothing listening: unavailable within its timeout, the commands known unsent, the password never told', async () => {
    const store = await open(`redis://:${PASSWORD}@127.0.0.1:${await freePort()}/0`, 300);
    const startMs = Date.now();
    const error = await failure(store.claim('k', { owner: 'a' }, 1_000, 0));
    expect(Date.now() - startMs).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(IdempotencyStoreUnavailableError);
    expect(error.mayHaveApplied).toBe(false);
    expect(error.message).toMatch(/^The idempotency store did not answer \(claim: .+\)$/);
    expect(error.cause).toBeInstanceOf(Error);
    expect(JSON.stringify({ message: error.message, stack: error.stack, cause: String(error.cause) })).not.toContain(PASSWORD);
  });

  it('when the answer never comes back: unavailable within its timeout, the commands possibly applied, each operation of the batch named', async () => {
    const link = await storeLink(redis.port, PASSWORD);
    try {
      const store = await open(link.url, 300);
      await store.read('warm'); // connected: what follows is sent
      link.freeze();
      const startMs = Date.now();
      const error = await failure(store.batch([{ op: 'claim', key: 'k', record: { owner: 'a' }, ttlMs: 1_000, nowMs: 0 }, { op: 'read', key: 'm' }]));
      expect(Date.now() - startMs).toBeGreaterThanOrEqual(250);
      expect(Date.now() - startMs).toBeLessThan(1_000);
      expect(error).toBeInstanceOf(IdempotencyStoreUnavailableError);
      expect(error.mayHaveApplied).toBe(true);
      expect(error.message).toMatch(/^The idempotency store did not answer \(claim\+read: /);
      expect(error.message).not.toContain(PASSWORD);
    } finally {
      link.thaw();
      await link.close();
    }
  });

  it('passes a refusal from Redis itself on in its words, cut to 120 characters', async () => {
    await raw.hset('wsr:not-a-record', 'field', 'value');
    const error = await failure((await open(redis.url, 1_000)).claim('not-a-record', { owner: 'a' }, 1_000, 0));
    expect(error.mayHaveApplied).toBe(true);
    expect((error.cause as Error).message.length).toBeGreaterThan(120);
    const detail = /\(claim: (.*)\)$/.exec(error.message)![1]!;
    expect(detail).toMatch(/^WRONGTYPE /);
    expect(detail.length).toBe(120);
  });
});

describe('guarded: whatever the store throws', () => {
  const throwing = (thrown: unknown) => guarded(storeOf(() => Promise.reject(thrown)));

  it('names a transport error by its code, not its text (which names the store\'s address)', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.20.30.40:6379'), { code: 'ECONNREFUSED' });
    const error = await failure(throwing(refused).read('k'));
    expect(error).toBeInstanceOf(IdempotencyStoreUnavailableError);
    expect(error.message).toBe('The idempotency store did not answer (read: ECONNREFUSED)');
    expect(error.cause).toBe(refused);
  });

  it('names a batch by its kinds of operation, and a batch of one kind by its count: 10,000 claims make a short message', async () => {
    const down = Object.assign(new Error('down'), { code: 'ECONNRESET' });
    const claim = (key: string) => ({ op: 'claim' as const, key, record: { owner: 'o' }, ttlMs: 1_000, nowMs: 0 });
    const many = await failure(throwing(down).batch(Array.from({ length: 10_000 }, (_, n) => claim(`k${n}`))));
    expect(many.message).toBe('The idempotency store did not answer (10000 claim: ECONNRESET)');
    const mixed = await failure(throwing(down).batch([claim('a'), claim('b'), { op: 'read', key: 'c' }]));
    expect(mixed.message).toBe('The idempotency store did not answer (claim+read: ECONNRESET)');
  });

  it.each([undefined, null, 'down'])('turns %j, which is no Error, into IdempotencyStoreUnavailable too', async (thrown) => {
    const error = await failure(throwing(thrown).put('k', { owner: 'o' }, 1_000));
    expect(error).toBeInstanceOf(IdempotencyStoreUnavailableError);
    expect(error.message).toBe('The idempotency store did not answer (put: unknown error)');
    expect(error.mayHaveApplied).toBe(true);
  });
});
