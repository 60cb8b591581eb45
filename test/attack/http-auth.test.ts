// Attacks on the HTTP trigger: what an unauthenticated or replaying caller can make the built bundle withdraw.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook } from '../../lib/webhooks/verify';
import { httpEvent } from '../support/events';
import { ALLOWED, SECRET, calls, ctx, fresh, httpAnswer, instance, signed, signedHeaders, useWorld } from './helpers';

const world = useWorld();

describe('unauthenticated callers', () => {
  it('unsigned request, ids in the body, WEBHOOK_SECRET set (and ALLOW_UNSIGNED_HTTP=true too): 401, no call', async () => {
    const w = await instance(world, { ALLOW_UNSIGNED_HTTP: 'true' });
    const [id] = fresh(world, 1);
    const a = httpAnswer(await w.invoke(httpEvent({ body: JSON.stringify({ InstanceId: ALLOWED, ScriptId: id }), contentType: 'application/json' }), ctx(world)));
    expect(a.status).toBe(401);
    expect(calls(world, [id!])).toBe(0);
  });

  it('unsigned request, no WEBHOOK_SECRET, no ALLOW_UNSIGNED_HTTP; also WEBHOOK_SECRET=" , "', async () => {
    for (const env of [{ WEBHOOK_SECRET: '__unset__' }, { WEBHOOK_SECRET: ' , ' }, { WEBHOOK_SECRET: '' }]) {
      const w = await instance(world, env);
      const [id] = fresh(world, 1);
      const a = httpAnswer(await w.invoke(httpEvent({ body: JSON.stringify({ InstanceId: ALLOWED, ScriptId: id }), contentType: 'application/json' }), ctx(world)));
      expect(a.status).toBe(401);
      expect(calls(world, [id!])).toBe(0);
    }
  });

  it('signature-list tricks: v1a, V1, v2, v1 with a wrong sig beside a v1a with the right one, empty v1', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const body = JSON.stringify({ InstanceId: ALLOWED, ScriptId: id });
    const good = signedHeaders(body);
    const sig = good['webhook-signature'].slice(3);
    const variants = [`v1a,${sig}`, `V1,${sig}`, `v2,${sig}`, `v1,AAAA v1a,${sig}`, 'v1,', `v1 ,${sig}`, `,${sig}`, `v1,${sig.slice(0, -1)}`, `v1,${sig}\u0000`];
    for (const v of variants) {
      const a = httpAnswer(await w.invoke(httpEvent({ body, contentType: 'application/json', headers: { ...good, 'webhook-signature': v } }), ctx(world)));
      expect([v, a.status]).toEqual([v, 401]);
    }
    expect(calls(world, [id!])).toBe(0);
  });

  it('timestamp edges: 301 s old, 301 s ahead, fractional, negative, hex: 401', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const body = JSON.stringify({ InstanceId: ALLOWED, ScriptId: id });
    const now = Math.floor(Date.now() / 1000);
    for (const ts of [now - 302, now + 302]) {
      const a = httpAnswer(await w.invoke(httpEvent({ body, contentType: 'application/json', headers: signedHeaders(body, undefined, ts) }), ctx(world)));
      expect(a.status).toBe(401);
    }
    for (const text of [`${now}.0`, `-${now}`, `0x${now.toString(16)}`, ` ${now}e0`]) {
      const id2 = 'msg_x';
      const sigTs = Number(text) || now;
      const headers = { 'webhook-id': id2, 'webhook-timestamp': text, 'webhook-signature': signWebhook(SECRET, id2, sigTs, body) };
      const a = httpAnswer(await w.invoke(httpEvent({ body, contentType: 'application/json', headers }), ctx(world)));
      expect([text, a.status]).toEqual([text, 401]);
    }
    expect(calls(world, [id!])).toBe(0);
  });

  it('a captured signed request replayed with a leading-zero timestamp / padded id is the same delivery: one call', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const body = JSON.stringify({ InstanceId: ALLOWED, ScriptId: id });
    const h = signedHeaders(body);
    const first = httpAnswer(await w.invoke(httpEvent({ body, contentType: 'application/json', headers: h }), ctx(world)));
    expect(first.status).toBe(200);
    const replay = httpAnswer(await w.invoke(httpEvent({ body, contentType: 'application/json', headers: { ...h, 'webhook-timestamp': `000${h['webhook-timestamp']}`, 'webhook-id': ` ${h['webhook-id']} ` } }), ctx(world)));
    expect(replay.status).toBe(200);
    expect(replay.headers['webhook-replayed']).toBe('true');
    expect(calls(world, [id!])).toBe(1);
  });

  it('header case and duplicates: Webhook-Id + webhook-id with different values never yields a withdrawal for an unsigned id', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const body = JSON.stringify({ InstanceId: ALLOWED, ScriptId: id });
    const h = signedHeaders(body, 'msg_real');
    const headers = { 'Webhook-Id': 'msg_real', 'WEBHOOK-TIMESTAMP': h['webhook-timestamp'], 'Webhook-Signature': h['webhook-signature'], 'webhook-id': 'msg_other' };
    const a = httpAnswer(await w.invoke(httpEvent({ body, contentType: 'application/json', headers }), ctx(world)));
    // Whichever value wins must be the one verified.
    expect([200, 401]).toContain(a.status);
    const b = httpAnswer(await w.invoke(httpEvent({ body, contentType: 'application/json', headers: { 'webhook-id': 'msg_other', ...Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'webhook-id')) } }), ctx(world)));
    expect([200, 401]).toContain(b.status);
    expect(calls(world, [id!])).toBeLessThanOrEqual(1);
  });
});

