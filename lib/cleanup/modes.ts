import type { Clock } from '../core/clock';
import type { Credentials } from '../core/credentials';
import type { Logger } from '../core/logger';
import type { RetryPolicy } from '../core/retry-policy';
import type { FcContext } from '../fc/context';
import type { Timeline } from '../fc/timeline';
import type { IdempotencyStore } from '../idempotency/store';
import type { OutboundBotClient } from '../outboundbot/client';
import type { CleanupConfig } from '../runtime/config';
import { logWithdrawal, withdrawItem, type WithdrawalItem } from '../withdraw/withdraw-item';
import { mapUntil, type CleanupBudget } from './budget';
import { leftReview } from './left-review';
import { planChunks } from './chunk-plan';
import { createAsyncInvoker, dispatchChunk, logChunk, resolveFanoutTarget, type ChunkResult, type FanoutTarget } from './fanout';
import type { CleanupRequest } from './request';
import type { StaleReview } from './select';
import { listed, type Outcome } from './summary';

/** One invocation of the cleanup, as its modes see it. */
export interface Run {
  requestId: string;
  request: CleanupRequest;
  cfg: CleanupConfig;
  startMs: number;
  /** The invocation's instants (lib/fc/timeline.ts); `budget` splits its work. */
  timeline: Timeline;
  budget: CleanupBudget;
  coldStart: boolean;
  log: Logger;
  clock: Clock;
  policy: RetryPolicy;
}

/** What a mode may check before the listing, so that its misconfiguration costs no listing. */
interface ModeSetup {
  run: Run;
  context: FcContext;
  credentials: Credentials;
  /** The instance's idempotency store (shared when IDEMPOTENCY_REDIS_URL is set), opened on first use: the inline mode's script locks, the fan-out's chunk of each item. */
  store: () => Promise<IdempotencyStore>;
}

/** What the listing and the selection hand a mode. */
interface ModeWork {
  selected: StaleReview[];
  /** `selected` as withdrawal items, in the same order. */
  items: WithdrawalItem[];
  client: OutboundBotClient;
}

/** Checks its settings (throwing a ServiceError when they are wrong), then does the work on the selection. */
export type Mode = (setup: ModeSetup) => (work: ModeWork) => Promise<Outcome>;

/** What a run does with its selection: `CLEANUP_MODE`, unless the request asks for a dry run. */
export type RunMode = 'dryRun' | CleanupConfig['CLEANUP_MODE'];

export const runModeOf = (request: Pick<CleanupRequest, 'DryRun'>, cfg: Pick<CleanupConfig, 'CLEANUP_MODE'>): RunMode =>
  request.DryRun ? 'dryRun' : cfg.CLEANUP_MODE;

/** And logs at most this many of them one by one; one line says how many more there are. */
export const MAX_CANDIDATE_LINES = 100;

/** Logs the candidates, boundedly, and touches nothing. */
function dryRun(run: Run, selected: StaleReview[]): Outcome {
  const { InstanceId } = run.request;
  for (const script of selected.slice(0, MAX_CANDIDATE_LINES)) {
    run.log.info('would withdraw (dry run)', { InstanceId, ScriptId: script.ScriptId, Status: script.Status, UpdateTime: script.UpdateTime });
  }
  if (selected.length > MAX_CANDIDATE_LINES) {
    run.log.info('would withdraw more (dry run)', { InstanceId, notLogged: selected.length - MAX_CANDIDATE_LINES, note: 'each is in the answer\'s Candidates, up to MAX_LISTED_ITEMS' });
  }
  const { list, notListed } = listed(selected);
  const detail = { Candidates: list, ...(notListed > 0 ? { CandidatesNotListed: notListed } : {}) };
  return { summary: { Withdrawn: 0, Failed: 0, Dispatched: 0, Remaining: [] }, detail };
}

/**
 * Withdraws here, CLEANUP_CONCURRENCY at a time, with the withdraw function's single withdrawal,
 * each under the script's lock in the shared store as the withdraw function takes it: a webhook
 * and the cleanup never have two WithdrawScriptReview calls in flight for one script, and the one
 * that waited reports the other's outcome. Without a shared store no lock is taken: this
 * instance's memory is seen by no withdraw function, and one run never names a script twice.
 */
