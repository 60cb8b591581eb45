/**
 * The signed result callback (DESIGN.md §7): POSTs a result to `CALLBACK_URL` (or a
 * per-request URL on an allow-listed host) the Standard Webhooks way.
 *
 * A callback is a side channel: {@link sendCallback} never throws, it reports. The withdrawal
 * already happened, so a failed callback must never fail (and so re-run) the invocation.
 *
 * The parts: callback-policy.ts says what may be called (SSRF guard), resolve-once.ts looks the
 * host up once, pinned-request.ts connects to exactly the checked address, callback-attempt.ts
 * signs one attempt and judges its answer, and lib/core/retry-policy.ts runs the retries.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock';
import { runWithRetry, type RetryPolicy, type RetryRun } from '../core/retry-policy';
import { attemptDelivery, type DeliveryFailure, type DeliveryRequest } from './callback-attempt';
import { addressRefusal, bareHostname, checkCallbackUrl, parseCallbackUrl, reportUrl } from './callback-policy';
import { errorText } from './errors';
import type { CallbackReport } from './callback-report';
import type { PinnedTarget } from './pinned-request';
import { NO_TIME_LEFT, resolveOnce, type Lookup } from './resolve-once';

export interface CallbackConfig {
  url: string;
  /** `whsec_` secret; without it the callback is sent unsigned. */
  secret?: string;
  /** `CALLBACK_ALLOWED_HOSTS` entries: `host` or `host:port`. */
  allowedHosts: readonly string[];
  /** Per attempt, covering connect, TLS, request and response; also bounds the one DNS lookup. */
  timeoutMs: number;
  maxAttempts: number;
  /** Backoff base (`RETRY_BASE_DELAY_MS`): retry n waits up to base·2^(n-1), full jitter. */
  baseDelayMs: number;
  /** Backoff cap (`RETRY_MAX_DELAY_MS`); a receiver's `retry-after` is honoured as given. */
  maxDelayMs: number;
}

/** The clock (jitter included) and, for tests, the resolver: `dns.promises.lookup(hostname, { all: true })` by default. */
export interface CallbackDeps extends Clock {
  lookup?: Lookup;
}

export type { CallbackReport } from './callback-report';

type NotSent = { ok: false; code: 'CallbackRefused' | 'CallbackFailed' | 'CallbackTimeout'; message: string };
type Prepared = { ok: true; request: DeliveryRequest; addresses: PinnedTarget[] };
type ReportBase = Pick<CallbackReport, 'Url' | 'WebhookId'>;

function newWebhookId(): string {
  return `msg_${randomBytes(18).toString('base64url')}`;
}

function encodeBody(payload: unknown): Buffer | NotSent {
  try {
    return Buffer.from(JSON.stringify(payload) ?? 'null', 'utf8');
  } catch (error) {
    return { ok: false, code: 'CallbackFailed', message: `Payload is not JSON-serializable: ${errorText(error)}` };
  }
}

/** Everything before the first byte is sent, in order: URL policy, body, the one lookup, the address policy. */
async function prepare(config: CallbackConfig, url: URL, payload: unknown, webhookId: string, deadlineMs: number, deps: CallbackDeps): Promise<Prepared | NotSent> {
  const verdict = checkCallbackUrl(url, config.allowedHosts, config.secret);
  if (verdict.refusal !== undefined) return { ok: false, code: 'CallbackRefused', message: verdict.refusal };
  const body = encodeBody(payload);
  if (!Buffer.isBuffer(body)) return body;
  const hostname = bareHostname(url);
  const resolution = await resolveOnce(hostname, deadlineMs - deps.nowMs(), config.timeoutMs, deps.lookup);
  if (!resolution.ok) return resolution;
  const refusal = addressRefusal(hostname, resolution.addresses, verdict.allowListed);
  if (refusal !== undefined) return { ok: false, code: 'CallbackRefused', message: refusal };
  const request: DeliveryRequest = { url, body, secret: config.secret, webhookId, nowMs: () => deps.nowMs() };
  return { ok: true, request, addresses: resolution.addresses };
}

