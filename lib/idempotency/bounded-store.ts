import type { Clock } from '../core/clock';
import { within } from '../core/within';
import { IdempotencyStoreUnavailableError } from './errors';
import { storeOf, type IdempotencyStore } from './store';

/**
 * The store as one invocation may use it: every call answers by `untilMs` or fails as the store
 * being unavailable. IDEMPOTENCY_TIMEOUT_MS bounds one call, not the invocation: a store that
 * stalls after the work would otherwise hold the answer past the moment FC ends the invocation.
 */
export function boundedBy(store: IdempotencyStore, untilMs: number, clock: Pick<Clock, 'nowMs'>): IdempotencyStore {
  return storeOf((ops) => within(store.batch(ops), untilMs - clock.nowMs(), () => new IdempotencyStoreUnavailableError('The idempotency store did not answer before the invocation ends')));
}
