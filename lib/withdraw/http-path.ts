import type { FcHttpEvent } from '../fc/events';
import { jsonResponse, readHttpRequest, type FcHttpResponse, type HttpRequest } from '../fc/http-trigger';
import { assertInstancesAllowed } from '../outboundbot/instance-allow-list';
import type { WithdrawConfig } from '../runtime/config';
import { InvalidSignatureError } from '../webhooks/errors';
import { verifyWebhook } from '../webhooks/verify';
import { callbackTarget } from './callback-target';
import { parseHttpWithdrawal } from './http-request';
import { batchResult, type ItemResult } from './results';
import type { InvocationScope, WithdrawInstance } from './scopes';
import { withdrawDelivery } from './delivery-once';

/**
 * An HTTP request, checked in the documented order: method and size, signature, then
 * content type and ids (a signed request's only from its signed body), then the instance allow-list. A signed request is done once per `webhook-id` across instances; a
 * replay gets the stored answer, marked `webhook-replayed: true`. Refusals are thrown as
 * ServiceErrors (lib/fc/error-mapping.ts answers them) and leave no record, so a corrected
 * request may reuse the id.
 */
export async function answerHttp(event: FcHttpEvent, scope: InvocationScope, instance: WithdrawInstance): Promise<FcHttpResponse> {
  const request = readHttpRequest(event);
  const cfg = instance.state.loadConfig();
  const webhookId = authenticate(request, cfg, instance.clock.nowMs);
  const parsed = parseHttpWithdrawal(request, webhookId !== undefined);
  assertInstancesAllowed(parsed.items, cfg.ALLOWED_INSTANCE_IDS);
  const callbackUrl = callbackTarget(cfg, parsed.callbackUrl);
  const work = { key: webhookId === undefined ? undefined : `http:${webhookId}`, payload: parsed, items: parsed.items, callbackUrl };
  const { results, replayed } = await withdrawDelivery(work, scope, instance);
  const answer = httpAnswer(results, parsed.batch, scope.requestId);
  if (!replayed) return answer;
  scope.log.info('webhook replay answered from the idempotency store', { webhookId });
  return { ...answer, headers: { ...answer.headers, 'webhook-replayed': 'true' } };
}

/**
 * The verified `webhook-id` of a signed request, or undefined for an unsigned one where
 * ALLOW_UNSIGNED_HTTP permits it. Without WEBHOOK_SECRET, unsigned HTTP is refused by default.
 */
export function authenticate(request: HttpRequest, cfg: WithdrawConfig, nowMs: () => number): string | undefined {
  const secrets = cfg.WEBHOOK_SECRET;
  if (secrets.length > 0) return verifyWebhook({ secrets, headers: request.headers, rawBody: request.rawBody, nowMs: nowMs() }).webhookId;
  if (cfg.ALLOW_UNSIGNED_HTTP) return undefined;
  throw new InvalidSignatureError('HTTP requests must be signed: WEBHOOK_SECRET is not set and ALLOW_UNSIGNED_HTTP is not true');
}

/**
 * A single item answers with its own status; a batch with 200 when every item succeeded, else
 * 207. When an item was refused for now (409, 503), `retry-after` says when to come back.
 */
export function httpAnswer(results: ItemResult[], batch: boolean, requestId: string): FcHttpResponse {
  const retryAfter = retryAfterOf(results);
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
  if (!batch) {
    const [only] = results as [ItemResult];
    return jsonResponse(only.HttpStatusCode, only, requestId, headers);
  }
  const answer = batchResult(results);
  return jsonResponse(answer.Success ? 200 : 207, answer, requestId, headers);
}

/** The longest wait any item asks for. */
function retryAfterOf(results: ItemResult[]): number | undefined {
  let seconds: number | undefined;
  for (const { RetryAfterSeconds } of results) if (RetryAfterSeconds !== undefined) seconds = Math.max(seconds ?? 0, RetryAfterSeconds);
  return seconds;
}
