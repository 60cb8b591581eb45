import { isAllowedHost } from '../webhooks/allowed-hosts';
import type { CallbackReport } from '../webhooks/callback';
import { parseWithdrawConfig, type WithdrawConfig as Config } from '../runtime/config';
import { InvalidParameterError, ServiceError } from '../core/errors';
import { invocationDeadlineMs, workEndMs, type FcContext } from '../fc/context';
import { errorResponse, jsonResponse, readHttpRequest, type FcHttpResponse } from '../fc/http-trigger';
import type { WithdrawalItem } from './withdraw-item';
import { createInstanceState, type InstanceStateOptions } from '../runtime/instance-state';
import type { Logger } from '../core/logger';
import { createLimiter, mapWithConcurrency, type Limiter } from '../core/concurrency';
import { MemoCache } from '../core/memo-cache';
import { classifyEvent, type EventEntry } from './triggers';
import { verifyWebhook } from '../webhooks/verify';
import { logWithdrawal, withdrawItem, type WithdrawResult } from './withdraw-item';
import { InvalidSignatureError } from '../webhooks/errors';
import { errorBody } from '../core/errors';
import { parseHttpWithdrawal } from './http-request';
import { decodeEvent } from '../fc/events';

export interface ItemResult extends WithdrawResult {
  Callback?: CallbackReport;
}

export interface BatchResult {
  Success: boolean;
  Results: ItemResult[];
}

/** Thrown to FC for an event that may succeed later, so its async retries and on-failure destination apply. */
export class RetryableFailureError extends Error {
  constructor(readonly result: ItemResult | BatchResult) {
    const failed = 'Results' in result ? result.Results.filter((r) => r.Retryable) : [result];
    super(`${failed.length} withdrawal(s) failed retryably: ${failed.map((r) => `${r.ScriptId} ${r.Code}`).join(', ')}`);
    this.name = 'RetryableFailureError';
  }
}

export type ServiceOptions = InstanceStateOptions;

/** How long webhook ids and completed withdrawals are remembered: twice the signature tolerance. */
const MEMORY_TTL_MS = 10 * 60_000;
const MEMORY_CAPACITY = 10_000;

/**
 * Everything that lives as long as the FC instance: config (parsed once), the
 * client (reused while the credentials hold), and the memory of work already done.
 * Per-invocation state is passed down as arguments, never kept here.
 */
