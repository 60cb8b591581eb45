// Attacks on the event paths and the instance allow-list: every trigger shape, on the built bundles.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloudEvent, httpEvent, mnsQueueEvent } from '../support/events';
import { ALLOWED, FOREIGN, calls, ctx, fresh, httpAnswer, instance, useWorld } from './helpers';

const world = useWorld();
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');
const withMessageId = (e: Record<string, unknown>) => ((e.data as Record<string, unknown>).messageId = `m-${randomUUID()}`, e);
const anyCalls = (ids: string[]) => calls(world, ids);

describe('foreign instances on every event path', () => {
  it('EventBridge array: foreign plain, foreign Base64, foreign in data JSON text, beside allowed ones', async () => {
    const w = await instance(world);
    const [mine] = fresh(world, 1);
    const [f1, f2, f3, f4] = fresh(world, 4, FOREIGN);
    const events = [
      withMessageId(mnsQueueEvent(JSON.stringify({ InstanceId: ALLOWED, ScriptId: mine }))),
      withMessageId(mnsQueueEvent(JSON.stringify({ InstanceId: FOREIGN, ScriptId: f1 }))),
      withMessageId(mnsQueueEvent(b64({ InstanceId: FOREIGN, ScriptId: f2 }))),
      cloudEvent(JSON.stringify({ InstanceId: FOREIGN, ScriptId: f3 }), { id: randomUUID(), source: 'custom' }),
      cloudEvent({ InstanceId: FOREIGN, ScriptId: f4, messageBody: 7 }, { id: randomUUID(), source: 'custom' }),
    ];
    const answer = await w.invoke(events, ctx(world));
    expect(answer.error).toBeUndefined();
    const results = (answer.value as { Results: Array<Record<string, unknown>> }).Results;
    expect(results.map((r) => r.Code)).toEqual(['OK', 'InstanceNotAllowed', 'InstanceNotAllowed', 'InstanceNotAllowed', 'InstanceNotAllowed']);
    expect(anyCalls([f1!, f2!, f3!, f4!])).toBe(0);
    expect(anyCalls([mine!])).toBe(1);
  });

  it('MNS topic JSON Message, STREAM {body, attrs} and bare body, Base64 forms: 403, no call', async () => {
    const w = await instance(world);
    const [f1, f2, f3] = fresh(world, 3, FOREIGN);
    const topic = { TopicOwner: '1', TopicName: 't', Subscriber: '1', SubscriptionName: 's', MessageId: randomUUID(), Message: b64({ InstanceId: FOREIGN, ScriptId: f1 }), PublishTime: 1 };
    const stream = { body: JSON.stringify({ InstanceId: FOREIGN, ScriptId: f2 }), attrs: {} };
    const streamB64 = { body: b64({ InstanceId: FOREIGN, ScriptId: f3 }) };
    for (const ev of [topic, stream, streamB64]) {
      const a = await w.invoke(ev, ctx(world));
      expect(a.value).toMatchObject({ Code: 'InstanceNotAllowed', HttpStatusCode: 403 });
    }
    expect(anyCalls([f1!, f2!, f3!])).toBe(0);
  });

  it('direct invoke batch with one foreign item among allowed ones: 403 for all, nothing called', async () => {
    const w = await instance(world);
    const [mine] = fresh(world, 1);
    const [f] = fresh(world, 1, FOREIGN);
    const a = await w.invoke({ Items: [{ InstanceId: ALLOWED, ScriptId: mine }, { InstanceId: FOREIGN, ScriptId: f }] }, ctx(world));
    expect(a.value).toMatchObject({ Code: 'InstanceNotAllowed' });
    expect(anyCalls([mine!, f!])).toBe(0);
  });

  it('an FC destination envelope whose requestPayload names a foreign instance: 403, no call', async () => {
    const w = await instance(world);
    const [f] = fresh(world, 1, FOREIGN);
    const envelope = {
      timestamp: Date.now(),
      requestContext: { requestId: randomUUID(), functionArn: 'acs:fc:cn-shanghai:1:functions/withdraw', condition: 'UnhandledInvocationError', approximateInvokeCount: 3 },
      requestPayload: JSON.stringify({ InstanceId: FOREIGN, ScriptId: f }),
      responseContext: { statusCode: 200, functionError: 'x' },
      responsePayload: '',
    };
    expect((await w.invoke(envelope, ctx(world))).value).toMatchObject({ Code: 'InstanceNotAllowed' });
    expect(anyCalls([f!])).toBe(0);
  });

  it('a case variant of an allowed instance id is not allowed', async () => {
    const w = await instance(world);
    const a = await w.invoke({ InstanceId: ALLOWED.toUpperCase(), ScriptId: 'x1' }, ctx(world));
    expect(a.value).toMatchObject({ Code: 'InstanceNotAllowed' });
  });

  it('HTTP unsigned (ALLOW_UNSIGNED_HTTP, no secret) with foreign ids in the query: 403', async () => {
    const w = await instance(world, { WEBHOOK_SECRET: '__unset__', ALLOW_UNSIGNED_HTTP: 'true' });
    const [f] = fresh(world, 1, FOREIGN);
    const a = httpAnswer(await w.invoke(httpEvent({ body: '', query: { InstanceId: FOREIGN, ScriptId: f! } }), ctx(world)));
    expect(a.status).toBe(403);
    expect(anyCalls([f!])).toBe(0);
  });

  it('ALLOWED_INSTANCE_IDS with only separators (" , "): recorded (documented: an empty list means any instance)', async () => {
    // The operator meant a list; `"${A},${B}"` with both unset renders ",". Promise: only listed instances.
    const w = await instance(world, { ALLOWED_INSTANCE_IDS: ' , ' });
    const [f] = fresh(world, 1, FOREIGN);
    const a = await w.invoke({ InstanceId: FOREIGN, ScriptId: f }, ctx(world));
    // Refused at start: a list of separators names nothing, and is not read as "any instance".
    expect(a.value).toMatchObject({ HttpStatusCode: 500, Code: 'InvalidConfiguration' });
    expect(anyCalls([f!])).toBe(0);
  });
});

