import type { Clock } from '../core/clock';
import type { Credentials } from '../core/credentials';
import { InvalidConfigurationError } from '../core/errors';
import type { Logger } from '../core/logger';
import { within } from '../core/within';
import { runWithRetry, type AttemptOutcome, type RetryPolicy } from '../core/retry-policy';
import { transportFailure } from '../core/transport-error';
import { createFc3Client, invokeFunction, type FcTarget } from '../fc/client';
import type { FcContext } from '../fc/context';
import type { CallFailure } from '../outboundbot/call';
import type { CleanupConfig } from '../runtime/config';
import type { WithdrawalItem } from '../withdraw/withdraw-item';
import { FcClientSettingsError } from './errors';
import { runFailure } from './run-failure';
import type { PlannedChunk } from './chunk-plan';

/** FC answers an async invocation once it is queued; this only bounds a network that hangs. */
const INVOKE_TIMEOUT_MS = 10_000;

/** Where the chunks go, and as whom. */
export interface FanoutTarget extends FcTarget {
  functionName: string;
}

/**
 * FC puts account and region in the context; local tools may only have FC_ACCOUNT_ID /
 * FC_REGION. FC_ENDPOINT and WITHDRAW_FUNCTION_NAME come checked from the config.
 * @throws InvalidConfigurationError naming each of FC_ACCOUNT_ID, FC_REGION that neither gives.
 */
export function resolveFanoutTarget(cfg: CleanupConfig, context: FcContext, credentials: Credentials): FanoutTarget {
  const accountId = context.accountId || cfg.FC_ACCOUNT_ID;
  const region = context.region || cfg.FC_REGION;
  if (!accountId || !region) {
    const missing = [...(accountId ? [] : ['FC_ACCOUNT_ID']), ...(region ? [] : ['FC_REGION'])];
    throw new InvalidConfigurationError(missing.map((name) => ({ Path: name, Message: 'is required for CLEANUP_MODE=fanout when the context does not carry it' })));
  }
  return { accountId, region, endpoint: cfg.FC_ENDPOINT, functionName: cfg.WITHDRAW_FUNCTION_NAME, credentials };
}

/** One chunk's fate. A chunk is one `{"Items": [...]}` async invocation of the withdraw function. */
export interface ChunkResult {
  /** Position in `Chunks`, from 0. */
  Index: number;
  Size: number;
  /** Queued by FC, by this attempt or an earlier one; the withdraw function reports each item in its own log and callback. */
  Success: boolean;
  /** `Accepted` (queued now), `AlreadyDispatched` (FC already held the task id: 409), else why it was not queued. */
  Code: string;
  Message: string;
  /** FC's status for a refused chunk (409 for `AlreadyDispatched`); undefined when no answer arrived. */
  HttpStatusCode?: number;
  /** FC's `x-fc-request-id` when this attempt queued the chunk: the withdraw function's log lines carry it as `requestId`. */
  RequestId?: string;
  /** The chunk's `x-fc-async-task-id` (lib/cleanup/task-id.ts): FC's task list finds the chunk by it, whichever attempt queued it. */
  TaskId: string;
  Attempts: number;
  /** The chunk's items when it was not queued, so the operator (or the next run) can take them up. */
  NotDispatched?: WithdrawalItem[];
  /**
   * Code `DispatchUnconfirmed`: the chunk's items when no attempt was answered yes or no, yet one
   * may have reached FC (its answer lost, or a 5xx). FC's task list tells, by `TaskId`; sent again
   * under it, FC would refuse the chunk if it holds it.
   */
  Unconfirmed?: WithdrawalItem[];
}

interface AsyncInvoker {
  /** Resolves with FC's request id once the invocation is queued under `taskId`; rejects with what fc2 throws. */
  invokeAsync(functionName: string, payload: unknown, options: { timeoutMs: number; taskId: string }): Promise<string | undefined>;
}

/**
 * An fc2 client per call, so each attempt carries its own timeout and concurrent chunks
 * share nothing mutable; the withdraw bundle never imports this module at all.
 * @throws FcClientSettingsError when fc2 refuses the settings (e.g. an STS key without its token).
 */
export function createAsyncInvoker(target: FcTarget): AsyncInvoker {
  const clientFor = (timeoutMs: number) => createFc3Client(target, timeoutMs);
  try {
    clientFor(INVOKE_TIMEOUT_MS);
  } catch (error) {
    throw new FcClientSettingsError(error);
  }
  return {
    async invokeAsync(functionName, payload, { timeoutMs, taskId }) {
      const response = await invokeFunction(clientFor(timeoutMs), functionName, payload, 'Async', { 'x-fc-async-task-id': taskId });
      const requestId = response.headers['x-fc-request-id'];
      return typeof requestId === 'string' ? requestId : undefined;
    },
  };
}

/** fc2 puts the status only in its message: `POST /functions/f/invocations failed with 403. requestid: …, message: ….` */
const FC2_HTTP_ERROR = /failed with (\d{3})\. requestid: ([^,]*), message: (.*)\.$/s;

