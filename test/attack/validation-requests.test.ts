// Attacks on the zod-based parsing of withdrawal requests (items, batches, CallbackUrl, the FC HTTP
// event shape), against the built withdraw bundle in a process of its own.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { httpEvent } from '../support/events';
import { ALLOWED, FOREIGN, calls, ctx, fresh, httpAnswer, instance, signed, signedHeaders, useWorld } from './helpers';

const world = useWorld();

/** zod's own wording, which must never reach an answer. */
const ZOD_DEFAULT = /Invalid input|Invalid (string|option|type|key|element|value)|expected [a-z]+, received|[Rr]eceived (undefined|null|number|string|boolean|array|object)|Too (big|small)|Unrecognized key|must match pattern|^Required$|Expected (number|string|boolean|array|object)/;

type Answer = { Success?: boolean; Code?: string; Message?: string; Issues?: Array<{ Path: string; Message: string }>; Results?: Array<Record<string, unknown>> };
const value = (a: { value?: unknown; error?: unknown }) => {
  if (a.error) throw new Error(`thrown: ${JSON.stringify(a.error)}`);
  return a.value as Answer;
};
const issues = (a: Answer) => (a.Issues ?? []).map((i) => `${i.Path}: ${i.Message}`);

async function receiverOn(host: string): Promise<{ origin: string; port: number; hits: Array<{ path: string; host?: string }>; close: () => void }> {
  const hits: Array<{ path: string; host?: string }> = [];
  const server = http.createServer((req, res) => {
    hits.push({ path: req.url ?? '', host: req.headers.host });
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  world.servers.push(server);
  const port = (server.address() as AddressInfo).port;
  return { origin: `http://${host}:${port}`, port, hits, close: () => server.close() };
}

describe('prototype keys in items and batches (direct invoke)', () => {
  it('an own __proto__ carrying the ids is not an item: 400 is required, no call', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const text = `{"__proto__":{"InstanceId":"${ALLOWED}","ScriptId":"${id}"}}`;
    const a = value(await w.invoke(text, ctx(world)));
    expect(issues(a)).toEqual(['InstanceId: is required', 'ScriptId: is required']);
    expect(calls(world, [id!])).toBe(0);
  });

  it('an own __proto__ inside a batch element, and an own __proto__ carrying Items beside a single item', async () => {
    const w = await instance(world);
    const [mine, other] = fresh(world, 2);
    const [foreign] = fresh(world, 1, FOREIGN);
    const inElement = `{"Items":[{"__proto__":{"InstanceId":"${ALLOWED}","ScriptId":"${other}"}}]}`;
    expect(issues(value(await w.invoke(inElement, ctx(world))))).toEqual(['Items[0].InstanceId: is required', 'Items[0].ScriptId: is required']);
    const beside = `{"__proto__":{"Items":[{"InstanceId":"${FOREIGN}","ScriptId":"${foreign}"}]},"InstanceId":"${ALLOWED}","ScriptId":"${mine}"}`;
    const a = value(await w.invoke(beside, ctx(world)));
    expect(a).toMatchObject({ Success: true, ScriptId: mine });
    expect(a.Results).toBeUndefined();
    expect(calls(world, [foreign!, other!])).toBe(0);
    expect(calls(world, [mine!])).toBe(1);
  });

  it('ids named like Object.prototype members (constructor, toString, hasOwnProperty, valueOf…) are withdrawn once each, deduplication included', async () => {
    const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'];
    world.emulator.addInstance('constructor', names.map((n) => ({ ScriptId: n, ScriptName: n, Status: 'EXAMINE_IN_PROGRESS', UpdateTime: Date.now() - 3_600_000 })));
    const w = await instance(world, { ALLOWED_INSTANCE_IDS: `constructor ${ALLOWED}` });
    const before = world.emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.InstanceId === 'constructor').length;
    const items = [...names, 'toString'].map((ScriptId) => ({ InstanceId: 'constructor', ScriptId, constructor: 1, __defineGetter__: 2 }));
    const a = value(await w.invoke({ Items: items }, ctx(world)));
    expect(a.Results!.map((r) => [r.ScriptId, r.Success])).toEqual([...names, 'toString'].map((n) => [n, true]));
    const after = world.emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.InstanceId === 'constructor');
    expect(after.length - before).toBe(names.length);
  });
});

