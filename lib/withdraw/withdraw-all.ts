import { mapWithConcurrency } from '../core/concurrency';
import { endOfWorkBeforeCallbackMs } from '../fc/context';
import type { WithdrawConfig } from '../runtime/config';
import type { ItemResult } from './results';
import type { InvocationScope, WithdrawInstance } from './scopes';
import { logWithdrawal, withdrawItem, type WithdrawalItem, type WithdrawDeps } from './withdraw-item';

/** One invocation's withdrawals: who asks, under which config, with which deps, calling back where. */
interface WithdrawalRun {
  scope: InvocationScope;
  cfg: WithdrawConfig;
  deps: WithdrawDeps;
  callbackUrl: string | undefined;
}

/**
 * Withdraws each item (at most BATCH_CONCURRENCY in flight across the instance), calls each
 * result back when there is a target, and logs one line per item. Results are in input order.
 */
export async function withdrawAll(items: WithdrawalItem[], scope: InvocationScope, callbackUrl: string | undefined, instance: WithdrawInstance): Promise<ItemResult[]> {
  const cfg = instance.state.loadConfig();
  const run: WithdrawalRun = { scope, cfg, deps: withdrawDeps(cfg, scope, callbackUrl, instance), callbackUrl };
  return mapWithConcurrency(items, instance.upstreamLimiter(cfg), (item) => withdrawOnce(item, run, instance));
}

/** The client for the invocation's credentials, the retry policy, and when the work must end. */
function withdrawDeps(cfg: WithdrawConfig, scope: InvocationScope, callbackUrl: string | undefined, instance: WithdrawInstance): WithdrawDeps {
  const { state, clock } = instance;
  return {
    client: state.client(state.credentials(scope.context.credentials, cfg), cfg),
    clock,
    policy: state.retryPolicy(cfg),
    readTimeoutMs: cfg.OUTBOUNDBOT_READ_TIMEOUT_MS,
    // With a callback to send, the withdrawal stops early enough for it to go out before the deadline.
    deadlineMs: endOfWorkBeforeCallbackMs(scope.startMs, scope.deadlineMs, callbackUrl ? cfg.CALLBACK_TIMEOUT_MS : undefined),
  };
}

/**
 * One item: withdrawn, or, when this invocation already withdrew it (FC delivers an async
 * event again after a retryable failure), its remembered result, neither redone nor called back again.
 */
async function withdrawOnce(item: WithdrawalItem, run: WithdrawalRun, instance: WithdrawInstance): Promise<ItemResult> {
  const { clock, completed, state } = instance;
  const { scope, callbackUrl } = run;
  const memoKey = `${scope.requestId}\0${item.InstanceId}\0${item.ScriptId}`;
  const startedMs = clock.nowMs();
  const remembered = completed.get(memoKey);
  const result: ItemResult = remembered ?? (await withdrawItem(item, run.deps));
  if (result.Success && !remembered) completed.set(memoKey, result);
  if (callbackUrl && !remembered) {
    result.Callback = await state.callBack(run.cfg, callbackUrl, { ...result, InvocationRequestId: scope.requestId }, scope.deadlineMs);
  }
  logItemResult(scope, result, clock.nowMs() - startedMs, remembered !== undefined);
  return result;
}

function logItemResult(scope: InvocationScope, result: ItemResult, durationMs: number, fromMemory: boolean): void {
  logWithdrawal(scope.log, result, {
    durationMs,
    coldStart: scope.coldStart,
    ...(fromMemory ? { fromMemory: true } : {}),
    ...(result.Callback ? { callbackDelivered: result.Callback.Delivered, callbackCode: result.Callback.Code } : {}),
  });
}
