import type { Clock } from '../core/clock';
import type { Limiter } from '../core/concurrency';
import type { Logger } from '../core/logger';
import type { FcContext } from '../fc/context';
import { timelineOf, type Timeline } from '../fc/timeline';
import type { WithdrawConfig } from '../runtime/config';
import type { InstanceState } from '../runtime/instance-state';

/**
 * What lives as long as the FC instance (built once by createWithdrawService): the config,
 * logger, client and idempotency store (`state`), and the upstream limit.
 */
export interface WithdrawInstance {
  state: InstanceState<WithdrawConfig>;
  clock: Clock;
  /**
   * One limit for the instance, not per invocation: with FC instance concurrency, parallel
   * invocations share it, so OutboundBot never sees more than BATCH_CONCURRENCY calls from us.
   */
  upstreamLimiter(cfg: WithdrawConfig): Limiter;
  /** True the first time `notice` is named in this instance: what is worth saying once, not per event. */
  firstNotice(notice: string): boolean;
}

/** One invocation, as each path sees it; opened before the handler runs, passed down, never kept. */
export interface InvocationScope {
  requestId: string;
  startMs: number;
  /** The invocation's instants before any reserve is known (lib/fc/timeline.ts); a delivery adds its reserves. */
  timeline: Timeline;
  coldStart: boolean;
  /** True once the delivery is known to be an HTTP request: refusals are then HTTP responses. */
  http: boolean;
  /** Carries the requestId; once the delivery is known and the config read, the trigger too. */
  log: Logger;
  context: FcContext;
}

export function openInvocationScope(instance: WithdrawInstance, context: FcContext): InvocationScope {
  const startMs = instance.clock.nowMs();
  const coldStart = instance.state.takeColdStart();
  return {
    requestId: context.requestId,
    startMs,
    timeline: timelineOf(startMs, context),
    coldStart,
    http: false,
    log: instance.state.logger().child({ requestId: context.requestId }),
    context,
  };
}

/** The scope's timeline with what follows this delivery's work: its callback, and the outcome written to a shared store. */
export function deliveryTimeline(scope: InvocationScope, cfg: WithdrawConfig, callbackUrl: string | undefined): Timeline {
  return timelineOf(scope.startMs, scope.context, {
    callbackTimeoutMs: callbackUrl ? cfg.CALLBACK_TIMEOUT_MS : undefined,
    storeTimeoutMs: cfg.IDEMPOTENCY_REDIS_URL !== undefined ? cfg.IDEMPOTENCY_TIMEOUT_MS : undefined,
  });
}