describe('Items shapes', () => {
  it('null, an object, an array-like object, a string, a number: one issue each, exact wording', async () => {
    const w = await instance(world);
    for (const items of [null, {}, { 0: { InstanceId: ALLOWED, ScriptId: 'x' }, length: 1 }, '', 'abc', 5, true]) {
      const a = value(await w.invoke({ Items: items }, ctx(world)));
      expect([items, issues(a)]).toEqual([items, ['Items: must be an array of {InstanceId, ScriptId}']]);
    }
    expect(issues(value(await w.invoke({ Items: [] }, ctx(world))))).toEqual(['Items: must hold at least one item']);
    expect(issues(value(await w.invoke({ Items: [null, [], 'x', 1, [{ InstanceId: ALLOWED, ScriptId: 'x' }]] }, ctx(world))))).toEqual(
      [0, 1, 2, 3, 4].map((i) => `Items[${i}]: must be an object with InstanceId and ScriptId`),
    );
  });

  it('observed: a batch that also names InstanceId/ScriptId at the top level withdraws only Items (the top-level item is dropped, not refused)', async () => {
    const w = await instance(world);
    const [top, inItems] = fresh(world, 2);
    const a = value(await w.invoke({ InstanceId: ALLOWED, ScriptId: top, Items: [{ InstanceId: ALLOWED, ScriptId: inItems }] }, ctx(world)));
    expect(a.Results!.map((r) => r.ScriptId)).toEqual([inItems]);
    expect(calls(world, [top!])).toBe(0);
  });

  it('a 1 MiB event of ~520k Items is refused with one issue, in about the time JSON.parse takes', async () => {
    const w = await instance(world);
    const numbers = Buffer.from(`{"Items":[${Array(520_000).fill('0').join(',')}]}`);
    const objects = Buffer.from(`{"Items":[${Array(340_000).fill('{}').join(',')}]}`);
    expect(numbers.length).toBeLessThanOrEqual(1024 * 1024);
    expect(objects.length).toBeLessThanOrEqual(1024 * 1024);
    for (const event of [numbers, objects]) {
      const t0 = performance.now();
      const a = value(await w.invoke(event, ctx(world)));
      const ms = performance.now() - t0;
      expect(issues(a)).toEqual(['Items: must hold at most 100 items']);
      expect(JSON.stringify(a).length).toBeLessThan(1_000);
      expect(ms).toBeLessThan(1_000);
    }
    const lines = w.logs().filter((l) => l.message === 'request refused');
    expect(Math.max(...lines.map((l) => (l.durationMs as number) ?? 0))).toBeLessThan(200);
  });

  it('100 bad elements: 100 issues at most (not one per element field of a larger array)', async () => {
    const w = await instance(world);
    const a = value(await w.invoke({ Items: Array.from({ length: 100 }, () => ({ InstanceId: 1, ScriptId: null })) }, ctx(world)));
    expect(a.Issues!.length).toBe(200);
    expect(new Set(a.Issues!.map((i) => i.Message))).toEqual(new Set(['must be a string']));
  });
});

describe('ids: control characters, separators, lone surrogates, look-alikes', () => {
  it('each is a 400 naming the field, nothing called', async () => {
    const w = await instance(world);
    const id = fresh(world, 1)[0]!;
    const bad = [
      `${id}\u0000`, `${id}\n`, `${id}\r\n`, `\n${id}`, `${id}\u2028`, `${id}\u2029`, `${id}\ud800`, `\udc00${id}`, `${id} `, ` ${id}`, `${id}\u00a0`,
      `${id}\u200b`, `${id}\ufeff`, `-${id.slice(1)}`, `_${id.slice(1)}`, `${id.slice(0, 8)}\uff10`, `${id.slice(0, 8)}\u0663`, 'a'.repeat(65), '',
      `${id.slice(0, 8)}\u212a`, `${id.slice(0, 8)}\u0130`,
    ];
    for (const ScriptId of bad) {
      const a = value(await w.invoke({ InstanceId: ALLOWED, ScriptId }, ctx(world)));
      expect([JSON.stringify(ScriptId), issues(a)]).toEqual([JSON.stringify(ScriptId), ['ScriptId: must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit']]);
      const b = value(await w.invoke({ Items: [{ InstanceId: ScriptId, ScriptId: id }] }, ctx(world)));
      expect(issues(b)).toEqual(['Items[0].InstanceId: must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit']);
    }
    expect(calls(world, [id!])).toBe(0);
    expect(world.emulator.requests.some((r) => r.query.ScriptId !== undefined && r.query.ScriptId !== r.query.ScriptId.trim())).toBe(false);
  });
});

