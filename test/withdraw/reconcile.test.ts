// Reconciling a refusal after an attempt without a definite answer (docs/DESIGN.md, "Exactly
// once"), against the emulator: only our own withdrawal is ever claimed, a state an approval
// leaves too is never claimed blind, and a read refused for good is a final answer.
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/core/clock';
import { reconcileRefusal } from '../../lib/withdraw/reconcile';
import { withdrawTracked, type WithdrawDeps } from '../../lib/withdraw/withdraw-item';
import { script, useTestEmulator } from '../support/stack';

const INSTANCE = 'reconcile-instance';
const env = useTestEmulator(INSTANCE, 0);

const nowMs = Date.now();
const windowAround = (atMs: number) => ({ sinceMs: atMs - 1_000, untilMs: atMs + 1_000 });
const NEW = 'EXAMINE_IN_PROGRESS';
const UPDATE = 'PUBLISHED_AND_EXAMINE_IN_PROGRESS';

describe('reconcileRefusal', () => {
  it.each([
    ['a draft changed inside the window, the state before unknown: ours (only a withdrawal of a new review drafts it)', 'DRAFTED', nowMs, undefined, 'ours'],
    ['published inside the window, the state before unknown: an approval leaves the same state, unconfirmed', 'PUBLISHED', nowMs, undefined, 'unconfirmed'],
    ['published inside the window from an update under review: an approval of the update leaves the same state, unconfirmed', 'PUBLISHED', nowMs, UPDATE, 'unconfirmed'],
    ['published inside the window from a new script under review: an approval, not ours', 'PUBLISHED', nowMs, NEW, 'not-ours'],
    ['drafted inside the window from an update under review: not a withdrawal, not ours', 'DRAFTED', nowMs, UPDATE, 'not-ours'],
    ['drafted inside the window from a new script under review: ours', 'DRAFTED', nowMs, NEW, 'ours'],
    ['published long before our attempt: not ours', 'PUBLISHED', nowMs - 3_600_000, UPDATE, 'not-ours'],
    ['changed after the window (a reviewer, later): not ours', 'DRAFTED', nowMs + 60_000, undefined, 'not-ours'],
    ['a state no withdrawal leaves, inside the window: not ours', 'PUBLISH_FAILED', nowMs, undefined, 'not-ours'],
    ['still under review: not ours', NEW, nowMs, undefined, 'not-ours'],
  ])('%s', async (_, Status, UpdateTime, statusBefore, verdict) => {
    const id = `s-${Status}-${UpdateTime}-${statusBefore}`;
    env.emulator.addInstance(INSTANCE, [{ ...script(id), Status, UpdateTime }]);
    const item = { InstanceId: INSTANCE, ScriptId: id };
    const reconciliation = await reconcileRefusal({ client: env.client, item, unanswered: windowAround(nowMs), statusBefore, readTimeoutMs: 1_000, remainingMs: 5_000 });
    expect(reconciliation.verdict).toBe(verdict);
  });

  it.each([
    ['a gone script (404 NotExist.Script): refused for good', 404, 'NotExist.Script', 'refused'],
    ['a role without DescribeScript (403): refused for good', 403, 'Forbidden.RAM', 'refused'],
    ['a plain 400: refused for good (the lowest definite status)', 400, 'InvalidParameter', 'refused'],
    ['a 500: no verdict, the read may work later', 500, 'InternalError', 'unknown'],
    ['throttled: no verdict', 429, 'Throttling.User', 'unknown'],
    ['a 429 whatever its code: no verdict', 429, 'TooManyRequests', 'unknown'],
    ['a throttling code on a 400: no verdict', 400, 'Throttling.Api', 'unknown'],
  ])('a read answered %s', async (_, status, code, verdict) => {
    env.emulator.addInstance(INSTANCE, [{ ...script('read-fails'), Status: 'DRAFTED', UpdateTime: nowMs }]);
    env.emulator.injectFault({ kind: 'status', status, code }, { action: 'DescribeScript' });
    const reconciliation = await reconcileRefusal({ client: env.client, item: { InstanceId: INSTANCE, ScriptId: 'read-fails' }, unanswered: windowAround(nowMs), statusBefore: undefined, readTimeoutMs: 1_000, remainingMs: 5_000 });
    expect(reconciliation).toMatchObject({ verdict, ...(verdict === 'refused' ? { code, statusCode: status } : { reason: code }) });
  });

  it('takes a change stamped at the window\'s very end as ours, and one a millisecond later as not', async () => {
    const window = windowAround(nowMs);
    for (const [id, UpdateTime, verdict] of [
      ['at-end', window.untilMs, 'ours'],
      ['past-end', window.untilMs + 1, 'not-ours'],
      ['at-start', window.sinceMs, 'ours'],
      ['before-start', window.sinceMs - 1, 'not-ours'],
    ] as const) {
      env.emulator.addInstance(INSTANCE, [{ ...script(id), Status: 'DRAFTED', UpdateTime }]);
      const reconciliation = await reconcileRefusal({ client: env.client, item: { InstanceId: INSTANCE, ScriptId: id }, unanswered: window, statusBefore: undefined, readTimeoutMs: 1_000, remainingMs: 5_000 });
      expect(reconciliation.verdict, id).toBe(verdict);
    }
  });

  it('never takes the change another request was answered for (the lock\'s mark) as ours', async () => {
    env.emulator.addInstance(INSTANCE, [{ ...script('marked'), Status: 'DRAFTED', UpdateTime: nowMs }]);
    const input = { client: env.client, item: { InstanceId: INSTANCE, ScriptId: 'marked' }, unanswered: windowAround(nowMs), statusBefore: undefined, readTimeoutMs: 1_000, remainingMs: 5_000 };
    expect((await reconcileRefusal({ ...input, withdrawnElsewhereAtMs: nowMs })).verdict).toBe('not-ours');
    // Another change (an older mark) does not hide ours.
    expect((await reconcileRefusal({ ...input, withdrawnElsewhereAtMs: nowMs - 1 })).verdict).toBe('ours');
  });

  it.each([
    ['no Script', {}],
    ['a Script without Status', { Script: { ScriptId: 'x', UpdateTime: nowMs } }],
    ['a Script without UpdateTime', { Script: { ScriptId: 'x', Status: 'DRAFTED' } }],
    ['a Status that is not text', { Script: { ScriptId: 'x', Status: 7, UpdateTime: nowMs } }],
  ])('gives no verdict on an answer with %s: the read tells nothing', async (_, fields) => {
    env.emulator.addInstance(INSTANCE, [{ ...script('odd-answer'), Status: 'DRAFTED', UpdateTime: nowMs }]);
    env.emulator.injectFault({ kind: 'answer', fields }, { action: 'DescribeScript' });
    const reconciliation = await reconcileRefusal({ client: env.client, item: { InstanceId: INSTANCE, ScriptId: 'odd-answer' }, unanswered: windowAround(nowMs), statusBefore: undefined, readTimeoutMs: 1_000, remainingMs: 5_000 });
    expect(reconciliation).toEqual({ verdict: 'unknown', reason: 'no script state in the answer' });
  });

  it('gives no verdict on a read answered 200 with Success: false', async () => {
    env.emulator.addInstance(INSTANCE, [{ ...script('success-false'), Status: 'DRAFTED', UpdateTime: nowMs }]);
    env.emulator.injectFault({ kind: 'success-false' }, { action: 'DescribeScript' });
    const reconciliation = await reconcileRefusal({ client: env.client, item: { InstanceId: INSTANCE, ScriptId: 'success-false' }, unanswered: windowAround(nowMs), statusBefore: undefined, readTimeoutMs: 1_000, remainingMs: 5_000 });
    expect(reconciliation.verdict).toBe('unknown');
  });
});