/** Reduces what fc2, httpx and node:http throw to what the retry policy needs. */
export function toDispatchFailure(error: unknown): CallFailure {
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const http = FC2_HTTP_ERROR.exec(message);
  if (http) {
    const statusCode = Number(http[1]);
    const requestId = http[2] && http[2] !== 'undefined' ? http[2] : undefined;
    const detail = http[3] && http[3] !== 'undefined' ? `: ${http[3]}` : '';
    // FC 3.0 names its error `Code`, fc2 reads `ErrorCode`: the status is often all there is.
    const code = typeof e.code === 'string' && e.code !== '' ? e.code : `Http${statusCode}`;
    return { code, statusCode, message: `Function Compute answered ${statusCode}${detail}`, requestId };
  }
  return { ...transportFailure(error, 'Function Compute'), statusCode: undefined, requestId: undefined };
}

interface DispatchDeps {
  invoker: AsyncInvoker;
  functionName: string;
  clock: Clock;
  policy: RetryPolicy;
  /** Epoch ms after which no attempt may start or still be running. */
  workEndMs: number;
}

/** What an attempt that FC answered without refusing tells: queued now, or held already under the task id. */
interface Queued {
  requestId: string | undefined;
  already: boolean;
}

/** Failures of the connection itself: the request never left, so FC cannot have queued it. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** May FC have queued the chunk though the attempt failed? A lost answer or a 5xx may follow a queued task. */
const mayHaveQueued = (failure: CallFailure): boolean => (failure.statusCode === undefined ? !NOT_SENT.has(failure.code) : failure.statusCode >= 500);

/**
 * Queues one chunk under the withdrawal's retry policy (network errors, 5xx, 429), with the
 * chunk's task id on every attempt. FC refuses a task id it already holds with 409: the chunk
 * was queued by an earlier attempt whose answer was lost, or by an earlier run of this
 * invocation (FC's async retry keeps the requestId), so it counts as dispatched, not failed.
 */
export async function dispatchChunk({ index, taskId, items }: PlannedChunk, deps: DispatchDeps): Promise<ChunkResult> {
  let unconfirmed = false;
  const attempt = async (remainingMs: number): Promise<AttemptOutcome<Queued, CallFailure>> => {
    try {
      // fc2's own timeout is not held to: cut the attempt at what is left (the task id keeps a retry from queueing twice).
      const invocation = deps.invoker.invokeAsync(deps.functionName, { Items: items }, { timeoutMs: Math.min(INVOKE_TIMEOUT_MS, remainingMs), taskId });
      const requestId = await within(invocation, remainingMs, () => Object.assign(new Error(`no answer from Function Compute within ${remainingMs} ms`), { code: 'ETIMEDOUT' }));
      return { ok: true, value: { requestId, already: false } };
    } catch (error) {
      const failure = toDispatchFailure(error);
      unconfirmed ||= mayHaveQueued(failure);
      return failure.statusCode === 409 ? { ok: true, value: { requestId: undefined, already: true } } : { ok: false, failure };
    }
  };
  const run = await runWithRetry(attempt, deps.policy, deps.clock, deps.workEndMs);
  const base = { Index: index, Size: items.length, Attempts: run.attempts, TaskId: taskId };
  if (run.outcome?.ok && run.outcome.value.already) {
    return { ...base, Success: true, Code: 'AlreadyDispatched', Message: `${deps.functionName} already holds task ${taskId}: an earlier attempt or run queued this chunk`, HttpStatusCode: 409 };
  }
  if (run.outcome?.ok) {
    return { ...base, Success: true, Code: 'Accepted', Message: `Queued for ${deps.functionName}`, RequestId: run.outcome.value.requestId };
  }
  const { Code, Message, last } = runFailure(run, 'before the chunk was queued');
  const failed = { ...base, Success: false, HttpStatusCode: last?.statusCode, RequestId: last?.requestId };
  if (unconfirmed) {
    return { ...failed, Code: 'DispatchUnconfirmed', Message: `Function Compute may have queued the chunk (an attempt went unanswered); its task list tells by TaskId. Last: ${Code}: ${Message}`, Unconfirmed: items };
  }
  return { ...failed, Code, Message, NotDispatched: items };
}

/** A chunk's log line: info when queued (now or before), error when not; `fields` adds timing and context. */
export function logChunk(log: Logger, result: ChunkResult, items: readonly WithdrawalItem[], fields: { functionName: string; durationMs: number; coldStart: boolean }): void {
  const message = !result.Success ? 'chunk dispatch failed' : result.Code === 'AlreadyDispatched' ? 'chunk already dispatched' : 'chunk dispatched';
  log[result.Success ? 'info' : 'error'](message, {
    function: fields.functionName,
    Index: result.Index,
    Size: result.Size,
    Success: result.Success,
    Code: result.Code,
    HttpStatusCode: result.HttpStatusCode,
    fcRequestId: result.RequestId,
    TaskId: result.TaskId,
    Attempts: result.Attempts,
    ScriptIds: items.map((item) => item.ScriptId),
    durationMs: fields.durationMs,
    coldStart: fields.coldStart,
  });
}