describe('CallbackUrl: the host checked is the host called back', () => {
  it('tabs and newlines inside the host, backslash and @ tricks: the allow-listed receiver is the only one reached; the decoy on 127.0.0.2 never', async () => {
    const good = await receiverOn('127.0.0.1');
    const decoy = await receiverOn('127.0.0.2');
    const w = await instance(world, { CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${good.port}` });
    const accepted = [
      `http://127.0.\t0.1:${good.port}/a`,
      `http://127.0.0.1\n:${good.port}/b`,
      `\thttp://127.0.0.1:${good.port}/c\r\n`,
      `http://127.0.0.1:${good.port}\\@127.0.0.2:${decoy.port}/d`,
      `\u0000http://127.0.0.1:${good.port}/e`,
      `\u00a0http://127.0.0.1:${good.port}/f\u3000`,
      `HTTP://127.0.0.1:${good.port}/g`,
      `http://0x7f.1:${good.port}/h`,
    ];
    for (const CallbackUrl of accepted) {
      const [id] = fresh(world, 1);
      const a = value(await w.invoke({ InstanceId: ALLOWED, ScriptId: id, CallbackUrl }, ctx(world)));
      expect([JSON.stringify(CallbackUrl), a.Success, (a as Record<string, any>).Callback?.Delivered, (a as Record<string, any>).Callback?.Url]).toEqual([
        JSON.stringify(CallbackUrl),
        true,
        true,
        `http://127.0.0.1:${good.port}`,
      ]);
    }
    const refused = [
      `http://127.0.0.1:${good.port}\t@127.0.0.2:${decoy.port}/x`,
      `http://127.0.0.2:${decoy.port}\\@127.0.0.1:${good.port}/x`,
      `http://127.0.0.2\t:${decoy.port}/x`,
      `http://127.0.0.1:${good.port}\n.127.0.0.2/x`,
      `http://127.0.0.2:${decoy.port}#@127.0.0.1:${good.port}/`,
      `http://127.0.0.2:${decoy.port}?@127.0.0.1:${good.port}/`,
    ];
    for (const CallbackUrl of refused) {
      const [id] = fresh(world, 1);
      const a = value(await w.invoke({ InstanceId: ALLOWED, ScriptId: id, CallbackUrl }, ctx(world)));
      expect([JSON.stringify(CallbackUrl), a.Code]).toEqual([JSON.stringify(CallbackUrl), 'InvalidParameter']);
      expect(calls(world, [id!])).toBe(0);
    }
    expect(decoy.hits).toEqual([]);
    expect(good.hits.length).toBe(accepted.length);
  });

  it('non-strings, blanks, relative and over-long values: 400 with our wording; a 1 MiB CallbackUrl is refused quickly', async () => {
    const w = await instance(world, { CALLBACK_ALLOWED_HOSTS: '127.0.0.1' });
    for (const CallbackUrl of [null, 5, true, [], {}, '', ' ', '/relative', '127.0.0.1/x', 'http://', 'http://[::1', '\ud800://x']) {
      const a = value(await w.invoke({ InstanceId: ALLOWED, ScriptId: 'x', CallbackUrl }, ctx(world)));
      expect([CallbackUrl, issues(a)]).toEqual([CallbackUrl, ['CallbackUrl: must be an absolute URL']]);
    }
    const long = `http://127.0.0.1/${'a'.repeat(2049)}`;
    expect(issues(value(await w.invoke({ InstanceId: ALLOWED, ScriptId: 'x', CallbackUrl: long }, ctx(world))))).toEqual(['CallbackUrl: must be at most 2048 characters']);
    const huge = `http://127.0.0.1/${'\u{1F600}'.repeat(200_000)}`;
    const t0 = performance.now();
    expect(issues(value(await w.invoke({ InstanceId: ALLOWED, ScriptId: 'x', CallbackUrl: huge }, ctx(world))))).toEqual(['CallbackUrl: must be at most 2048 characters']);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});

describe('FC HTTP trigger event shape', () => {
  const body = (id: string) => JSON.stringify({ InstanceId: ALLOWED, ScriptId: id });

  it('an own __proto__ in headers or queryParameters that is not a string is refused, naming it; a string one passes', async () => {
    const w = await instance(world);
    const [id, id2] = fresh(world, 2);
    const base = signed(body(id!));
    for (const field of ['headers', 'queryParameters'] as const) {
      const text = JSON.stringify({ ...base, [field]: { ...(base[field] as object), PROTO_HERE: 1 } }).replace('"PROTO_HERE":1', `"__proto__":{"webhook-id":"x","InstanceId":"${FOREIGN}"}`);
      expect(text).toContain('"__proto__"');
      const a = value(await w.invoke(text, ctx(world)));
      expect([field, issues(a)]).toEqual([field, [`${field}.__proto__: must be a string`]]);
    }
    const ok = JSON.stringify(signed(body(id2!))).replace('"headers":{', '"headers":{"__proto__":"x",');
    expect(httpAnswer(await w.invoke(ok, ctx(world))).status).toBe(200);
    expect(calls(world, [id!])).toBe(0);
  });

  it('prototype-named headers and query keys with non-string values are refused by name; headers as an array or null are refused', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const base = signed(body(id!));
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const a = value(await w.invoke({ ...base, headers: { ...(base.headers as object), [key]: { x: 1 } } }, ctx(world)));
      expect(issues(a)).toEqual([`headers.${key}: must be a string`]);
      const b = value(await w.invoke({ ...base, queryParameters: { [key]: 7 } }, ctx(world)));
      expect(issues(b)).toEqual([`queryParameters.${key}: must be a string`]);
    }
    for (const headers of [[], null, 'x', [['webhook-id', 'x']]]) {
      expect(issues(value(await w.invoke({ ...base, headers }, ctx(world))))).toEqual(['headers: must be an object of strings']);
    }
    expect(calls(world, [id!])).toBe(0);
  });

  it('a signed JSON body whose own __proto__ carries the ids is 400 is required; a form naming __proto__/constructor is 400 naming each', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const proto = `{"__proto__":{"InstanceId":"${ALLOWED}","ScriptId":"${id}"}}`;
    const a = httpAnswer(await w.invoke(signed(proto), ctx(world)));
    expect([a.status, issues(a.body as Answer)]).toEqual([400, ['InstanceId: is required', 'ScriptId: is required']]);
    const form = `__proto__=x&constructor=y&toString=z&InstanceId=${ALLOWED}&ScriptId=${id}`;
    const b = httpAnswer(await w.invoke(signed(form, { contentType: 'application/x-www-form-urlencoded' }), ctx(world)));
    expect(b.status).toBe(400);
    expect((b.body as Answer).Issues!.map((i) => i.Path)).toEqual(['__proto__', 'constructor', 'toString']);
    const twice = `InstanceId=${ALLOWED}&ScriptId=${id}&%49nstanceId=${FOREIGN}`;
    const c = httpAnswer(await w.invoke(signed(twice, { contentType: 'application/x-www-form-urlencoded' }), ctx(world)));
    expect([c.status, issues(c.body as Answer)]).toEqual([400, ['InstanceId: is given more than once']]);
    expect(calls(world, [id!])).toBe(0);
  });

  it('a signed request with prototype-named query keys (no flat field) is read from its body alone', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    const text = body(id!);
    const ev = httpEvent({ body: text, contentType: 'application/json', headers: signedHeaders(text), query: { constructor: 'x', toString: 'y', instanceid: FOREIGN } });
    const a = httpAnswer(await w.invoke(ev, ctx(world)));
    expect([a.status, a.body.ScriptId]).toEqual([200, id]);
  });
});

