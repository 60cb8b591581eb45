/**
 * The signed result callback (DESIGN.md §4): POSTs a result to `CALLBACK_URL` (or a
 * per-request URL on an allow-listed host) the Standard Webhooks way.
 *
 * A callback is a side channel: {@link sendCallback} never throws, it reports. The withdrawal
 * already happened, so a failed callback must never fail (and so re-run) the invocation.
 *
 * SSRF: the URL comes from configuration or, for allow-listed hosts, from the request. We
 * resolve the host once, refuse if any address is internal (see address-policy.ts), and then
 * connect to exactly that checked address — a second DNS lookup could return a different
 * answer (DNS rebinding). TLS SNI, certificate checks and the Host header still use the name.
 * Redirects are not followed (a 3xx could point anywhere), and proxy variables are ignored.
 */
import { randomBytes } from 'node:crypto';
import { promises as dnsPromises } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { InvalidConfigurationError } from '../core/errors';
import { isForbiddenAddress } from './address-policy';
import { isAllowedHost } from './allowed-hosts';
import { backoffDelayMs } from '../core/retry-policy';
import { decodeWebhookSecret, signWebhook } from './verify';

export interface CallbackConfig {
  url: string;
  /** `whsec_` secret; without it the callback is sent unsigned. */
  secret?: string;
  /** `CALLBACK_ALLOWED_HOSTS` entries: `host` or `host:port`. */
  allowedHosts: readonly string[];
  /** Per attempt, covering connect, TLS, request and response; also bounds the one DNS lookup. */
  timeoutMs: number;
  maxAttempts: number;
  /** Backoff base (default 200 ms): attempt n waits up to base·2^(n-1), full jitter. */
  baseDelayMs?: number;
  /** Backoff cap (default 5 000 ms). */
  maxDelayMs?: number;
}

export interface CallbackDeps {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1): the jitter source. */
  random(): number;
  /** Defaults to `dns.promises.lookup(hostname, { all: true })`. */
  lookup?: (hostname: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;
}

export interface CallbackReport {
  Delivered: boolean;
  /** The target without query string, fragment or userinfo (they may carry tokens). */
  Url: string;
  StatusCode?: number;
  /** HTTP attempts made (0 when refused before sending). */
  Attempts: number;
  /** `CallbackRefused` (policy), `CallbackFailed` (network, DNS, non-2xx), `CallbackTimeout`. */
  Code?: string;
  Message?: string;
  WebhookId: string;
}

const DEFAULT_BASE_DELAY_MS = 200;
const DEFAULT_MAX_DELAY_MS = 5_000;
/** Receivers answer with a short ack; anything longer is read up to here, then dropped. */
const MAX_RESPONSE_BYTES = 4 * 1024;
/** Not worth starting an attempt (or sleeping towards one) with less time than this left. */
const MIN_ATTEMPT_MS = 50;
const USER_AGENT = 'withdraw-script-review-callback/1';

/**
 * Keep-alive agents whose pool key includes the checked address, so a pooled socket is only
 * reused for a request whose own check resolved to the same address. Explicit agents also
 * keep any process-wide `globalAgent` replacement (proxy agents) out of the path.
 */
interface PinnedOptions {
  pinnedAddress?: string;
}
class PinnedHttpAgent extends http.Agent {
  override getName(options?: http.ClientRequestArgs & PinnedOptions): string {
    return `${super.getName(options)}:${options?.pinnedAddress ?? ''}`;
  }
}
class PinnedHttpsAgent extends https.Agent {
  override getName(options?: https.RequestOptions & PinnedOptions): string {
    return `${super.getName(options)}:${options?.pinnedAddress ?? ''}`;
  }
}
/** Idle sockets are dropped after 4 s, before the common 5 s server keep-alive timeout races us. */
const agentOptions = { keepAlive: true, timeout: 4_000, scheduling: 'lifo' } as const;
const httpAgent = new PinnedHttpAgent(agentOptions);
const httpsAgent = new PinnedHttpsAgent(agentOptions);

function reportUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function newWebhookId(): string {
  return `msg_${randomBytes(18).toString('base64url')}`;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

class AttemptTimeout extends Error {}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AttemptTimeout(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function defaultLookup(hostname: string): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const answers = await dnsPromises.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

interface AttemptResult {
  statusCode: number;
  retryAfter?: string;
}

/**
 * One POST to the pinned address. Resolves with the status once the (capped) body is drained;
 * rejects on network errors and with {@link AttemptTimeout} when `timeoutMs` passes first.
 */
function attempt(
  url: URL,
  target: { address: string; family: 4 | 6 },
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
): Promise<AttemptResult> {
  return new Promise<AttemptResult>((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let settled = false;
    let status: AttemptResult | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (status) resolve(status);
      else reject(error ?? new Error('connection closed without a response'));
    };
    const options: https.RequestOptions & PinnedOptions = {
      protocol: url.protocol,
      hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers,
      agent: isHttps ? httpsAgent : httpAgent,
      pinnedAddress: target.address,
      family: target.family,
      // The only "resolution" the socket gets is the address we already checked.
      lookup: (_name, lookupOptions, callback) => {
        const cb = callback as (...args: unknown[]) => void;
        if ((lookupOptions as { all?: boolean }).all) cb(null, [{ address: target.address, family: target.family }]);
        else cb(null, target.address, target.family);
      },
      ...(isHttps && isIP(hostname) === 0 ? { servername: hostname } : {}),
    };
    const req = (isHttps ? https : http).request(options, (res) => {
      status = {
        statusCode: res.statusCode ?? 0,
        ...(typeof res.headers['retry-after'] === 'string' ? { retryAfter: res.headers['retry-after'] } : {}),
      };
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) {
          res.destroy();
          finish();
        }
      });
      res.on('end', () => finish());
      res.on('error', () => finish());
      res.on('close', () => finish());
    });
    timer = setTimeout(() => {
      const error = new AttemptTimeout(`no response within ${timeoutMs} ms`);
      req.destroy(error);
      finish(error);
    }, timeoutMs);
    req.on('error', (error) => finish(error));
    req.on('close', () => {
      if (!status) finish();
    });
    req.end(body);
  });
}

