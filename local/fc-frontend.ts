import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FcContext } from '../lib/fc/context';
import { verifyFcRequest, type FcKey } from './fc-signature';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './local-keys';

export type FcHandler = (event: Buffer, context: FcContext) => Promise<unknown>;

export interface LocalFunction {
  handler: FcHandler;
  timeoutSeconds: number;
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
  /** Async invocations: attempts after the first, as FC's asyncInvokeConfig.maxAsyncRetryAttempts. */
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

/**
 * A local Function Compute front end, no Docker: plain HTTP requests become FC 3.0
 * HTTP-trigger events; the data-plane invoke path runs a function by name, sync or
 * async, after checking the FC request signature as the real service does.
 */
export async function startFrontend(options: FrontendOptions): Promise<Frontend> {
  const nowMs = options.nowMs ?? Date.now;
  const pending = new Set<Promise<void>>();
  // Per function, not per name: FC keeps task ids per function, and each function has two names here.
  const ledgers = new Map<LocalFunction, { counts: InvocationCounts; taskIds: Set<string> }>();
  const ledgerOf = (fn: LocalFunction) => {
    let ledger = ledgers.get(fn);
    if (!ledger) ledgers.set(fn, (ledger = { counts: { sync: 0, async: 0, duplicateTasks: 0 }, taskIds: new Set() }));
    return ledger;
  };

  const contextFor = (name: string, fn: LocalFunction, requestId: string): FcContext => ({
    requestId,
    credentials: options.roleCredentials(),
    function: { name, timeout: fn.timeoutSeconds, memory: 128 },
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
  });

  async function httpTrigger(req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string) {
    const fn = options.functions.get(options.httpFunction)!;
    const url = new URL(req.url ?? '/', 'http://local');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? '');
    const event = {
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
    ledgerOf(fn).counts.sync++;
    try {
      const response = (await fn.handler(Buffer.from(JSON.stringify(event)), contextFor(options.httpFunction, fn, requestId))) as {
        statusCode?: number;
        headers?: Record<string, string>;
        body?: string;
        isBase64Encoded?: boolean;
      };
      res.writeHead(response.statusCode ?? 200, { 'x-fc-request-id': requestId, ...response.headers });
      res.end(response.isBase64Encoded ? Buffer.from(response.body ?? '', 'base64') : (response.body ?? ''));
    } catch (error) {
      sendJson(res, 502, { Code: 'FunctionUnhandledError', Message: (error as Error).message, RequestId: requestId }, { 'x-fc-request-id': requestId });
    }
  }

  async function invoke(req: IncomingMessage, res: ServerResponse, body: Buffer, name: string, requestId: string) {
    const headers = req.headers as Record<string, string | undefined>;
    const failure = verifyFcRequest({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://local').pathname, headers, body }, options.keys, nowMs());
    if (failure) {
      sendJson(res, failure === 'InvalidAccessKeyId' ? 403 : failure === 'MissingAuthorization' ? 401 : 403, {
        Code: failure,
        Message: 'The request signature does not conform to Function Compute requirements',
        RequestId: requestId,
      }, { 'x-fc-request-id': requestId });
      return;
    }
    const fn = options.functions.get(name);
    if (!fn) {
      sendJson(res, 404, { Code: 'FunctionNotFound', Message: `function '${name}' does not exist`, RequestId: requestId }, { 'x-fc-request-id': requestId });
      return;
    }
    if ((headers['x-fc-invocation-type'] ?? '').toLowerCase() === 'async') {
      acceptAsync(res, { name, fn, body, requestId }, headers['x-fc-async-task-id']);
      return;
    }
    ledgerOf(fn).counts.sync++;
    try {
      const result = await fn.handler(body, contextFor(name, fn, requestId));
      sendJson(res, 200, result ?? null, { 'x-fc-request-id': requestId });
    } catch (error) {
      // FC answers 200 and flags the failure in a header for an error the handler threw.
      sendJson(res, 200, { errorMessage: (error as Error).message, errorType: (error as Error).name }, {
        'x-fc-request-id': requestId,
        'x-fc-error-type': 'UnhandledInvocationError',
      });
    }
  }

  /**
   * Queues an async invocation (202), as FC does with asyncTask enabled: a task id it already
   * accepted for this function is refused with 409 and not queued again; a malformed one is 400.
   */
  function acceptAsync(res: ServerResponse, call: { name: string; fn: LocalFunction; body: Buffer; requestId: string }, taskId: string | undefined) {
    const { name, fn, body, requestId } = call;
    const ledger = ledgerOf(fn);
    const idHeaders = { 'x-fc-request-id': requestId };
    if (taskId !== undefined && !ASYNC_TASK_ID.test(taskId)) {
      const message = 'x-fc-async-task-id must start with a letter or _, hold only letters, digits, _ and -, and be at most 128 characters';
      sendJson(res, 400, { Code: 'InvalidArgument', Message: message, RequestId: requestId }, idHeaders);
      return;
    }
    if (taskId !== undefined && ledger.taskIds.has(taskId)) {
      ledger.counts.duplicateTasks++;
      sendJson(res, 409, { Code: TASK_EXISTS_CODE, Message: `async task '${taskId}' of function '${name}' already exists`, RequestId: requestId }, idHeaders);
      return;
    }
    if (taskId !== undefined) ledger.taskIds.add(taskId);
    ledger.counts.async++;
    const job = runAsync(name, fn, body, requestId);
    pending.add(job);
    void job.finally(() => pending.delete(job));
    res.writeHead(202, { ...idHeaders, ...(taskId !== undefined ? { 'x-fc-async-task-id': taskId } : {}) });
    res.end();
  }

  /** FC's async queue: the same requestId on every retry, retried only when the handler throws. */
  async function runAsync(name: string, fn: LocalFunction, body: Buffer, requestId: string): Promise<void> {
    for (let attempt = 0; attempt <= options.asyncRetries; attempt++) {
      try {
        await fn.handler(body, contextFor(name, fn, requestId));
        return;
      } catch (error) {
        options.log(JSON.stringify({ level: 'warn', message: 'async invocation failed', function: name, requestId, attempt: attempt + 1, error: (error as Error).message }));
        if (attempt < options.asyncRetries) await new Promise((r) => setTimeout(r, options.asyncRetryDelayMs * 2 ** attempt));
      }
    }
    options.log(JSON.stringify({ level: 'error', message: 'async invocation sent to the on-failure destination', function: name, requestId }));
  }

  const server: Server = createServer((req, res) => {
    const requestId = randomUUID();
    readBody(req)
      .then((body) => {
        const match = INVOKE_PATH.exec((req.url ?? '/').split('?')[0]!);
        if (match && req.method === 'POST') return invoke(req, res, body, decodeURIComponent(match[1]!), requestId);
        return httpTrigger(req, res, body, requestId);
      })
      .catch((error: Error) => {
        if (!res.headersSent) sendJson(res, 500, { Code: 'InternalError', Message: error.message, RequestId: requestId });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    port,
    counts: (name) => {
      const fn = options.functions.get(name);
      return { ...(fn ? ledgerOf(fn).counts : { sync: 0, async: 0, duplicateTasks: 0 }) };
    },
    drain: async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    close: async () => {
      await Promise.allSettled([...pending]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