describe('a refusal after an attempt without a definite answer', () => {
  const deps = (): WithdrawDeps => ({ client: env.client, clock: systemClock, policy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 }, readTimeoutMs: 200, workEndMs: Date.now() + 10_000 });
  const fresh = (instance: string, id: string, Status = NEW) => {
    env.emulator.addInstance(instance, [{ ...script(id), Status }]);
    return { InstanceId: instance, ScriptId: id };
  };

  it('stays retryable when the read fails, and the retry that keeps the window reconciles it', async () => {
    const item = fresh('reconcile-retry', 'r1');
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

  it('settles for good when the read is refused for good: a gone script is its outcome, a missing permission is named (defect 1)', async () => {
    for (const [status, code] of [
      [404, 'NotExist.Script'],
      [403, 'Forbidden.RAM'],
    ] as const) {
      const item = fresh(`reconcile-refused-${status}`, 'r1');
      env.emulator.injectFault({ kind: 'delay', ms: 500 }, { action: 'WithdrawScriptReview' });
      env.emulator.injectFault({ kind: 'status', status, code }, { action: 'DescribeScript' });
      const { result } = await withdrawTracked(item, deps());
      expect(result).toMatchObject({ Success: false, HttpStatusCode: status, Code: code, Retryable: false });
      if (status === 403) expect(result.Message).toContain('outboundbot:DescribeScript');
    }
  });

  it.each([
    ['an HTML 502 page', { kind: 'after-commit', status: 502 }],
    ['an HTML 504 page', { kind: 'after-commit', status: 504 }],
    ['a JSON 504 ServiceTimeout', { kind: 'after-commit', status: 504, code: 'ServiceTimeout' }],
  ] as const)('reports a withdrawal that answered %s after it was done as withdrawn, not refused (defect 2)', async (_, fault) => {
    const item = fresh(`reconcile-gateway-${fault.status}-${'code' in fault ? fault.code : 'html'}`, 'g1');
    env.emulator.injectFault(fault, { action: 'WithdrawScriptReview' });
    const { result } = await withdrawTracked(item, deps());
    expect(result).toMatchObject({ Success: true, Reconciled: true, Code: 'OK' });
    expect(env.emulator.withdrawals(item.InstanceId, 'g1')).toBe(1);
  });

  it('never reports a new script that a reviewer approved inside the window as withdrawn (defect 3)', async () => {
    const item = fresh('reconcile-approved', 'a1');
    // The first attempt gets no answer and never reaches the service; a reviewer approves meanwhile.
    env.emulator.injectFault({ kind: 'reset' }, { action: 'WithdrawScriptReview' });
    const approving = deps();
    const policy = { ...approving.policy, baseDelayMs: 200, maxDelayMs: 200 };
    const run = withdrawTracked(item, { ...approving, policy, clock: { ...systemClock, random: () => 0.99 } });
    await systemClock.sleep(60);
    env.emulator.review(item.InstanceId, 'a1', 'PUBLISHED');
    const { result } = await run;
    expect(result.Success).toBe(false);
    expect(result).toMatchObject({ HttpStatusCode: 409, Code: 'ReviewEndedUnconfirmed', Retryable: false });
    // With the state before known (the cleanup's listing), the approval is told apart: the refusal stands.
    const listed = fresh('reconcile-approved-listed', 'a2');
    env.emulator.injectFault({ kind: 'reset' }, { action: 'WithdrawScriptReview' });
    const listedRun = withdrawTracked(listed, { ...approving, policy, clock: { ...systemClock, random: () => 0.99 }, statusBefore: NEW });
    await systemClock.sleep(60);
    env.emulator.review(listed.InstanceId, 'a2', 'PUBLISHED');
    expect((await listedRun).result).toMatchObject({ Success: false, HttpStatusCode: 400, Code: 'OperationDenied.ScriptNotUnderReview' });
    expect(env.emulator.withdrawals(listed.InstanceId, 'a2')).toBe(0);
  });
});
