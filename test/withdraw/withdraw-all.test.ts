import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { MissingCredentialsError } from '../../lib/core/errors';
import { deliveryTimeline, type InvocationScope, type WithdrawInstance } from '../../lib/withdraw/scopes';
import { withdrawAll, type DeliveryMemory } from '../../lib/withdraw/withdraw-all';
import type { WithdrawalItem } from '../../lib/withdraw/withdraw-item';
import { startCallbackReceiver, type CallbackReceiver } from '../support/callback-receiver';
import { script, startTestEmulator, type RoleCredentials } from '../support/stack';
import { instanceFor } from './instance-for';

const INSTANCE = 'inst-withdraw-all';
const CALLBACK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let receiver: CallbackReceiver;
let ids: string[];

beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
  receiver = await startCallbackReceiver();
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});
beforeEach(() => {
  emulator.reset();
  receiver.deliveries.length = 0;
  ids = [randomUUID(), randomUUID()];
  emulator.addInstance(INSTANCE, ids.map((id) => script(id)));
});

const items = (...scriptIds: string[]) => scriptIds.map((ScriptId) => ({ InstanceId: INSTANCE, ScriptId }));
const withdrawCalls = () => emulator.requests.filter((r) => r.action === 'WithdrawScriptReview').map((r) => r.query.ScriptId);
/** One run of withdrawAll as a delivery makes it: its timeline from the scope, the memory an earlier run left. */
const all = (list: WithdrawalItem[], scope: InvocationScope, url: string | undefined, instance: WithdrawInstance, memory?: DeliveryMemory) =>
  withdrawAll(list, scope, deliveryTimeline(scope, instance.state.loadConfig(), url), url, instance, memory ? { memory } : undefined);
const withCallbacks = { CALLBACK_URL: '', CALLBACK_SECRET, CALLBACK_ALLOWED_HOSTS: '127.0.0.1' };

