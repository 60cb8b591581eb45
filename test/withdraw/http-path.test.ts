import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import type { FcHttpEvent } from '../../lib/fc/events';
import { parseWithdrawConfig } from '../../lib/runtime/config';
import { InvalidSignatureError } from '../../lib/webhooks/errors';
import { signWebhook } from '../../lib/webhooks/verify';
import { answerHttp, authenticate, httpAnswer } from '../../lib/withdraw/http-path';
import type { ItemResult } from '../../lib/withdraw/results';
import { httpEvent } from '../support/events';
import { useTestEmulator } from '../support/stack';
import { instanceFor } from './instance-for';

const INSTANCE = 'inst-http-path';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const env = useTestEmulator(INSTANCE);

function signed(body: string, id = `msg_${randomUUID()}`): FcHttpEvent {
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(SECRET, id, ts, body) };
  return httpEvent({ body, contentType: 'application/json', headers }) as unknown as FcHttpEvent;
}
const unsigned = (body: string) => httpEvent({ body, contentType: 'application/json' }) as unknown as FcHttpEvent;
const itemBody = (i = 0, extra: Record<string, unknown> = {}) => JSON.stringify({ InstanceId: INSTANCE, ScriptId: env.ids[i], ...extra });
const withdrawCalls = () => env.emulator.requests.filter((r) => r.action === 'WithdrawScriptReview').length;
const result = (ScriptId: string, Success: boolean, HttpStatusCode = Success ? 200 : 404): ItemResult => ({
  InstanceId: INSTANCE,
  ScriptId,
  Success,
  HttpStatusCode,
  Code: Success ? 'OK' : 'NotExist.Script',
  Message: '',
  Attempts: 1,
  Retryable: false,
});

describe('authenticate: who may call over HTTP', () => {
  const request = { method: 'POST', headers: {}, query: {}, rawBody: Buffer.from('{}') };

  it('refuses unsigned HTTP when WEBHOOK_SECRET is not set and ALLOW_UNSIGNED_HTTP is not true', () => {
    expect(() => authenticate(request, parseWithdrawConfig({}), Date.now)).toThrow(InvalidSignatureError);
  });

  it('lets unsigned HTTP through, with no webhook-id, when ALLOW_UNSIGNED_HTTP=true', () => {
    expect(authenticate(request, parseWithdrawConfig({ ALLOW_UNSIGNED_HTTP: 'true' }), Date.now)).toBeUndefined();
  });

  it('with WEBHOOK_SECRET set, requires the signature even when unsigned HTTP is allowed', () => {
    expect(() => authenticate(request, parseWithdrawConfig({ WEBHOOK_SECRET: SECRET, ALLOW_UNSIGNED_HTTP: 'true' }), Date.now)).toThrow(InvalidSignatureError);
  });
});

describe('httpAnswer: the response for the results', () => {
  it('a single item answers with its own status and the result itself', () => {
    const response = httpAnswer([result('s-1', false)], false, 'req-1');
    expect(response).toMatchObject({ statusCode: 404, headers: { 'content-type': 'application/json', 'x-fc-request-id': 'req-1' }, isBase64Encoded: false });
    expect(JSON.parse(response.body)).toEqual(result('s-1', false));
  });

  it('a batch answers 200 when every item succeeded, else 207, with {Success, Results}', () => {
    const ok = httpAnswer([result('s-1', true), result('s-2', true)], true, 'req-2');
    expect([ok.statusCode, JSON.parse(ok.body).Success]).toEqual([200, true]);
    const mixed = httpAnswer([result('s-1', true), result('s-2', false)], true, 'req-3');
    expect(mixed.statusCode).toBe(207);
    expect(JSON.parse(mixed.body)).toEqual({ Success: false, Results: [result('s-1', true), result('s-2', false)] });
  });

  it('a batch of one is still answered as a batch', () => {
    expect(JSON.parse(httpAnswer([result('s-1', true)], true, 'req-4').body)).toEqual({ Success: true, Results: [result('s-1', true)] });
  });
});

describe('answerHttp against the env.emulator', () => {
  it('a replayed webhook-id gets the first answer, marked replayed, under its own request id', async () => {
    const { instance, scope, logs } = instanceFor(env.emulator, env.role, { WEBHOOK_SECRET: SECRET });
    const event = signed(itemBody());
    const first = await answerHttp(event, scope('req-first'), instance);
    const replay = await answerHttp(event, scope('req-replay'), instance);
    expect(first.headers['webhook-replayed']).toBeUndefined();
    expect(replay.headers).toMatchObject({ 'webhook-replayed': 'true', 'x-fc-request-id': 'req-replay' });
    expect(replay.body).toBe(first.body);
    expect(withdrawCalls()).toBe(1);
    expect(logs().filter((l) => l.message === 'webhook replay answered from the idempotency store').map((l) => l.requestId)).toEqual(['req-replay']);
  });

  it('a request refused before any work is forgotten: corrected, it may be resent under the same id', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role, { WEBHOOK_SECRET: SECRET });
    const id = `msg_${randomUUID()}`;
    await expect(answerHttp(signed(JSON.stringify({ InstanceId: INSTANCE }), id), scope(), instance)).rejects.toBeInstanceOf(InvalidParameterError);
    const corrected = await answerHttp(signed(itemBody(), id), scope(), instance);
    expect(corrected.statusCode).toBe(200);
    expect(corrected.headers['webhook-replayed']).toBeUndefined();
    expect(withdrawCalls()).toBe(1);
  });

  it('a CallbackUrl outside CALLBACK_ALLOWED_HOSTS is refused before anything is withdrawn', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role, { ALLOW_UNSIGNED_HTTP: 'true' });
    const refused = answerHttp(unsigned(itemBody(0, { CallbackUrl: 'https://elsewhere.example.com/hook' })), scope(), instance);
    await expect(refused).rejects.toMatchObject({ code: 'InvalidParameter', issues: [{ Path: 'CallbackUrl', Message: 'host is not in CALLBACK_ALLOWED_HOSTS' }] });
    expect(env.emulator.requests).toHaveLength(0);
  });

  it('an unsigned request, where allowed, is answered without a replay memory; a script named twice is withdrawn once', async () => {
    const { instance, scope } = instanceFor(env.emulator, env.role, { ALLOW_UNSIGNED_HTTP: 'true' });
    const event = unsigned(JSON.stringify({ Items: [{ InstanceId: INSTANCE, ScriptId: env.ids[0] }, { InstanceId: INSTANCE, ScriptId: env.ids[0] }] }));
    const response = await answerHttp(event, scope(), instance);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).Results.map((r: ItemResult) => r.Code)).toEqual(['OK', 'OK']);
    const again = await answerHttp(event, scope(), instance);
    expect(again.headers['webhook-replayed']).toBeUndefined();
    expect(JSON.parse(again.body).Results.map((r: ItemResult) => r.Code)).toEqual(['OperationDenied.ScriptNotUnderReview', 'OperationDenied.ScriptNotUnderReview']);
    expect(withdrawCalls()).toBe(2);
  });
});