export function createWithdrawService(options: ServiceOptions) {
  const { clock } = options;
  const instanceState = createInstanceState(options, parseWithdrawConfig);
  // One limit for the instance, not per invocation: with FC instance concurrency, parallel
  // invocations share it, so OutboundBot never sees more than BATCH_CONCURRENCY calls from us.
  let upstreamLimiter: Limiter | undefined;
  const webhookResponses = new MemoCache<Promise<FcHttpResponse>>(MEMORY_CAPACITY, MEMORY_TTL_MS, clock.nowMs);
  const completed = new MemoCache<ItemResult>(MEMORY_CAPACITY, MEMORY_TTL_MS, clock.nowMs);
  const loadConfig = instanceState.loadConfig;

  interface Invocation {
    requestId: string;
    startMs: number;
    deadlineMs: number;
    coldStart: boolean;
    log: Logger;
    context: FcContext;
  }

  function callbackTarget(cfg: Config, requestUrl: string | undefined): string | undefined {
    if (requestUrl === undefined) return cfg.CALLBACK_URL;
    let parsed: URL;
    try {
      parsed = new URL(requestUrl);
    } catch {
      throw new InvalidParameterError([{ Path: 'CallbackUrl', Message: 'must be an absolute URL' }]);
    }
    if (!isAllowedHost(parsed, cfg.CALLBACK_ALLOWED_HOSTS)) {
      throw new InvalidParameterError([{ Path: 'CallbackUrl', Message: 'host is not in CALLBACK_ALLOWED_HOSTS' }]);
    }
    return requestUrl;
  }

  /** Withdraws each item (bounded concurrency), logs one line per item, and calls back. */
  async function withdrawAll(items: WithdrawalItem[], inv: Invocation, callbackUrl: string | undefined): Promise<ItemResult[]> {
    const cfg = loadConfig();
    const deps = {
      client: instanceState.client(instanceState.credentials(inv.context.credentials, cfg), cfg),
      clock,
      policy: instanceState.retryPolicy(cfg),
      readTimeoutMs: cfg.OUTBOUNDBOT_READ_TIMEOUT_MS,
      // With a callback to send, the withdrawal stops early enough for it to go out before the deadline.
      deadlineMs: workEndMs(inv.startMs, inv.deadlineMs, callbackUrl ? cfg.CALLBACK_TIMEOUT_MS : undefined),
    };
    upstreamLimiter ??= createLimiter(cfg.BATCH_CONCURRENCY);
    return mapWithConcurrency(items, upstreamLimiter, async (item) => {
      const memoKey = `${inv.requestId}\0${item.InstanceId}\0${item.ScriptId}`;
      const startedMs = clock.nowMs();
      // FC delivers an async event again after a retryable failure: what already succeeded is not redone.
      const remembered = completed.get(memoKey);
      const result: ItemResult = remembered ?? (await withdrawItem(item, deps));
      if (result.Success && !remembered) completed.set(memoKey, result);
      if (callbackUrl && !remembered) {
        result.Callback = await instanceState.callBack(cfg, callbackUrl, { ...result, InvocationRequestId: inv.requestId }, inv.deadlineMs);
      }
      logResult(inv, result, clock.nowMs() - startedMs, remembered !== undefined);
      return result;
    });
  }

  function logResult(inv: Invocation, result: ItemResult, durationMs: number, fromMemory: boolean) {
    logWithdrawal(inv.log, result, {
      durationMs,
      coldStart: inv.coldStart,
      ...(fromMemory ? { fromMemory: true } : {}),
      ...(result.Callback ? { callbackDelivered: result.Callback.Delivered, callbackCode: result.Callback.Code } : {}),
    });
  }

  function logRefusal(inv: Invocation, error: ServiceError) {
    inv.log.warn('request refused', {
      Code: error.code,
      HttpStatusCode: error.statusCode,
      Message: error.message,
      durationMs: clock.nowMs() - inv.startMs,
      coldStart: inv.coldStart,
    });
  }

  async function handleHttp(event: Parameters<typeof readHttpRequest>[0], inv: Invocation): Promise<FcHttpResponse> {
    const request = readHttpRequest(event);
    const cfg = loadConfig();
    let webhookId: string | undefined;
    const secrets = cfg.WEBHOOK_SECRET;
    if (secrets.length > 0) {
      webhookId = verifyWebhook({ secrets, headers: request.headers, rawBody: request.rawBody, nowMs: clock.nowMs() }).webhookId;
    } else if (!cfg.ALLOW_UNSIGNED_HTTP) {
      throw new InvalidSignatureError('HTTP requests must be signed: WEBHOOK_SECRET is not set and ALLOW_UNSIGNED_HTTP is not true');
    }
    const respond = async (): Promise<FcHttpResponse> => {
      const parsed = parseHttpWithdrawal(request);
      const callbackUrl = callbackTarget(cfg, parsed.callbackUrl);
      const results = await withdrawAll(parsed.items, inv, callbackUrl);
      if (!parsed.batch) {
        const [only] = results as [ItemResult];
        return jsonResponse(only.HttpStatusCode, only, inv.requestId);
      }
      const success = results.every((r) => r.Success);
      return jsonResponse(success ? 200 : 207, { Success: success, Results: results }, inv.requestId);
    };
    if (webhookId === undefined) return respond();
    const earlier = webhookResponses.get(webhookId);
    if (earlier) {
      inv.log.info('webhook replay answered from memory', { webhookId });
      const response = await earlier;
      return { ...response, headers: { ...response.headers, 'x-fc-request-id': inv.requestId, 'webhook-replayed': 'true' } };
    }
    const pending = respond();
    webhookResponses.set(webhookId, pending);
    // A refusal (bad body) may be corrected and resent under the same id; only outcomes of real work are kept.
    pending.catch(() => webhookResponses.delete(webhookId));
    return pending;
  }

  async function handleEntries(entries: EventEntry[], inv: Invocation): Promise<ItemResult[]> {
    const valid = entries.flatMap((e) => (e.item ? [e.item] : []));
    const withdrawn = valid.length > 0 ? await withdrawAll(valid, inv, loadConfig().CALLBACK_URL) : [];
    let next = 0;
    return entries.map((e) => (e.item ? withdrawn[next++]! : refusedEntry(e.error, inv)));
  }

  function refusedEntry(error: InvalidParameterError, inv: Invocation): ItemResult {
    logRefusal(inv, error);
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
  function eventOutcome(results: ItemResult[], batch: boolean): ItemResult | BatchResult {
    const outcome = batch ? { Success: results.every((r) => r.Success), Results: results } : results[0]!;
    if (results.some((r) => r.Retryable)) throw new RetryableFailureError(outcome);
    return outcome;
  }

  return {
    async handle(event: unknown, context: FcContext): Promise<unknown> {
      const startMs = clock.nowMs();
      const wasCold = instanceState.takeColdStart();
      const requestId = context.requestId;
      const inv: Invocation = {
        requestId,
        startMs,
        deadlineMs: invocationDeadlineMs(startMs, context),
        coldStart: wasCold,
        log: instanceState.logger().child({ requestId }),
        context,
      };
      let isHttp = false;
      try {
        const invocation = classifyEvent(decodeEvent(event));
        isHttp = invocation.kind === 'http';
        loadConfig();
        inv.log = instanceState.logger().child({ requestId, trigger: invocation.kind });
        if (invocation.kind === 'http') return await handleHttp(invocation.event, inv);
        if (invocation.kind === 'invoke') {
          const callbackUrl = callbackTarget(loadConfig(), invocation.request.callbackUrl);
          const results = await withdrawAll(invocation.request.items, inv, callbackUrl);
          return eventOutcome(results, invocation.request.batch);
        }
        return eventOutcome(await handleEntries(invocation.entries, inv), invocation.batch);
      } catch (error) {
        if (!(error instanceof ServiceError)) {
          if (!(error instanceof RetryableFailureError)) inv.log.error('invocation crashed', { error });
          throw error;
        }
        logRefusal(inv, error);
        if (isHttp) return errorResponse(error, requestId);
        if (error.retryable) throw error;
        return errorBody(error, requestId);
      }
    },
  };
}
