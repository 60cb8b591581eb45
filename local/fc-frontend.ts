import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FcContext } from '../lib/fc/context';
import { failureRecord, functionArn, type DestinationRecord } from './fc-destination';
import { verifyFcRequest, type FcKey } from './fc-signature';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './local-keys';

export type FcHandler = (event: Buffer, context: FcContext) => Promise<unknown>;

export interface LocalFunction {
  handler: FcHandler;
  /** FC's `timeout`: past it the invocation fails as FC's would (the handler itself runs on: one process, nothing to kill). */
  timeoutSeconds: number;
  /** FC's asyncInvokeConfig.maxAsyncRetryAttempts, when the function says (s.yaml); else the front end's `asyncRetries`. */
  asyncRetries?: number;
  /**
   * FC's asyncInvokeConfig.destinationConfig.onFailure: receives the destination message of an
   * async invocation whose retries are spent, and says where it went (for the log line).
   */
  onFailure?: (record: DestinationRecord) => Promise<string>;
}

export interface FrontendOptions {
  host: string;
  port: number;
  /** Function name → handler. Names are matched as given in the invoke path. */
  functions: ReadonlyMap<string, LocalFunction>;
  /** The function that serves plain HTTP requests (the HTTP trigger). */
  httpFunction: string;
  /** Keys the invoke path accepts, by AccessKeyId. */
  keys: ReadonlyMap<string, FcKey>;
  /** What FC would put in context.credentials: the role's STS triple. */
  roleCredentials: () => FcContext['credentials'];
  /** Async invocations of a function that does not say: attempts after the first, as FC's maxAsyncRetryAttempts. */
  asyncRetries: number;
  asyncRetryDelayMs: number;
  log: (line: string) => void;
  nowMs?: () => number;
}

/** What the front end did for one function (both its names count together). */
export interface InvocationCounts {
  /** Synchronous invocations and HTTP-trigger requests run. */
  sync: number;
  /** Async invocations accepted (202); each runs once, plus retries when its handler throws. */
  async: number;
  /** Async invocations refused with 409 because their `x-fc-async-task-id` had been accepted before. */
  duplicateTasks: number;
}

export interface Frontend {
  url: string;
  port: number;
  /** Counts for the function the name resolves to; all zero for a name never invoked. */
  counts(name: string): InvocationCounts;
  /** Resolves when every accepted async invocation has finished (tests, clean shutdown). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2023-03-30\/functions\/([^/]+)\/invocations$/;
const MAX_EVENT_BYTES = 32 * 1024 * 1024; // FC's limit for a synchronous invocation payload
const TEXT_TYPES = /^(application\/(json|x-www-form-urlencoded|xml)|text\/)/i;
/**
 * FC's rule for `x-fc-async-task-id` (InvokeFunction, API 2023-03-30): a letter or an underscore
 * first, then letters, digits, underscores and hyphens, at most 128 characters. Written here
 * apart from the cleanup's own copy, so a task id the cleanup gets wrong is refused locally too.
 */
const ASYNC_TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/**
 * FC answers a reused task id with 409; the Code is our choice: FC 3.0's is not documented
 * where we looked, and this is the one FC 2.0 (API 2021-04-06) returns for the same refusal.
 */
const TASK_EXISTS_CODE = 'StatefulAsyncInvocationAlreadyExists';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_EVENT_BYTES) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** What the front end did for one function, and the async task ids it accepted for it. */
interface Ledger {
  counts: InvocationCounts;
  taskIds: Set<string>;
}

/** One front end's options and what it keeps between requests. */
interface FrontendState {
  options: FrontendOptions;
  nowMs: () => number;
  /** Async invocations not finished yet. */
  pending: Set<Promise<void>>;
  // Per function, not per name: FC keeps task ids per function, and each function has two names here.
  ledgers: Map<LocalFunction, Ledger>;
}

const noCounts = (): InvocationCounts => ({ sync: 0, async: 0, duplicateTasks: 0 });

function ledgerOf(state: FrontendState, fn: LocalFunction): Ledger {
  let ledger = state.ledgers.get(fn);
  if (!ledger) state.ledgers.set(fn, (ledger = { counts: noCounts(), taskIds: new Set() }));
  return ledger;
}

function contextFor(state: FrontendState, name: string, fn: LocalFunction, requestId: string): FcContext {
  return {
    requestId,
    credentials: state.options.roleCredentials(),
    function: { name, timeout: fn.timeoutSeconds, memory: 128 },
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
  };
}