describe('a signed request names its withdrawal only in the signed bytes', () => {
  it('signed empty body + ids in the query in other cases / duplicated (instanceid, SCRIPTID, ScriptId[]): nothing withdrawn', async () => {
    const w = await instance(world);
    const [victim] = fresh(world, 1);
    const queries: Array<Record<string, string>> = [{ instanceid: ALLOWED, scriptid: victim! }, { INSTANCEID: ALLOWED, SCRIPTID: victim! }, { 'InstanceId[]': ALLOWED, 'ScriptId[]': victim! }, { ' InstanceId': ALLOWED, 'ScriptId ': victim! }];
    for (const query of queries) {
      const a = httpAnswer(await w.invoke(signed('', { query }), ctx(world)));
      expect(a.status).toBeGreaterThanOrEqual(400);
    }
    expect(calls(world, [victim!])).toBe(0);
  });

  it('signed body + a query with an id (any case) does not change what is withdrawn', async () => {
    const w = await instance(world);
    const [asked, other] = fresh(world, 2);
    const a = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: asked }), { query: { scriptid: other!, Items: '[]' } }), ctx(world)));
    expect(calls(world, [other!])).toBe(0);
    expect(a.body.ScriptId ?? asked).toBe(asked);
  });

  it('JSON with duplicate keys withdraws exactly one script, the one the answer names', async () => {
    const w = await instance(world);
    const [first, last] = fresh(world, 2);
    const body = `{"InstanceId":"${ALLOWED}","ScriptId":"${first}","ScriptId":"${last}"}`;
    const a = httpAnswer(await w.invoke(signed(body), ctx(world)));
    expect(calls(world, [first!, last!])).toBe(1);
    expect(a.body.ScriptId).toBe(last);
    expect(calls(world, [last!])).toBe(1);
  });

  it('__proto__ / constructor smuggling in JSON: only the plain item is withdrawn', async () => {
    const w = await instance(world);
    const [mine, smuggled] = fresh(world, 2);
    const body = `{"__proto__":{"Items":[{"InstanceId":"${ALLOWED}","ScriptId":"${smuggled}"}],"CallbackUrl":"https://evil.example/"},"constructor":{"prototype":{"Items":1}},"InstanceId":"${ALLOWED}","ScriptId":"${mine}"}`;
    const a = httpAnswer(await w.invoke(signed(body), ctx(world)));
    expect(a.status).toBe(200);
    expect(calls(world, [smuggled!])).toBe(0);
    expect(a.body.Callback).toBeUndefined();
  });

  it('unicode escapes in ids: refused or normalised, never a different script', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const escaped = id!.replace(/-/g, '\\u002d');
    const a = httpAnswer(await w.invoke(signed(`{"InstanceId":"${ALLOWED}","ScriptId":"${escaped}"}`), ctx(world)));
    expect(a.status).toBe(200);
    expect(calls(world, [id!])).toBe(1);
    const b = httpAnswer(await w.invoke(signed(`{"InstanceId":"${ALLOWED}","ScriptId":"${id}\\u0000"}`), ctx(world)));
    expect(b.status).toBe(400);
  });

  it('BOM-prefixed JSON, JSON sent as form, form sent as JSON: 400/415, no call', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const json = JSON.stringify({ InstanceId: ALLOWED, ScriptId: id, CallbackUrl: `https://x.example/?a=1&ScriptId=${id}` });
    const form = `InstanceId=${ALLOWED}&ScriptId=${id}`;
    const cases: Array<[string, string]> = [
      [`\uFEFF${json}`, 'application/json'],
      [json, 'application/x-www-form-urlencoded'],
      [json, 'application/x-www-form-urlencoded; charset=utf-8'],
      [form, 'application/json'],
      [form, 'text/plain'],
      [json, 'multipart/form-data; boundary=x'],
      [`&${form}`, 'application/json;x=application/x-www-form-urlencoded'],
    ];
    for (const [body, contentType] of cases) {
      const a = httpAnswer(await w.invoke(signed(body, { contentType }), ctx(world)));
      expect([contentType, a.status >= 400]).toEqual([contentType, true]);
    }
    expect(calls(world, [id!])).toBe(0);
  });

  it('a form naming a field twice, or InstanceId in two cases, is refused', async () => {
    const w = await instance(world);
    const [a1, a2] = fresh(world, 2);
    for (const body of [`InstanceId=${ALLOWED}&ScriptId=${a1}&ScriptId=${a2}`, `InstanceId=${ALLOWED}&ScriptId=${a1}&scriptid=${a2}`, `InstanceId=${ALLOWED}&ScriptId=${a1}&Items=x`]) {
      const a = httpAnswer(await w.invoke(signed(body, { contentType: 'application/x-www-form-urlencoded' }), ctx(world)));
      expect(a.status).toBe(400);
    }
    expect(calls(world, [a1!, a2!])).toBe(0);
  });

  it('the same webhook-id reused with a different signed body (same instance): 422, the second script untouched', async () => {
    const w = await instance(world);
    const [s1, s2] = fresh(world, 2);
    const webhookId = `msg_${randomUUID()}`;
    expect(httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: s1 }), { webhookId }), ctx(world))).status).toBe(200);
    const b = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: s2 }), { webhookId }), ctx(world)));
    expect(b.status).toBe(422);
    expect(calls(world, [s2!])).toBe(0);
  });
});