/** `retry-after` as delay in ms from `nowMs`: delta-seconds or an HTTP date. */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const dateMs = Date.parse(text);
  return Number.isNaN(dateMs) ? undefined : Math.max(0, dateMs - nowMs);
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
export async function sendCallback(
  config: CallbackConfig,
  payload: unknown,
  deadlineMs: number,
  deps: CallbackDeps,
): Promise<CallbackReport> {
  const webhookId = newWebhookId();
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    return { Delivered: false, Url: '(invalid URL)', Attempts: 0, Code: 'CallbackRefused', Message: 'Callback URL is not a valid absolute URL', WebhookId: webhookId };
  }
  const base = { Url: reportUrl(url), WebhookId: webhookId };
  const refused = (message: string): CallbackReport => ({ ...base, Delivered: false, Attempts: 0, Code: 'CallbackRefused', Message: message });
  const notSent = (code: string, message: string): CallbackReport => ({ ...base, Delivered: false, Attempts: 0, Code: code, Message: message });
  let attempts = 0;

  try {
    if (url.username !== '' || url.password !== '') return refused('Callback URL must not contain credentials (userinfo)');
    const allowListed = isAllowedHost(url, config.allowedHosts);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowListed)) {
      return refused(
        url.protocol === 'http:'
          ? `Callback URL must use https unless ${url.hostname} is in CALLBACK_ALLOWED_HOSTS`
          : `Callback URL scheme ${url.protocol} is not supported; use https`,
      );
    }
    if (config.secret !== undefined) {
      try {
        decodeWebhookSecret(config.secret, 'CALLBACK_SECRET');
      } catch (error) {
        return refused(error instanceof InvalidConfigurationError ? error.message : 'CALLBACK_SECRET is invalid');
      }
    }

    let body: Buffer;
    try {
      body = Buffer.from(JSON.stringify(payload) ?? 'null', 'utf8');
    } catch (error) {
      return notSent('CallbackFailed', `Payload is not JSON-serializable: ${errorText(error)}`);
    }

    // Resolve once; every attempt connects to these checked addresses only.
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let addresses: Array<{ address: string; family: 4 | 6 }>;
    const literal = isIP(hostname);
    if (literal !== 0) {
      addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
    } else {
      const lookupMs = Math.min(config.timeoutMs, deadlineMs - deps.nowMs());
      if (lookupMs <= 0) return notSent('CallbackTimeout', 'Deadline reached before the callback could be sent');
      try {
        addresses = await withTimeout((deps.lookup ?? defaultLookup)(hostname), lookupMs, 'DNS lookup');
      } catch (error) {
        return notSent(error instanceof AttemptTimeout ? 'CallbackTimeout' : 'CallbackFailed', `DNS lookup of ${hostname} failed: ${errorText(error)}`);
      }
      if (addresses.length === 0) return notSent('CallbackFailed', `DNS lookup of ${hostname} returned no addresses`);
    }
    if (!allowListed) {
      const forbidden = addresses.find((a) => isForbiddenAddress(a.address));
      if (forbidden) {
        return refused(
          `${hostname} resolves to ${forbidden.address}, a private, loopback, link-local or otherwise internal address; add the host to CALLBACK_ALLOWED_HOSTS to allow it`,
        );
      }
    }

    const baseDelayMs = config.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    const maxDelayMs = config.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    const maxAttempts = Math.max(1, Math.floor(config.maxAttempts));
    let last: CallbackReport = notSent('CallbackTimeout', 'Deadline reached before the callback could be sent');

    while (attempts < maxAttempts) {
      const remainingMs = deadlineMs - deps.nowMs();
      if (remainingMs <= 0 || (attempts > 0 && remainingMs < MIN_ATTEMPT_MS)) break;
      const target = addresses[attempts % addresses.length]!;
      const timestampSeconds = Math.floor(deps.nowMs() / 1000);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': USER_AGENT,
        'webhook-id': webhookId,
        'webhook-timestamp': String(timestampSeconds),
      };
      if (config.secret !== undefined) headers['webhook-signature'] = signWebhook(config.secret, webhookId, timestampSeconds, body);
      attempts += 1;

      let retryable: boolean;
      let retryAfterMs: number | undefined;
      try {
        const result = await attempt(url, target, headers, body, Math.min(config.timeoutMs, remainingMs));
        const statusCode = result.statusCode;
        if (statusCode >= 200 && statusCode < 300) {
          return { ...base, Delivered: true, StatusCode: statusCode, Attempts: attempts };
        }
        retryable = statusCode >= 500 || statusCode === 429;
        retryAfterMs = retryable ? parseRetryAfterMs(result.retryAfter, deps.nowMs()) : undefined;
        last = {
          ...base,
          Delivered: false,
          StatusCode: statusCode,
          Attempts: attempts,
          Code: 'CallbackFailed',
          Message:
            statusCode >= 300 && statusCode < 400
              ? `Receiver answered ${statusCode} (redirects are not followed)`
              : `Receiver answered ${statusCode}`,
        };
      } catch (error) {
        retryable = true;
        last = {
          ...base,
          Delivered: false,
          Attempts: attempts,
          Code: error instanceof AttemptTimeout ? 'CallbackTimeout' : 'CallbackFailed',
          Message: error instanceof AttemptTimeout ? `Callback timed out: ${error.message}` : `Callback request failed: ${errorText(error)}`,
        };
      }
      if (!retryable || attempts >= maxAttempts) return last;

      const delayMs = retryAfterMs ?? backoffDelayMs(attempts, { maxAttempts, baseDelayMs, maxDelayMs }, deps.random);
      if (deps.nowMs() + delayMs > deadlineMs - MIN_ATTEMPT_MS) {
        const why = retryAfterMs !== undefined ? `retry-after of ${Math.ceil(retryAfterMs / 1000)} s` : 'the next retry';
        return { ...last, Message: `${last.Message}; ${why} does not fit before the deadline` };
      }
      await deps.sleep(delayMs);
    }
    return last;
  } catch (error) {
    // Defensive: a bug above must still not fail the withdrawal that already happened.
    return { ...base, Delivered: false, Attempts: attempts, Code: 'CallbackFailed', Message: `Callback failed: ${errorText(error)}` };
  }
}