/** An FC error answer, with the request id in the body and the header as FC gives it. */
function sendFcError(res: ServerResponse, status: number, requestId: string, Code: string, Message: string) {
  sendJson(res, status, { Code, Message, RequestId: requestId }, { 'x-fc-request-id': requestId });
}

/** The FC 3.0 HTTP-trigger event of a plain request. */
function httpTriggerEvent(req: IncomingMessage, body: Buffer, requestId: string, nowMs: () => number) {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? '');
  return {
    version: 'v1',
    rawPath: url.pathname,
    headers,
    queryParameters: Object.fromEntries(url.searchParams),
    body: isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !isText,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      domainName: headers.host ?? 'localhost',
      requestId,
      time: new Date(nowMs()).toISOString(),
      timeEpoch: String(nowMs()),
      http: { method: req.method ?? 'GET', path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '', userAgent: headers['user-agent'] ?? '' },
    },
  };
}

interface HttpTriggerResponse {
  statusCode?: number;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

async function httpTrigger(state: FrontendState, req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string) {
  const { httpFunction } = state.options;
  const fn = state.options.functions.get(httpFunction)!;
  const event = httpTriggerEvent(req, body, requestId, state.nowMs);
  ledgerOf(state, fn).counts.sync++;
  try {
    const response = (await runHandler(state, httpFunction, fn, Buffer.from(JSON.stringify(event)), requestId)) as HttpTriggerResponse;
    res.writeHead(response.statusCode ?? 200, { 'x-fc-request-id': requestId, ...response.headers });
    res.end(response.isBase64Encoded ? Buffer.from(response.body ?? '', 'base64') : (response.body ?? ''));
  } catch (error) {
    const code = error instanceof FunctionTimeoutError ? 'FunctionTimeout' : 'FunctionUnhandledError';
    sendFcError(res, 502, requestId, code, (error as Error).message);
  }
}

async function invoke(state: FrontendState, req: IncomingMessage, res: ServerResponse, body: Buffer, name: string, requestId: string) {
  const headers = req.headers as Record<string, string | undefined>;
  const failure = verifyFcRequest({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://local').pathname, headers, body }, state.options.keys, state.nowMs());
  if (failure) return sendFcError(res, failure === 'MissingAuthorization' ? 401 : 403, requestId, failure, 'The request signature does not conform to Function Compute requirements');
  const fn = state.options.functions.get(name);
  if (!fn) return sendFcError(res, 404, requestId, 'FunctionNotFound', `function '${name}' does not exist`);
  if ((headers['x-fc-invocation-type'] ?? '').toLowerCase() === 'async') return acceptAsync(state, res, { name, fn, body, requestId, acceptedAtMs: state.nowMs() }, headers['x-fc-async-task-id']);
  ledgerOf(state, fn).counts.sync++;
  try {
    const result = await runHandler(state, name, fn, body, requestId);
    sendJson(res, 200, result ?? null, { 'x-fc-request-id': requestId });
  } catch (error) {
    // FC answers 200 and flags the failure in a header for an error the handler threw.
    sendJson(res, 200, { errorMessage: (error as Error).message, errorType: (error as Error).name }, {
      'x-fc-request-id': requestId,
      'x-fc-error-type': 'UnhandledInvocationError',
    });
  }
}

interface AsyncCall {
  name: string;
  fn: LocalFunction;
  body: Buffer;
  requestId: string;
  acceptedAtMs: number;
}

/**
 * Queues an async invocation (202), as FC does with asyncTask enabled: a task id it already
 * accepted for this function is refused with 409 and not queued again; a malformed one is 400.
 */
function acceptAsync(state: FrontendState, res: ServerResponse, call: AsyncCall, taskId: string | undefined) {
  const { name, fn, requestId } = call;
  const ledger = ledgerOf(state, fn);
  if (taskId !== undefined && !ASYNC_TASK_ID.test(taskId)) {
    const message = 'x-fc-async-task-id must start with a letter or _, hold only letters, digits, _ and -, and be at most 128 characters';
    return sendFcError(res, 400, requestId, 'InvalidArgument', message);
  }
  if (taskId !== undefined && ledger.taskIds.has(taskId)) {
    ledger.counts.duplicateTasks++;
    return sendFcError(res, 409, requestId, TASK_EXISTS_CODE, `async task '${taskId}' of function '${name}' already exists`);
  }
  if (taskId !== undefined) ledger.taskIds.add(taskId);
  ledger.counts.async++;
  const job = runAsync(state, call);
  state.pending.add(job);
  void job.finally(() => state.pending.delete(job));
  res.writeHead(202, { 'x-fc-request-id': requestId, ...(taskId !== undefined ? { 'x-fc-async-task-id': taskId } : {}) });
  res.end();
}

/** FC's async queue: the same requestId on every retry, retried when the handler throws or times out, then parked. */
async function runAsync(state: FrontendState, call: AsyncCall): Promise<void> {
  const { name, fn, body, requestId } = call;
  const { asyncRetryDelayMs, log } = state.options;
  const asyncRetries = fn.asyncRetries ?? state.options.asyncRetries;
  for (let attempt = 0; attempt <= asyncRetries; attempt++) {
    try {
      await runHandler(state, name, fn, body, requestId);
      return;
    } catch (error) {
      log(JSON.stringify({ level: 'warn', message: 'async invocation failed', function: name, requestId, attempt: attempt + 1, error: (error as Error).message }));
      if (attempt < asyncRetries) await new Promise((r) => setTimeout(r, asyncRetryDelayMs * 2 ** attempt));
      else await park(state, call, asyncRetries + 1, error as Error);
    }
  }
}

/** The on-failure destination gets FC's destination message; without one, the event is only logged, as FC would drop it. */
async function park(state: FrontendState, { name, fn, body, requestId, acceptedAtMs }: AsyncCall, attempts: number, error: Error): Promise<void> {
  const line = { level: 'error', message: 'async invocation sent to the on-failure destination', function: name, requestId };
  if (!fn.onFailure) return state.options.log(JSON.stringify({ ...line, message: 'async invocation dropped: no on-failure destination' }));
  const record = failureRecord({ functionArn: functionArn(LOCAL_REGION, LOCAL_ACCOUNT_ID, name), requestId, acceptedAtMs, payload: body, attempts, error });
  try {
    state.options.log(JSON.stringify({ ...line, destination: await fn.onFailure(record) }));
  } catch (failure) {
    state.options.log(JSON.stringify({ ...line, message: 'async invocation lost: its on-failure destination refused it', error: (failure as Error).message }));
  }
}

/** Thrown for an invocation that outlived its function's timeout, as FC ends it. */
class FunctionTimeoutError extends Error {
  constructor(timeoutSeconds: number) {
    super(`Function timed out after ${timeoutSeconds} seconds`);
    this.name = 'FunctionTimeoutError';
  }
}

/** The handler, failing at the function's timeout as FC would; what it does after that is lost, as in FC. */
function runHandler(state: FrontendState, name: string, fn: LocalFunction, event: Buffer, requestId: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FunctionTimeoutError(fn.timeoutSeconds)), fn.timeoutSeconds * 1000);
  });
  return Promise.race([fn.handler(event, contextFor(state, name, fn, requestId)), timedOut]).finally(() => clearTimeout(timer));
}