async function withdrawInline(run: Run, { items, selected, client }: ModeWork, store: IdempotencyStore): Promise<Outcome> {
  const { clock, cfg, budget } = run;
  const shared = cfg.IDEMPOTENCY_REDIS_URL !== undefined;
  const exclusive = shared ? { store, holdUntilMs: budget.answerByMs, waitUntilMs: budget.workEndMs, markTtlMs: cfg.IDEMPOTENCY_TTL_SECONDS * 1000 } : undefined;
  const deps = { client, clock, policy: run.policy, readTimeoutMs: cfg.OUTBOUNDBOT_READ_TIMEOUT_MS, workEndMs: budget.workEndMs, exclusive };
  const statusOf = new Map(selected.map((script) => [script.ScriptId, script.Status]));
  const { done, notStarted } = await mapUntil(items, cfg.CLEANUP_CONCURRENCY, budget.intakeEndMs, clock, async (item) => {
    const startedMs = clock.nowMs();
    // The listing's state is the one reconciliation accepts a withdrawal's state from.
    const result = await withdrawItem(item, { ...deps, statusBefore: statusOf.get(item.ScriptId) });
    const left = await leftReview(item, result, deps);
    logWithdrawal(run.log, result, { durationMs: clock.nowMs() - startedMs, coldStart: run.coldStart, ...(left ? { leftReviewAs: left.Status } : {}) });
    return { result, left };
  });
  const left = done.flatMap((d) => (d.left ? [d.left] : []));
  const withdrawn = done.filter((d) => d.result.Success).length;
  return {
    summary: { Withdrawn: withdrawn, Failed: done.length - withdrawn - left.length, Dispatched: 0, Remaining: notStarted, ...(left.length > 0 ? { LeftReview: left } : {}) },
    detail: { Results: done.map((d) => d.result) },
  };
}

/**
 * Queues the items in chunks of FANOUT_CHUNK_SIZE as async invocations of the withdraw function.
 * With a shared store, each item's chunk is recorded first (lib/cleanup/chunk-plan.ts), so FC's
 * retry of the run queues no item twice though it lists less; this instance's memory would be
 * seen by no retry on another instance, so without one the task ids alone protect the chunks.
 */
async function fanOut(run: Run, items: WithdrawalItem[], target: FanoutTarget, store: IdempotencyStore | undefined): Promise<Outcome> {
  const { clock, cfg, budget } = run;
  const record = store && { store, ttlMs: cfg.IDEMPOTENCY_TTL_SECONDS * 1000, nowMs: clock.nowMs() };
  const chunks = await planChunks(items, run.requestId, cfg.FANOUT_CHUNK_SIZE, record);
  const deps = { invoker: createAsyncInvoker(target), functionName: target.functionName, clock, policy: run.policy, workEndMs: budget.workEndMs };
  const { done, notStarted } = await mapUntil(chunks, cfg.CLEANUP_CONCURRENCY, budget.intakeEndMs, clock, async (planned) => {
    const startedMs = clock.nowMs();
    const result = await dispatchChunk(planned, deps);
    logChunk(run.log, result, planned.items, { functionName: target.functionName, durationMs: clock.nowMs() - startedMs, coldStart: run.coldStart });
    return result;
  });
  const sizeOf = (chunks: readonly ChunkResult[]) => chunks.reduce((sum, c) => sum + c.Size, 0);
  const queued = done.filter((c) => c.Success);
  const unconfirmed = sizeOf(done.filter((c) => c.Unconfirmed !== undefined));
  return {
    summary: {
      Withdrawn: 0,
      Failed: sizeOf(done.filter((c) => c.NotDispatched !== undefined)),
      Dispatched: sizeOf(queued),
      AlreadyDispatched: sizeOf(queued.filter((c) => c.Code === 'AlreadyDispatched')),
      ...(unconfirmed > 0 ? { Unconfirmed: unconfirmed } : {}),
      Remaining: notStarted.flatMap((c) => c.items),
    },
    detail: { Chunks: done },
  };
}

/**
 * The cleanup's modes, chosen by {@link runModeOf}. A dry run checks the settings of the
 * configured mode too (a fan-out without an account id is refused all the same), then only logs.
 */
export const MODES: { readonly [M in RunMode]: Mode } = {
  dryRun: (setup) => {
    MODES[setup.run.cfg.CLEANUP_MODE](setup);
    return async ({ selected }) => dryRun(setup.run, selected);
  },
  inline: ({ run, store }) => async (work) => withdrawInline(run, work, await store()),
  fanout: ({ run, context, credentials, store }) => {
    const target = resolveFanoutTarget(run.cfg, context, credentials);
    const shared = run.cfg.IDEMPOTENCY_REDIS_URL !== undefined;
    return async ({ items }) => fanOut(run, items, target, shared ? await store() : undefined);
  },
};