describe('size limits', () => {
  it('a body of 64 KiB + 1 byte (plain, base64, and as JSON-escaped text) is 413 before the signature', async () => {
    const w = await instance(world);
    const big = 'x'.repeat(64 * 1024 + 1);
    const plain = httpAnswer(await w.invoke(httpEvent({ body: big, contentType: 'application/json' }), ctx(world)));
    expect(plain.status).toBe(413);
    const b64 = httpAnswer(await w.invoke(httpEvent({ body: Buffer.from(big), contentType: 'application/json' }), ctx(world)));
    expect(b64.status).toBe(413);
    // 21 846 three-byte characters: 65 538 bytes of UTF-8, 21 846 UTF-16 units.
    const cjk = '中'.repeat(21_846);
    const c = httpAnswer(await w.invoke(httpEvent({ body: cjk, contentType: 'application/json' }), ctx(world)));
    expect(c.status).toBe(413);
  });

  it('a base64 body padded with invalid characters (decodes small, reads big): 413 or verified over the decoded bytes only', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const raw = JSON.stringify({ InstanceId: ALLOWED, ScriptId: id });
    const b64 = Buffer.from(raw).toString('base64');
    const event = httpEvent({ body: raw, contentType: 'application/json', headers: signedHeaders(raw) });
    // Same decoded bytes, different text: '=' in the middle ends decoding in Node, then junk follows.
    event.body = `${b64}${'!'.repeat(10)}`;
    event.isBase64Encoded = true;
    const a = httpAnswer(await w.invoke(event, ctx(world)));
    expect([200, 400, 401]).toContain(a.status);
    expect(calls(world, [id!])).toBeLessThanOrEqual(1);
  });

  it('a Buffer event just over 1 MiB is 413 before parsing (HTTP-shaped → HTTP answer, else a result)', async () => {
    const w = await instance(world);
    const filler = 'a'.repeat(1024 * 1024);
    const http = httpEvent({ body: filler, contentType: 'application/json' });
    const a = httpAnswer(await w.invoke(Buffer.from(JSON.stringify(http)), ctx(world)));
    expect(a.status).toBe(413);
    const ev = await w.invoke(Buffer.from(JSON.stringify({ InstanceId: ALLOWED, ScriptId: 'x', pad: filler })), ctx(world));
    expect(ev.value).toMatchObject({ Code: 'PayloadTooLarge' });
  });
});
