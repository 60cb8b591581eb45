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
 *   idle timeout. {@link guardedCall} destroys the request (and its socket) at the time we
 *   give it, whatever the SDK's timers do.
 *
 * A call finds its request through a header naming its guard: the SDK passes request headers
 * through untouched, and ACS3 signs only host, content-type and x-acs-* headers, so the header
 * is taken off before the request is sent. (AsyncLocalStorage would also do, but on Node 20 it
 * turns on promise hooks for every promise in the process: a fifth of a warm call's CPU.)
 * The wrapper is installed once, on the module object tea and fc2 read through live bindings.
 */
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import * as httpx from 'httpx';
import { within } from '../core/within';

/** Names the call's guard on its way through the SDK; never sent. */
export const CALL_HEADER = 'x-wsr-call';
const READ_TIMER_NAME = 'TIMER::READ_TIMER';

/** Raised when our own deadline cut the call; named so the transport classifier reads it as a timeout. */
export class HardDeadlineError extends Error {
  override readonly name = 'RequestTimeoutHardDeadlineError';
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms; the request was aborted and its socket destroyed`);
  }
}

/** One call's hold on its request, and what its answer said (the SDK drops the status of a body it cannot parse). */
export class CallGuard {
  request: ClientRequest | undefined;
  statusCode: number | undefined;
  private cutBy: Error | undefined;
  constructor(readonly id: string) {}

  attach(request: ClientRequest): void {
    this.request = request;
    if (this.cutBy) request.destroy(this.cutBy);
  }

  cut(error: Error): void {
    this.cutBy = error;
    this.request?.destroy(error);
  }
}

const guards = new Map<string, CallGuard>();
let lastCallId = 0;

type AgentInternals = { addRequest(request: ClientRequest, options: { wsrGuard?: CallGuard }): void };
/** Keep-alive agents (as httpx's own) that hand each guarded request to its guard. */
function guardedAgent<A extends http.Agent>(Base: new (options: http.AgentOptions) => A): A {
  const agent = new Base({ keepAlive: true });
  const addRequest = (Base.prototype as unknown as AgentInternals).addRequest;
  (agent as unknown as AgentInternals).addRequest = function (request, options) {
    options.wsrGuard?.attach(request);
    addRequest.call(this, request, options);
  };
  return agent;
}
const agents = { http: guardedAgent(http.Agent), https: guardedAgent(https.Agent) };

type HttpxModule = { request: typeof httpx.request };
/** module.exports itself (the namespace object is a read-only copy), bundled or not. */
const httpxExports = ((httpx as unknown as { default?: HttpxModule }).default ?? httpx) as HttpxModule;
let installed = false;

export function installTransportGuards(module: HttpxModule = httpxExports): void {
  if (installed) return;
  installed = true;
  const original = module.request;
  module.request = (url, options) => {
    const taken = takeGuard(options.headers as Record<string, string> | undefined);
    const guard = taken?.guard;
    return original(url, taken ? guardedOptions(url, options, taken) : options).then((response) => {
      if (guard) guard.statusCode = response.statusCode;
      releaseReadTimerAtEnd(response);
      return response;
    });
  };
}

/**
 * The guard the request names, and its headers without the naming one: a copy, since `delete`
 * would turn the SDK's headers object into a slow dictionary for everything that reads it after.
 */
function takeGuard(headers: Record<string, string> | undefined): { guard: CallGuard | undefined; headers: Record<string, string> } | undefined {
  const id = headers?.[CALL_HEADER];
  if (id === undefined) return undefined;
  const { [CALL_HEADER]: _named, ...sent } = headers!;
  return { guard: guards.get(id), headers: sent };
}

/** The request's options with the naming header off and, while its call runs, our agent handing the request to its guard. */
function guardedOptions(url: string, options: httpx.Options, { guard, headers }: NonNullable<ReturnType<typeof takeGuard>>): httpx.Options {
  // Hot path: Object.assign, not a spread (docs/ARCHITECTURE.md, Conventions).
  if (!guard) return Object.assign({}, options, { headers });
  return Object.assign({}, options, { headers, agent: url.startsWith('https:') ? agents.https : agents.http, beforeRequest: handTo(guard, options.beforeRequest) });
}

function handTo(guard: CallGuard, before: httpx.Options['beforeRequest']) {
  return (requestOptions: httpx.Options) => Object.assign((before?.(requestOptions) as httpx.Options | undefined) ?? requestOptions, { wsrGuard: guard });
}

type TimedSocket = Record<symbol, NodeJS.Timeout | null>;
/** httpx's symbol for the timer, found once: listing a socket's symbols on every call costs. */
let readTimerKey: symbol | undefined;

function readTimerKeyOf(socket: TimedSocket): symbol | undefined {
  if (readTimerKey !== undefined && readTimerKey in socket) return readTimerKey;
  const found = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === READ_TIMER_NAME);
  if (found !== undefined) readTimerKey = found;
  return found;
}

/**
 * Clears this request's read timer once its answer is over, so nothing stale outlives it. An
 * answer's 'close' follows its 'end', and also comes when it is cut short.
 */
function releaseReadTimerAtEnd(response: IncomingMessage): void {
  const socket = response.socket as unknown as TimedSocket | null;
  const key = socket ? readTimerKeyOf(socket) : undefined;
  if (key === undefined) return;
  const timer = socket![key];
  response.once('close', () => {
    if (timer) clearTimeout(timer);
    if (socket![key] === timer) socket![key] = null;
  });
}

/**
 * Runs `call(headers)` so that at `timeoutMs` its request is destroyed (socket and all) and the
 * call rejects with {@link HardDeadlineError}, even if the SDK never settles. The call passes
 * `headers` with its request; the guard it returns tells the answer's HTTP status.
 */
export async function guardedCall<T>(timeoutMs: number, call: (headers: Record<string, string>) => Promise<T>): Promise<{ value: T; guard: CallGuard } | { error: unknown; guard: CallGuard }> {
  installTransportGuards();
  const guard = new CallGuard(String(++lastCallId));
  guards.set(guard.id, guard);
  try {
    return { value: await withHardDeadline(timeoutMs, () => call({ [CALL_HEADER]: guard.id }), guard), guard };
  } catch (error) {
    return { error, guard };
  } finally {
    guards.delete(guard.id);
  }
}

/** Rejects with {@link HardDeadlineError} at `timeoutMs` (cutting the guard's request), or settles as `work` does. */
export function withHardDeadline<T>(timeoutMs: number, work: () => Promise<T>, guard?: CallGuard): Promise<T> {
  return within(work(), timeoutMs, () => {
    const error = new HardDeadlineError(timeoutMs);
    guard?.cut(error);
    return error;
  });
}
