// The delivery record's moves as a delivery makes them, one example per defect of issue #20 that
// the model-based test (test/idempotency/model.test.ts) also finds: the real withdraw path over
// the emulator, instances sharing one store as they share Redis in FC.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { systemClock } from '../../lib/core/clock';
import { boundedBy } from '../../lib/idempotency/bounded-store';
import { IdempotencyStoreUnavailableError } from '../../lib/idempotency/errors';
import { createMemoryStore } from '../../lib/idempotency/memory-store';
import { storeOf, type IdempotencyStore } from '../../lib/idempotency/store';
import { withdrawDelivery } from '../../lib/withdraw/delivery-once';
import { script, startTestEmulator, type RoleCredentials } from '../support/stack';
import { instanceFor } from './instance-for';

const INSTANCE = 'inst-delivery-states';
let emulator: OutboundBotEmulator;
let role: RoleCredentials;
beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

/** The env of a deployment with a shared store; each test hands its instances one store, as Redis would be. */
const SHARED = { IDEMPOTENCY_REDIS_URL: 'redis://shared.invalid:6379', BATCH_CONCURRENCY: '1', RETRY_MAX_ATTEMPTS: '2' };

/** A new FC instance on `store` (bounded by each invocation's answer, as instance-state bounds Redis). */
function instanceOn(store: IdempotencyStore, env: Record<string, string> = {}) {
  const made = instanceFor(emulator, role, { ...SHARED, ...env });
  made.instance.state = { ...made.instance.state, invocationStore: async (_cfg, timeline) => boundedBy(store, timeline.answerByMs, systemClock) };
  return made;
}

const fresh = (n: number) => {
  const ids = Array.from({ length: n }, () => randomUUID());
  emulator.addInstance(INSTANCE, ids.map((id) => script(id)));
  return ids.map((ScriptId) => ({ InstanceId: INSTANCE, ScriptId }));
};
const delivery = (items: Array<{ InstanceId: string; ScriptId: string }>, key = randomUUID()) => ({ key, payload: { items }, items, callbackUrl: undefined });
const withdrawCalls = (id: string) => emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.ScriptId === id).length;

describe('what an unfinished delivery carries survives the run that takes it over (#20.4)', () => {
  it('a run that throws leaves the carry for the next: an item already withdrawn is neither called again nor reported refused', async () => {
    const store = createMemoryStore(systemClock);
    const [a, b] = fresh(2);
    const work = delivery([a!, b!]);
    // Run 1: a fails retryably (both its attempts), b is withdrawn.
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 2, action: 'WithdrawScriptReview' });
    const first = instanceOn(store);
    const run1 = await withdrawDelivery(work, first.scope(), first.instance);
    expect(run1.results.map((r) => [r.Success, r.Retryable])).toEqual([
      [false, true],
      [true, false],
    ]);
    // Run 2 takes the key over and throws before any call (no credentials in its context).
    const second = instanceOn(store);
    await expect(withdrawDelivery(work, second.scope(undefined, 30, {}), second.instance)).rejects.toThrow();
    // Run 3: a is withdrawn, b comes from the carry.
    const third = instanceOn(store);
    const run3 = await withdrawDelivery(work, third.scope(), third.instance);
    expect(run3.results.map((r) => [r.ScriptId, r.Success, r.Code])).toEqual([
      [a!.ScriptId, true, 'OK'],
      [b!.ScriptId, true, 'OK'],
    ]);
    expect(withdrawCalls(b!.ScriptId)).toBe(1);
  });

  it('a run whose outcome is never stored (the store fails after its work) leaves it too, once its claim lapses', async () => {
    const memory = createMemoryStore(systemClock);
    let failEnds = false;
    // The end of a run is the batch that replaces the delivery record: failed while `failEnds`, as a store that went away.
    const flaky = storeOf(async (ops) => {
      if (failEnds && ops.some((op) => op.op === 'replace')) throw new IdempotencyStoreUnavailableError('gone (test)');
      return memory.batch(ops);
    });
    const [a, b] = fresh(2);
    const work = delivery([a!, b!]);
    // Runs 1 and 2: a fails retryably, b is withdrawn by run 1; run 2's end is never stored.
    const failA = () => emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 2, action: 'WithdrawScriptReview' });
    failA();
    const first = instanceOn(flaky);
    await withdrawDelivery(work, first.scope(), first.instance);
    failEnds = true;
    failA();
    const second = instanceOn(flaky);
    const run2 = await withdrawDelivery(work, second.scope(undefined, 1), second.instance);
    expect(run2.results.map((r) => [r.Code, r.Retryable])).toEqual([
      ['InternalError', true],
      ['OK', false],
    ]);
    failEnds = false;
    await systemClock.sleep(1_050); // run 2's claim lapses with its 1 s invocation
    const third = instanceOn(flaky);
    const run3 = await withdrawDelivery(work, third.scope(), third.instance);
    expect(run3.results.map((r) => [r.Success, r.Code])).toEqual([
      [true, 'OK'],
      [true, 'OK'],
    ]);
    expect(withdrawCalls(b!.ScriptId)).toBe(1);
  });
});

it('a claim whose reply was lost does not answer the retry 409 (#20.5)', async () => {
  const memory = createMemoryStore(systemClock);
  let loseNext = true;
  // The store writes the claim, and the reply never arrives.
  const lossy = storeOf(async (ops) => {
    const answers = await memory.batch(ops);
    if (loseNext) {
      loseNext = false;
      throw new IdempotencyStoreUnavailableError('reply lost (test)');
    }
    return answers;
  });
  const [a] = fresh(1);
  const work = delivery([a!]);
  const first = instanceOn(lossy);
  await expect(withdrawDelivery(work, first.scope(), first.instance)).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
  // FC's retry comes a moment later, well inside the first invocation's 30 s.
  const second = instanceOn(lossy);
  const started = Date.now();
  const retry = await withdrawDelivery(work, second.scope(), second.instance);
  expect(retry.results[0]).toMatchObject({ Success: true, Code: 'OK' });
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(withdrawCalls(a!.ScriptId)).toBe(1);
});

it('keeps a store round trip before the answer: a slow store still gets the outcome, and the answer leaves in time (#20.6)', async () => {
  const memory = createMemoryStore(systemClock);
  const ROUND_TRIP_MS = 450;
  const slow = storeOf(async (ops) => {
    await systemClock.sleep(ROUND_TRIP_MS);
    return memory.batch(ops);
  });
  const [a] = fresh(1);
  const work = delivery([a!]);
  // OutboundBot never answers: the work runs to its end.
  emulator.injectFault({ kind: 'hang' }, { times: 20, action: 'WithdrawScriptReview' });
  const made = instanceOn(slow, { IDEMPOTENCY_TIMEOUT_MS: '500', OUTBOUNDBOT_READ_TIMEOUT_MS: '600', RETRY_MAX_ATTEMPTS: '10' });
  const scope = made.scope(undefined, 3);
  const { results } = await withdrawDelivery(work, scope, made.instance);
  const answeredMs = Date.now() - scope.startMs;
  expect(results[0]).toMatchObject({ Code: 'DeadlineExceeded', Retryable: true });
  // Before FC ends the invocation at 3 s, with room to return (the answer is due at 2.7 s).
  expect(answeredMs).toBeLessThan(scope.timeline.endMs - scope.startMs - 150);
  // The record says what the retry needs: the unanswered attempts, not a lapsed claim.
  expect(made.lines.filter((line) => line.includes('idempotency record not updated'))).toEqual([]);
  expect(await memory.read(`delivery:${work.key}`)).toMatchObject({ status: 'UNFINISHED' });
}, 10_000);
