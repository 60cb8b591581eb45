import middy from '@middy/core';
import { createLimiter, type Limiter } from '../core/concurrency';
import type { FcContext } from '../fc/context';
import { decodeEvent, MAX_EVENT_BYTES, oversizedEvent } from '../fc/events';
import { PayloadTooLargeError } from '../fc/errors';
import type { FcHttpResponse } from '../fc/http-trigger';
import { invocationErrorMapper, invocationScopeOpener, type ScopedContext } from '../fc/middleware';
import { parseWithdrawConfig } from '../runtime/config';
import { createInstanceState, type InstanceStateOptions } from '../runtime/instance-state';
import { answerEntries, answerInvoke } from './event-path';
import { answerHttp } from './http-path';
import type { BatchResult, ItemResult } from './results';
import { openInvocationScope, type InvocationScope, type WithdrawInstance } from './scopes';
import { classifyEvent } from './triggers';

/**
 * The withdraw function's instance: config (parsed once), client (reused while the
 * credentials hold), the idempotency store and the upstream limit. What belongs to one
 * invocation lives in its InvocationScope, passed down, never kept here.
 */
export function createWithdrawService(options: InstanceStateOptions) {
  const { clock } = options;
  let upstreamLimiter: Limiter | undefined;
  const notices = new Set<string>();
  const instance: WithdrawInstance = {
    state: createInstanceState(options, parseWithdrawConfig),
    clock,
    upstreamLimiter: (cfg) => (upstreamLimiter ??= createLimiter(cfg.BATCH_CONCURRENCY)),
    firstNotice: (notice) => notices.size !== notices.add(notice).size,
  };
  return {
    instance,
    openScope: (context: FcContext): InvocationScope => openInvocationScope(instance, context),
    handle: (event: unknown, scope: InvocationScope) => answerDelivery(event, scope, instance),
  };
}

/**
 * Tells the trigger from the event and answers it on its path. Refusals and bugs are
 * thrown: `createWithdrawHandler`'s middleware maps them (lib/fc/error-mapping.ts).
 */
async function answerDelivery(event: unknown, scope: InvocationScope, instance: WithdrawInstance): Promise<FcHttpResponse | ItemResult | BatchResult> {
  const oversized = oversizedEvent(event);
  if (oversized) {
    scope.http = oversized.http;
    throw new PayloadTooLargeError(oversized.bytes, MAX_EVENT_BYTES, 'Event');
  }
  const delivery = classifyEvent(decodeEvent(event));
  scope.http = delivery.kind === 'http';
  // Read before the trigger's logger is made, so LOG_LEVEL applies to it; a bad config is refused here.
  instance.state.loadConfig();
  scope.log = instance.state.logger().child({ requestId: scope.requestId, trigger: delivery.kind });
  if (delivery.kind === 'http') return answerHttp(delivery.event, scope, instance);
  if (delivery.kind === 'invoke') return answerInvoke(delivery.request, scope, instance);
  if (delivery.kind === 'destination') return answerInvoke(delivery.request, scope, instance, delivery.key);
  return answerEntries(delivery.entries, delivery.batch, scope, instance);
}

/**
 * The withdraw function's handler: the service behind middy, whose middlewares open each
 * invocation's scope and turn what the service throws into FC's answer (lib/fc/middleware.ts).
 */
export function createWithdrawHandler(options: InstanceStateOptions) {
  const service = createWithdrawService(options);
  // FC has no getRemainingTimeInMillis, so middy's early timeout is off; the deadline is ours (lib/fc/context.ts).
  return middy<unknown, unknown, Error, ScopedContext<InvocationScope>>({ timeoutEarlyInMillis: 0 })
    .use(invocationScopeOpener(service.openScope))
    .use(invocationErrorMapper<InvocationScope>(options.clock.nowMs))
    // The opener ran before the handler, so the scope is there.
    .handler((event, context) => service.handle(event, context.invocationScope!));
}
