import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import type { FcHttpResponse } from '../../lib/fc/http-trigger';
import { RetryableFailureError } from '../../lib/withdraw/event-path';
import type { BatchResult, ItemResult } from '../../lib/withdraw/results';
import { cloudEvent, httpEvent, mnsQueueEvent } from '../support/events';
import { contextFor, newRole, script, serviceFor, startTestEmulator, type RoleCredentials } from '../support/stack';

const INSTANCE = 'inst-0001';
let emulator: OutboundBotEmulator;
let role: RoleCredentials;

beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
});
afterAll(() => emulator.close());

let ids: string[];
beforeEach(() => {
  emulator.reset();
  ids = Array.from({ length: 4 }, () => randomUUID());
  emulator.addInstance(INSTANCE, [script(ids[0]!), script(ids[1]!, 'PUBLISHED_AND_EXAMINE_IN_PROGRESS'), script(ids[2]!, 'DRAFTED'), script(ids[3]!)]);
});

const post = (body: unknown) => Buffer.from(JSON.stringify(httpEvent({ body: JSON.stringify(body), contentType: 'application/json' })));
const bodyOf = (response: unknown) => JSON.parse((response as FcHttpResponse).body) as Record<string, any>;
const withdrawCalls = () => emulator.requests.filter((r) => r.action === 'WithdrawScriptReview').length;

