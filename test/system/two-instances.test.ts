// Exactly once across FC instances (issue #12, docs/DESIGN.md "Exactly once"): the built
// withdraw bundle in two processes, one OutboundBot emulator, one real redis-server. Every
// trigger is at-least-once and FC runs one request per instance, so a duplicate always lands
// on another process: only the shared store can keep the promise.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { signWebhook } from '../../lib/webhooks/verify';
import { cloudEvent, httpEvent, mnsQueueEvent } from '../support/events';
import { startInstance, type Instance, type InstanceAnswer } from '../support/instances';
import { buildScript } from '../support/local-stack';
import { redisAvailable, startRedis, freePort, type RedisServer } from '../support/redis-server';
import { script, startTestEmulator, type RoleCredentials } from '../support/stack';

const INSTANCE = 'two-instances';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const PASSWORD = `pw-${randomBytes(9).toString('hex')}`;
let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let redis: RedisServer;
let a: Instance;
let b: Instance;

const envFor = (redisUrl: string): Record<string, string> => ({
  OUTBOUNDBOT_ENDPOINT: emulator.endpoint,
  OUTBOUNDBOT_PROTOCOL: 'http',
  OUTBOUNDBOT_READ_TIMEOUT_MS: '1500',
  RETRY_MAX_ATTEMPTS: '2',
  RETRY_BASE_DELAY_MS: '1',
  RETRY_MAX_DELAY_MS: '5',
  WEBHOOK_SECRET: SECRET,
  IDEMPOTENCY_REDIS_URL: redisUrl,
  IDEMPOTENCY_TIMEOUT_MS: '300',
});

beforeAll(async () => {
  if (!redisAvailable) return;
  await (await buildScript()).buildFunctions();
  ({ emulator, role } = await startTestEmulator());
  redis = await startRedis({ password: PASSWORD });
  [a, b] = await Promise.all([startInstance(envFor(redis.url)), startInstance(envFor(redis.url))]);
}, 60_000);
afterAll(async () => {
  a?.kill();
  b?.kill();
  await redis?.stop();
  await emulator?.close();
});

/** A fresh script under review, so each case counts only its own calls. */
function freshScript(): string {
  const id = randomUUID();
  emulator.addInstance(`${INSTANCE}-${id}`, [script(id)]);
  return id;
}
const itemOf = (id: string) => ({ InstanceId: `${INSTANCE}-${id}`, ScriptId: id });
const withdrawCalls = (id: string) => emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.ScriptId === id).length;
const context = (requestId: string = randomUUID(), timeoutSeconds = 10) => ({ requestId, credentials: role, function: { name: 'withdraw', timeout: timeoutSeconds } });

function signedPost(body: string, webhookId = `msg_${randomUUID()}`): Record<string, unknown> {
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'webhook-id': webhookId, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(SECRET, webhookId, ts, body) };
  return httpEvent({ body, contentType: 'application/json', headers });
}
const httpAnswer = (answer: InstanceAnswer) => {
  const response = answer.value as { statusCode: number; headers: Record<string, string>; body: string };
  return { status: response.statusCode, headers: response.headers, body: JSON.parse(response.body) as Record<string, unknown> };
};

