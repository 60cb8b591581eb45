import { mapWithConcurrency } from '../core/concurrency';
import type { Timeline } from '../fc/timeline';
import type { LockAhead } from '../idempotency/script-lock';
import { union, type Span, type StoreOp } from '../idempotency/store';
import type { WithdrawConfig } from '../runtime/config';
import type { ItemResult } from './results';
import type { InvocationScope, WithdrawInstance } from './scopes';
import { RECONCILE_SLACK_MS, type UnansweredWindow } from './reconcile';
import { logWithdrawal, withdrawTracked, type TrackedWithdrawal, type WithdrawalItem, type WithdrawDeps } from './withdraw-item';

/** What an unfinished delivery leaves for its retry (FC's, or the sender's), by `InstanceId/ScriptId`. */
export interface DeliveryMemory {
  /** Items with a definite outcome: neither redone nor called back again. */
  done: Record<string, ItemResult>;
  /** Items whose attempts got no answer, and when those could have acted: the retry reconciles a refusal. */
  unanswered: Record<string, UnansweredWindow>;
}

/** What a run of a delivery starts from: what earlier runs left, and the lock taken with its claim. */
export interface Carried {
  memory: DeliveryMemory;
  /** When earlier runs may have acted without storing what they did: an item not done reconciles a refusal within it. */
  unsettled?: Span;
  /** A single item's lock, claimed in the delivery claim's round trip. */
  ahead?: LockAhead;
  /** Where the lock's release goes to leave with the delivery's outcome, in one round trip. */
  atEnd?: StoreOp[];
}

/** One invocation's withdrawals: who asks, under which config, with which deps, calling back where. */
interface WithdrawalRun {
  scope: InvocationScope;
  timeline: Timeline;
  cfg: WithdrawConfig;
  deps: WithdrawDeps;
  callbackUrl: string | undefined;
  carried: Carried;
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
  timeline: Timeline,
  callbackUrl: string | undefined,
  instance: WithdrawInstance,
  carried: Carried = { memory: { done: {}, unanswered: {} } },
): Promise<{ results: ItemResult[]; memory?: DeliveryMemory }> {
  const cfg = instance.state.loadConfig();
  const deps = await withdrawDeps(cfg, scope, timeline, instance, carried);
  const run: WithdrawalRun = { scope, timeline, cfg, deps, callbackUrl, carried };
  const distinct = distinctItems(items);
  const settled = await mapWithConcurrency(distinct, instance.upstreamLimiter(cfg), (item) => withdrawOnce(item, run, instance));
  if (callbackUrl) await callBackAll(settled, run, instance);
  const results = inInputOrder(items, distinct, settled);
  return results.some((result) => result.Retryable) ? { results, memory: nextMemory(carried.memory, settled) } : { results };
}

/** Each script once, in the order first named. */
export function distinctItems(items: WithdrawalItem[]): WithdrawalItem[] {
  return items.length === 1 ? items : [...new Map(items.map((item) => [itemKey(item), item])).values()];
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
async function withdrawDeps(cfg: WithdrawConfig, scope: InvocationScope, timeline: Timeline, instance: WithdrawInstance, carried: Carried): Promise<WithdrawDeps> {
  const { state, clock } = instance;
  const shared = cfg.IDEMPOTENCY_REDIS_URL !== undefined;
  const { ahead, atEnd } = carried;
  return {
    client: state.client(state.credentials(scope.context.credentials, cfg), cfg),
    clock,
    policy: state.retryPolicy(cfg),
    readTimeoutMs: cfg.OUTBOUNDBOT_READ_TIMEOUT_MS,
    // The timeline keeps the callback and the store's round trip after the work.
    workEndMs: timeline.workEndMs,
    exclusive: shared
      ? {
          store: await state.invocationStore(cfg, timeline),
          holdUntilMs: timeline.answerByMs,
          waitUntilMs: timeline.workEndMs,
          markTtlMs: cfg.IDEMPOTENCY_TTL_SECONDS * 1000,
          ...(ahead ? { ahead } : {}),
          ...(atEnd ? { atEnd } : {}),
        }
      : undefined,
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
  const { memory, unsettled, ahead, atEnd } = run.carried;
  const remembered = memory.done[key];
  // A lock taken ahead for an item an earlier run settled is let go with the outcome.
  if (remembered && ahead?.answers[0].claimed) atEnd?.push({ op: 'release', key: ahead.ops[0].key, owner: ahead.ops[0].record.owner });
  const unanswered = windowOf(memory.unanswered[key], unsettled);
  const tracked = remembered ? { result: remembered } : await withdrawTracked(item, unanswered ? { ...run.deps, unanswered } : run.deps);
  // Written out, not `{ ...tracked, … }`: on Node 20 each property after a spread is a runtime call.
  const settled: SettledWithdrawal = { result: tracked.result, unanswered: tracked.unanswered, startedMs, remembered: remembered !== undefined };
  // Without a callback to wait for, the line is written as soon as the item is settled.
  if (!run.callbackUrl || settled.remembered) logSettled(settled, run.scope, instance);
  return settled;
}

/** An item's own window, widened by when earlier runs may have acted unsettled (their end plus the slack). */
function windowOf(own: UnansweredWindow | undefined, unsettled: Span | undefined): UnansweredWindow | undefined {
  if (unsettled === undefined) return own;
  return union(own, { sinceMs: unsettled.sinceMs, untilMs: unsettled.untilMs + RECONCILE_SLACK_MS });
}

/** Every new result called back at once, each until the callbacks' end; then its line. */
async function callBackAll(settled: SettledWithdrawal[], run: WithdrawalRun, instance: WithdrawInstance): Promise<void> {
  const { scope, cfg, callbackUrl, timeline } = run;
  const fresh = settled.filter((withdrawal) => !withdrawal.remembered);
  await Promise.all(
    fresh.map(async (withdrawal) => {
      const payload = { ...withdrawal.result, InvocationRequestId: scope.requestId };
      withdrawal.result.Callback = await instance.state.callBack(cfg, callbackUrl!, payload, timeline.callbacksEndMs);
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
