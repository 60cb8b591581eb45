import type { Clock } from '../core/clock';
import { IdempotencyStoreUnavailableError } from './errors';
import { createMemoryStore } from './memory-store';
import { storeOf, type IdempotencyStore, type StoreOp } from './store';

export interface StoreSettings {
  /** IDEMPOTENCY_REDIS_URL; unset, the instance keeps its own memory. */
  redisUrl: string | undefined;
  timeoutMs: number;
  /** Namespace of every key (default `wsr:`): deployments sharing one Redis keep apart. */
  keyPrefix?: string;
}

/**
 * The store the settings name. The Redis client loads only on this path (and is bundled
 * apart: scripts/build.mjs), so a function without a shared store never pays for it.
 */
export async function openStore(settings: StoreSettings, clock: Pick<Clock, 'nowMs'>): Promise<IdempotencyStore> {
  if (settings.redisUrl === undefined) return createMemoryStore(clock);
  const { createRedisStore } = await import('./redis-store');
  return guarded(createRedisStore({ url: settings.redisUrl, timeoutMs: settings.timeoutMs, keyPrefix: settings.keyPrefix }));
}

/** Every failure of the shared store, whatever it throws, becomes IdempotencyStoreUnavailable: nothing more is attempted on it. */
export function guarded(store: IdempotencyStore): IdempotencyStore {
  return storeOf(async (ops) => {
    try {
      return await store.batch(ops);
    } catch (error) {
      throw unavailable(opsText(ops), error);
    }
  });
}

/** `claim+read`, or `400 claim` for a batch of one kind: a message that stays short however many keys a batch names. */
function opsText(ops: readonly StoreOp[]): string {
  const kinds = [...new Set(ops.map((op) => op.op))];
  return kinds.length === 1 && ops.length > 1 ? `${ops.length} ${kinds[0]}` : kinds.join('+');
}

/** The message names the operation and the transport's code, never the URL (it carries the password). */
function unavailable(what: string, error: unknown): IdempotencyStoreUnavailableError {
  const code = (error as { code?: unknown })?.code;
  const detail = typeof code === 'string' ? code : error instanceof Error ? error.message.slice(0, 120) : 'unknown error';
  const notSent = (error as { notSent?: unknown })?.notSent === true;
  return new IdempotencyStoreUnavailableError(`The idempotency store did not answer (${what}: ${detail})`, { cause: error, mayHaveApplied: !notSent });
}
