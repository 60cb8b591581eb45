
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { answerEntries, answerInvoke, eventOutcome, refusedEntry, RetryableFailureError } from '../../lib/withdraw/event-path';
import type { BatchResult, ItemResult } from '../../lib/withdraw/results';
import type { EventEntry } from '../../lib/withdraw/triggers';
import { useTestEmulator } from '../support/stack';
import { instanceFor } from './instance-for';

const INSTANCE = 'inst-event-path';
const env = useTestEmulator(INSTANCE);

const result = (ScriptId: string, outcome: 'ok' | 'refused' | 'retryable'): ItemResult => ({
  InstanceId: INSTANCE,
  ScriptId,
  Success: outcome === 'ok',
  HttpStatusCode: { ok: 200, refused: 404, retryable: 502 }[outcome],
  Code: { ok: 'OK', refused: 'NotExist.Script', retryable: 'InternalError' }[outcome],
  Message: '',
  Attempts: 1,
  Retryable: outcome === 'retryable',
});
const thrownBy = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
};
const bad = (Path: string) => new InvalidParameterError([{ Path, Message: 'is not valid JSON' }]);
const entryFor = (ScriptId: string): EventEntry => ({ item: { InstanceId: INSTANCE, ScriptId } });

describe('eventOutcome: what an event answers', () => {
  it('a single event returns its result, a failure included when a retry cannot help', () => {
    expect(eventOutcome([result('s-1', 'refused')], false)).toEqual(result('s-1', 'refused'));
  });

  it('a batch returns {Success, Results}', () => {
    expect(eventOutcome([result('s-1', 'ok'), result('s-2', 'refused')], true)).toEqual({ Success: false, Results: [result('s-1', 'ok'), result('s-2', 'refused')] });
    expect(eventOutcome([result('s-1', 'ok')], true)).toEqual({ Success: true, Results: [result('s-1', 'ok')] });
  });

  it('throws RetryableFailureError, carrying the outcome and naming the retryable items, only when a retry could help', () => {
    const thrown = thrownBy(() => eventOutcome([result('s-1', 'ok'), result('s-2', 'retryable'), result('s-3', 'refused')], true));
    expect(thrown).toBeInstanceOf(RetryableFailureError);
    const error = thrown as RetryableFailureError;
    expect(error.message).toBe('1 withdrawal(s) failed retryably: s-2 InternalError');
    expect((error.result as BatchResult).Results.map((r) => r.ScriptId)).toEqual(['s-1', 's-2', 's-3']);
    expect(thrownBy(() => eventOutcome([result('s-4', 'retryable')], false))).toMatchObject({ name: 'RetryableFailureError', result: result('s-4', 'retryable') });
  });
});

describe('refusedEntry', () => {
  it('is a 400 result without env.ids, never retried, after one `request refused` line', () => {
    const { scope, logs } = instanceFor(env.emulator, env.role);
    const invocation = scope('req-refused');
    expect(refusedEntry(bad('data.messageBody'), { error: bad('data.messageBody') }, invocation, invocation.startMs + 12)).toEqual({
      InstanceId: '',
      ScriptId: '',
      Success: false,
      HttpStatusCode: 400,
      Code: 'InvalidParameter',
      Message: 'data.messageBody: is not valid JSON',
      Attempts: 0,
      Retryable: false,
    });
    expect(logs()).toEqual([expect.objectContaining({ level: 'warn', message: 'request refused', requestId: 'req-refused', Code: 'InvalidParameter', durationMs: 12 })]);
  });
});

describe('answerEntries against the env.emulator', () => {
  it('withdraws the valid entries and puts each refusal in its place', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role);
    const outcome = (await answerEntries([entryFor(env.ids[0]!), { error: bad('[1]') }, entryFor(env.ids[1]!)], true, scope(), instance)) as BatchResult;
    expect(outcome.Results.map((r) => [r.ScriptId, r.Code])).toEqual([
      [env.ids[0], 'OK'],
      ['', 'InvalidParameter'],
      [env.ids[1], 'OK'],
    ]);
    expect(env.emulator.requests.map((r) => r.query.ScriptId).sort()).toEqual([env.ids[0], env.ids[1]].sort());
  });

  it('with nothing valid, makes no call and needs no credentials', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role);
    const outcome = await answerEntries([{ error: bad('Message') }], false, scope(undefined, 30, {}), instance);
    expect(outcome).toMatchObject({ Success: false, HttpStatusCode: 400, Code: 'InvalidParameter' });
    expect(env.emulator.requests).toHaveLength(0);
  });
});