describe.runIf(redisAvailable)('two instances, one store', () => {
  it('the same signed webhook on both at once: one withdrawal, both answered 200', async () => {
    const id = freshScript();
    emulator.setLatency(300);
    try {
      const event = signedPost(JSON.stringify(itemOf(id)));
      const answers = (await Promise.all([a.invoke(event, context()), b.invoke(event, context())])).map(httpAnswer);
      expect(answers.map((x) => [x.status, x.body.Success])).toEqual([
        [200, true],
        [200, true],
      ]);
      expect(answers.filter((x) => x.headers['webhook-replayed'] === 'true')).toHaveLength(1);
      expect(withdrawCalls(id)).toBe(1);
    } finally {
      emulator.setLatency(0);
    }
  });

  it('the same webhook while the first is still at work past the wait: 409 RequestInProgress with retry-after', async () => {
    const id = freshScript();
    emulator.injectFault({ kind: 'hang' }, { times: 2, action: 'WithdrawScriptReview' });
    const event = signedPost(JSON.stringify(itemOf(id)));
    const first = a.invoke(event, context(randomUUID(), 5));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = httpAnswer(await b.invoke(event, context(randomUUID(), 1)));
    expect(second).toMatchObject({ status: 409, body: { Code: 'RequestInProgress' } });
    expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(2);
    // Both calls are the first instance's two hung attempts; the second instance sent none.
    expect(httpAnswer(await first).status).toBe(502);
    expect(withdrawCalls(id)).toBe(2);
  }, 15_000);

  it('the sender retries on the other instance after success: the stored answer, no call', async () => {
    const id = freshScript();
    const event = signedPost(JSON.stringify(itemOf(id)));
    const first = httpAnswer(await a.invoke(event, context()));
    const retry = httpAnswer(await b.invoke(event, context()));
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(retry.body).toMatchObject({ Success: true, Code: 'OK' });
    expect(retry.headers['webhook-replayed']).toBe('true');
    expect(withdrawCalls(id)).toBe(1);
  });

  it('the sender retries after a 502: the retry withdraws', async () => {
    const id = freshScript();
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError' }, { times: 2, action: 'WithdrawScriptReview' });
    const event = signedPost(JSON.stringify(itemOf(id)));
    expect(httpAnswer(await a.invoke(event, context())).status).toBe(502);
    const retry = httpAnswer(await b.invoke(event, context()));
    expect(retry).toMatchObject({ status: 200, body: { Success: true } });
    expect(retry.headers['webhook-replayed']).toBeUndefined();
    expect(emulator.withdrawals(`${INSTANCE}-${id}`, id)).toBe(1);
  });

  it('the same webhook-id with another body: 422, nothing withdrawn', async () => {
    const [first, second] = [freshScript(), freshScript()];
    const webhookId = `msg_${randomUUID()}`;
    expect(httpAnswer(await a.invoke(signedPost(JSON.stringify(itemOf(first)), webhookId), context())).status).toBe(200);
    const reused = httpAnswer(await b.invoke(signedPost(JSON.stringify(itemOf(second)), webhookId), context()));
    expect(reused).toMatchObject({ status: 422, body: { Code: 'IdempotencyKeyMismatch' } });
    expect(withdrawCalls(second)).toBe(0);
  });

  it('an async event delivered twice at once under one requestId: one call', async () => {
    const id = freshScript();
    emulator.setLatency(300);
    try {
      const requestId = randomUUID();
      const answers = await Promise.all([a.invoke(itemOf(id), context(requestId)), b.invoke(itemOf(id), context(requestId))]);
      expect(answers.map((x) => (x.value as { Success: boolean }).Success)).toEqual([true, true]);
      expect(withdrawCalls(id)).toBe(1);
    } finally {
      emulator.setLatency(0);
    }
  });

  it('an MNS message redelivered by EventBridge (new event id, new requestId): no call, success', async () => {
    const id = freshScript();
    const message = mnsQueueEvent(JSON.stringify(itemOf(id)));
    (message.data as Record<string, unknown>).messageId = `mns-${randomUUID()}`;
    const first = await a.invoke(message, context());
    const redelivered = await b.invoke({ ...message, id: randomUUID() }, context());
    expect([first.value, redelivered.value]).toMatchObject([{ Success: true }, { Success: true, Code: 'OK' }]);
    expect(withdrawCalls(id)).toBe(1);
  });

  it('two different requests for one script at once: never two calls in flight, both told the outcome', async () => {
    const id = freshScript();
    emulator.setLatency(300);
    try {
      const answers = await Promise.all([
        a.invoke(signedPost(JSON.stringify(itemOf(id))), context()),
        b.invoke(cloudEvent(itemOf(id), { id: randomUUID(), source: 'acs.custom' }), context()),
      ]);
      expect(httpAnswer(answers[0]!).body).toMatchObject({ Success: true });
      expect(answers[1]!.value).toMatchObject({ Success: true });
      expect(withdrawCalls(id)).toBe(1);
    } finally {
      emulator.setLatency(0);
    }
  });

  it('a batch naming one script three times: one call, three results', async () => {
    const id = freshScript();
    const answer = await a.invoke({ Items: [itemOf(id), itemOf(id), itemOf(id)] }, context());
    expect((answer.value as { Results: Array<{ Success: boolean }> }).Results.map((r) => r.Success)).toEqual([true, true, true]);
    expect(withdrawCalls(id)).toBe(1);
  });

  it('an instance killed mid-call: the retry elsewhere waits, then proceeds once the deadline passed', async () => {
    const id = freshScript();
    const victim = await startInstance(envFor(redis.url));
    emulator.injectFault({ kind: 'hang' }, { action: 'WithdrawScriptReview' });
    const requestId = randomUUID();
    const victimStart = Date.now();
    void victim.invoke(itemOf(id), context(requestId, 4));
    await new Promise((resolve) => setTimeout(resolve, 300));
    victim.kill();
    // Its claim holds until its deadline (3.6 s): a retry before then is told to come back.
    const early = await b.invoke(itemOf(id), context(requestId, 1));
    expect(early.error).toMatchObject({ name: 'RequestInProgressError' });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, victimStart + 3_700 - Date.now())));
    const later = await b.invoke(itemOf(id), context(requestId, 10));
    expect(later.value).toMatchObject({ Success: true });
    expect(emulator.withdrawals(`${INSTANCE}-${id}`, id)).toBe(1);
  }, 20_000);

  it('an attempt that acted but answered past the deadline: FC\'s retry on the other instance reconciles it', async () => {
    const id = freshScript();
    // No callback, so the work runs to the deadline itself: what the retry needs must still be stored.
    emulator.injectFault({ kind: 'delay', ms: 2_500 }, { action: 'WithdrawScriptReview' });
    const requestId = randomUUID();
    const first = await a.invoke(itemOf(id), context(requestId, 1));
    expect(first.error).toMatchObject({ name: 'RetryableFailureError' });
    expect(emulator.withdrawals(`${INSTANCE}-${id}`, id)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const retry = await b.invoke(itemOf(id), context(requestId, 10));
    expect(retry.value).toMatchObject({ Success: true, Reconciled: true });
    expect(emulator.withdrawals(`${INSTANCE}-${id}`, id)).toBe(1);
  }, 15_000);

  it('a store that is down: 503 within the timeout, no call, and the password in no line', async () => {
    const id = freshScript();
    const cut = await startInstance(envFor(`redis://:${PASSWORD}@127.0.0.1:${await freePort()}/0`));
    try {
      const startMs = Date.now();
      const http = httpAnswer(await cut.invoke(signedPost(JSON.stringify(itemOf(id))), context()));
      expect(Date.now() - startMs).toBeLessThan(2_000);
      expect(http).toMatchObject({ status: 503, body: { Code: 'IdempotencyStoreUnavailable' } });
      expect(http.headers['retry-after']).toBeDefined();
      const event = await cut.invoke(itemOf(id), context());
      expect(event.error).toMatchObject({ name: 'IdempotencyStoreUnavailableError' });
      expect(withdrawCalls(id)).toBe(0);
      expect(cut.output()).not.toContain(PASSWORD);
      expect(cut.logs().length).toBeGreaterThan(0);
    } finally {
      cut.kill();
    }
  });

  it('redis-server restarted mid-run: the instances recover', async () => {
    await redis.restart();
    const id = freshScript();
    let answer = await a.invoke(itemOf(id), context());
    for (let i = 0; i < 20 && answer.error; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await a.invoke(itemOf(id), context());
    }
    expect(answer.value).toMatchObject({ Success: true });
    expect(withdrawCalls(id)).toBe(1);
  });
});