describe('withdraw function: HTTP trigger against the emulator', () => {
  it('withdraws one script: 200, the API shape, the script back to DRAFTED, one log line', async () => {
    const { service, logs } = serviceFor(emulator);
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role, 30, 'req-ok'))) as FcHttpResponse;
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['x-fc-request-id']).toBe('req-ok');
    const body = bodyOf(response);
    expect(body).toMatchObject({ InstanceId: INSTANCE, ScriptId: ids[0], Success: true, HttpStatusCode: 200, Code: 'OK', Attempts: 1 });
    expect(body.RequestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(body.Script.Status).toBe('DRAFTED');
    expect(emulator.script(INSTANCE, ids[0]!)!.Status).toBe('DRAFTED');
    expect(emulator.withdrawals(INSTANCE, ids[0]!)).toBe(1);
    const lines = logs();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      requestId: 'req-ok',
      trigger: 'http',
      InstanceId: INSTANCE,
      ScriptId: ids[0],
      Success: true,
      Code: 'OK',
      HttpStatusCode: 200,
      upstreamRequestId: body.RequestId,
      Attempts: 1,
      coldStart: true,
    });
    expect(typeof lines[0]!.durationMs).toBe('number');
  });

  it('a PUBLISHED_AND_EXAMINE_IN_PROGRESS script goes back to PUBLISHED', async () => {
    const { service } = serviceFor(emulator);
    const body = bodyOf(await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[1] }), contextFor(role)));
    expect(body.Script.Status).toBe('PUBLISHED');
  });

  it('marks only the first invocation of an instance as a cold start', async () => {
    const { service, logs } = serviceFor(emulator);
    await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role));
    await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[1] }), contextFor(role));
    expect(logs().map((l) => l.coldStart)).toEqual([true, false]);
  });

  it('passes an upstream 404 through with its Code, and does not retry it', async () => {
    const { service } = serviceFor(emulator);
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: 'no-such-script' }), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(404);
    expect(bodyOf(response)).toMatchObject({ Success: false, Code: 'NotExist.Script', Attempts: 1 });
    expect(bodyOf(response).RequestId).toMatch(/^[0-9A-F-]{36}$/);
    const unknownInstance = (await service.handle(post({ InstanceId: 'no-such-instance', ScriptId: ids[0] }), contextFor(role))) as FcHttpResponse;
    expect(unknownInstance.statusCode).toBe(404);
    expect(bodyOf(unknownInstance).Code).toBe('NotExist.Instance');
    expect(withdrawCalls()).toBe(2);
  });

  it('a batch with a failure answers 207 with a result per item, in order', async () => {
    const { service, logs } = serviceFor(emulator);
    const items = [ids[0], 'missing-script', ids[2], ids[3]].map((ScriptId) => ({ InstanceId: INSTANCE, ScriptId }));
    const response = (await service.handle(post({ Items: items }), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(207);
    const body = bodyOf(response);
    expect(body.Success).toBe(false);
    expect(body.Results.map((r: ItemResult) => [r.ScriptId, r.Success, r.Code])).toEqual([
      [ids[0], true, 'OK'],
      ['missing-script', false, 'NotExist.Script'],
      [ids[2], false, 'OperationDenied.ScriptNotUnderReview'],
      [ids[3], true, 'OK'],
    ]);
    expect(logs()).toHaveLength(4);
    expect(emulator.script(INSTANCE, ids[2]!)!.Status).toBe('DRAFTED');
    expect(emulator.withdrawals(INSTANCE, ids[2]!)).toBe(0);
  });

  it('a batch that all succeeds answers 200', async () => {
    const { service } = serviceFor(emulator);
    const response = (await service.handle(post({ Items: [{ InstanceId: INSTANCE, ScriptId: ids[0] }, { InstanceId: INSTANCE, ScriptId: ids[1] }] }), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response).Success).toBe(true);
  });

  it('retries an upstream 500 and succeeds on the second attempt', async () => {
    const { service } = serviceFor(emulator);
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' });
    const body = bodyOf(await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role)));
    expect(body).toMatchObject({ Success: true, Attempts: 2 });
    expect(emulator.withdrawals(INSTANCE, ids[0]!)).toBe(1);
  });

  it('retries throttling and a connection reset', async () => {
    const { service } = serviceFor(emulator);
    emulator.injectFault({ kind: 'status', status: 400, code: 'Throttling.User' });
    emulator.injectFault({ kind: 'reset' });
    const body = bodyOf(await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role)));
    expect(body).toMatchObject({ Success: true, Attempts: 3 });
  });

  it('answers 502 keeping the upstream Code when the retries are exhausted', async () => {
    const { service, logs } = serviceFor(emulator, { RETRY_MAX_ATTEMPTS: '3' });
    emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' }, { times: 3 });
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(502);
    expect(bodyOf(response)).toMatchObject({ Success: false, Code: 'ServiceUnavailable', Attempts: 3, Retryable: true });
    expect(withdrawCalls()).toBe(3);
    expect(logs()[0]).toMatchObject({ level: 'error', Code: 'ServiceUnavailable', Attempts: 3 });
  });

  it('a 200 that says Success: false is a failure, reported as 502 with its Code and not retried', async () => {
    const { service } = serviceFor(emulator);
    emulator.injectFault({ kind: 'success-false' });
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(502);
    expect(bodyOf(response)).toMatchObject({ Success: false, Code: 'OperationFailed', Attempts: 1, Retryable: false });
  });

  it('a 200 with a body that is not JSON is retried', async () => {
    const { service } = serviceFor(emulator);
    emulator.injectFault({ kind: 'non-json' });
    const body = bodyOf(await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role)));
    expect(body).toMatchObject({ Success: true, Attempts: 2 });
  });

  it('answers 504 at the deadline when OutboundBot hangs, within the function timeout', async () => {
    const { service } = serviceFor(emulator);
    emulator.injectFault({ kind: 'hang' }, { times: 5 });
    const started = Date.now();
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role, 2))) as FcHttpResponse;
    const elapsedMs = Date.now() - started;
    expect(response.statusCode).toBe(504);
    expect(bodyOf(response)).toMatchObject({ Code: 'DeadlineExceeded', Success: false });
    expect(elapsedMs).toBeLessThan(2_000);
    expect(elapsedMs).toBeGreaterThanOrEqual(1_500);
  });

  it('refuses bad input with 400 naming the field, and makes no API call', async () => {
    const { service } = serviceFor(emulator);
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: '../../etc/passwd' }), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).Issues[0].Path).toBe('ScriptId');
    expect(emulator.requests).toHaveLength(0);
  });

  it('refuses unsigned HTTP when no WEBHOOK_SECRET is set and unsigned is not allowed', async () => {
    const { service } = serviceFor(emulator, { ALLOW_UNSIGNED_HTTP: 'false' });
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(401);
    expect(bodyOf(response).Code).toBe('InvalidSignature');
    expect(emulator.requests).toHaveLength(0);
  });

  it('answers 500 MissingCredentials with no role and no variables, and sends nothing', async () => {
    const { service } = serviceFor(emulator);
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor({}))) as FcHttpResponse;
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response).Code).toBe('MissingCredentials');
    expect(emulator.requests).toHaveLength(0);
  });

  it('falls back to the ALIBABA_CLOUD_* variables when the function has no role', async () => {
    const envRole = newRole();
    emulator.addCredential(envRole);
    const { service } = serviceFor(emulator, {
      ALIBABA_CLOUD_ACCESS_KEY_ID: envRole.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: envRole.accessKeySecret,
      ALIBABA_CLOUD_SECURITY_TOKEN: envRole.securityToken,
    });
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor({}))) as FcHttpResponse;
    expect(response.statusCode).toBe(200);
    expect(emulator.requests.at(-1)!.accessKeyId).toBe(envRole.accessKeyId);
  });

  it('answers 500 InvalidConfiguration naming the variable', async () => {
    const { service } = serviceFor(emulator, { OUTBOUNDBOT_PROTOCOL: 'ftp' });
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role))) as FcHttpResponse;
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response)).toMatchObject({ Code: 'InvalidConfiguration' });
    expect(bodyOf(response).Message).toContain('OUTBOUNDBOT_PROTOCOL');
    expect(emulator.requests).toHaveLength(0);
  });

  it('a wrong role secret is refused upstream (the emulator checks signatures) and not retried', async () => {
    const { service } = serviceFor(emulator);
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor({ ...role, accessKeySecret: 'wrong-secret-value' }))) as FcHttpResponse;
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toMatchObject({ Code: 'SignatureDoesNotMatch', Attempts: 1 });
    expect(emulator.script(INSTANCE, ids[0]!)!.Status).toBe('EXAMINE_IN_PROGRESS');
  });
});