/** The invoke path runs a function by name; every other request goes to the HTTP trigger. */
function route(state: FrontendState, req: IncomingMessage, res: ServerResponse): void {
  const requestId = randomUUID();
  readBody(req)
    .then((body) => {
      const match = INVOKE_PATH.exec((req.url ?? '/').split('?')[0]!);
      if (match && req.method === 'POST') return invoke(state, req, res, body, decodeURIComponent(match[1]!), requestId);
      return httpTrigger(state, req, res, body, requestId);
    })
    .catch((error: Error) => {
      if (!res.headersSent) sendJson(res, 500, { Code: 'InternalError', Message: error.message, RequestId: requestId });
    });
}

/**
 * A local Function Compute front end, no Docker: plain HTTP requests become FC 3.0
 * HTTP-trigger events; the data-plane invoke path runs a function by name, sync or
 * async, after checking the FC request signature as the real service does.
 */
export async function startFrontend(options: FrontendOptions): Promise<Frontend> {
  const state: FrontendState = { options, nowMs: options.nowMs ?? Date.now, pending: new Set(), ledgers: new Map() };
  const server: Server = createServer((req, res) => route(state, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${hostInUrl(options.host)}:${port}`,
    port,
    counts: (name) => {
      const fn = options.functions.get(name);
      return { ...(fn ? ledgerOf(state, fn).counts : noCounts()) };
    },
    drain: async () => {
      while (state.pending.size > 0) await Promise.allSettled([...state.pending]);
    },
    close: async () => {
      await Promise.allSettled([...state.pending]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A host as a URL writes it: an IPv6 literal in brackets (`HOST=::1` printed `http://::1:9000`, which nothing can parse). */
export function hostInUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
