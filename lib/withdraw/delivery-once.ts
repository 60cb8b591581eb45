/**
 * Exactly once per delivery (docs/DESIGN.md, "Exactly once"): the delivery's idempotency key
 * is claimed in the store for the invocation's life, its outcome kept when it is final, and
 * what was already done carried to the retry when it is not. A duplicate on any instance gets
 * the stored outcome, waits a bounded time for the first, or is told to come back (409).
 */
import { invocationEndMs } from '../fc/context';
import { fingerprintOf } from '../idempotency/fingerprint';
import { runOnce } from '../idempotency/once';
import type { ItemResult } from './results';
import type { InvocationScope, WithdrawInstance } from './scopes';
import { DUPLICATE_WAIT_MS } from './exclusive';
import { logItemResult, withdrawAll, type DeliveryMemory } from './withdraw-all';
import type { WithdrawalItem } from './withdraw-item';

/** One delivery's work: its key (undefined: nothing identifies it), what it asks, and where results go. */
export interface DeliveryWork {
  key: string | undefined;
  /** What the key must mean every time it is used: the parsed request. */
  payload: unknown;
  items: WithdrawalItem[];
  callbackUrl: string | undefined;
}

export async function withdrawDelivery(work: DeliveryWork, scope: InvocationScope, instance: WithdrawInstance): Promise<{ results: ItemResult[]; replayed: boolean }> {
  if (work.key === undefined) return { results: (await withdrawAll(work.items, scope, work.callbackUrl, instance)).results, replayed: false };
  const cfg = instance.state.loadConfig();
  const { clock } = instance;
  const once = await runOnce<ItemResult[], DeliveryMemory>(
    {
      store: await instance.state.invocationStore(cfg, scope.startMs, scope.context),
      clock,
      key: `delivery:${work.key}`,
      fingerprint: fingerprintOf(work.payload),
      // Until FC ends the invocation, not until the work's deadline: the outcome (or what the
      // retry needs to know) is stored after the work, in the margin before that end.
      claimUntilMs: invocationEndMs(scope.startMs, scope.context),
      waitUntilMs: Math.min(clock.nowMs() + DUPLICATE_WAIT_MS, scope.deadlineMs),
      completedTtlMs: cfg.IDEMPOTENCY_TTL_SECONDS * 1000,
      onLostOutcome: (error) => scope.log.warn('idempotency record not updated; it lapses at the deadline', { key: work.key, error }),
    },
    async (carried) => {
      const { results, memory } = await withdrawAll(work.items, scope, work.callbackUrl, instance, carried);
      // Memory comes back only when a result is retryable: the outcome is not final yet.
      return { value: results, keep: memory === undefined, carry: memory };
    },
  );
  if (once.replayed) for (const result of once.value) logItemResult(scope, result, 0, true);
  return { results: once.value, replayed: once.replayed };
}
