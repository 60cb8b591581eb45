/**
 * The shared store: Redis or Alibaba Cloud Tair (same protocol), through ioredis. Loaded only
 * when IDEMPOTENCY_REDIS_URL is set (and bundled apart, scripts/build.mjs), so the default
 * function pays nothing for it. Each state change is one Lua script: no read-then-write race.
 */
import Redis from 'ioredis';
import { within } from '../core/within';
import type { IdempotencyStore, OwnedRecord } from './store';

export interface RedisStoreOptions {
  /** `redis://` or `rediss://`, password and db in the URL. */
  url: string;
  /** Bounds the connect and every command: a slow store must not hold the invocation. */
  timeoutMs: number;
  keyPrefix?: string;
}

/** Answers {1, previous or false} when claimed, {0, holder} when not. */
const CLAIM = `local current = redis.call('GET', KEYS[1])
if current then
  local ok, record = pcall(cjson.decode, current)
  if not ok or type(record) ~= 'table' or record.reclaimable ~= true then return {0, current} end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, current or false}`;

/** Compare the owner token, then act: ARGV[1] owner, ARGV[2] new value ('' deletes), ARGV[3] ttl. */
const IF_OWNER = `local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, record = pcall(cjson.decode, current)
if not ok or type(record) ~= 'table' or record.owner ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;

type ScriptedRedis = Redis & {
  wsrClaim(key: string, value: string, ttlMs: number): Promise<[0 | 1, string | null]>;
  wsrIfOwner(key: string, owner: string, value: string, ttlMs: number): Promise<number>;
};

export function createRedisStore(options: RedisStoreOptions): IdempotencyStore & { close(): Promise<void> } {
  const redis = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: options.timeoutMs,
    commandTimeout: options.timeoutMs,
    // Fail fast while disconnected instead of queueing past the deadline; reconnect in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
    keyPrefix: options.keyPrefix ?? 'wsr:',
  }) as ScriptedRedis;
  redis.defineCommand('wsrClaim', { numberOfKeys: 1, lua: CLAIM });
  redis.defineCommand('wsrIfOwner', { numberOfKeys: 1, lua: IF_OWNER });
  // Errors surface on the command that meets them; an unheard 'error' event would only print to stderr.
  redis.on('error', () => {});

  // Errors travel as they are: this module is bundled apart, so typed errors are made by the
  // caller's copy of the classes (open-store.ts), where `instanceof` holds.
  // One budget for the connect wait and the command together: a store that is slow to come back
  // must not take twice the timeout out of the invocation.
  async function ask<T>(command: () => Promise<T>): Promise<T> {
    if (redis.status === 'ready') return command();
    const startedMs = Date.now();
    await ready(redis, options.timeoutMs);
    return within(command(), options.timeoutMs - (Date.now() - startedMs), () => new Error("no answer within the store's timeout"));
  }

  return {
    async claim(key, record, ttlMs) {
      const [claimed, other] = await ask(() => redis.wsrClaim(key, JSON.stringify(record), Math.max(1, Math.ceil(ttlMs))));
      if (claimed === 0) return { claimed: false, holder: parseRecord(other!) };
      return other === null ? { claimed: true } : { claimed: true, previous: parseRecord(other) };
    },
    async replace(key, owner, record, ttlMs) {
      return (await ask(() => redis.wsrIfOwner(key, owner, JSON.stringify(record), Math.max(1, Math.ceil(ttlMs))))) === 1;
    },
    async release(key, owner) {
      await ask(() => redis.wsrIfOwner(key, owner, '', 0));
    },
    async read(key) {
      const current = await ask(() => redis.get(key));
      return current === null ? undefined : parseRecord(current);
    },
    async put(key, record, ttlMs) {
      await ask(() => redis.set(key, JSON.stringify(record), 'PX', Math.max(1, Math.ceil(ttlMs))));
    },
    async close() {
      redis.disconnect();
    },
  };
}

/** One wait per connection, however many commands wait on it (each used to add two listeners: 11 made Node warn). */
const readyWaits = new WeakMap<Redis, Promise<void>>();

/** Connects on first use, and waits (bounded) for a reconnect in progress. */
function ready(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  let wait = readyWaits.get(redis);
  if (wait === undefined) {
    wait = waitForReady(redis, timeoutMs).finally(() => readyWaits.delete(redis));
    readyWaits.set(redis, wait);
  }
  return wait;
}

async function waitForReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'wait' || redis.status === 'end') redis.connect().catch(() => {});
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`not connected within ${timeoutMs} ms`)), timeoutMs);
    const onReady = () => finish();
    const onEnd = () => finish(new Error('connection closed'));
    function finish(error?: Error) {
      clearTimeout(timer);
      redis.off('ready', onReady).off('end', onEnd);
      if (error) reject(error);
      else resolve();
    }
    redis.once('ready', onReady).once('end', onEnd);
  });
}

function parseRecord(text: string): OwnedRecord {
  const record = JSON.parse(text) as OwnedRecord;
  if (typeof record !== 'object' || record === null || typeof record.owner !== 'string') throw new Error('malformed idempotency record');
  return record;
}
