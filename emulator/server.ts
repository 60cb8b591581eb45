/**
 * The emulator's HTTP server: routes each request as the gateway does (method, version,
 * action), authenticates it, lets an injected fault replace the answer, runs the action,
 * records the request and answers after the configured latency.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createActions } from './actions';
import { ADMIN_PREFIX, FailingScripts } from './admin';
import { errorAnswer, type ActionHandler, type Answer, type JsonAnswer } from './answers';
import { FaultInjector, playFault } from './faults';
import { GatewayAuth } from './gateway-auth';
import { readCall, writeAnswer, type IncomingCall } from './http-wire';
import { checkPagingFault } from './paging-faults';
import { ScriptStore } from './script-store';
import type { EmulatorCredential, EmulatorOptions, EmulatorRequestRecord, EmulatorScript, Fault, OutboundBotEmulator, PagingFault, RandomFaultRates } from './types';

export const API_VERSION = '2019-12-26';

const DEFAULT_MAX_CLOCK_SKEW_MS = 15 * 60_000;
/** Longer than any client's idle-socket reuse window, so keep-alive reuse never races a server close. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Starts the emulator; resolves once it is listening. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<OutboundBotEmulator> {
  const emulator = new Emulator(options);
  await emulator.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return emulator;
}

class Emulator implements OutboundBotEmulator {
  readonly #now: () => number;
  readonly #server = createServer((req, res) => {
    this.#handle(req, res).catch(() => res.destroy());
  });
  readonly #auth: GatewayAuth;
  readonly #scripts = new ScriptStore();
  readonly #actions: Readonly<Record<string, ActionHandler>>;
  readonly #faults = new FaultInjector();
  readonly #failing = new FailingScripts();
  #pagingFault: PagingFault | undefined;
  #disabledActions: ReadonlySet<string>;
  readonly #requests: EmulatorRequestRecord[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #latencyMs: number;
  #endpoint = '';
  #port = 0;
  #closed: Promise<void> | undefined;
  #connections = 0;

  constructor(options: EmulatorOptions) {
    this.#now = options.now ?? Date.now;
    this.#auth = new GatewayAuth(options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS);
    this.#actions = createActions(this.#scripts, this.#now, () => this.#pagingFault);
    this.#disabledActions = new Set(options.disabledActions);
    this.#latencyMs = options.latencyMs ?? 0;
    this.#server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.#server.on('connection', () => {
      this.#connections += 1;
    });
    for (const credential of options.credentials ?? []) this.addCredential(credential);
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  get port(): number {
    return this.#port;
  }

  get connections(): number {
    return this.#connections;
  }

  get requests(): ReadonlyArray<Readonly<EmulatorRequestRecord>> {
    return this.#requests;
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        this.#endpoint = `${host.includes(':') ? `[${host}]` : host}:${this.#port}`;
        resolve();
      });
    });
  }

  addCredential(credential: EmulatorCredential): void {
    this.#auth.addCredential(credential);
  }

  addInstance(instanceId: string, scripts: EmulatorScript[]): void {
    this.#scripts.addInstance(instanceId, scripts);
  }

  script(instanceId: string, scriptId: string): EmulatorScript | undefined {
    return this.#scripts.snapshot(instanceId, scriptId);
  }

  withdrawals(instanceId: string, scriptId: string): number {
    return this.#scripts.withdrawals(instanceId, scriptId);
  }

  review(instanceId: string, scriptId: string, status: string): void {
    const script = this.#scripts.instance(instanceId)?.get(scriptId);
    if (script === undefined) throw new RangeError(`no script ${scriptId} in ${instanceId}`);
    script.Status = status;
    script.UpdateTime = this.#now();
  }

  setWithdrawalFailing(scriptId: string, failing: boolean): void {
    this.#failing.set(scriptId, failing);
  }

  injectFault(fault: Fault, opts?: { times?: number; action?: string }): void {
    this.#faults.inject(fault, opts);
  }

  setRandomFaults(rates: RandomFaultRates, random: () => number = Math.random): void {
    this.#faults.setRandom(rates, random);
  }

  setPagingFault(fault: PagingFault | undefined): void {
    this.#pagingFault = checkPagingFault(fault);
  }

  setDisabledActions(actions: readonly string[]): void {
    this.#disabledActions = new Set(actions);
  }

  setLatency(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
    this.#latencyMs = ms;
  }

  reset(): void {
    this.#faults.clear();
    this.#pagingFault = undefined;
    this.#requests.length = 0;
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url?.startsWith(ADMIN_PREFIX)) return this.#failing.answer(req, res);
    const atMs = this.#now();
    const call = await readCall(req);
    const requestId = randomUUID().toUpperCase();
    const answer = this.#judge(call, atMs, requestId);
    this.#requests.push({
      action: call.action,
      query: call.params,
      accessKeyId: call.auth?.accessKeyId,
      status: answer.kind === 'json' ? answer.status : answer.kind === 'html' ? 200 : 0,
      code: answer.kind === 'json' && typeof answer.body['Code'] === 'string' ? answer.body['Code'] : '',
      atMs,
    });
    this.#send(req, res, answer, requestId);
  }

  /** Routing, then authentication, then a failing script's 503, then faults: an injected fault never masks a signing bug. */
  #judge(call: IncomingCall, atMs: number, requestId: string): Answer {
    const routed = this.#route(call, requestId);
    if (typeof routed !== 'function') return routed;
    const refusal = this.#auth.authenticate(call, atMs, requestId);
    if (refusal) return refusal;
    if (call.action === 'WithdrawScriptReview' && this.#failing.has(call.params.ScriptId)) {
      return errorAnswer(503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server (emulated for this script).', requestId);
    }
    return playFault(this.#faults.next(call.action), () => routed(call.params, requestId), requestId, call.received.headers);
  }

  /**
   * Gateway routing comes before authentication: it decides which product's rules apply. A
   * disabled action gets exactly the answer for an action the gateway does not know.
   */
  #route({ received: { method }, version, action }: IncomingCall, requestId: string): JsonAnswer | ActionHandler {
    if (method !== 'POST' && method !== 'GET') return errorAnswer(405, 'UnsupportedHTTPMethod', `${method} is not supported; use POST or GET.`, requestId);
    if (version !== API_VERSION) return errorAnswer(400, 'InvalidVersion', `Specified parameter Version is not valid: ${version ?? '(missing)'}; expected ${API_VERSION}.`, requestId);
    const handler = Object.hasOwn(this.#actions, action) && !this.#disabledActions.has(action) ? this.#actions[action] : undefined;
    return handler ?? errorAnswer(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method: ${action || '(missing)'}.`, requestId);
  }

  #send(req: IncomingMessage, res: ServerResponse, answer: Answer, requestId: string): void {
    if (answer.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (answer.kind === 'hang') return;
    const delayMs = this.#latencyMs + (answer.kind === 'json' ? (answer.delayMs ?? 0) : 0);
    const write = (): void => (answer.kind === 'json' && answer.pace ? this.#pace(res, answer, requestId) : writeAnswer(res, answer, requestId));
    if (delayMs <= 0) {
      write();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      write();
    }, delayMs);
    this.#timers.add(timer);
  }

  /** Headers at once, then the body byte by byte (drip) or half of it and nothing more (stall). */
  #pace(res: ServerResponse, answer: JsonAnswer, requestId: string): void {
    const payload = Buffer.from(JSON.stringify(answer.body));
    res.writeHead(answer.status, { 'content-type': 'application/json;charset=utf-8', 'content-length': payload.length, 'x-acs-request-id': requestId });
    if (answer.pace?.kind === 'stall') {
      res.write(payload.subarray(0, payload.length >> 1));
      return;
    }
    const intervalMs = answer.pace?.kind === 'drip' ? answer.pace.intervalMs : 0;
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed) sent = payload.length;
      else res.write(payload.subarray(sent, ++sent));
      if (sent < payload.length) return;
      clearInterval(timer);
      this.#timers.delete(timer);
      if (!res.destroyed) res.end();
    }, intervalMs);
    this.#timers.add(timer);
  }
}