function retryPolicy(config: CallbackConfig): RetryPolicy {
  return { maxAttempts: Math.max(1, Math.floor(config.maxAttempts)), baseDelayMs: config.baseDelayMs, maxDelayMs: config.maxDelayMs };
}

/** The retry engine over pinned attempts, taking the checked addresses in turn; `sent` counts attempts started. */
function deliver(prepared: Prepared, config: CallbackConfig, deadlineMs: number, deps: CallbackDeps, sent: { attempts: number }): Promise<RetryRun<number, DeliveryFailure>> {
  const { request, addresses } = prepared;
  const attempt = (remainingMs: number) => {
    const target = addresses[sent.attempts % addresses.length]!;
    sent.attempts += 1;
    return attemptDelivery(request, target, Math.min(config.timeoutMs, remainingMs));
  };
  return runWithRetry(attempt, retryPolicy(config), deps, deadlineMs);
}

/** Why the retries stopped early, when the deadline left no room for the wait before the next one. */
function deadlineNote(run: RetryRun<number, DeliveryFailure>, failure: DeliveryFailure): string {
  if (run.delayPastDeadlineMs === undefined) return '';
  const why = failure.retryAfterMs !== undefined ? `retry-after of ${Math.ceil(failure.retryAfterMs / 1000)} s` : 'the next retry';
  return `; ${why} does not fit before the deadline`;
}

function reportOf(run: RetryRun<number, DeliveryFailure>, base: ReportBase): CallbackReport {
  const { outcome, attempts } = run;
  if (outcome === undefined) return { ...base, Delivered: false, Attempts: attempts, Code: 'CallbackTimeout', Message: NO_TIME_LEFT };
  if (outcome.ok) return { ...base, Delivered: true, StatusCode: outcome.value, Attempts: attempts };
  const { failure } = outcome;
  return {
    ...base,
    Delivered: false,
    ...(failure.statusCode === undefined ? {} : { StatusCode: failure.statusCode }),
    Attempts: attempts,
    Code: failure.code,
    Message: `${failure.message}${deadlineNote(run, failure)}`,
  };
}

/**
 * Sends `payload` as a signed JSON POST to `config.url`, retrying network errors, timeouts,
 * 5xx and 429 (honouring `retry-after`) with exponential backoff and full jitter, up to
 * `config.maxAttempts` and never past `deadlineMs`. Other 4xx and 3xx are final.
 *
 * One `webhook-id` per call, the same on every retry (so the receiver can de-duplicate); the
 * timestamp and signature are fresh per attempt. Never throws; the report carries no secret
 * and no signature.
 *
 * @param deadlineMs epoch ms by which everything, retries included, must be over.
 */
export async function sendCallback(config: CallbackConfig, payload: unknown, deadlineMs: number, deps: CallbackDeps): Promise<CallbackReport> {
  const webhookId = newWebhookId();
  const url = parseCallbackUrl(config.url);
  if (url === undefined) {
    return { Delivered: false, Url: '(invalid URL)', Attempts: 0, Code: 'CallbackRefused', Message: 'Callback URL is not a valid absolute URL', WebhookId: webhookId };
  }
  const base: ReportBase = { Url: reportUrl(url), WebhookId: webhookId };
  const sent = { attempts: 0 };
  try {
    const prepared = await prepare(config, url, payload, webhookId, deadlineMs, deps);
    if (!prepared.ok) return { ...base, Delivered: false, Attempts: 0, Code: prepared.code, Message: prepared.message };
    return reportOf(await deliver(prepared, config, deadlineMs, deps, sent), base);
  } catch (error) {
    // Defensive: a bug above must still not fail the withdrawal that already happened.
    return { ...base, Delivered: false, Attempts: sent.attempts, Code: 'CallbackFailed', Message: `Callback failed: ${errorText(error)}` };
  }
}