describe('the cleanup function and foreign instances', () => {
  it('timer payload (string or object), direct object, case variant, padded id: 403 or 400, nothing listed', async () => {
    const c = await instance(world, {}, 'cleanup');
    fresh(world, 1, FOREIGN);
    const before = world.emulator.requests.length;
    const p = { InstanceId: FOREIGN, OlderThanMinutes: 1 };
    const events: unknown[] = [
      { triggerTime: new Date().toISOString(), triggerName: 't', payload: JSON.stringify(p) },
      { triggerTime: new Date().toISOString(), triggerName: 't', payload: p },
      p,
      { ...p, InstanceId: ALLOWED.toUpperCase() },
      { ...p, InstanceId: ` ${ALLOWED}` },
      { triggerTime: new Date().toISOString(), triggerName: 't', payload: JSON.stringify({ ...p, InstanceId: ALLOWED }), InstanceId: FOREIGN },
      { triggerTime: new Date().toISOString(), triggerName: 't', payload: `{"InstanceId":"${ALLOWED}","InstanceId":"${FOREIGN}","OlderThanMinutes":1}` },
      { InstanceId: ALLOWED, OlderThanMinutes: 525_601 },
      { InstanceId: ALLOWED, OlderThanMinutes: 1e300 },
      { InstanceId: ALLOWED, OlderThanMinutes: 1, MaxWithdrawals: 0 },
    ];
    for (const ev of events) {
      const a = await c.invoke(ev, ctx(world));
      expect(a.error).toBeUndefined();
      const v = a.value as Record<string, unknown>;
      // Either a refusal, or (payload with top-level FOREIGN) a run over ALLOWED only.
      if (v.Success !== false) expect(v.InstanceId).toBe(ALLOWED);
      else expect(['InstanceNotAllowed', 'InvalidParameter']).toContain(v.Code);
    }
    const listed = world.emulator.requests.slice(before).filter((r) => r.query.InstanceId !== ALLOWED);
    expect(listed).toEqual([]);
  });
});

