/**
 * Exactly once per delivery (docs/DESIGN.md, "Exactly once"; the states in
 * lib/idempotency/once.ts): the delivery's idempotency key is claimed in the store for the
 * invocation's life, its outcome kept when it is final, and what was already done carried to the
 * retry when it is not. A duplicate on any instance gets the stored outcome, waits a bounded time
 * for the first, or is told to come back (409). A single item's script lock is claimed in the same
 * round trip as the key, and let go in the round trip that stores the outcome: two in all.
 */
import { randomUUID } from 'node:crypto';
import type { Timeline } from '../fc/timeline';
import { fingerprintOf } from '../idempotency/fingerprint';
import { runOnce } from '../idempotency/once';
import { lockClaimOps, type LockAhead } from '../idempotency/script-lock';
import type { WithdrawConfig } from '../runtime/config';
import type { ItemResult } from './results';
import { deliveryTimeline, type InvocationScope, type WithdrawInstance } from './scopes';
import { DUPLICATE_WAIT_MS } from './exclusive';
import { distinctItems, logItemResult, withdrawAll, type DeliveryMemory } from './withdraw-all';
import { longestWithdrawalMs, type WithdrawalItem } from './withdraw-item';

/** One delivery's work: its key (undefined: nothing identifies it), what it asks, and where results go. */
export interface DeliveryWork {
  key: string | undefined;
  /** What the key must mean every time it is used: the parsed request. */
  payload: unknown;
  items: WithdrawalItem[];
  callbackUrl: string | undefined;
}

export async function withdrawDelivery(work: DeliveryWork, scope: InvocationScope, instance: WithdrawInstance): Promise<{ results: ItemResult[]; replayed: boolean }> {
  const cfg = instance.state.loadConfig();
  const timeline = deliveryTimeline(scope, cfg, work.callbackUrl);
  if (work.key === undefined) return { results: (await withdrawAll(work.items, scope, timeline, work.callbackUrl, instance)).results, replayed: false };
  const { clock } = instance;
  const single = distinctItems(work.items).length === 1;
  const ahead = single ? lockAhead(work.items[0]!, cfg, timeline, instance) : undefined;
  const once = await runOnce<ItemResult[], DeliveryMemory>(
    {
      store: await instance.state.invocationStore(cfg, timeline),
      clock,
      key: `delivery:${work.key}`,
      fingerprint: fingerprintOf(work.payload),
      // Until FC ends the invocation, not until the work's end: the outcome (or what the retry
      // needs to know) is stored after the work, in the reserve the timeline keeps for it.
      claimUntilMs: timeline.endMs,
      waitUntilMs: Math.min(clock.nowMs() + DUPLICATE_WAIT_MS, timeline.workEndMs),
      ttlMs: cfg.IDEMPOTENCY_TTL_SECONDS * 1000,
      ...(ahead ? { alongside: ahead } : {}),
      onLostOutcome: (error) => scope.log.warn('idempotency record not updated; it lapses at the invocation end', { key: work.key, error }),
    },
    async (run) => {
      const carried = {
        memory: run.carried ?? { done: {}, unanswered: {} },
        unsettled: run.unsettled,
        ...(ahead && run.alongside ? { ahead: { ops: ahead, answers: run.alongside as LockAhead['answers'] } } : {}),
        // A single item's lock leaves with the outcome; a batch lets each go as soon as it is done.
        ...(single ? { atEnd: run.atEnd } : {}),
      };
      const { results, memory } = await withdrawAll(work.items, scope, timeline, work.callbackUrl, instance, carried);
      // Memory comes back only when a result is retryable: the outcome is not final yet.
      return { value: results, keep: memory === undefined, carry: memory };
    },
  );
  if (once.replayed) for (const result of once.value) logItemResult(scope, result, 0, true);
  return { results: once.value, replayed: once.replayed };
}

/** The script lock's first claim and the read of its mark, to send with the delivery's claim: only where locks are taken (a shared store). */
function lockAhead(item: WithdrawalItem, cfg: WithdrawConfig, timeline: Timeline, instance: WithdrawInstance) {
  if (cfg.IDEMPOTENCY_REDIS_URL === undefined) return undefined;
  const holdForMs = longestWithdrawalMs(instance.state.retryPolicy(cfg), cfg.OUTBOUNDBOT_READ_TIMEOUT_MS);
  return lockClaimOps({ name: `${item.InstanceId}/${item.ScriptId}`, holdForMs, holdUntilMs: timeline.answerByMs }, randomUUID(), instance.clock.nowMs());
}
