/**
 * The edge of the withdraw function (issue #13): JSON shaped like each trigger's event, with
 * its fields missing, of the wrong type, empty or null, through the whole handler (middy
 * included) against the emulator. Whatever arrives, the answer is typed — an FC HTTP response
 * with a JSON body and a Code for a well-formed HTTP trigger event, a result with a Code for
 * anything else — nothing is thrown (the emulator answers every call definitively), and a
 * malformed event or entry costs no API call.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { anyField, asBytes, MISSING, nastyJson, withField } from '../support/json-shapes';
import { cloudEvent, httpEvent, referenceEvent } from '../support/events';
import { contextFor, serviceFor, startTestEmulator, type RoleCredentials } from '../support/stack';

/** Well-formed, but no such instance upstream: each well-formed item costs exactly one call, refused 404. */
const ITEM = { InstanceId: 'inst-not-upstream', ScriptId: 'script-edge-1' };
const ITEM_JSON = JSON.stringify(ITEM);
const ID_RULE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const RUNS = 120;

let emulator: OutboundBotEmulator;
let role: RoleCredentials;
beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
});
afterAll(() => emulator.close());

/**
 * What a drawn event must get. `http`: answered as an FC HTTP response. `refused[i]`: result i
 * is 400 InvalidParameter with no call (naming `path` when given); false: it reached the
 * emulator (refused 404 there); undefined: either, as long as it is typed and the calls add up.
 */
interface Case {
  event: unknown;
  http: boolean;
  refused?: boolean[];
  path?: string;
}

type Json = Record<string, any>;

/** One invocation on a fresh instance (so no idempotency record of an earlier draw answers it). */
async function invoke(event: unknown) {
  const { service, logs } = serviceFor(emulator);
  const before = emulator.requests.length;
  const context = contextFor(role);
  let answer: Json | undefined;
  let thrown: unknown;
  try {
    answer = (await service.handle(asBytes(event), context)) as Json;
  } catch (error) {
    thrown = error;
  }
  return { answer, thrown, calls: emulator.requests.length - before, logs: logs() };
}

/** The results an answer carries, and whether it came as an FC HTTP response. */
function resultsOf(answer: Json): { http: boolean; results: Json[] } {
  if (typeof answer.statusCode !== 'number') return { http: false, results: answer.Results ?? [answer] };
  expect(answer.headers).toMatchObject({ 'content-type': 'application/json' });
  expect(typeof answer.headers['x-fc-request-id']).toBe('string');
  const body = JSON.parse(answer.body as string) as Json;
  const results: Json[] = body.Results ?? [body];
  if (!body.Results) expect(body.HttpStatusCode).toBe(answer.statusCode);
  return { http: true, results };
}

/**
 * The emulator saw what the results account for: their attempts, except that one script named
 * twice in a delivery may be withdrawn once (batch duplicates, the per-script lock's waiters).
 */
function expectCallsAddUp(calls: number, results: Json[]): void {
  const attempts = (r: Json) => (r.Attempts as number | undefined) ?? 0;
  const perScript = new Map(results.map((r) => [`${String(r.InstanceId)}/${String(r.ScriptId)}`, attempts(r)]));
  expect(calls).toBeGreaterThanOrEqual([...perScript.values()].reduce((a, b) => a + b, 0));
  expect(calls).toBeLessThanOrEqual(results.reduce((sum, r) => sum + attempts(r), 0));
}

