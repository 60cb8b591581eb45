/**
 * The shared store: Redis or Alibaba Cloud Tair (same protocol), through ioredis. Loaded only
 * when IDEMPOTENCY_REDIS_URL is set (and bundled apart, scripts/build.mjs), so the default
 * function pays nothing for it. Each state change is one single-key Lua script (no read-then-write
 * race), and a batch is one pipeline: one round trip, and every key routed on its own in a cluster.
 */
import Redis from 'ioredis';
import { within } from '../core/within';
import { storeOf, type IdempotencyStore, type OwnedRecord, type StoreAnswer, type StoreOp } from './store';

export interface RedisStoreOptions {
  /** `redis://` or `rediss://`, password and db in the URL. */
  url: string;
  /** Bounds the connect and every command: a slow store must not hold the invocation. */
  timeoutMs: number;
  keyPrefix?: string;
}

/**
 * The claim, as `inherit` and `reclaimable` in store.ts say: ARGV[1] record (its fingerprint is the
 * claimer's), ARGV[2] ttl, ARGV[3] the claimer's now. Answers {1, previous or false} when claimed, {0, holder} when not.
 */
const CLAIM = `local current = redis.call('GET', KEYS[1])
local value = ARGV[1]
if current then
  local ok, held = pcall(cjson.decode, current)
  if not ok or type(held) ~= 'table' or type(held.reclaimableFromMs) ~= 'number' or held.reclaimableFromMs > tonumber(ARGV[3]) then return {0, current} end
  local record = cjson.decode(ARGV[1])
  if held.fingerprint ~= nil and held.fingerprint ~= record.fingerprint then return {0, current} end
  if held.carry ~= nil then record.carry = held.carry end
  local span = held.unsettled
  if type(held.claimedAtMs) == 'number' and type(held.claimUntilMs) == 'number' then
    if type(span) == 'table' then
      span = {sinceMs = math.min(span.sinceMs, held.claimedAtMs), untilMs = math.max(span.untilMs, held.claimUntilMs)}
    else
      span = {sinceMs = held.claimedAtMs, untilMs = held.claimUntilMs}
    end
  end
  if span ~= nil then record.unsettled = span end
  value = cjson.encode(record)
end
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {1, current or false}`;