describe('an event array must throw when any entry is retryable', () => {
  it('[final refusal, 5xx entry, success]: throws; the retry withdraws only the rest', async () => {
    const w = await instance(world, { RETRY_MAX_ATTEMPTS: '1' });
    const [ok, flaky] = fresh(world, 2);
    const requestId = randomUUID();
    const events = [
      withMessageId(mnsQueueEvent('not json')),
      withMessageId(mnsQueueEvent(JSON.stringify({ InstanceId: ALLOWED, ScriptId: ok }))),
      withMessageId(mnsQueueEvent(JSON.stringify({ InstanceId: ALLOWED, ScriptId: flaky }))),
    ];
    world.emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' }, { action: 'WithdrawScriptReview', times: 1 });
    // The fault hits whichever call comes first: either entry may be the retryable one.
    const first = await w.invoke(events, ctx(world, 10, requestId));
    expect(first.error).toMatchObject({ name: 'RetryableFailureError' });
    const second = await w.invoke(events, ctx(world, 10, requestId));
    expect(second.error).toBeUndefined();
    expect(world.emulator.withdrawals(ALLOWED, ok!)).toBe(1);
    expect(world.emulator.withdrawals(ALLOWED, flaky!)).toBe(1);
    expect(anyCalls([ok!, flaky!])).toBe(3);
  });

  it('two entries of one array carrying the same MNS messageId and the same body: one call', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const e = withMessageId(mnsQueueEvent(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })));
    const a = await w.invoke([e, structuredClone(e)], ctx(world));
    expect(a.error).toBeUndefined();
    expect(anyCalls([id!])).toBe(1);
  });

  it('two entries with the same messageId but different scripts: the second is not withdrawn under the first one\'s key', async () => {
    const w = await instance(world);
    const [s1, s2] = fresh(world, 2);
    const e1 = withMessageId(mnsQueueEvent(JSON.stringify({ InstanceId: ALLOWED, ScriptId: s1 })));
    const e2 = mnsQueueEvent(JSON.stringify({ InstanceId: ALLOWED, ScriptId: s2 }));
    (e2.data as Record<string, unknown>).messageId = (e1.data as Record<string, unknown>).messageId;
    const a = await w.invoke([e1, e2], ctx(world));
    const results = (a.value as { Results: Array<Record<string, unknown>> } | undefined)?.Results;
    expect(anyCalls([s1!, s2!])).toBeLessThanOrEqual(1);
    expect(results?.map((r) => r.Code)).toContain('IdempotencyKeyMismatch');
  });
});

describe('event size judged on UTF-8 bytes', () => {
  it('a string event of 700 000 CJK characters (2.1 MB of UTF-8, < 1 Mi UTF-16 units) is refused 413 before parsing', () => {
    const bundle = path.resolve(__dirname, '../../dist/withdraw/index.js');
    const script = `
      const { handler } = require(${JSON.stringify(bundle)});
      const item = JSON.stringify({ InstanceId: '${ALLOWED}', ScriptId: 'abc', pad: '中'.repeat(700000) });
      handler(item, { requestId: 'r1', function: { name: 'withdraw', timeout: 5 } })
        .then((v) => process.stdout.write('RESULT ' + JSON.stringify(v).slice(0, 300) + '\\n'), (e) => process.stdout.write('ERROR ' + e.message + '\\n'));`;
    const out = execFileSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', ALLOWED_INSTANCE_IDS: ALLOWED, OUTBOUNDBOT_ENDPOINT: '127.0.0.1:9', OUTBOUNDBOT_PROTOCOL: 'http' } }).toString();
    const line = out.split('\n').find((l) => l.startsWith('RESULT') || l.startsWith('ERROR'))!;
    expect(line).toContain('PayloadTooLarge');
  });
});