async function expectAnswered(drawn: Case): Promise<void> {
  const { answer, thrown, calls, logs } = await invoke(drawn.event);
  expect(thrown).toBeUndefined();
  expect(logs.filter((line) => line.message === 'invocation crashed')).toEqual([]);
  const { http, results } = resultsOf(answer!);
  expect(http).toBe(drawn.http);
  for (const result of results) {
    expect(result.Success).toBe(false);
    expect(typeof result.Code).toBe('string');
    expect(result.Code).not.toBe('');
    expect(result.HttpStatusCode).toBeGreaterThanOrEqual(400);
    if (result.Code === 'InvalidParameter') expect(result.Attempts ?? 0).toBe(0);
  }
  expectCallsAddUp(calls, results);
  drawn.refused?.forEach((refused, index) => {
    const result = results[index]!;
    if (refused) {
      expect(result).toMatchObject({ HttpStatusCode: 400, Code: 'InvalidParameter' });
      if (drawn.path !== undefined) expect(result.Message).toContain(drawn.path);
    } else {
      // It reached upstream: its own call, or (named twice) the outcome of the call its twin made.
      expect(result).toMatchObject({ HttpStatusCode: 404, Code: 'NotExist.Instance' });
      expect([0, 1]).toContain(result.Attempts);
    }
  });
  if (drawn.refused) expect(results).toHaveLength(drawn.refused.length);
}

const runProperty = (cases: fc.Arbitrary<Case>) => fc.assert(fc.asyncProperty(cases, expectAnswered), { numRuns: RUNS });

// ---------------------------------------------------------------------------------------------
// The HTTP trigger: the template with one field replaced, checked against the rule by an oracle
// of its own: version "v1", rawPath a string, headers and queryParameters objects of strings,
// body a string, isBase64Encoded a boolean, requestContext.http.method a non-empty string.

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (check: (v: unknown) => boolean) => (v: unknown) => v === MISSING || check(v);
const stringMap = (v: unknown) => isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
const method = (v: unknown) => typeof v === 'string' && v !== '';
const http = (v: unknown) => isRecord(v) && method(v.method);

const HTTP_FIELDS: ReadonlyArray<readonly [path: string[], wellTyped: (v: unknown) => boolean]> = [
  [['version'], (v) => v === 'v1'],
  [['rawPath'], (v) => typeof v === 'string'],
  [['headers'], optional(stringMap)],
  [['headers', 'Content-Type'], optional((v) => typeof v === 'string')],
  [['queryParameters'], optional(stringMap)],
  [['queryParameters', 'ScriptId'], optional((v) => typeof v === 'string')],
  [['body'], optional((v) => typeof v === 'string')],
  [['isBase64Encoded'], optional((v) => typeof v === 'boolean')],
  [['requestContext'], (v) => isRecord(v) && http(v.http)],
  [['requestContext', 'http'], http],
  [['requestContext', 'http', 'method'], method],
];

const HTTP_TEMPLATE = httpEvent({ body: ITEM_JSON, contentType: 'application/json' });

/** The rule, written independently of lib/fc/events.ts, for events mutated in several fields. */
function wellFormedHttp(event: Record<string, unknown>): boolean {
  const context = event.requestContext;
  return (
    event.version === 'v1' &&
    typeof event.rawPath === 'string' &&
    (event.headers === undefined || stringMap(event.headers)) &&
    (event.queryParameters === undefined || stringMap(event.queryParameters)) &&
    (event.body === undefined || typeof event.body === 'string') &&
    (event.isBase64Encoded === undefined || typeof event.isBase64Encoded === 'boolean') &&
    isRecord(context) &&
    http(context.http)
  );
}

/** Replacements that keep a field well-typed, so the draw exercises both sides of the rule. */
const wellTypedValue = fc.oneof(fc.constant(MISSING), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant({}), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }), fc.constantFrom('v1', 'POST', 'get'));

const oneHttpField: fc.Arbitrary<Case> = fc
  .tuple(fc.constantFrom(...HTTP_FIELDS), fc.oneof(anyField, wellTypedValue))
  .map(([[path, wellTyped], value]) => {
    const event = withField(HTTP_TEMPLATE, path, value);
    const ok = wellTyped(value);
    return ok ? { event, http: true } : { event, http: false, refused: [true], path: path.join('.') };
  });

const someHttpFields: fc.Arbitrary<Case> = fc
  .array(fc.tuple(fc.constantFrom(...HTTP_FIELDS.map(([path]) => path)), anyField), { minLength: 1, maxLength: 4 })
  .map((edits) => {
    const event = edits.reduce((e, [path, value]) => withField(e, path, value), HTTP_TEMPLATE);
    return wellFormedHttp(event) ? { event, http: true } : { event, http: false, refused: [true] };
  });

