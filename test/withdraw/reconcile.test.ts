// Reconciling a refusal after an unanswered attempt (docs/DESIGN.md, "Truthful outcomes"),
// against the emulator: only our own withdrawal is ever claimed, and a read that fails is no
// verdict at all.
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/core/clock';
import { reconcileRefusal } from '../../lib/withdraw/reconcile';
import { withdrawTracked, type WithdrawDeps } from '../../lib/withdraw/withdraw-item';
import { script, useTestEmulator } from '../support/stack';

const INSTANCE = 'reconcile-instance';
const env = useTestEmulator(INSTANCE, 0);

const nowMs = Date.now();
const windowAround = (atMs: number) => ({ sinceMs: atMs - 1_000, untilMs: atMs + 1_000 });

describe('reconcileRefusal', () => {
  it.each([
    ['a draft changed inside the window: ours', 'DRAFTED', nowMs, 'ours'],
    ['a published version changed inside the window: ours', 'PUBLISHED', nowMs, 'ours'],
    ['published long before our attempt (an approval, say): not ours', 'PUBLISHED', nowMs - 3_600_000, 'not-ours'],
    ['changed after the window (a reviewer, later): not ours', 'DRAFTED', nowMs + 60_000, 'not-ours'],
    ['a state no withdrawal leaves, inside the window: not ours', 'PUBLISH_FAILED', nowMs, 'not-ours'],
    ['still under review: not ours', 'EXAMINE_IN_PROGRESS', nowMs, 'not-ours'],
  ])('%s', async (_, Status, UpdateTime, verdict) => {
    const id = `s-${Status}-${UpdateTime}`;
    env.emulator.addInstance(INSTANCE, [{ ...script(id), Status, UpdateTime }]);
    const reconciliation = await reconcileRefusal({ client: env.client, item: { InstanceId: INSTANCE, ScriptId: id }, unanswered: windowAround(nowMs), readTimeoutMs: 1_000, remainingMs: 5_000 });
    expect(reconciliation.verdict).toBe(verdict);
  });
});

describe('a refusal after an unanswered attempt', () => {
  const deps = (): WithdrawDeps => ({ client: env.client, clock: systemClock, policy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 }, readTimeoutMs: 200, deadlineMs: Date.now() + 10_000 });

  it('stays retryable when the read fails, and the retry that keeps the window reconciles it', async () => {
    env.emulator.addInstance('reconcile-retry', [script('r1')]);
    const item = { InstanceId: 'reconcile-retry', ScriptId: 'r1' };
    // The first attempt acts but answers too late; the read that would tell fails once.
    env.emulator.injectFault({ kind: 'delay', ms: 500 }, { action: 'WithdrawScriptReview' });
    env.emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { action: 'DescribeScript' });
    const first = await withdrawTracked(item, deps());
    expect(first.result).toMatchObject({ Success: false, HttpStatusCode: 502, Code: 'OperationDenied.ScriptNotUnderReview', Retryable: true });
    expect(first.unanswered).toBeDefined();
    const retry = await withdrawTracked(item, { ...deps(), unanswered: first.unanswered });
    expect(retry.result).toMatchObject({ Success: true, Reconciled: true, Code: 'OK' });
    expect(env.emulator.withdrawals('reconcile-retry', 'r1')).toBe(1);
  });
});
