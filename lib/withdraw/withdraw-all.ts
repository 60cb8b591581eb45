import { mapWithConcurrency } from '../core/concurrency';
import { endOfWorkBeforeCallbackMs } from '../fc/context';
import type { WithdrawConfig } from '../runtime/config';
import type { ItemResult } from './results';
import type { InvocationScope, WithdrawInstance } from './scopes';
import type { UnansweredWindow } from './reconcile';
import { logWithdrawal, withdrawTracked, type TrackedWithdrawal, type WithdrawalItem, type WithdrawDeps } from './withdraw-item';

/** What an unfinished delivery leaves for its retry (FC's, or the sender's), by `InstanceId/ScriptId`. */
export interface DeliveryMemory {
  /** Items with a definite outcome: neither redone nor called back again. */
  done: Record<string, ItemResult>;
  /** Items whose attempts got no answer, and when those could have acted: the retry reconciles a refusal. */
  unanswered: Record<string, UnansweredWindow>;
}

/** One invocation's withdrawals: who asks, under which config, with which deps, calling back where. */
interface WithdrawalRun {
  scope: InvocationScope;
  cfg: WithdrawConfig;
  deps: WithdrawDeps;
  callbackUrl: string | undefined;
  memory: DeliveryMemory;
}

const itemKey = (item: WithdrawalItem): string => `${item.InstanceId}/${item.ScriptId}`;

/**
 * Withdraws each distinct item once (a script named twice in a batch is one withdrawal, and
 * every entry reports it), at most BATCH_CONCURRENCY in flight across the instance, each under
 * the script's lock; then calls the new results back when there is a target, and logs one line
 * per item. Callbacks never hold a withdrawal's slot: a receiver that never answers costs the
 * time left after the last withdrawal, never a withdrawal. Results are in input order. When one
 * is retryable, the memory says what a retry of this delivery may skip; else there is nothing to carry.
 */
export async function withdrawAll(
  items: WithdrawalItem[],
  scope: InvocationScope,
  callbackUrl: string | undefined,
  instance: WithdrawInstance,
  memory: DeliveryMemory = { done: {}, unanswered: {} },
): Promise<{ results: ItemResult[]; memory?: DeliveryMemory }> {
  const cfg = instance.state.loadConfig();
  const run: WithdrawalRun = { scope, cfg, deps: await withdrawDeps(cfg, scope, callbackUrl, instance), callbackUrl, memory };
  const distinct = items.length === 1 ? items : [...new Map(items.map((item) => [itemKey(item), item])).values()];
  const settled = await mapWithConcurrency(distinct, instance.upstreamLimiter(cfg), (item) => withdrawOnce(item, run, instance));
  if (callbackUrl) await callBackAll(settled, run, instance);
  const results = inInputOrder(items, distinct, settled);
  return results.some((result) => result.Retryable) ? { results, memory: nextMemory(memory, settled) } : { results };
}

function inInputOrder(items: WithdrawalItem[], distinct: WithdrawalItem[], settled: readonly TrackedWithdrawal[]): ItemResult[] {
  if (distinct === items) return settled.map((tracked) => tracked.result);
  const byKey = new Map(settled.map((tracked) => [itemKey(tracked.result), tracked]));
  return items.map((item) => byKey.get(itemKey(item))!.result);
}

/**
 * The client for the invocation's credentials, the retry policy, the script locks, and when the
 * work must end. Script locks are taken in a shared store only: FC gives each request an instance
 * of its own, so a lock in one instance's memory would never meet another request.
 */
async function withdrawDeps(cfg: WithdrawConfig, scope: InvocationScope, callbackUrl: string | undefined, instance: WithdrawInstance): Promise<WithdrawDeps> {
  const { state, clock } = instance;
  // With a callback to send, the withdrawal stops early enough for it to go out before the deadline.
  const deadlineMs = endOfWorkBeforeCallbackMs(scope.startMs, scope.deadlineMs, callbackUrl ? cfg.CALLBACK_TIMEOUT_MS : undefined);
  const shared = cfg.IDEMPOTENCY_REDIS_URL !== undefined;
  return {
    client: state.client(state.credentials(scope.context.credentials, cfg), cfg),
    clock,
    policy: state.retryPolicy(cfg),
    readTimeoutMs: cfg.OUTBOUNDBOT_READ_TIMEOUT_MS,
    deadlineMs,
    exclusive: shared ? { store: await state.invocationStore(cfg, scope.startMs, scope.context), holdUntilMs: scope.deadlineMs, waitUntilMs: deadlineMs } : undefined,
  };
}

/** A withdrawal of this run, and what its log line needs once it is called back. */
interface SettledWithdrawal extends TrackedWithdrawal {
  result: ItemResult;
  startedMs: number;
  /** Settled by an earlier run of this delivery: neither withdrawn nor called back again. */
  remembered: boolean;
}

/** One item: its remembered outcome when an earlier run of this delivery settled it, else withdrawn now. */
async function withdrawOnce(item: WithdrawalItem, run: WithdrawalRun, instance: WithdrawInstance): Promise<SettledWithdrawal> {
  const startedMs = instance.clock.nowMs();
  const key = itemKey(item);
  const remembered = run.memory.done[key];
  const unanswered = run.memory.unanswered[key];
  const tracked = remembered ? { result: remembered } : await withdrawTracked(item, unanswered ? { ...run.deps, unanswered } : run.deps);
  const settled = { ...tracked, startedMs, remembered: remembered !== undefined };
  // Without a callback to wait for, the line is written as soon as the item is settled.
  if (!run.callbackUrl || settled.remembered) logSettled(settled, run.scope, instance);
  return settled;
}

/** Every new result called back at once, each until the invocation's deadline; then its line. */
async function callBackAll(settled: SettledWithdrawal[], run: WithdrawalRun, instance: WithdrawInstance): Promise<void> {
  const { scope, cfg, callbackUrl } = run;
  const fresh = settled.filter((withdrawal) => !withdrawal.remembered);
  await Promise.all(
    fresh.map(async (withdrawal) => {
      const payload = { ...withdrawal.result, InvocationRequestId: scope.requestId };
      withdrawal.result.Callback = await instance.state.callBack(cfg, callbackUrl!, payload, scope.deadlineMs);
      logSettled(withdrawal, scope, instance);
    }),
  );
}

function logSettled(withdrawal: SettledWithdrawal, scope: InvocationScope, instance: WithdrawInstance): void {
  logItemResult(scope, withdrawal.result, instance.clock.nowMs() - withdrawal.startedMs, withdrawal.remembered);
}

function nextMemory(previous: DeliveryMemory, settled: TrackedWithdrawal[]): DeliveryMemory {
  const memory: DeliveryMemory = { done: { ...previous.done }, unanswered: { ...previous.unanswered } };
  for (const { result, unanswered } of settled) {
    const key = itemKey(result);
    if (!result.Retryable) memory.done[key] = result;
    else if (unanswered !== undefined) memory.unanswered[key] = unanswered;
  }
  return memory;
}

export function logItemResult(scope: InvocationScope, result: ItemResult, durationMs: number, fromMemory: boolean): void {
  logWithdrawal(scope.log, result, {
    durationMs,
    coldStart: scope.coldStart,
    ...(fromMemory ? { fromMemory: true } : {}),
    ...(result.Reconciled ? { Reconciled: true } : {}),
    ...(result.Callback ? { callbackDelivered: result.Callback.Delivered, callbackCode: result.Callback.Code } : {}),
  });
}