describe('no zod default wording ever reaches an answer', () => {
  it('random values in every field of an item, a batch, a CallbackUrl and an HTTP event', async () => {
    const w = await instance(world, { CALLBACK_ALLOWED_HOSTS: '127.0.0.1' });
    const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom<unknown>('', '\u0000', '\ud800', 'http://127.0.0.1/', -0, 1e21, 2 ** 53));
    const field = fc.option(anyJson, { nil: undefined });
    const request = fc.oneof(
      fc.record({ InstanceId: field, ScriptId: field, CallbackUrl: field }, { requiredKeys: [] }),
      fc.record({ Items: fc.oneof(anyJson, fc.array(fc.record({ InstanceId: field, ScriptId: field }, { requiredKeys: [] }), { maxLength: 3 })), CallbackUrl: field }, { requiredKeys: [] }),
    );
    const httpShape = fc.record(
      {
        version: fc.oneof(fc.constant('v1'), anyJson),
        rawPath: fc.oneof(fc.constant('/'), anyJson),
        headers: fc.oneof(fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }), anyJson),
        queryParameters: fc.oneof(fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }), anyJson),
        body: anyJson,
        isBase64Encoded: anyJson,
        requestContext: fc.oneof(fc.record({ http: fc.oneof(fc.record({ method: anyJson }), anyJson) }), anyJson),
      },
      { requiredKeys: ['rawPath'] },
    );
    const messages = new Set<string>();
    const samples = [...fc.sample(request, { numRuns: 250, seed: 19 }), ...fc.sample(httpShape, { numRuns: 250, seed: 25 })];
    for (const event of samples) {
      const answer = await w.invoke(event, ctx(world));
      const v = (answer.value ?? answer.error) as Record<string, any>;
      const parsed: Answer = typeof v?.body === 'string' ? JSON.parse(v.body) : v;
      if (parsed?.Message) messages.add(parsed.Message);
      for (const issue of parsed?.Issues ?? []) messages.add(issue.Message);
    }
    expect([...messages].filter((m) => ZOD_DEFAULT.test(m))).toEqual([]);
    expect(messages.size).toBeGreaterThan(5);
  }, 60_000);
});
