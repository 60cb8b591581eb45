/**
 * Our patch point on the SDK's transport (httpx, used by @alicloud/openapi-client through
 * @alicloud/tea-typescript, and by @alicloud/fc2). Two faults of httpx meet here:
 *
 * - httpx arms a read timer per request on the *socket* and only its own `read` clears it;
 *   tea-util reads the body itself, so the timer stays armed after the answer. It keeps the
 *   finished request and response reachable until it fires, and on a reused keep-alive socket
 *   the stale timer's abort clears the next request's timer, leaving that request with no
 *   read timeout at all. We clear a request's timer when its answer ends.
 * - Nothing in the SDK bounds a whole call: a body dripping in byte by byte defeats every
 *   idle timeout. {@link withHardDeadline} aborts the request and destroys its socket at the
 *   time we give it, whatever the SDK's timers do.
 *
 * The wrapper is installed once, on the module object tea and fc2 read through live bindings.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import * as httpx from 'httpx';

/** The call running in this async context: its abort signal, and what its answer said. */
interface CallScope {
  signal: AbortSignal;
  /** The HTTP status of the last answer, even when its body cannot be parsed afterwards. */
  answered?: { statusCode?: number };
}
const callScope = new AsyncLocalStorage<CallScope>();
const READ_TIMER_NAME = 'TIMER::READ_TIMER';

/** Raised when our own deadline cut the call; named so the transport classifier reads it as a timeout. */
export class HardDeadlineError extends Error {
  override readonly name = 'RequestTimeoutHardDeadlineError';
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms; the request was aborted and its socket destroyed`);
  }
}

type HttpxModule = { request: typeof httpx.request };
/** module.exports itself (the namespace object is a read-only copy), bundled or not. */
const httpxExports = ((httpx as unknown as { default?: HttpxModule }).default ?? httpx) as HttpxModule;
let installed = false;

export function installTransportGuards(module: HttpxModule = httpxExports): void {
  if (installed) return;
  installed = true;
  const original = module.request;
  module.request = (url, options) => {
    const scope = callScope.getStore();
    const guarded = scope ? { ...options, beforeRequest: withSignal(options.beforeRequest, scope.signal) } : options;
    return original(url, guarded).then((response) => {
      if (scope?.answered) scope.answered.statusCode = response.statusCode;
      releaseReadTimerAtEnd(response);
      return response;
    });
  };
}

function withSignal(before: httpx.Options['beforeRequest'], signal: AbortSignal) {
  return (requestOptions: httpx.Options) => {
    const shaped = (before?.(requestOptions) as httpx.Options | undefined) ?? requestOptions;
    return Object.assign(shaped, { signal });
  };
}

/** Clears this request's read timer once its answer is over, so nothing stale outlives it. */
function releaseReadTimerAtEnd(response: IncomingMessage): void {
  const socket = response.socket as unknown as Record<symbol, NodeJS.Timeout | null> | null;
  if (!socket) return;
  const key = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === READ_TIMER_NAME);
  if (key === undefined) return;
  const timer = socket[key];
  const release = () => {
    if (timer) clearTimeout(timer);
    if (socket[key] === timer) socket[key] = null;
  };
  response.once('end', release);
  response.once('close', release);
}

/**
 * Runs `call` so that at `timeoutMs` its request is aborted (socket destroyed) and the call
 * rejects with {@link HardDeadlineError}, even if the SDK never settles. `answered` receives
 * the answer's HTTP status, which the SDK drops when the body is not JSON.
 */
export async function withHardDeadline<T>(timeoutMs: number, call: () => Promise<T>, answered?: CallScope['answered']): Promise<T> {
  installTransportGuards();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HardDeadlineError(timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([callScope.run({ signal: controller.signal, answered }, call), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
