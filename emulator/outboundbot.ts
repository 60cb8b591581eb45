/**
 * A loopback stand-in for the Alibaba Cloud OpenAPI gateway in front of OutboundBot
 * (API version 2019-12-26): it checks ACS3-HMAC-SHA256 signatures, dates, nonces and STS
 * tokens the way the real gateway does, keeps script state, and can be told to misbehave.
 * Tests, the benchmark and the local dev server all talk to it over real HTTP, so the code
 * under test runs the same client, sockets and retries as in production.
 *
 * @module
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAcsDate, parseAuthorization, verifyRequest, type Acs3Authorization, type ReceivedRequest } from './acs3';

export const API_VERSION = '2019-12-26';

/** An AccessKey pair the emulator accepts; with `securityToken` it behaves as an STS credential. */
export interface EmulatorCredential {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** Only for STS credentials: requests after this instant are refused `InvalidSecurityToken.Expired`. */
  expiresAtMs?: number;
}

/** A script as `ListScripts` and `WithdrawScriptReview` report it. `UpdateTime` is epoch ms. */
export interface EmulatorScript {
  ScriptId: string;
  ScriptName: string;
  Status: string;
  UpdateTime: number;
  Industry?: string;
  Scene?: string;
  ScriptDescription?: string;
  IsDrafted?: boolean;
  DebugStatus?: string;
  IsDebugDrafted?: boolean;
}

/** A misbehaviour to play instead of (or, for `delay`, on top of) a normal answer. */
export type Fault =
  /** An error answer, e.g. 500 InternalError, 503 ServiceUnavailable, 429 Throttling.User. */
  | { kind: 'status'; status: number; code: string; message?: string; retryAfterSeconds?: number }
  /** The socket is destroyed before any answer: the client sees a connection reset. */
  | { kind: 'reset' }
  /** No answer until the client gives up or the emulator closes. The action is not performed. */
  | { kind: 'hang' }
  /**
   * The action IS performed at once; only the answer is late. This is the ambiguous case a
   * client timeout creates in production: a retry finds the script already withdrawn.
   */
  | { kind: 'delay'; ms: number }
  /** 200 with an HTML page, as a misrouted proxy or captive portal would answer. */
  | { kind: 'non-json' }
  /** 200 whose body says `Success: false` (code `OperationFailed`): a 2xx is not proof of success. */
  | { kind: 'success-false' };

/**
 * Per-request odds of a fault, for load tests: each authenticated request that no queued
 * fault ({@link OutboundBotEmulator.injectFault}) claims draws once and plays at most one of
 * these. Rates are probabilities in [0, 1]; their sum must not exceed 1. Unset means 0.
 */
export interface RandomFaultRates {
  /** 500 `InternalError`; the action is not performed. */
  status500Rate?: number;
  /** 429 `Throttling.User` (no `retry-after`); the action is not performed. */
  throttleRate?: number;
  /** The connection is reset before any answer; the action is not performed. */
  resetRate?: number;
}

/** One received request, refused or not. */
export interface EmulatorRequestRecord {
  /** The `x-acs-action` header, '' when absent. */
  action: string;
  /** Parameters from the query string and any form body (query wins). */
  query: Record<string, string>;
  /** From the Authorization header, whether or not the key is known. */
  accessKeyId?: string;
  /** HTTP status answered; 0 when the connection was reset or never answered. */
  status: number;
  /** The `Code` of the JSON answer; '' when the answer had none (HTML, reset, hang). */
  code: string;
  /** `now()` when the request arrived. */
  atMs: number;
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port, read it back from {@link OutboundBotEmulator.port}. */
  port?: number;
  credentials?: EmulatorCredential[];
  /** Epoch-ms clock for date checks, token expiry and `UpdateTime`; default `Date.now`. */
  now?: () => number;
  /** Added to every answer; see {@link OutboundBotEmulator.setLatency}. */
  latencyMs?: number;
  /** How far `x-acs-date` may be from `now()`, and how long nonces are remembered. Default 15 min. */
  maxClockSkewMs?: number;
}

