import { ServiceError } from '../core/errors';
import { logRefusal } from '../fc/error-mapping';
import { AsyncRetryError } from '../fc/errors';
import { assertInstancesAllowed } from '../outboundbot/instance-allow-list';
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
 * CallbackUrl. Its key is the invocation's requestId, which FC keeps across its async retries;
 * an FC destination's envelope brings the original invocation's.
 */
export async function answerInvoke(request: WithdrawalRequest, scope: InvocationScope, instance: WithdrawInstance, key = `req:${scope.requestId}`): Promise<ItemResult | BatchResult> {
  const cfg = instance.state.loadConfig();
  assertInstancesAllowed(request.items, cfg.ALLOWED_INSTANCE_IDS);
  const callbackUrl = callbackTarget(cfg, request.callbackUrl);
  const work = { key, payload: request, items: request.items, callbackUrl };
  const { results } = await withdrawDelivery(work, scope, instance);
  return eventOutcome(results, request.batch);
}

/**
 * EventBridge and MNS entries: each stands alone, under its message's own key (or the
 * invocation's, by position). A refused one (bad input, an instance outside the allow-list, a
 * final refusal of its delivery such as a reused key) gets its result in its place, logged,
 * never retried. When any entry may succeed later the invocation throws after all settled, so
 * FC retries the event and the settled ones are answered from the store.
 */
export async function answerEntries(entries: EventEntry[], batch: boolean, scope: InvocationScope, instance: WithdrawInstance): Promise<ItemResult | BatchResult> {
  const cfg = instance.state.loadConfig();
  if (entries.some((entry) => entry.base64) && instance.firstNotice('base64-bodies')) {
    scope.log.warn('message bodies arrive Base64-encoded and are decoded here; IsBase64Decode: true on the EventBridge trigger decodes them before delivery');
  }
  const settled = await Promise.allSettled(
    entries.map(async (entry, index) => {
      if (!entry.item) throw entry.error;
      assertInstancesAllowed([entry.item], cfg.ALLOWED_INSTANCE_IDS);
      const work = { key: entry.key ?? `req:${scope.requestId}#${index}`, payload: entry.item, items: [entry.item], callbackUrl: cfg.CALLBACK_URL };
      return (await withdrawDelivery(work, scope, instance)).results[0]!;
    }),
  );
  // A failure that may pass later wins over every final one: thrown, FC retries the event.
  const pending = settled.find((outcome) => outcome.status === 'rejected' && !isFinalRefusal(outcome.reason));
  if (pending) throw (pending as PromiseRejectedResult).reason;
  const results = settled.map((outcome, index) =>
    outcome.status === 'fulfilled' ? outcome.value : refusedEntry(outcome.reason as ServiceError, entries[index]!, scope, instance.clock.nowMs()),
  );
  return eventOutcome(results, batch);
}

const isFinalRefusal = (error: unknown): error is ServiceError => error instanceof ServiceError && !error.retryable;

/** A refused entry's result, after its `request refused` line; the ids are blank when they could not be read. */
export function refusedEntry(error: ServiceError, entry: EventEntry, scope: InvocationScope, nowMs: number): ItemResult {
  logRefusal(scope, error, nowMs);
  return {
    InstanceId: entry.item?.InstanceId ?? '',
    ScriptId: entry.item?.ScriptId ?? '',
    Success: false,
    HttpStatusCode: error.statusCode,
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
