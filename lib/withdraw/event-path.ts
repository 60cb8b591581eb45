import type { InvalidParameterError } from '../core/errors';
import { logRefusal } from '../fc/error-mapping';
import { AsyncRetryError } from '../fc/errors';
import { callbackTarget } from './callback-target';
import type { WithdrawalRequest } from './items';
import { batchResult, type BatchResult, type ItemResult } from './results';
import type { InvocationScope, WithdrawInstance } from './scopes';
import type { EventEntry } from './triggers';
import { withdrawAll } from './withdraw-all';

/** Thrown to FC for an event that may succeed later, so its async retries and on-failure destination apply. */
export class RetryableFailureError extends AsyncRetryError {
  constructor(readonly result: ItemResult | BatchResult) {
    const failed = 'Results' in result ? result.Results.filter((r) => r.Retryable) : [result];
    super(`${failed.length} withdrawal(s) failed retryably: ${failed.map((r) => `${r.ScriptId} ${r.Code}`).join(', ')}`);
    this.name = 'RetryableFailureError';
  }
}

/** A direct or async invocation: one item or a batch, called back to CALLBACK_URL or an allowed CallbackUrl. */
export async function answerInvoke(request: WithdrawalRequest, scope: InvocationScope, instance: WithdrawInstance): Promise<ItemResult | BatchResult> {
  const callbackUrl = callbackTarget(instance.state.loadConfig(), request.callbackUrl);
  const results = await withdrawAll(request.items, scope, callbackUrl, instance);
  return eventOutcome(results, request.batch);
}

/**
 * EventBridge and MNS entries: each stands alone. The valid ones are withdrawn together;
 * a refused one gets its 400 result in its place, and is logged, never retried.
 */
export async function answerEntries(entries: EventEntry[], batch: boolean, scope: InvocationScope, instance: WithdrawInstance): Promise<ItemResult | BatchResult> {
  const valid = entries.flatMap((e) => (e.item ? [e.item] : []));
  const withdrawn = valid.length > 0 ? await withdrawAll(valid, scope, instance.state.loadConfig().CALLBACK_URL, instance) : [];
  let next = 0;
  const results = entries.map((e) => (e.item ? withdrawn[next++]! : refusedEntry(e.error, scope, instance.clock.nowMs())));
  return eventOutcome(results, batch);
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
