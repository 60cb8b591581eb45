import type { CallbackReport } from '../webhooks/callback';
import { mapUntil, planBudget, type CleanupBudget } from './budget';
import { listScripts, type ListingFailure } from './list';
import { parseCleanupRequest, type CleanupRequest } from './request';
import { selectStaleReviews, type StaleReview } from './select';
import type { Clock } from '../core/clock';
import { parseCleanupConfig, type CleanupConfig as Config } from '../runtime/config';
import type { Credentials } from '../core/credentials';
import { InvalidConfigurationError, ServiceError } from '../core/errors';
import { chunk, createAsyncInvoker, dispatchChunk, type ChunkResult, type FanoutTarget } from './fanout';
import { invocationDeadlineMs, type FcContext } from '../fc/context';

import type { WithdrawalItem } from '../withdraw/withdraw-item';
import { createInstanceState, type InstanceStateOptions } from '../runtime/instance-state';
import type { Logger } from '../core/logger';
import type { OutboundBotClient } from '../outboundbot/client';
import { logWithdrawal, withdrawItem, type WithdrawResult } from '../withdraw/withdraw-item';
import { errorBody } from '../core/errors';

export type CleanupMode = Config['CLEANUP_MODE'];

/** What a run did, in counts: the summary log line and the callback carry it. */
export interface CleanupSummary {
  Success: boolean;
  /** The invocation's request id. */
  RequestId: string;
  InstanceId: string;
  Mode: CleanupMode;
  DryRun: boolean;
  OlderThanMinutes: number;
  MaxWithdrawals?: number;
  /** Scripts ListScripts returned. */
  Listed: number;
  /** Stale reviews, before the MaxWithdrawals cap. */
  Eligible: number;
  /** Stale reviews this run took on (oldest first, capped). */
  Selected: number;
  /** Listed but not selected: other states, younger reviews, or beyond the cap. */
  Skipped: number;
  /** Inline mode: withdrawals that succeeded. */
  Withdrawn: number;
  /** Inline: withdrawals that failed; fan-out: items whose chunk was not queued. */
  Failed: number;
  /** Fan-out mode: items queued for the withdraw function. */
  Dispatched: number;
  /** True when the deadline stopped the run before every selected item was started. */
  Truncated: boolean;
  /** Selected items never started; the next run lists them again. */
  Remaining: WithdrawalItem[];
  durationMs: number;
  /** Why the run failed as a whole (the listing); absent otherwise. */
  Code?: string;
  Message?: string;
  ListingFailure?: ListingFailure;
}

export interface CleanupResult extends CleanupSummary {
  /** Inline mode: a result per started withdrawal. */
  Results?: WithdrawResult[];
  /** Fan-out mode: a result per started chunk. */
  Chunks?: ChunkResult[];
  /** Dry run: what would have been withdrawn. */
  Candidates?: StaleReview[];
  Callback?: CallbackReport;
}

export type CleanupServiceOptions = InstanceStateOptions;

interface Run {
  requestId: string;
  request: CleanupRequest;
  cfg: Config;
  startMs: number;
  budget: CleanupBudget;
  coldStart: boolean;
  log: Logger;
}

/** Work that ends as per-item outcomes: what the summary counts. */
interface Outcome {
  summary: Pick<CleanupSummary, 'Withdrawn' | 'Failed' | 'Dispatched' | 'Remaining'>;
  detail: Pick<CleanupResult, 'Results' | 'Chunks' | 'Candidates'>;
}

const idsOf = (script: StaleReview, instanceId: string): WithdrawalItem => ({ InstanceId: instanceId, ScriptId: script.ScriptId });

/**
 * The cleanup function: lists an instance's scripts, picks the reviews left too long,
 * and withdraws them (inline, through the withdraw path's `withdrawItem`) or queues
 * them in chunks for the withdraw function (fan-out). Config is parsed once per
 * instance; credentials, client and budget are per invocation (a nightly run gains
 * nothing from a cached client, and keep-alive sockets live in the SDK's own agent).
 *
 * It never throws for a bad payload, a bad config or an upstream failure: a timer has
 * nobody to answer, and FC retrying the same event would fail the same way, so the
 * outcome is returned, logged and called back. Only a bug (an unexpected error) throws.
 */
