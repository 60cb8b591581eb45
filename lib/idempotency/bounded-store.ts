import type { Clock } from '../core/clock';
import { within } from '../core/within';
import { IdempotencyStoreUnavailableError } from './errors';
import type { IdempotencyStore } from './store';

/**
 * The store as one invocation may use it: every call answers by `untilMs` or fails as the store
 * being unavailable. IDEMPOTENCY_TIMEOUT_MS bounds one call, not the invocation: a store that
 * stalls after the work would otherwise hold the answer past the moment FC ends the invocation.
 */
export function boundedBy(store: IdempotencyStore, untilMs: number, clock: Pick<Clock, 'nowMs'>): IdempotencyStore {
  const bound =
    <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      within(operation(...args), untilMs - clock.nowMs(), () => new IdempotencyStoreUnavailableError('The idempotency store did not answer before the invocation ends'));
  return { claim: bound(store.claim), replace: bound(store.replace), release: bound(store.release), read: bound(store.read), put: bound(store.put) };
}