/** Compare the owner token, then act: ARGV[1] owner, ARGV[2] new value ('' deletes), ARGV[3] ttl. */
const IF_OWNER = `local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, record = pcall(cjson.decode, current)
if not ok or type(record) ~= 'table' or record.owner ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;

/** As `relinquished` in store.ts: ARGV[1] owner, ARGV[2] now. The record keeps its expiry. */
const RELINQUISH = `local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, record = pcall(cjson.decode, current)
if not ok or type(record) ~= 'table' or record.owner ~= ARGV[1] then return 0 end
if record.carry == nil and record.unsettled == nil then redis.call('DEL', KEYS[1]) return 1 end
record.claimedAtMs = nil
record.claimUntilMs = nil
record.reclaimableFromMs = tonumber(ARGV[2])
local left = redis.call('PTTL', KEYS[1])
redis.call('SET', KEYS[1], cjson.encode(record), 'PX', math.max(1, left))
return 1`;

type Pipeline = ReturnType<Redis['pipeline']> & {
  wsrRelinquish(key: string, owner: string, nowMs: number): Pipeline;
  wsrClaim(key: string, value: string, ttlMs: number, nowMs: number): Pipeline;
  wsrIfOwner(key: string, owner: string, value: string, ttlMs: number): Pipeline;
};

const ttl = (ms: number): number => Math.max(1, Math.ceil(ms));

/** Queues one operation on the pipeline. */
function queue(pipeline: Pipeline, op: StoreOp): void {
  switch (op.op) {
    case 'claim':
      pipeline.wsrClaim(op.key, JSON.stringify(op.record), ttl(op.ttlMs), op.nowMs);
      return;
    case 'replace':
      pipeline.wsrIfOwner(op.key, op.owner, JSON.stringify(op.record), ttl(op.ttlMs));
      return;
    case 'release':
      pipeline.wsrIfOwner(op.key, op.owner, '', 0);
      return;
    case 'relinquish':
      pipeline.wsrRelinquish(op.key, op.owner, op.nowMs);
      return;
    case 'read':
      pipeline.get(op.key);
      return;
    case 'put':
      pipeline.set(op.key, JSON.stringify(op.record), 'PX', ttl(op.ttlMs));
  }
}

/** One operation's reply, as the store interface answers it. */
function answerOf(op: StoreOp, reply: unknown): StoreAnswer {
  switch (op.op) {
    case 'claim': {
      const [claimed, other] = reply as [0 | 1, string | null];
      if (claimed === 0) return { claimed: false, holder: parseRecord(other!) };
      return other === null ? { claimed: true } : { claimed: true, previous: parseRecord(other) };
    }
    case 'replace':
      return reply === 1;
    case 'read':
      return reply === null ? undefined : parseRecord(reply as string);
  }
  return undefined; // release, relinquish and put answer nothing
}

export function createRedisStore(options: RedisStoreOptions): IdempotencyStore & { close(): Promise<void> } {
  const redis = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: options.timeoutMs,
    commandTimeout: options.timeoutMs,
    // Fail fast while disconnected instead of queueing past the deadline; reconnect in the background.
    // Stryker disable next-line BooleanLiteral: send() sends only once the status is 'ready', so a command meets the offline queue only between a socket's failure and its close event, where no test can place one
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
    keyPrefix: options.keyPrefix ?? 'wsr:',
  });
  redis.defineCommand('wsrClaim', { numberOfKeys: 1, lua: CLAIM });
  redis.defineCommand('wsrIfOwner', { numberOfKeys: 1, lua: IF_OWNER });
  redis.defineCommand('wsrRelinquish', { numberOfKeys: 1, lua: RELINQUISH });
  // Errors surface on the command that meets them; an unheard 'error' event would only print to stderr.
  redis.on('error', () => {});

  // Errors travel as they are: this module is bundled apart, so typed errors are made by the
  // caller's copy of the classes (open-store.ts), where `instanceof` holds.
  // One budget for the connect wait and the commands together: a store that is slow to come back
  // must not take twice the timeout out of the invocation.
  async function send(ops: readonly StoreOp[]): Promise<unknown[]> {
    const startedMs = Date.now();
    // Not connected: nothing is sent (the offline queue is off), so nothing can have been written.
    if (redis.status !== 'ready') await ready(redis, options.timeoutMs).catch((error: unknown) => Promise.reject(Object.assign(error as Error, { notSent: true })));
    const pipeline = redis.pipeline() as Pipeline;
    for (const op of ops) queue(pipeline, op);
    const replies = within(pipeline.exec(), options.timeoutMs - (Date.now() - startedMs), () => new Error("no answer within the store's timeout"));
    // A pipeline's exec answers null only for a transaction WATCH aborted; there is none here.
    return (await replies)!.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  }

  return {
    ...storeOf(async (ops) => {
      const replies = await send(ops);
      return ops.map((op, index) => answerOf(op, replies[index]));
    }),
    async close() {
      redis.disconnect();
    },
  };
}

/** One wait per connection, however many commands wait on it (each used to add two listeners: 11 made Node warn). */
const readyWaits = new WeakMap<Redis, Promise<void>>();

/** Connects on first use, and waits (bounded) for a reconnect in progress. */
function ready(redis: Redis, timeoutMs: number): Promise<void> {
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

/** A record, or a refusal: a key that holds anything else (null, a number, JSON without an owner) is never taken for one. */
function parseRecord(text: string): OwnedRecord {
  const record = JSON.parse(text) as Partial<OwnedRecord> | null;
  if (typeof record?.owner !== 'string') throw new Error('malformed idempotency record');
  return record as OwnedRecord;
}