export function createCleanupService(options: CleanupServiceOptions) {
  const { clock } = options;
  const instanceState = createInstanceState(options, parseCleanupConfig);

  /** FC puts account and region in the context; local tools may only have FC_ACCOUNT_ID / FC_REGION. */
  function fanoutTarget(cfg: Config, context: FcContext, credentials: Credentials): FanoutTarget {
    const accountId = context.accountId || cfg.FC_ACCOUNT_ID;
    const region = context.region || cfg.FC_REGION;
    const missing = [...(accountId ? [] : ['FC_ACCOUNT_ID']), ...(region ? [] : ['FC_REGION'])];
    if (missing.length > 0) {
      throw new InvalidConfigurationError(missing.map((name) => ({ Path: name, Message: 'is required for CLEANUP_MODE=fanout when the context does not carry it' })));
    }
    return { accountId: accountId!, region: region!, endpoint: cfg.FC_ENDPOINT, functionName: cfg.WITHDRAW_FUNCTION_NAME, credentials };
  }

  async function withdrawInline(run: Run, items: WithdrawalItem[], client: OutboundBotClient): Promise<Outcome> {
    const deps = { client, clock, policy: instanceState.retryPolicy(run.cfg), readTimeoutMs: run.cfg.OUTBOUNDBOT_READ_TIMEOUT_MS, deadlineMs: run.budget.workEndMs };
    const { done, notStarted } = await mapUntil(items, run.cfg.CLEANUP_CONCURRENCY, run.budget.intakeEndMs, clock, async (item) => {
      const startedMs = clock.nowMs();
      const result = await withdrawItem(item, deps);
      logWithdrawal(run.log, result, { durationMs: clock.nowMs() - startedMs, coldStart: run.coldStart });
      return result;
    });
    const withdrawn = done.filter((r) => r.Success).length;
    return {
      summary: { Withdrawn: withdrawn, Failed: done.length - withdrawn, Dispatched: 0, Remaining: notStarted },
      detail: { Results: done },
    };
  }

  async function fanOut(run: Run, items: WithdrawalItem[], target: FanoutTarget): Promise<Outcome> {
    const deps = { invoker: createAsyncInvoker(target), functionName: target.functionName, clock, policy: instanceState.retryPolicy(run.cfg), deadlineMs: run.budget.workEndMs };
    const chunks = chunk(items, run.cfg.FANOUT_CHUNK_SIZE).map((slice, index) => ({ slice, index }));
    const { done, notStarted } = await mapUntil(chunks, run.cfg.CLEANUP_CONCURRENCY, run.budget.intakeEndMs, clock, async ({ slice, index }) => {
      const startedMs = clock.nowMs();
      const result = await dispatchChunk(slice, index, deps);
      run.log[result.Success ? 'info' : 'error'](result.Success ? 'chunk dispatched' : 'chunk dispatch failed', {
        function: target.functionName,
        Index: result.Index,
        Size: result.Size,
        Success: result.Success,
        Code: result.Code,
        HttpStatusCode: result.HttpStatusCode,
        fcRequestId: result.RequestId,
        Attempts: result.Attempts,
        ScriptIds: slice.map((item) => item.ScriptId),
        durationMs: clock.nowMs() - startedMs,
        coldStart: run.coldStart,
      });
      return result;
    });
    const dispatched = done.filter((c) => c.Success).reduce((sum, c) => sum + c.Size, 0);
    return {
      summary: { Withdrawn: 0, Failed: done.filter((c) => !c.Success).reduce((sum, c) => sum + c.Size, 0), Dispatched: dispatched, Remaining: notStarted.flatMap((c) => c.slice) },
      detail: { Chunks: done },
    };
  }

  function dryRun(run: Run, selected: StaleReview[]): Outcome {
    for (const script of selected) {
      run.log.info('would withdraw (dry run)', { InstanceId: run.request.InstanceId, ScriptId: script.ScriptId, Status: script.Status, UpdateTime: script.UpdateTime });
    }
    return { summary: { Withdrawn: 0, Failed: 0, Dispatched: 0, Remaining: [] }, detail: { Candidates: selected } };
  }

  async function cleanUp(run: Run, context: FcContext): Promise<CleanupResult> {
    const { cfg, request } = run;
    const credentials = instanceState.credentials(context.credentials, cfg);
    // Resolved before any work, so a fan-out misconfiguration costs no listing.
    const target = cfg.CLEANUP_MODE === 'fanout' ? fanoutTarget(cfg, context, credentials) : undefined;
    const client = instanceState.client(credentials, cfg);
    const listing = await listScripts(request.InstanceId, {
      client,
      clock,
      policy: instanceState.retryPolicy(cfg),
      readTimeoutMs: cfg.OUTBOUNDBOT_READ_TIMEOUT_MS,
      deadlineMs: run.budget.workEndMs,
    });
    const base = {
      RequestId: run.requestId,
      InstanceId: request.InstanceId,
      Mode: cfg.CLEANUP_MODE,
      DryRun: request.DryRun,
      OlderThanMinutes: request.OlderThanMinutes,
      ...(request.MaxWithdrawals !== undefined ? { MaxWithdrawals: request.MaxWithdrawals } : {}),
    };
    if (!listing.ok) {
      const { failure } = listing;
      return {
        ...base,
        Success: false,
        Listed: 0,
        Eligible: 0,
        Selected: 0,
        Skipped: 0,
        Withdrawn: 0,
        Failed: 0,
        Dispatched: 0,
        Truncated: false,
        Remaining: [],
        durationMs: clock.nowMs() - run.startMs,
        Code: failure.Code,
        Message: `ListScripts failed on page ${failure.PageNumber}: ${failure.Message}`,
        ListingFailure: failure,
      };
    }
    const { eligible, selected } = selectStaleReviews(listing.scripts, {
      nowMs: run.startMs,
      olderThanMinutes: request.OlderThanMinutes,
      maxWithdrawals: request.MaxWithdrawals,
    });
    const items = selected.map((script) => idsOf(script, request.InstanceId));
    const outcome = request.DryRun ? dryRun(run, selected) : target ? await fanOut(run, items, target) : await withdrawInline(run, items, client);
    const truncated = outcome.summary.Remaining.length > 0;
    return {
      ...base,
      Success: outcome.summary.Failed === 0 && !truncated,
      Listed: listing.scripts.length,
      Eligible: eligible.length,
      Selected: selected.length,
      Skipped: listing.scripts.length - selected.length,
      ...outcome.summary,
      Truncated: truncated,
      durationMs: clock.nowMs() - run.startMs,
      ...outcome.detail,
    };
  }

  async function callBack<T extends object>(cfg: Config | undefined, result: T, deadlineMs: number): Promise<T & { Callback?: CallbackReport }> {
    if (!cfg?.CALLBACK_URL) return result;
    return { ...result, Callback: await instanceState.callBack(cfg, cfg.CALLBACK_URL, result, deadlineMs) };
  }

  function logSummary(log: Logger, result: CleanupResult) {
    // Per-item detail already has a line each; the summary line carries counts.
    const { Results: _results, Chunks: _chunks, Candidates: _candidates, Remaining, Callback, ...summary } = result;
    const level = result.Code !== undefined || result.Failed > 0 ? 'error' : result.Truncated ? 'warn' : 'info';
    log[level](result.Success ? 'cleanup finished' : 'cleanup finished with problems', {
      ...summary,
      Remaining: Remaining.length,
      ...(Callback ? { callbackDelivered: Callback.Delivered, callbackCode: Callback.Code } : {}),
    });
  }

  return {
    async handle(event: unknown, context: FcContext): Promise<unknown> {
      const startMs = clock.nowMs();
      const deadlineMs = invocationDeadlineMs(startMs, context);
      const wasCold = instanceState.takeColdStart();
      // The logger is made after the config is read, so LOG_LEVEL applies from the first line.
      let log: Logger | undefined;
      let cfg: Config | undefined;
      try {
        cfg = instanceState.loadConfig();
        log = instanceState.logger().child({ requestId: context.requestId });
        const { trigger, request } = parseCleanupRequest(event);
        log = log.child({ trigger, InstanceId: request.InstanceId });
        const budget = planBudget(startMs, deadlineMs, {
          readTimeoutMs: cfg.OUTBOUNDBOT_READ_TIMEOUT_MS,
          callbackTimeoutMs: cfg.CALLBACK_URL ? cfg.CALLBACK_TIMEOUT_MS : undefined,
        });
        const run: Run = { requestId: context.requestId, request, cfg, startMs, budget, coldStart: wasCold, log };
        const result = await callBack(cfg, await cleanUp(run, context), deadlineMs);
        logSummary(log, result);
        return result;
      } catch (error) {
        log ??= instanceState.logger().child({ requestId: context.requestId });
        if (!(error instanceof ServiceError)) {
          log.error('invocation crashed', { error });
          throw error;
        }
        const refusal = await callBack(cfg, errorBody(error, context.requestId), deadlineMs);
        log.error('cleanup refused', { ...refusal, durationMs: clock.nowMs() - startMs, coldStart: wasCold });
        return refusal;
      }
    },
  };
}