export interface OutboundBotEmulator {
  /** `host:port`, the form `OUTBOUNDBOT_ENDPOINT` and the SDK's `Config.endpoint` take. */
  readonly endpoint: string;
  readonly port: number;
  /** Replaces any credential with the same AccessKeyId. */
  addCredential(credential: EmulatorCredential): void;
  /** Replaces the instance; the scripts are copied, their order is the `ListScripts` order. */
  addInstance(instanceId: string, scripts: EmulatorScript[]): void;
  /** A copy of the script's current state, so assertions cannot alter the emulator. */
  script(instanceId: string, scriptId: string): EmulatorScript | undefined;
  /** Every request received, including refused ones, oldest first. */
  readonly requests: ReadonlyArray<Readonly<EmulatorRequestRecord>>;
  /** TCP connections accepted so far: proves (or disproves) keep-alive reuse by a client. */
  readonly connections: number;
  /** How many withdrawals actually changed this script: the double-withdrawal detector. */
  withdrawals(instanceId: string, scriptId: string): number;
  /**
   * Plays `fault` for the next `times` (default 1) authenticated requests, optionally only for
   * one action. Faults are queued: the oldest matching one is used first. Faults come after
   * authentication so that a client's signing bugs are never masked by an injected error.
   */
  injectFault(fault: Fault, opts?: { times?: number; action?: string }): void;
  /**
   * From now on, every authenticated request of any action that no queued fault claims plays
   * a fault at random with the given odds (see {@link RandomFaultRates}); like queued faults,
   * they come after authentication. `random` (uniform in [0, 1), default `Math.random`) makes a
   * run reproducible. All rates 0, or {@link reset}, turns them off.
   */
  setRandomFaults(rates: RandomFaultRates, random?: () => number): void;
  /** Delay added to every answer, including refusals (the batch benchmark uses 20 ms). */
  setLatency(ms: number): void;
  /** Forgets pending and random faults and the request log; scripts, credentials, counts and nonces stay. */
  reset(): void;
  /** Stops listening and destroys every connection, including hung and idle keep-alive ones. */
  close(): Promise<void>;
}

/** The demo data {@link seedDemo} installs; fixed ids so printed curl lines keep working. */
export interface DemoSeed {
  instanceId: string;
  scripts: EmulatorScript[];
  credential: EmulatorCredential;
}

const HOST_ID = 'outboundbot.cn-shanghai.aliyuncs.com';
const DEFAULT_MAX_CLOCK_SKEW_MS = 15 * 60_000;
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;
/** Longer than any client's idle-socket reuse window, so keep-alive reuse never races a server close. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Review state → the state a withdrawal returns the script to. */
const WITHDRAWN_STATUS: Readonly<Record<string, string>> = {
  EXAMINE_IN_PROGRESS: 'DRAFTED',
  PUBLISHED_AND_EXAMINE_IN_PROGRESS: 'PUBLISHED',
};

type Body = Record<string, unknown>;
type Params = Record<string, string>;
type ActionHandler = (params: Params, requestId: string) => Answer;

/** What to do with a request once it has been judged. */
type Answer =
  | { kind: 'json'; status: number; body: Body; retryAfterSeconds?: number; delayMs?: number }
  | { kind: 'html' }
  | { kind: 'reset' }
  | { kind: 'hang' };

/** The random faults in draw order, each with its share of [0, 1). */
const RANDOM_FAULTS: ReadonlyArray<{ rate: keyof RandomFaultRates; fault: Fault }> = [
  { rate: 'resetRate', fault: { kind: 'reset' } },
  { rate: 'status500Rate', fault: { kind: 'status', status: 500, code: 'InternalError' } },
  { rate: 'throttleRate', fault: { kind: 'status', status: 429, code: 'Throttling.User' } },
];

interface RandomFaults {
  rates: Required<RandomFaultRates>;
  random: () => number;
}

interface QueuedFault {
  fault: Fault;
  action: string | undefined;
  remaining: number;
}

/** Starts the emulator; resolves once it is listening. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<OutboundBotEmulator> {
  const emulator = new Emulator(options);
  await emulator.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return emulator;
}

/**
 * Installs a demo credential and an instance whose scripts cover the review states and a
 * few that cannot be withdrawn. `nowMs` anchors the `UpdateTime`s (hours to days ago) so the
 * cleanup function's age filter has something to choose from.
 */
