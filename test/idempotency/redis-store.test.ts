// The Redis store's connection, against a real redis-server on loopback (the store contract is
// store.test.ts): it connects only when asked, reconnects in the background without hammering a
// store that is down, says nothing on stderr, leaks no listener, keeps one time budget for the
// connect and the commands, and never takes a value it did not write for a record.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisStore } from '../../lib/idempotency/redis-store';
import { freePort, redisAvailable, startRedis, type RedisServer } from '../support/redis-server';
import { storeLink } from '../support/store-link';

const PASSWORD = 'redis-store-pass-3q';

/** The error `work` fails with; failing the test when it answers instead. */
const failure = (work: Promise<unknown>): Promise<Error & { notSent?: boolean }> =>
  work.then(
    () => expect.fail('the store answered'),
    (error: unknown) => error as Error & { notSent?: boolean },
  );

/** Polls `read` until it answers `expected` (within 2 s): a server notices a closed connection a moment later. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<void> {
  for (let i = 0; i < 40 && (await read()) !== expected; i++) await sleep(50);
  expect(await read()).toBe(expected);
}

describe.runIf(redisAvailable)('the Redis store', () => {
  let redis: RedisServer;
  let raw: Redis;
  const opened: Array<{ close(): Promise<void> }> = [];
  const open = (url: string, timeoutMs: number) => {
    const store = createRedisStore({ url, timeoutMs });
    opened.push(store);
    return store;
  };
  /** The connections redis-server holds, besides the test's own. */
  const connections = async () => ((await raw.client('LIST')) as string).trim().split('\n').length - 1;

  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
    raw = new Redis(redis.url);
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  it('opens no connection until the first call, and lets it go on close', async () => {
    await eventually(connections, 0);
    const store = open(redis.url, 1_000);
    await sleep(100);
    expect(await connections()).toBe(0);
    await store.read('k');
    expect(await connections()).toBe(1);
    await store.close();
    await eventually(connections, 0);
  });

  it('connects again when asked after close', async () => {
    const store = open(redis.url, 1_000);
    await store.put('k', { owner: 'a' }, 5_000);
    await store.close();
    await sleep(50); // the connection is closed
    expect(await store.read('k')).toEqual({ owner: 'a' });
  });

  it('never takes a value it did not write for a record: read and claim refuse it, and leave it as it is', async () => {
    const store = open(redis.url, 1_000);
    for (const foreign of ['null', '42', '"text"', '{"x":1}', '{"owner":5}']) {
      await raw.set('wsr:foreign', foreign);
      expect((await failure(store.read('foreign'))).message).toBe('malformed idempotency record');
      expect((await failure(store.claim('foreign', { owner: 'a' }, 5_000, Date.now()))).message).toBe('malformed idempotency record');
      expect(await raw.get('wsr:foreign')).toBe(foreign);
    }
  });

  it('fails a call as not sent when the server went away after serving: nothing it would write was written', async () => {
    const own = await startRedis();
    try {
      const store = open(own.url, 300);
      expect(await store.read('k')).toBeUndefined();
      await own.stop();
      await sleep(100); // the client has seen the connection close
      const error = await failure(store.put('k', { owner: 'a' }, 5_000));
      expect(error.notSent).toBe(true);
      expect(error.message).toBe('not connected within 300 ms');
    } finally {
      await own.stop();
    }
  });

  it('gives the connect and the commands one timeout together: a slow connect leaves the commands the rest', async () => {
    const link = await storeLink(redis.port, PASSWORD, 100); // the handshake takes two round trips: ~400 ms
    try {
      const store = open(link.url, 800);
      link.freezeOn('budget-key');
      const startMs = Date.now();
      const error = await failure(store.read('budget-key'));
      expect(error.message).toBe("no answer within the store's timeout");
      expect(error.notSent).toBeUndefined();
      expect(Date.now() - startMs).toBeLessThan(1_100);
    } finally {
      link.thaw();
      await link.close();
    }
  });
});

/** A loopback server that is no Redis: `onConnection` decides what a connection meets. */
async function listening(onConnection: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}/0`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe.runIf(redisAvailable)('the Redis store while nothing answers', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const store of opened.splice(0)) await store.close();
  });
  const open = (url: string, timeoutMs: number) => {
    const store = createRedisStore({ url, timeoutMs });
    opened.push(store);
    return store;
  };

  it('retries in the background, the pause doubling from 100 ms toward 2 s, however many calls come: back soon after the store is, never hammering it', async () => {
    let attempts = 0;
    const refusing = await listening((socket) => {
      attempts++;
      socket.destroy();
    });
    try {
      const store = open(refusing.url, 200);
      // Calls keep coming while it is down (each waits its 200 ms): they add no attempt to those
      // the back-off makes, at about 0, 100, 300, 700 and 1,500 ms.
      for (const untilMs = Date.now() + 1_400; Date.now() < untilMs; ) await failure(store.read('k'));
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect(attempts).toBeLessThanOrEqual(6);
    } finally {
      await refusing.close();
    }
  });

  it('writes nothing to stderr: its failures reach the caller, not the console', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const store = open(`redis://127.0.0.1:${await freePort()}/0`, 200);
    await failure(store.read('k'));
    await sleep(300);
    expect(printed).not.toHaveBeenCalled();
  });

  it('leaks no listener however many calls wait for it, at once or one after another (Node warns past ten)', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const store = open(`redis://127.0.0.1:${await freePort()}/0`, 30);
      await Promise.all(Array.from({ length: 15 }, () => failure(store.read('k'))));
      for (let i = 0; i < 15; i++) expect((await failure(store.read('k'))).notSent).toBe(true);
      await sleep(10);
      expect(warnings.map((w) => w.name)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('fails a call waiting for the connection, as not sent, when the store is closed, not at its timeout', async () => {
    const silent = await listening(() => {}); // takes connections, never answers
    try {
      const store = open(silent.url, 5_000);
      const startMs = Date.now();
      const waiting = failure(store.read('k'));
      await sleep(100);
      await store.close();
      const error = await waiting;
      expect(error.message).toBe('connection closed');
      expect(error.notSent).toBe(true);
      // ioredis lets a socket still in its handshake go about 2 s after close: well before the 5 s timeout.
      expect(Date.now() - startMs).toBeLessThan(4_000);
    } finally {
      await silent.close();
    }
  });
});
