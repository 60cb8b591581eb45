import type { InvalidParameterError } from '../core/errors';
import { logRefusal } from '../fc/error-mapping';
import { AsyncRetryError } from '../fc/errors';
import { callbackTarget } from './callback-target';
import type { WithdrawalRequest } from './items';
import { batchResult, type BatchResult, type ItemResult } from './results';
import type { InvocationScope, WithdrawInstance } from './scopes';
import type { EventEntry } from './triggers';
import { withdrawDelivery } from './delivery-once';

/** Thrown to FC for an event that may succeed later, so its async retries and on-failure destination apply. */
export class RetryableFailureError extends AsyncRetryError {
  constructor(readonly result: ItemResult | BatchResult) {
    const failed = 'Results' in result ? result.Results.filter((r) => r.Retryable) : [result];
    super(`${failed.length} withdrawal(s) failed retryably: ${failed.map((r) => `${r.ScriptId} ${r.Code}`).join(', ')}`);
    this.name = 'RetryableFailureError';
  }
}

/**
 * A direct or async invocation: one item or a batch, called back to CALLBACK_URL or an allowed
 * CallbackUrl. Its key is the invocation's requestId, which FC keeps across its async retries.
 */
export async function answerInvoke(request: WithdrawalRequest, scope: InvocationScope, instance: WithdrawInstance): Promise<ItemResult | BatchResult> {
  const callbackUrl = callbackTarget(instance.state.loadConfig(), request.callbackUrl);
  const work = { key: `req:${scope.requestId}`, payload: request, items: request.items, callbackUrl };
  const { results } = await withdrawDelivery(work, scope, instance);
  return eventOutcome(results, request.batch);
}

/**
 * EventBridge and MNS entries: each stands alone, under its message's own key (or the
 * invocation's, by position). A refused one gets its 400 result in its place, and is logged,
 * never retried. When the store fails for one entry the invocation throws after the others
 * settled, so FC retries it and the settled ones are answered from the store.
 */
export async function answerEntries(entries: EventEntry[], batch: boolean, scope: InvocationScope, instance: WithdrawInstance): Promise<ItemResult | BatchResult> {
  const callbackUrl = instance.state.loadConfig().CALLBACK_URL;
  const settled = await Promise.allSettled(
    entries.map(async (entry, index) => {
      if (!entry.item) return refusedEntry(entry.error, scope, instance.clock.nowMs());
      const work = { key: entry.key ?? `req:${scope.requestId}#${index}`, payload: entry.item, items: [entry.item], callbackUrl };
      return (await withdrawDelivery(work, scope, instance)).results[0]!;
    }),
  );
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return eventOutcome(settled.map((outcome) => (outcome as PromiseFulfilledResult<ItemResult>).value), batch);
}

/** A refused entry's result (no ids: they could not be read), after its `request refused` line. */
export function refusedEntry(error: InvalidParameterError, scope: InvocationScope, nowMs: number): ItemResult {
  logRefusal(scope, error, nowMs);
  return {
    InstanceId: '',
    ScriptId: '',
    Success: false,
    HttpStatusCode: 400,
    Code: error.code,
    Message: error.message,
    Attempts: 0,
    Retryable: false,
  };
}

/** Events return their result; they throw only when FC retrying could help. */
export function eventOutcome(results: ItemResult[], batch: boolean): ItemResult | BatchResult {
  const outcome = batch ? batchResult(results) : results[0]!;
  if (results.some((r) => r.Retryable)) throw new RetryableFailureError(outcome);
  return outcome;
}