describe('withdrawAll', () => {
  it('answers one result per item, in input order, and logs one line per item', async () => {
    const { instance, scope, logs } = instanceFor(emulator, role);
    const { results } = await all(items(ids[0]!, 'missing-script', ids[1]!), scope('req-order'), undefined, instance);
    expect(results.map((r) => [r.ScriptId, r.Success, r.Code])).toEqual([
      [ids[0], true, 'OK'],
      ['missing-script', false, 'NotExist.Script'],
      [ids[1], true, 'OK'],
    ]);
    expect(logs().map((l) => [l.ScriptId, l.level, l.requestId, l.coldStart]).sort()).toEqual(
      [
        [ids[0], 'info', 'req-order', true],
        ['missing-script', 'warn', 'req-order', true],
        [ids[1], 'info', 'req-order', true],
      ].sort(),
    );
    expect(logs().filter((l) => typeof l.durationMs !== 'number')).toEqual([]);
  });

  it('recalls what an earlier run of the delivery settled, and redoes only what failed retryably', async () => {
    const { instance, scope, logs } = instanceFor(emulator, role, { BATCH_CONCURRENCY: '1' });
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 4, action: 'WithdrawScriptReview' });
    const first = await all(items('missing-script', ids[0]!), scope('req-retried'), undefined, instance);
    expect(first.results.map((r) => [r.Code, r.Retryable])).toEqual([
      ['InternalError', true],
      ['OK', false],
    ]);
    const again = await all(items('missing-script', ids[0]!), scope('req-retried'), undefined, instance, first.memory);
    expect(again.results.map((r) => [r.Success, r.Code])).toEqual([
      [false, 'NotExist.Script'],
      [true, 'OK'],
    ]);
    expect(withdrawCalls().filter((id) => id === ids[0])).toEqual([ids[0]]);
    expect(logs().filter((l) => l.fromMemory === true).map((l) => l.ScriptId)).toEqual([ids[0]]);
  });

  it('withdraws a script named twice in one batch once, and reports it for both entries', async () => {
    const { instance, scope } = instanceFor(emulator, role);
    const { results } = await all(items(ids[0]!, ids[1]!, ids[0]!), scope(), undefined, instance);
    expect(results.map((r) => [r.ScriptId, r.Success])).toEqual([
      [ids[0], true],
      [ids[1], true],
      [ids[0], true],
    ]);
    expect(withdrawCalls().filter((id) => id === ids[0])).toEqual([ids[0]]);
  });

  it('does not recall another invocation\'s withdrawal: the API refuses the second one', async () => {
    const { instance, scope } = instanceFor(emulator, role);
    await all(items(ids[0]!), scope(), undefined, instance);
    const {
      results: [second],
    } = await all(items(ids[0]!), scope(), undefined, instance);
    expect(second).toMatchObject({ Success: false, Code: 'OperationDenied.ScriptNotUnderReview' });
    expect(withdrawCalls()).toEqual([ids[0], ids[0]]);
  });

  it('calls each result back once with the invocation\'s requestId, and logs the delivery', async () => {
    const { instance, scope, logs } = instanceFor(emulator, role, { ...withCallbacks, CALLBACK_URL: `${receiver.origin}/hooks`, BATCH_CONCURRENCY: '1' });
    const url = `${receiver.origin}/hooks`;
    // The other item fails retryably, so the delivery is retried with what the first run settled.
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 4, action: 'WithdrawScriptReview' });
    const first = await all(items('missing-script', ids[0]!), scope('req-called-back'), url, instance);
    const result = first.results[1];
    expect(result!.Callback).toMatchObject({ Delivered: true, Attempts: 1 });
    expect(receiver.for(ids[0]!).map((d) => [d.path, d.body.InvocationRequestId, d.body.Success])).toEqual([['/hooks', 'req-called-back', true]]);
    expect(logs().find((l) => l.ScriptId === ids[0])).toMatchObject({ callbackDelivered: true });
    expect(first.memory).toBeDefined();
    await all(items('missing-script', ids[0]!), scope('req-called-back'), url, instance, first.memory);
    expect(receiver.for(ids[0]!)).toHaveLength(1);
  });

  it('leaves no memory when every result is final: nothing is left for a retry', async () => {
    const { instance, scope } = instanceFor(emulator, role);
    const { results, memory } = await all(items(ids[0]!, 'missing-script'), scope(), undefined, instance);
    expect(results.map((r) => r.Retryable)).toEqual([false, false]);
    expect(memory).toBeUndefined();
  });

  it('with a callback to send, ends the work early enough for a 504 to be called back before the deadline', async () => {
    const { instance, scope } = instanceFor(emulator, role, { ...withCallbacks, CALLBACK_URL: `${receiver.origin}/hooks`, CALLBACK_TIMEOUT_MS: '1000' });
    emulator.injectFault({ kind: 'hang' }, { times: 5 });
    const invocation = scope('req-late', 2);
    const {
      results: [result],
    } = await all(items(ids[0]!), invocation, `${receiver.origin}/hooks`, instance);
    expect(result).toMatchObject({ HttpStatusCode: 504, Code: 'DeadlineExceeded', Retryable: true, Callback: { Delivered: true } });
    expect(Date.now()).toBeLessThan(invocation.timeline.answerByMs);
    expect(receiver.for(ids[0]!).map((d) => d.body.Code)).toEqual(['DeadlineExceeded']);
  });

  it('a receiver that never answers costs no withdrawal: every item of a 20-item batch is withdrawn, then called back', async () => {
    // Accepts each connection and never answers: every callback attempt runs to its timeout.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hooks`;
    try {
      const scriptIds = Array.from({ length: 20 }, () => randomUUID());
      emulator.addInstance(INSTANCE, scriptIds.map((id) => script(id)));
      const { instance, scope } = instanceFor(emulator, role, { ...withCallbacks, CALLBACK_URL: url, CALLBACK_TIMEOUT_MS: '300', BATCH_CONCURRENCY: '8' });
      const invocation = scope('req-silent-receiver', 3);
      const { results } = await all(items(...scriptIds), invocation, url, instance);
      expect(results.filter((r) => !r.Success).map((r) => r.Code)).toEqual([]);
      expect(new Set(withdrawCalls())).toEqual(new Set(scriptIds));
      expect(new Set(results.map((r) => r.Callback?.Code))).toEqual(new Set(['CallbackTimeout']));
      expect(Date.now()).toBeLessThanOrEqual(invocation.timeline.answerByMs + 50);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('shares one upstream limit across the instance\'s concurrent invocations', async () => {
    const { instance, scope } = instanceFor(emulator, role, { BATCH_CONCURRENCY: '1' });
    emulator.setLatency(60);
    try {
      await Promise.all([all(items(ids[0]!), scope(), undefined, instance), all(items(ids[1]!), scope(), undefined, instance)]);
    } finally {
      emulator.setLatency(0);
    }
    const [first, second] = emulator.requests.filter((r) => r.action === 'WithdrawScriptReview').map((r) => r.atMs);
    expect(second! - first!).toBeGreaterThanOrEqual(50);
  });

  it('without credentials refuses before any call', async () => {
    const { instance, scope } = instanceFor(emulator, role);
    await expect(all(items(ids[0]!), scope(undefined, 30, {}), undefined, instance)).rejects.toBeInstanceOf(MissingCredentialsError);
    expect(emulator.requests).toHaveLength(0);
  });
});