export function seedDemo(emulator: OutboundBotEmulator, nowMs: number = Date.now()): DemoSeed {
  const hourMs = 3_600_000;
  const credential: EmulatorCredential = {
    accessKeyId: 'LTAI5tEmulatorDemoKey01',
    accessKeySecret: 'emulator-demo-secret-not-a-real-key',
  };
  const instanceId = '38d2e8ed-04e9-4dac-83b5-a8e57642ef13';
  const demo = (ScriptId: string, ScriptName: string, Status: string, ageHours: number, Industry: string, Scene: string): EmulatorScript => ({
    ScriptId,
    ScriptName,
    Status,
    UpdateTime: nowMs - ageHours * hourMs,
    Industry,
    Scene,
    ScriptDescription: `${ScriptName}（演示）`,
    IsDrafted: Status === 'DRAFTED' || Status === 'EXAMINE_IN_PROGRESS',
    DebugStatus: 'PUBLISHED',
    IsDebugDrafted: false,
  });
  const scripts = [
    demo('e4e2a770-b97b-465a-80d8-06dca008c503', '信用卡分期营销', 'EXAMINE_IN_PROGRESS', 2, '金融', '电销'),
    demo('9b1c3f52-6d4e-4a8f-b2c7-1e5d9a0f3c21', '贷后还款提醒', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', 30, '金融', '催收'),
    demo('5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03', '快递签收回访', 'EXAMINE_IN_PROGRESS', 72, '物流', '回访'),
    demo('c3d8e1a4-7f2b-4b9c-a5e6-2d4f8b1c7e95', '会员续费提醒', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', 1, '零售', '通知'),
    demo('1a6f9c3e-8b2d-4f7a-9e1c-5d3b7a2f8c46', '满意度调查', 'DRAFTED', 48, '政务', '调研'),
    demo('7e2b5d9a-1c4f-4a3e-b8d6-9f1a3c5e7b20', '保险续保通知', 'PUBLISHED', 120, '保险', '通知'),
  ];
  emulator.addCredential(credential);
  emulator.addInstance(instanceId, scripts);
  return { instanceId, scripts, credential };
}

class Emulator implements OutboundBotEmulator {
  readonly #now: () => number;
  readonly #maxClockSkewMs: number;
  readonly #server = createServer((req, res) => {
    this.#handle(req, res).catch(() => res.destroy());
  });
  readonly #credentials = new Map<string, EmulatorCredential>();
  readonly #instances = new Map<string, Map<string, EmulatorScript>>();
  readonly #withdrawals = new Map<string, number>();
  /** nonce → forget-after (epoch ms); insertion order is expiry order, so pruning stops early. */
  readonly #nonces = new Map<string, number>();
  readonly #faults: QueuedFault[] = [];
  #randomFaults: RandomFaults | undefined;
  readonly #requests: EmulatorRequestRecord[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #actions: Readonly<Record<string, ActionHandler>> = {
    WithdrawScriptReview: (params, requestId) => this.#withdrawScriptReview(params, requestId),
    ListScripts: (params, requestId) => this.#listScripts(params, requestId),
  };
  #latencyMs: number;
  #endpoint = '';
  #port = 0;
  #closed: Promise<void> | undefined;
  #connections = 0;

  constructor(options: EmulatorOptions) {
    this.#now = options.now ?? Date.now;
    this.#maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
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
    this.#credentials.set(credential.accessKeyId, { ...credential });
  }

  addInstance(instanceId: string, scripts: EmulatorScript[]): void {
    this.#instances.set(instanceId, new Map(scripts.map((s) => [s.ScriptId, { ...s }])));
  }

  script(instanceId: string, scriptId: string): EmulatorScript | undefined {
    const found = this.#instances.get(instanceId)?.get(scriptId);
    return found && { ...found };
  }

  withdrawals(instanceId: string, scriptId: string): number {
    return this.#withdrawals.get(withdrawalKey(instanceId, scriptId)) ?? 0;
  }

  injectFault(fault: Fault, opts: { times?: number; action?: string } = {}): void {
    const times = opts.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer, got ${times}`);
    this.#faults.push({ fault: { ...fault }, action: opts.action, remaining: times });
  }

  setRandomFaults(rates: RandomFaultRates, random: () => number = Math.random): void {
    const checked = { status500Rate: rates.status500Rate ?? 0, throttleRate: rates.throttleRate ?? 0, resetRate: rates.resetRate ?? 0 };
    let sum = 0;
    for (const [name, rate] of Object.entries(checked)) {
      if (!(rate >= 0 && rate <= 1)) throw new RangeError(`${name} must be within [0, 1], got ${rate}`);
      sum += rate;
    }
    if (sum > 1 + 1e-9) throw new RangeError(`the fault rates add up to ${sum}, more than 1`);
    this.#randomFaults = sum > 0 ? { rates: checked, random } : undefined;
  }

  setLatency(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
    this.#latencyMs = ms;
  }

  reset(): void {
    this.#faults.length = 0;
    this.#randomFaults = undefined;
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
    const atMs = this.#now();
    const body = await readBody(req);
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const pathname = queryStart < 0 ? url : url.slice(0, queryStart);
    const query = queryStart < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(queryStart + 1)));
    const params: Params = isForm(req) && body.length > 0 ? { ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))), ...query } : query;
    const action = headerString(req, 'x-acs-action') ?? '';
    const authorization = headerString(req, 'authorization');
    const auth = authorization === undefined ? undefined : parseAuthorization(authorization);
    const requestId = randomUUID().toUpperCase();

    const routed = this.#route(req.method ?? '', action, headerString(req, 'x-acs-version'), requestId);
    const answer =
      typeof routed !== 'function'
        ? routed
        : (this.#authenticate(req, authorization !== undefined, auth, { method: req.method ?? '', pathname, query, headers: req.headers, body }, atMs, requestId) ??
          this.#play(routed, action, params, requestId));

    this.#requests.push({
      action,
      query: params,
      accessKeyId: auth?.accessKeyId,
      status: answer.kind === 'json' ? answer.status : answer.kind === 'html' ? 200 : 0,
      code: answer.kind === 'json' && typeof answer.body['Code'] === 'string' ? answer.body['Code'] : '',
      atMs,
    });
    this.#send(req, res, answer, requestId);
  }

  /** Gateway routing comes before authentication: it decides which product's rules apply. */
  #route(method: string, action: string, version: string | undefined, requestId: string): Answer | ActionHandler {
    if (method !== 'POST' && method !== 'GET') return errorAnswer(405, 'UnsupportedHTTPMethod', `${method} is not supported; use POST or GET.`, requestId);
    if (version !== API_VERSION) return errorAnswer(400, 'InvalidVersion', `Specified parameter Version is not valid: ${version ?? '(missing)'}; expected ${API_VERSION}.`, requestId);
    const handler = Object.hasOwn(this.#actions, action) ? this.#actions[action] : undefined;
    return handler ?? errorAnswer(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method: ${action || '(missing)'}.`, requestId);
  }

  /** The real gateway's order of checks; the nonce is only remembered once the signature holds. */
  #authenticate(
    req: IncomingMessage,
    hasAuthorization: boolean,
    auth: Acs3Authorization | undefined,
    received: ReceivedRequest,
    nowMs: number,
    requestId: string,
  ): Answer | undefined {
    if (!hasAuthorization) return errorAnswer(400, 'MissingAuthorization', 'Authorization is mandatory for this action.', requestId);
    if (auth === undefined) return errorAnswer(400, 'IncompleteSignature', 'The Authorization header is not a well-formed ACS3-HMAC-SHA256 authorization.', requestId);
    const credential = this.#credentials.get(auth.accessKeyId);
    if (credential === undefined) return errorAnswer(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.', requestId);

    const date = headerString(req, 'x-acs-date');
    const dateMs = parseAcsDate(date);
    if (dateMs === undefined || Math.abs(nowMs - dateMs) > this.#maxClockSkewMs) {
      return errorAnswer(400, 'InvalidTimeStamp.Expired', `Specified time stamp or date value is expired or malformed: ${date ?? '(missing)'}.`, requestId);
    }

    const tokenRefusal = this.#checkSecurityToken(credential, headerString(req, 'x-acs-security-token'), nowMs, requestId);
    if (tokenRefusal) return tokenRefusal;

    const nonce = headerString(req, 'x-acs-signature-nonce');
    this.#forgetExpiredNonces(nowMs);
    if (nonce !== undefined && this.#nonces.has(nonce)) return errorAnswer(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.', requestId);

    const verdict = verifyRequest(received, auth, credential.accessKeySecret);
    if (!verdict.ok) return errorAnswer(400, verdict.code, verdict.message, requestId);
    if (nonce !== undefined) this.#nonces.set(nonce, nowMs + 2 * this.#maxClockSkewMs);
    return undefined;
  }

  /** A permanent key presenting a token is refused too: it means the client mixed up credentials. */
  #checkSecurityToken(credential: EmulatorCredential, token: string | undefined, nowMs: number, requestId: string): Answer | undefined {
    if (credential.securityToken === undefined) {
      return token === undefined ? undefined : errorAnswer(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'The security token does not belong to this access key.', requestId);
    }
    if (token === undefined) return errorAnswer(400, 'MissingSecurityToken', 'SecurityToken is mandatory for STS access keys.', requestId);
    if (!constantTimeEqual(token, credential.securityToken)) {
      return errorAnswer(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'The security token does not belong to this access key.', requestId);
    }
    if (credential.expiresAtMs !== undefined && nowMs > credential.expiresAtMs) {
      return errorAnswer(400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.', requestId);
    }
    return undefined;
  }

  /** Entries past their window cannot match a request anyway (its date would be refused first). */
  #forgetExpiredNonces(nowMs: number): void {
    for (const [nonce, forgetAfterMs] of this.#nonces) {
      if (forgetAfterMs > nowMs) return;
      this.#nonces.delete(nonce);
    }
  }

  #play(run: ActionHandler, action: string, params: Params, requestId: string): Answer {
    const fault = this.#takeFault(action) ?? this.#drawRandomFault();
    switch (fault?.kind) {
      case undefined:
        return run(params, requestId);
      case 'status':
        return {
          ...errorAnswer(fault.status, fault.code, fault.message ?? `Emulated ${fault.code}.`, requestId),
          retryAfterSeconds: fault.retryAfterSeconds,
        };
      case 'reset':
        return { kind: 'reset' };
      case 'hang':
        return { kind: 'hang' };
      case 'delay': {
        const answer = run(params, requestId);
        return answer.kind === 'json' ? { ...answer, delayMs: fault.ms } : answer;
      }
      case 'non-json':
        return { kind: 'html' };
      case 'success-false':
        return {
          kind: 'json',
          status: 200,
          body: { HttpStatusCode: 200, Code: 'OperationFailed', Message: 'The operation failed (emulated).', RequestId: requestId, Success: false },
        };
    }
  }

  #takeFault(action: string): Fault | undefined {
    const index = this.#faults.findIndex((queued) => queued.action === undefined || queued.action === action);
    const queued = this.#faults[index];
    if (queued === undefined) return undefined;
    queued.remaining -= 1;
    if (queued.remaining === 0) this.#faults.splice(index, 1);
    return queued.fault;
  }

  #drawRandomFault(): Fault | undefined {
    if (this.#randomFaults === undefined) return undefined;
    const { rates, random } = this.#randomFaults;
    const draw = random();
    let upTo = 0;
    for (const { rate, fault } of RANDOM_FAULTS) {
      upTo += rates[rate];
      if (draw < upTo) return fault;
    }
    return undefined;
  }

  /**
   * Scripts not under review are refused with `OperationDenied.ScriptNotUnderReview`: the API
   * page lists no code for this case, so that code is the emulator's choice.
   */
  #withdrawScriptReview(params: Params, requestId: string): Answer {
    const found = this.#findScript(params, requestId);
    if (found.kind !== 'script') return found;
    const { script, instanceId } = found;
    const next = WITHDRAWN_STATUS[script.Status];
    if (next === undefined) {
      return errorAnswer(
        400,
        'OperationDenied.ScriptNotUnderReview',
        `The script is not under review (Status ${script.Status}); only ${Object.keys(WITHDRAWN_STATUS).join(' and ')} can be withdrawn.`,
        requestId,
      );
    }
    script.Status = next;
    script.UpdateTime = this.#now();
    const key = withdrawalKey(instanceId, script.ScriptId);
    this.#withdrawals.set(key, (this.#withdrawals.get(key) ?? 0) + 1);
    return okAnswer({ HttpStatusCode: 200, Code: 'OK', Message: 'Success', RequestId: requestId, Success: true, Script: { ...script } });
  }

  #findScript(params: Params, requestId: string): Answer | { kind: 'script'; script: EmulatorScript; instanceId: string } {
    const instanceId = params['InstanceId'];
    if (!instanceId) return errorAnswer(400, 'MissingInstanceId', 'InstanceId is mandatory for this action.', requestId);
    const scriptId = params['ScriptId'];
    if (!scriptId) return errorAnswer(400, 'MissingScriptId', 'ScriptId is mandatory for this action.', requestId);
    const scripts = this.#instances.get(instanceId);
    if (scripts === undefined) return errorAnswer(404, 'NotExist.Instance', 'The specified Instance does not exist.', requestId);
    const script = scripts.get(scriptId);
    if (script === undefined) return errorAnswer(404, 'NotExist.Script', 'The specified Script does not exist.', requestId);
    return { kind: 'script', script, instanceId };
  }

  /** PageSize above the maximum is clamped, as the gateway does, rather than refused. */
  #listScripts(params: Params, requestId: string): Answer {
    const instanceId = params['InstanceId'];
    if (!instanceId) return errorAnswer(400, 'MissingInstanceId', 'InstanceId is mandatory for this action.', requestId);
    const pageNumber = positiveInteger(params['PageNumber'], 1);
    const pageSize = positiveInteger(params['PageSize'], DEFAULT_PAGE_SIZE);
    if (pageNumber === undefined) return errorAnswer(400, 'InvalidParameter', `PageNumber must be a positive integer: ${params['PageNumber']}.`, requestId);
    if (pageSize === undefined) return errorAnswer(400, 'InvalidParameter', `PageSize must be a positive integer: ${params['PageSize']}.`, requestId);
    const scripts = this.#instances.get(instanceId);
    if (scripts === undefined) return errorAnswer(404, 'NotExist.Instance', 'The specified Instance does not exist.', requestId);
    const effectivePageSize = Math.min(pageSize, MAX_PAGE_SIZE);
    const all = [...scripts.values()];
    const start = (pageNumber - 1) * effectivePageSize;
    return okAnswer({
      HttpStatusCode: 200,
      Code: 'OK',
      Message: 'Success',
      RequestId: requestId,
      Success: true,
      Scripts: {
        TotalCount: all.length,
        PageNumber: pageNumber,
        PageSize: effectivePageSize,
        List: all.slice(start, start + effectivePageSize).map((s) => ({ ...s })),
      },
    });
  }

  #send(req: IncomingMessage, res: ServerResponse, answer: Answer, requestId: string): void {
    if (answer.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (answer.kind === 'hang') return;
    const delayMs = this.#latencyMs + (answer.kind === 'json' ? (answer.delayMs ?? 0) : 0);
    const write = (): void => writeAnswer(res, answer, requestId);
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
}

