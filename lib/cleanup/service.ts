import type { Clock } from '../core/clock';
import { errorBody, ServiceError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { FcContext } from '../fc/context';
import { timelineOf } from '../fc/timeline';
import { assertInstancesAllowed } from '../outboundbot/instance-allow-list';
import { parseCleanupConfig, type CleanupConfig } from '../runtime/config';
import { createInstanceState, type InstanceStateOptions } from '../runtime/instance-state';
import { planBudget } from './budget';
import { listScripts, logListing } from './list';
import { MODES, runModeOf, type Run } from './modes';
import { MAX_WITHDRAWALS_PER_RUN, parseCleanupRequest } from './request';
import { createStaleSelector } from './select';
import { completedResult, listingFailedResult, listingReport, logSummary, runHead, withCallback, type CleanupResult, type SendCallback } from './summary';

/** What lives as long as the FC instance: config, logger, client cache, callback sender, cold start. */
type CleanupInstance = ReturnType<typeof createInstanceState<CleanupConfig>>;

/** The invocation as FC hands it over, before the payload is read. */
interface Invocation {
  context: FcContext;
  cfg: CleanupConfig;
  startMs: number;
  coldStart: boolean;
}

/**
 * Reads the payload and plans the run's time.
 * @throws InvalidParameterError naming each bad field of the payload; InstanceNotAllowedError for
 * an instance outside ALLOWED_INSTANCE_IDS.
 */
function startRun(instance: CleanupInstance, event: unknown, { context, cfg, startMs, coldStart }: Invocation, clock: Clock): Run {
  const { trigger, request } = parseCleanupRequest(event);
  assertInstancesAllowed([request], cfg.ALLOWED_INSTANCE_IDS);
  const log = instance.logger().child({ requestId: context.requestId }).child({ trigger, InstanceId: request.InstanceId });
  // Script locks are let go item by item, inside the work: only the callback is kept in reserve.
  const timeline = timelineOf(startMs, context, { callbackTimeoutMs: cfg.CALLBACK_URL ? cfg.CALLBACK_TIMEOUT_MS : undefined });
  const budget = planBudget(timeline, cfg.OUTBOUNDBOT_READ_TIMEOUT_MS);
  return { requestId: context.requestId, request, cfg, startMs, timeline, budget, coldStart, log, clock, policy: instance.retryPolicy(cfg) };
}

/**
 * Lists the instance's reviews (lib/cleanup/list.ts), selects the stale ones and hands them to the run's mode.
 * @throws ServiceError when the credentials or the mode's settings are missing: before any listing.
 */
async function cleanUp(instance: CleanupInstance, run: Run, context: FcContext): Promise<CleanupResult> {
  const { cfg, request, clock } = run;
  const credentials = instance.credentials(context.credentials, cfg);
  const work = MODES[runModeOf(request, cfg)]({ run, context, credentials, store: () => instance.invocationStore(cfg, run.timeline) });
  const client = instance.client(credentials, cfg);
  const readTimeoutMs = cfg.OUTBOUNDBOT_READ_TIMEOUT_MS;
  const selector = createStaleSelector({
    nowMs: run.startMs,
    olderThanMinutes: request.OlderThanMinutes,
    // A run takes on at most MAX_WITHDRAWALS_PER_RUN: its records, chunks and answer stay bounded; the rest wait for the next run.
    maxWithdrawals: request.MaxWithdrawals ?? MAX_WITHDRAWALS_PER_RUN,
  });
  const listing = await listScripts(request.InstanceId, { client, clock, policy: run.policy, readTimeoutMs, workEndMs: run.budget.listEndMs }, selector);
  logListing(run.log, listing);
  const head = runHead(run.requestId, request, cfg.CLEANUP_MODE);
  const report = listingReport(listing);
  if (!listing.ok) return listingFailedResult(head, report, listing.failure, clock.nowMs() - run.startMs);
  const { eligible, selected } = selector.selection();
  const items = selected.map((script) => ({ InstanceId: request.InstanceId, ScriptId: script.ScriptId }));
  const outcome = await work({ selected, items, client });
  const counts = { listed: listing.listed, eligible, selected: selected.length };
  // An incomplete listing still goes to the mode: every script it selected is a real stale review.
  return completedResult(head, report, counts, outcome, clock.nowMs() - run.startMs);
}

/**
 * The cleanup function: lists an instance's reviews, picks those left too long,
 * and hands them to its mode (lib/cleanup/modes.ts): a dry run, inline withdrawals
 * through the withdraw path's `withdrawItem`, or chunks queued for the withdraw function.
 * The factory holds only what lives as long as the instance (config parsed once, logger,
 * client cache, cold start); credentials and budget are per invocation.
 *
 * It never throws for a bad payload, a bad config or an upstream failure: a timer has
 * nobody to answer, and FC retrying the same event would fail the same way, so the
 * outcome is returned, logged and called back. Only a bug (an unexpected error) throws.
 */
export function createCleanupService(options: InstanceStateOptions) {
  const { clock } = options;
  const instance = createInstanceState(options, parseCleanupConfig);

  return {
    async handle(event: unknown, context: FcContext): Promise<unknown> {
      const startMs = clock.nowMs();
      const { answerByMs } = timelineOf(startMs, context);
      const coldStart = instance.takeColdStart();
      const send: SendCallback = (cfg, url, payload) => instance.callBack(cfg, url, payload, answerByMs);
      let cfg: CleanupConfig | undefined;
      let run: Run | undefined;
      try {
        // The logger is made after the config is read, so LOG_LEVEL applies from the first line.
        cfg = instance.loadConfig();
        run = startRun(instance, event, { context, cfg, startMs, coldStart }, clock);
        const result = await withCallback(cfg, await cleanUp(instance, run, context), send);
        logSummary(run.log, result);
        return result;
      } catch (error) {
        // Once the payload is read, even a refusal's line names the trigger and the instance.
        const log: Logger = run?.log ?? instance.logger().child({ requestId: context.requestId });
        if (!(error instanceof ServiceError)) {
          log.error('invocation crashed', { error });
          throw error;
        }
        const refusal = await withCallback(cfg, errorBody(error, context.requestId), send);
        log.error('cleanup refused', { ...refusal, durationMs: clock.nowMs() - startMs, coldStart });
        return refusal;
      }
    },
  };
}