describe('HTTP trigger events, malformed at the edge', () => {
  it('property: one field replaced by any JSON: an HTTP answer when the shape holds, else a 400 event result naming the field, no call', async () => {
    await runProperty(oneHttpField);
  });

  it('property: several fields replaced: typed either way, and HTTP exactly when the rule says well-formed', async () => {
    await runProperty(someHttpFields);
  });

  it.each([
    ['requestContext.http without method', ['requestContext', 'http', 'method'], MISSING, 'requestContext.http.method: is required'],
    ['a body that is not a string', ['body'], { InstanceId: ITEM.InstanceId }, 'body: must be a string'],
    ['a header that is not a string', ['headers', 'X-Tag'], ['a', 'b'], 'headers.X-Tag: must be a string'],
    ['isBase64Encoded as text', ['isBase64Encoded'], 'false', 'isBase64Encoded: must be a boolean'],
    ['a query value that is not a string', ['queryParameters', 'ScriptId'], null, 'queryParameters.ScriptId: must be a string'],
  ] as const)('%s: returned as a 400 event result, not thrown, no call', async (_name, path, value, message) => {
    const { answer, thrown, calls } = await invoke(withField(HTTP_TEMPLATE, path, value));
    expect(thrown).toBeUndefined();
    expect(answer).toMatchObject({ Success: false, HttpStatusCode: 400, Code: 'InvalidParameter', Message: message });
    expect(answer!.statusCode).toBeUndefined();
    expect(calls).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Event triggers: each drawn with a well-formed item or a malformed one, per entry.

/** A CloudEvent's data: the item in one of its three encodings, or anything else (malformed). */
const cloudData: fc.Arbitrary<{ data: unknown; ok: boolean }> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom<unknown>(ITEM, ITEM_JSON, { messageId: randomUUID(), messageBody: ITEM_JSON }).map((data) => ({ data, ok: true })) },
  anyField.map((data) => ({ data, ok: false })),
  fc.record({ messageId: anyField, messageBody: anyField }).map(({ messageId, messageBody }) => ({ data: withField(withField({}, ['messageId'], messageId), ['messageBody'], messageBody), ok: false })),
);

/** Mostly `usual`, sometimes anything: so that well-formed draws are common enough. */
const usually = <T>(usual: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: usual }, { weight: 1, arbitrary: anyField });

/** A CloudEvent with its data and its attributes (id, source, specversion) drawn; returns the event and whether it is well-formed. */
const oneCloudEvent: fc.Arbitrary<{ event: Record<string, unknown>; ok: boolean }> = fc
  .record({ data: cloudData, id: usually(fc.uuid()), source: usually(fc.constant('acs.mns')), specversion: usually(fc.constant('1.0')) })
  .map(({ data, id, source, specversion }) => {
    let event = withField(cloudEvent(data.data === MISSING ? null : data.data), ['id'], id);
    event = withField(event, ['source'], source);
    event = withField(event, ['specversion'], specversion);
    if (data.data === MISSING) delete event.data;
    return { event, ok: data.ok && typeof specversion === 'string' };
  });

const cloudEvents: fc.Arbitrary<Case> = fc.oneof(
  oneCloudEvent.map(({ event, ok }) => ({ event, http: false, refused: [!ok] })),
  fc.array(fc.oneof(oneCloudEvent, anyField.map((event) => ({ event, ok: false }))), { minLength: 1, maxLength: 3 }).map((drawn) => ({
    event: drawn.map((d) => (d.event === MISSING ? null : d.event)),
    http: false,
    refused: drawn.map((d) => !d.ok),
  })),
);

const MNS_TOPIC = referenceEvent('fc3-template-mns-with-MessageAttributes.json');
const mnsTopicJson: fc.Arbitrary<Case> = fc
  .record({ message: fc.oneof(fc.constant(ITEM_JSON), anyField), topic: fc.oneof(fc.constant(MNS_TOPIC.TopicName), anyField), id: fc.oneof(fc.uuid(), anyField) })
  .map(({ message, topic, id }) => {
    const event = withField(withField(withField(MNS_TOPIC, ['Message'], message), ['TopicName'], topic), ['MessageId'], id);
    return { event, http: false, refused: [!(message === ITEM_JSON && typeof topic === 'string')] };
  });

const mnsTopicStream: fc.Arbitrary<Case> = fc
  .record({ body: fc.oneof(fc.constant(ITEM_JSON), anyField), attrs: anyField })
  .map(({ body, attrs }) => ({ event: withField(withField({}, ['body'], body), ['attrs'], attrs), http: false, refused: [body !== ITEM_JSON] }));

/** An item field: a valid id, or anything (which may happen to be a valid id: the oracle decides). */
const idField = fc.oneof({ weight: 4, arbitrary: fc.constant(ITEM.ScriptId) }, { weight: 1, arbitrary: anyField }, { weight: 1, arbitrary: fc.string({ maxLength: 70 }) });
const validId = (id: unknown) => typeof id === 'string' && ID_RULE.test(id);
const itemIsValid = (item: unknown) => isRecord(item) && validId(item.InstanceId) && validId(item.ScriptId);
const drawnItem = fc.record({ InstanceId: fc.oneof(fc.constant(ITEM.InstanceId), idField), ScriptId: idField }).map((item) => withField(withField({}, ['InstanceId'], item.InstanceId), ['ScriptId'], item.ScriptId));

/** Direct invocation: one item or a batch, with or without a CallbackUrl (no host is allowed here, so any is refused). */
const directInvoke: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ item: drawnItem, callback: fc.oneof({ weight: 2, arbitrary: fc.constant(MISSING) }, { weight: 1, arbitrary: anyField }) }).map(({ item, callback }) => {
    const event = withField(item, ['CallbackUrl'], callback);
    return { event, http: false, refused: [!(itemIsValid(event) && callback === MISSING)] };
  }),
  fc.oneof(fc.array(drawnItem, { maxLength: 3 }), anyField).map((items) => {
    const event = withField({}, ['Items'], items);
    const ok = Array.isArray(items) && items.length > 0 && items.every(itemIsValid);
    // A refused batch is one refusal; a valid one answers per item.
    return { event, http: false, refused: ok ? (items as unknown[]).map(() => false) : [true] };
  }),
);