describe('answerEntries: a final refusal never hides an entry that may pass later', () => {
  const reused = (ScriptId: string): EventEntry => ({ item: { InstanceId: INSTANCE, ScriptId }, key: 'mns:reused-key' });

  it('a 422 key reuse beside a retryable failure: thrown for FC to retry, the 422 kept in its place', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role, { RETRY_MAX_ATTEMPTS: '1' });
    await answerEntries([reused(env.ids[0]!)], false, scope(), instance);
    env.emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 1 });
    const thrown = await answerEntries([reused(env.ids[1]!), entryFor(env.ids[1]!)], true, scope(), instance).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(RetryableFailureError);
    const results = ((thrown as RetryableFailureError).result as BatchResult).Results;
    expect(results.map((r) => [r.HttpStatusCode, r.Code, r.Retryable])).toEqual([
      [422, 'IdempotencyKeyMismatch', false],
      [502, 'InternalError', true],
    ]);
  });

  it('final refusals alone are returned, not thrown', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role);
    await answerEntries([reused(env.ids[0]!)], false, scope(), instance);
    const outcome = (await answerEntries([reused(env.ids[1]!), { error: bad('[1]') }], true, scope(), instance)) as BatchResult;
    expect(outcome.Results.map((r) => [r.ScriptId, r.Code])).toEqual([
      [env.ids[1], 'IdempotencyKeyMismatch'],
      ['', 'InvalidParameter'],
    ]);
  });
});

describe('Base64 message bodies', () => {
  it('are withdrawn, and said once per instance, not once per message', async () => {
    const { instance, scope, logs } = instanceFor(env.emulator, env.role);
    const decoded = (ScriptId: string): EventEntry => ({ item: { InstanceId: INSTANCE, ScriptId }, base64: true });
    await answerEntries([decoded(env.ids[0]!)], false, scope(), instance);
    await answerEntries([decoded(env.ids[1]!)], false, scope(), instance);
    expect(env.emulator.requests.map((r) => r.query.ScriptId)).toEqual([env.ids[0], env.ids[1]]);
    expect(logs().filter((l) => String(l.message).includes('Base64'))).toEqual([
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('IsBase64Decode: true') }),
    ]);
  });
});

describe('ALLOWED_INSTANCE_IDS on events', () => {
  it('an entry for another instance is a 403 InstanceNotAllowed in its place; the allowed one is withdrawn', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role, { ALLOWED_INSTANCE_IDS: `other-instance, ${INSTANCE}` });
    const foreign: EventEntry = { item: { InstanceId: 'foreign-instance', ScriptId: env.ids[1]! } };
    const outcome = (await answerEntries([foreign, entryFor(env.ids[0]!)], true, scope(), instance)) as BatchResult;
    expect(outcome.Results.map((r) => [r.InstanceId, r.HttpStatusCode, r.Code])).toEqual([
      ['foreign-instance', 403, 'InstanceNotAllowed'],
      [INSTANCE, 200, 'OK'],
    ]);
    expect(env.emulator.requests.map((r) => r.query.InstanceId)).toEqual([INSTANCE]);
  });

  it('an invocation naming one foreign instance in a batch is refused whole, before any call', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role, { ALLOWED_INSTANCE_IDS: INSTANCE });
    const request = { items: [{ InstanceId: INSTANCE, ScriptId: env.ids[0]! }, { InstanceId: 'foreign-instance', ScriptId: env.ids[1]! }], batch: true };
    await expect(answerInvoke(request, scope(), instance)).rejects.toMatchObject({ code: 'InstanceNotAllowed', statusCode: 403, retryable: false });
    expect(env.emulator.requests).toHaveLength(0);
  });
});

describe('answerInvoke against the env.emulator', () => {
  it('withdraws a batch and answers it as one', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role);
    const request = { items: env.ids.map((ScriptId) => ({ InstanceId: INSTANCE, ScriptId })), batch: true };
    expect(await answerInvoke(request, scope(), instance)).toMatchObject({ Success: true, Results: [{ ScriptId: env.ids[0] }, { ScriptId: env.ids[1] }] });
  });

  it('refuses a CallbackUrl outside CALLBACK_ALLOWED_HOSTS before anything is withdrawn', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role);
    const request = { items: [{ InstanceId: INSTANCE, ScriptId: env.ids[0]! }], batch: false, callbackUrl: 'https://elsewhere.example.com/hook' };
    await expect(answerInvoke(request, scope(), instance)).rejects.toBeInstanceOf(InvalidParameterError);
    expect(env.emulator.requests).toHaveLength(0);
  });
});