describe('withdraw function: warm reuse and credentials', () => {
  it('reuses one keep-alive connection across warm invocations', async () => {
    const { service } = serviceFor(emulator);
    await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role));
    const before = emulator.connections;
    await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[1] }), contextFor(role));
    await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[3] }), contextFor(role));
    expect(emulator.connections).toBe(before);
  });

  it('signs with the new credentials as soon as FC rotates them; the expired token is never used again', async () => {
    const { service } = serviceFor(emulator);
    const expiring = newRole();
    emulator.addCredential({ ...expiring, expiresAtMs: Date.now() + 60_000 });
    await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(expiring));
    emulator.addCredential({ ...expiring, expiresAtMs: Date.now() - 1 }); // the old token expires
    const fresh = newRole();
    emulator.addCredential(fresh);
    const response = (await service.handle(post({ InstanceId: INSTANCE, ScriptId: ids[1] }), contextFor(fresh))) as FcHttpResponse;
    expect(response.statusCode).toBe(200);
    expect(emulator.requests.map((r) => r.accessKeyId)).toEqual([expiring.accessKeyId, fresh.accessKeyId]);
  });
});

describe('withdraw function: events', () => {
  const event = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('direct invoke returns the result object', async () => {
    const { service, logs } = serviceFor(emulator);
    const result = (await service.handle(event({ InstanceId: INSTANCE, ScriptId: ids[0] }), contextFor(role))) as ItemResult;
    expect(result).toMatchObject({ Success: true, ScriptId: ids[0] });
    expect(logs()[0]!.trigger).toBe('invoke');
  });

  it('an EventBridge array (MNS queue source): one result per event, a bad one reported on its own', async () => {
    const { service, logs } = serviceFor(emulator);
    const result = (await service.handle(
      event([mnsQueueEvent(JSON.stringify({ InstanceId: INSTANCE, ScriptId: ids[0] })), mnsQueueEvent('{oops'), cloudEvent({ InstanceId: INSTANCE, ScriptId: ids[1] })]),
      contextFor(role),
    )) as BatchResult;
    expect(result.Success).toBe(false);
    expect(result.Results.map((r) => [r.Success, r.Code])).toEqual([
      [true, 'OK'],
      [false, 'InvalidParameter'],
      [true, 'OK'],
    ]);
    expect(logs().filter((l) => l.trigger !== 'eventbridge')).toEqual([]);
  });

  it('a non-retryable failure is returned, not thrown (FC must not retry it)', async () => {
    const { service } = serviceFor(emulator);
    const result = (await service.handle(event(cloudEvent({ InstanceId: INSTANCE, ScriptId: 'missing' })), contextFor(role))) as ItemResult;
    expect(result).toMatchObject({ Success: false, Code: 'NotExist.Script', HttpStatusCode: 404, Retryable: false });
  });

  it('bad event input is returned as a 400 refusal and makes no call', async () => {
    const { service } = serviceFor(emulator);
    const result = (await service.handle(event({ InstanceId: INSTANCE }), contextFor(role))) as Record<string, unknown>;
    expect(result).toMatchObject({ Success: false, HttpStatusCode: 400, Code: 'InvalidParameter' });
    expect(emulator.requests).toHaveLength(0);
  });

  it('a retryable failure throws so FC retries; the redelivery does not withdraw what already succeeded', async () => {
    const { service } = serviceFor(emulator, { RETRY_MAX_ATTEMPTS: '2', BATCH_CONCURRENCY: '1' });
    const payload = event({ Items: [ids[0], ids[1]].map((ScriptId) => ({ InstanceId: INSTANCE, ScriptId })) });
    const context = contextFor(role, 30, 'async-req-1');
    // Concurrency 1: item 0 goes first and is answered normally; item 1 meets two 500s.
    emulator.injectFault({ kind: 'delay', ms: 0 });
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 2 });
    const thrown = await service.handle(payload, context).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(RetryableFailureError);
    const failed = (thrown as RetryableFailureError).result as BatchResult;
    expect(failed.Results.map((r) => [r.Success, r.Code])).toEqual([
      [true, 'OK'],
      [false, 'InternalError'],
    ]);

    // FC's async retry delivers the same event with the same requestId.
    emulator.reset();
    const redelivered = (await service.handle(payload, context)) as BatchResult;
    expect(redelivered.Success).toBe(true);
    expect(emulator.requests.map((r) => r.query.ScriptId)).toEqual([ids[1]]);
    expect(emulator.withdrawals(INSTANCE, ids[0]!)).toBe(1);
    expect(emulator.withdrawals(INSTANCE, ids[1]!)).toBe(1);
  });
});

describe('withdraw function: log level', () => {
  it('applies LOG_LEVEL from the first invocation on', async () => {
    const { service, lines } = serviceFor(emulator, { LOG_LEVEL: 'warn' });
    await service.handle(Buffer.from(JSON.stringify({ InstanceId: INSTANCE, ScriptId: ids[0] })), contextFor(role));
    await service.handle(Buffer.from(JSON.stringify({ InstanceId: INSTANCE, ScriptId: 'missing' })), contextFor(role));
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['warn']);
  });
});
