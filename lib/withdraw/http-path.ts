import type { MemoCache } from '../core/memo-cache';
import type { FcHttpEvent } from '../fc/events';
import { jsonResponse, readHttpRequest, type FcHttpResponse, type HttpRequest } from '../fc/http-trigger';
import type { WithdrawConfig } from '../runtime/config';
import { InvalidSignatureError } from '../webhooks/errors';
import { verifyWebhook } from '../webhooks/verify';
import { callbackTarget } from './callback-target';
import { parseHttpWithdrawal } from './http-request';
import { batchResult, type ItemResult } from './results';
import type { InvocationScope, WithdrawInstance } from './scopes';
import { withdrawAll } from './withdraw-all';

/**
 * An HTTP request, checked in the documented order: method and size, signature, then
 * content type and ids. A signed request is answered once per `webhook-id`; a replay
 * gets the first answer. Refusals are thrown as ServiceErrors (lib/fc/error-mapping.ts answers them).
 */
export async function answerHttp(event: FcHttpEvent, scope: InvocationScope, instance: WithdrawInstance): Promise<FcHttpResponse> {
  const request = readHttpRequest(event);
  const cfg = instance.state.loadConfig();
  const webhookId = authenticate(request, cfg, instance.clock.nowMs);
  const answer = () => withdrawForHttp(request, cfg, scope, instance);
  if (webhookId === undefined) return answer();
  return answerOncePerWebhookId(webhookId, answer, scope, instance.webhookAnswers);
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

/** A single item answers with its own status; a batch with 200 when every item succeeded, else 207. */
export function httpAnswer(results: ItemResult[], batch: boolean, requestId: string): FcHttpResponse {
  if (!batch) {
    const [only] = results as [ItemResult];
    return jsonResponse(only.HttpStatusCode, only, requestId);
  }
  const answer = batchResult(results);
  return jsonResponse(answer.Success ? 200 : 207, answer, requestId);
}

async function withdrawForHttp(request: HttpRequest, cfg: WithdrawConfig, scope: InvocationScope, instance: WithdrawInstance): Promise<FcHttpResponse> {
  const parsed = parseHttpWithdrawal(request);
  const callbackUrl = callbackTarget(cfg, parsed.callbackUrl);
  const results = await withdrawAll(parsed.items, scope, callbackUrl, instance);
  return httpAnswer(results, parsed.batch, scope.requestId);
}

/**
 * The first request under a `webhook-id` does the work; a later or concurrent one gets its
 * answer, marked `webhook-replayed: true`. A request refused before any work (a bad body)
 * is forgotten, so it can be corrected and resent under the same id.
 */
async function answerOncePerWebhookId(
  webhookId: string,
  answer: () => Promise<FcHttpResponse>,
  scope: InvocationScope,
  answers: MemoCache<Promise<FcHttpResponse>>,
): Promise<FcHttpResponse> {
  const earlier = answers.get(webhookId);
  if (earlier) {
    scope.log.info('webhook replay answered from memory', { webhookId });
    const response = await earlier;
    return { ...response, headers: { ...response.headers, 'x-fc-request-id': scope.requestId, 'webhook-replayed': 'true' } };
  }
  const pending = answer();
  answers.set(webhookId, pending);
  pending.catch(() => answers.delete(webhookId));
  return pending;
}
