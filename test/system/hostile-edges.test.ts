// The edges a hostile sender or a slow neighbour opens (issue #18), each held by the built
// bundles in processes of their own, against the emulator: what a signed request may name, a
// callback receiver that never answers, the instance allow-list, Base64 MNS bodies, an event
// array with a retryable entry, an oversized event, and the smaller promises.
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { signWebhook } from '../../lib/webhooks/verify';
import { httpEvent, mnsQueueEvent } from '../support/events';
import { startInstance, type Instance, type InstanceAnswer } from '../support/instances';
import { buildScript } from '../support/local-stack';
import { redisAvailable, startRedis, type RedisServer } from '../support/redis-server';
import { script, startTestEmulator, type RoleCredentials } from '../support/stack';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const ALLOWED = 'edges-allowed';
let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let silent: http.Server;
let silentUrl: string;
const started: Instance[] = [];

beforeAll(async () => {
  await (await buildScript()).buildFunctions();
  ({ emulator, role } = await startTestEmulator());
  // Accepts every connection and never answers.
  silent = http.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hooks/cap-token-123?key=k`;
}, 60_000);
afterAll(async () => {
  for (const instance of started) instance.kill();
  silent.closeAllConnections();
  await new Promise((resolve) => silent.close(resolve));
  await emulator.close();
});

const baseEnv = (): Record<string, string> => ({
  OUTBOUNDBOT_ENDPOINT: emulator.endpoint,
  OUTBOUNDBOT_PROTOCOL: 'http',
  RETRY_MAX_ATTEMPTS: '2',
  RETRY_BASE_DELAY_MS: '1',
  RETRY_MAX_DELAY_MS: '5',
  WEBHOOK_SECRET: SECRET,
  ALLOWED_INSTANCE_IDS: `other-allowed ${ALLOWED}`,
});
async function instance(env: Record<string, string> = {}, bundle: 'withdraw' | 'cleanup' = 'withdraw'): Promise<Instance> {
  const started_ = await startInstance({ ...baseEnv(), ...env }, bundle);
  started.push(started_);
  return started_;
}
const context = (timeoutSeconds = 10, requestId: string = randomUUID()) => ({ requestId, credentials: role, function: { name: 'withdraw', timeout: timeoutSeconds } });

function freshScripts(count: number, instanceId = ALLOWED): string[] {
  const ids = Array.from({ length: count }, () => randomUUID());
  emulator.addInstance(instanceId, ids.map((id) => script(id)));
  return ids;
}
const withdrawCalls = (ids: readonly string[]) => emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && ids.includes(r.query.ScriptId!)).length;

function signed(body: string, query: Record<string, string> = {}): Record<string, unknown> {
  const webhookId = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'webhook-id': webhookId, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(SECRET, webhookId, ts, body) };
  return httpEvent({ body, contentType: 'application/json', headers, query });
}
function httpAnswer(answer: InstanceAnswer) {
  const response = answer.value as { statusCode: number; headers: Record<string, string>; body: string };
  return { status: response.statusCode, headers: response.headers, body: JSON.parse(response.body) as Record<string, any> };
}

describe('1. a signed request withdraws only what its signed bytes name', () => {
  it('a captured empty-body request replayed with ids in the query: 400 naming each, no call', async () => {
    const withdraw = await instance();
    const [victim] = freshScripts(1);
    const answer = httpAnswer(await withdraw.invoke(signed('', { InstanceId: ALLOWED, ScriptId: victim!, CallbackUrl: 'https://attacker.example/x' }), context()));
    expect(answer.status).toBe(400);
    expect(answer.body.Issues.map((issue: { Path: string }) => issue.Path)).toEqual(['InstanceId', 'ScriptId', 'CallbackUrl']);
    expect(withdrawCalls([victim!])).toBe(0);
  });

  it('a signed body with a query naming another script: 400, neither withdrawn', async () => {
    const withdraw = await instance();
    const [asked, other] = freshScripts(2);
    const answer = httpAnswer(await withdraw.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: asked }), { ScriptId: other! }), context()));
    expect(answer).toMatchObject({ status: 400, body: { Code: 'InvalidParameter', Issues: [{ Path: 'ScriptId' }] } });
    expect(withdrawCalls([asked!, other!])).toBe(0);
  });
});

describe('2. a callback receiver that never answers costs no withdrawal', () => {
  it('a 20-item batch: all 20 withdrawn, each callback timed out on its own, answered before the deadline', async () => {
    // Four attempts of 300 ms per callback: held in 8 upstream slots, 20 items would need three rounds of 1.2 s.
    const withdraw = await instance({ CALLBACK_URL: silentUrl, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_TIMEOUT_MS: '300', RETRY_MAX_ATTEMPTS: '4' });
    const ids = freshScripts(20);
    const startMs = Date.now();
    const answer = httpAnswer(await withdraw.invoke(signed(JSON.stringify({ Items: ids.map((ScriptId) => ({ InstanceId: ALLOWED, ScriptId })) })), context(3)));
    expect(Date.now() - startMs).toBeLessThan(3_000);
    expect(answer.status).toBe(200);
    expect(answer.body.Results.filter((r: { Success: boolean }) => !r.Success)).toEqual([]);
    expect(new Set(answer.body.Results.map((r: { Callback: { Code: string } }) => r.Callback.Code))).toEqual(new Set(['CallbackTimeout']));
    expect(withdrawCalls(ids)).toBe(20);
  });
});

describe('3. ALLOWED_INSTANCE_IDS', () => {
  it('HTTP: another instance is 403 InstanceNotAllowed before any call; an allowed one is withdrawn', async () => {
    const withdraw = await instance();
    const [foreign] = freshScripts(1, 'edges-foreign');
    const refused = httpAnswer(await withdraw.invoke(signed(JSON.stringify({ InstanceId: 'edges-foreign', ScriptId: foreign })), context()));
    expect(refused).toMatchObject({ status: 403, body: { Code: 'InstanceNotAllowed' } });
    const [mine] = freshScripts(1);
    expect(httpAnswer(await withdraw.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: mine })), context())).status).toBe(200);
    expect(withdrawCalls([foreign!, mine!])).toBe(1);
  });

  it('direct invoke and EventBridge: 403 results, never retried, no call', async () => {
    const withdraw = await instance();
    const [foreign] = freshScripts(1, 'edges-foreign');
    const item = { InstanceId: 'edges-foreign', ScriptId: foreign };
    expect((await withdraw.invoke(item, context())).value).toMatchObject({ HttpStatusCode: 403, Code: 'InstanceNotAllowed' });
    expect((await withdraw.invoke(mnsQueueEvent(JSON.stringify(item)), context())).value).toMatchObject({ HttpStatusCode: 403, Code: 'InstanceNotAllowed', Retryable: false });
    expect(withdrawCalls([foreign!])).toBe(0);
  });

  it('the cleanup refuses another instance before listing it', async () => {
    const cleanup = await instance({}, 'cleanup');
    freshScripts(1, 'edges-foreign');
    const before = emulator.requests.length;
    const timer = { triggerTime: new Date().toISOString(), triggerName: 'nightly', payload: JSON.stringify({ InstanceId: 'edges-foreign', OlderThanMinutes: 1 }) };
    expect((await cleanup.invoke(timer, context())).value).toMatchObject({ HttpStatusCode: 403, Code: 'InstanceNotAllowed' });
    expect(emulator.requests.length).toBe(before);
  });

  it('unset in a deployed function: one warning at start, naming the variable', async () => {
    const withdraw = await instance({ ALLOWED_INSTANCE_IDS: '', FC_FUNCTION_NAME: 'withdraw-script-review-withdraw' });
    const [id] = freshScripts(1);
    await withdraw.invoke({ InstanceId: ALLOWED, ScriptId: id }, context());
    await withdraw.invoke({ InstanceId: ALLOWED, ScriptId: id }, context());
    expect(withdraw.logs().filter((line) => line.variable === 'ALLOWED_INSTANCE_IDS')).toEqual([expect.objectContaining({ level: 'warn' })]);
  });
});

describe('4. an MNS body Base64-encoded by the sending SDK', () => {
  it('is decoded and withdrawn, not answered 400 and lost', async () => {
    const withdraw = await instance();
    const [id] = freshScripts(1);
    const body = Buffer.from(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })).toString('base64');
    expect((await withdraw.invoke(mnsQueueEvent(body), context())).value).toMatchObject({ Success: true, ScriptId: id });
    expect(withdrawCalls([id!])).toBe(1);
  });
});

describe('5. an event array with a final refusal and a retryable failure', () => {
  it('throws for FC to retry, and the retry withdraws the retryable one while the refusal stays final', async () => {
    const withdraw = await instance({ RETRY_MAX_ATTEMPTS: '1' });
    const [id] = freshScripts(1);
    const requestId = randomUUID();
    const foreign = mnsQueueEvent(JSON.stringify({ InstanceId: 'edges-foreign', ScriptId: id }));
    const mine = mnsQueueEvent(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id }));
    (foreign.data as Record<string, unknown>).messageId = `mns-${randomUUID()}`;
    (mine.data as Record<string, unknown>).messageId = `mns-${randomUUID()}`;
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 1, action: 'WithdrawScriptReview' });
    const first = await withdraw.invoke([foreign, mine], context(10, requestId));
    expect(first.error).toMatchObject({ name: 'RetryableFailureError' });
    const retry = await withdraw.invoke([foreign, mine], context(10, requestId));
    expect((retry.value as { Results: unknown[] }).Results).toMatchObject([{ Code: 'InstanceNotAllowed' }, { Success: true, ScriptId: id }]);
  });
});

describe('6. an oversized event', () => {
  it('30 MB: answered 413 as an HTTP response, and the peak RSS barely moves (it was +61 MB)', async () => {
    const child = fork(path.join(__dirname, '../support/oversized-child.cjs'), ['30'], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const report = await new Promise<{ answer?: { statusCode: number; body: string }; growthMb?: number; error?: string }>((resolve) => child.once('message', resolve));
    child.kill();
    expect(report.error).toBeUndefined();
    expect(report.answer!.statusCode).toBe(413);
    expect(JSON.parse(report.answer!.body)).toMatchObject({ Code: 'PayloadTooLarge' });
    expect(report.growthMb).toBeLessThan(8);
  }, 30_000);
});

describe('7. the smaller promises', () => {
  it('the answer reports the callback as scheme://host only: its path and query may be a capability', async () => {
    const withdraw = await instance({ CALLBACK_URL: silentUrl, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_TIMEOUT_MS: '100' });
    const [id] = freshScripts(1);
    const answer = httpAnswer(await withdraw.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), context(3)));
    expect(answer.body.Callback.Url).toBe(new URL(silentUrl).origin);
    expect(JSON.stringify(answer.body) + withdraw.output()).not.toContain('cap-token-123');
  });

  it('IDEMPOTENCY_TTL_SECONDS below the signature window is refused, naming the variable', async () => {
    const withdraw = await instance({ IDEMPOTENCY_TTL_SECONDS: '300' });
    const [id] = freshScripts(1);
    const answer = httpAnswer(await withdraw.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), context()));
    expect(answer).toMatchObject({ status: 500, body: { Code: 'InvalidConfiguration', Message: 'IDEMPOTENCY_TTL_SECONDS: must be at least 600' } });
    expect(withdrawCalls([id!])).toBe(0);
  });

  it('an FC destination envelope is recognised: the parked request is withdrawn under its original key, once', async () => {
    const withdraw = await instance({ RETRY_MAX_ATTEMPTS: '1' });
    const [id] = freshScripts(1);
    const requestId = randomUUID();
    const item = { InstanceId: ALLOWED, ScriptId: id };
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 1, action: 'WithdrawScriptReview' });
    expect((await withdraw.invoke(item, context(10, requestId))).error).toMatchObject({ name: 'RetryableFailureError' });
    const envelope = {
      timestamp: Date.now(),
      requestContext: { requestId, functionArn: 'acs:fc:cn-shanghai:123:functions/withdraw-script-review-withdraw', condition: 'UnhandledInvocationError', approximateInvokeCount: 3 },
      requestPayload: JSON.stringify(item),
      responseContext: { statusCode: 200, functionError: 'RetryableFailureError' },
      responsePayload: '',
    };
    expect((await withdraw.invoke(envelope, context())).value).toMatchObject({ Success: true, ScriptId: id });
    expect((await withdraw.invoke(envelope, context())).value).toMatchObject({ Success: true, ScriptId: id });
    expect(emulator.withdrawals(ALLOWED, id!)).toBe(1);
    expect(withdraw.logs().filter((line) => line.ScriptId === id && line.trigger === 'destination').map((line) => line.fromMemory ?? false)).toEqual([false, true]);
  });

  describe.runIf(redisAvailable)('with a shared store', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedis({});
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('a per-item 409 (the script is being withdrawn elsewhere) carries retry-after', async () => {
      const [a, b] = await Promise.all([instance({ IDEMPOTENCY_REDIS_URL: redis.url }), instance({ IDEMPOTENCY_REDIS_URL: redis.url })]);
      const [id] = freshScripts(1);
      emulator.injectFault({ kind: 'hang' }, { times: 1, action: 'WithdrawScriptReview' });
      const first = a.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), context(4));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = httpAnswer(await b.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), context(1)));
      expect(second).toMatchObject({ status: 409, body: { Code: 'RequestInProgress' } });
      expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      await first;
    }, 15_000);
  });
});