/** The cleanup's timer event sent to the withdraw function: always a 400. */
const timerShaped: fc.Arbitrary<Case> = fc
  .record({ triggerTime: fc.oneof(fc.constant('2026-11-24T03:00:00Z'), anyField), triggerName: fc.oneof(fc.constant('nightly'), anyField), payload: fc.oneof(fc.constant('{}'), anyField, nastyJson) })
  .map((fields) => ({ event: Object.entries(fields).reduce((e, [k, v]) => withField(e, [k], v), {} as Record<string, unknown>), http: false, refused: [true] }));

describe('event triggers, malformed at the edge', () => {
  it('property: CloudEvents and arrays of them, with any data and attributes: each entry answered on its own, malformed ones 400 with no call', async () => {
    await runProperty(cloudEvents);
  });

  it('property: MNS topic JSON format with any Message, TopicName, MessageId', async () => {
    await runProperty(mnsTopicJson);
  });

  it('property: MNS topic STREAM format with any body and attrs', async () => {
    await runProperty(mnsTopicStream);
  });

  it('property: direct invocations, one item or a batch, with any ids and CallbackUrl', async () => {
    await runProperty(directInvoke);
  });

  it('property: timer-shaped objects are a 400, whatever they hold', async () => {
    await runProperty(timerShaped);
  });

  it('a CloudEvent whose source cannot be turned into text is answered, keyed by the invocation', async () => {
    const { answer, thrown, calls } = await invoke(withField(cloudEvent(ITEM), ['source'], { toString: 1 }));
    expect(thrown).toBeUndefined();
    expect(answer).toMatchObject({ HttpStatusCode: 404, Code: 'NotExist.Instance', Attempts: 1 });
    expect(calls).toBe(1);
  });
});
