/**
 * One POST to an address that has already passed the callback policy (DESIGN.md §7): the
 * socket connects to exactly that address (a second DNS lookup could answer differently: DNS
 * rebinding), while TLS SNI, the certificate check and the Host header keep the name.
 * Redirects are not followed; explicit agents keep proxy `globalAgent`s out of the path.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { bareHostname } from './callback-policy';
import { CallbackTimeoutError } from './errors';

/** A checked address: where every attempt of one callback connects. */
export interface PinnedTarget {
  address: string;
  family: 4 | 6;
}

export interface PinnedResponse {
  statusCode: number;
  /** The raw `retry-after` header, when the receiver sent one. */
  retryAfter?: string;
}

/** Receivers answer with a short ack; anything longer is read up to here, then dropped. */
const MAX_RESPONSE_BYTES = 4 * 1024;

/**
 * Keep-alive agents whose pool key includes the checked address, so a pooled socket is only
 * reused for a request whose own check resolved to the same address.
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

function pinnedOptions(url: URL, target: PinnedTarget, headers: Record<string, string>): https.RequestOptions & PinnedOptions {
  const isHttps = url.protocol === 'https:';
  const hostname = bareHostname(url);
  return {
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
}

/** Reads the body up to {@link MAX_RESPONSE_BYTES}, then calls `done` once it ended, failed or was cut. */
function drainCapped(res: http.IncomingMessage, done: () => void): void {
  let received = 0;
  res.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > MAX_RESPONSE_BYTES) {
      res.destroy();
      done();
    }
  });
  res.on('end', done);
  res.on('error', done);
  res.on('close', done);
}

/**
 * POSTs `body` to `target`. Resolves with the status once the (capped) body is drained;
 * rejects on network errors, and with {@link CallbackTimeoutError} when `timeoutMs` passes first.
 */
export function postPinned(url: URL, target: PinnedTarget, headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<PinnedResponse> {
  return new Promise<PinnedResponse>((resolve, reject) => {
    let settled = false;
    let response: PinnedResponse | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (response) resolve(response);
      else reject(error ?? new Error('connection closed without a response'));
    };
    const req = (url.protocol === 'https:' ? https : http).request(pinnedOptions(url, target, headers), (res) => {
      const retryAfter = res.headers['retry-after'];
      response = { statusCode: res.statusCode ?? 0, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
      drainCapped(res, () => finish());
    });
    timer = setTimeout(() => {
      const error = new CallbackTimeoutError(`no response within ${timeoutMs} ms`);
      req.destroy(error);
      finish(error);
    }, timeoutMs);
    req.on('error', (error) => finish(error));
    req.on('close', () => {
      if (!response) finish();
    });
    req.end(body);
  });
}
