import type { Clock } from '../core/clock';
import { createMemoryStore } from './memory-store';
import type { IdempotencyStore } from './store';

export interface StoreSettings {
  /** IDEMPOTENCY_REDIS_URL; unset, the instance keeps its own memory. */
  redisUrl: string | undefined;
  timeoutMs: number;
}

/**
 * The store the settings name. The Redis client loads only on this path (and is bundled
 * apart: scripts/build.mjs), so a function without a shared store never pays for it.
 */
export async function openStore(settings: StoreSettings, clock: Pick<Clock, 'nowMs'>): Promise<IdempotencyStore> {
  if (settings.redisUrl === undefined) return createMemoryStore(clock);
  const { createRedisStore } = await import('./redis-store');
  return createRedisStore({ url: settings.redisUrl, timeoutMs: settings.timeoutMs });
}