function writeAnswer(res: ServerResponse, answer: Extract<Answer, { kind: 'json' | 'html' }>, requestId: string): void {
  const isJson = answer.kind === 'json';
  const payload = isJson ? JSON.stringify(answer.body) : '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';
  const headers: Record<string, string | number> = {
    'content-type': isJson ? 'application/json;charset=utf-8' : 'text/html',
    'content-length': Buffer.byteLength(payload),
    'x-acs-request-id': requestId,
  };
  if (isJson && answer.retryAfterSeconds !== undefined) headers['retry-after'] = answer.retryAfterSeconds;
  res.writeHead(isJson ? answer.status : 200, headers);
  res.end(payload);
}

function okAnswer(body: Body): Answer {
  return { kind: 'json', status: 200, body };
}

function errorAnswer(status: number, code: string, message: string, requestId: string): Extract<Answer, { kind: 'json' }> {
  return { kind: 'json', status, body: { RequestId: requestId, HostId: HOST_ID, Code: code, Message: message, HttpStatusCode: status, Success: false } };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isForm(req: IncomingMessage): boolean {
  return req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
}

function headerString(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function positiveInteger(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined || value === '') return fallback;
  return /^[1-9]\d{0,8}$/.test(value) ? Number(value) : undefined;
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function withdrawalKey(instanceId: string, scriptId: string): string {
  return `${instanceId}\n${scriptId}`;
}
