import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { decodeEvent, httpEventIssues, isHttpShaped, MAX_EVENT_BYTES, oversizedEvent, parseHttpEvent } from '../../lib/fc/events';
import { anyField, anyJson, MISSING, withField } from '../support/json-shapes';
import { httpEvent, referenceEvent } from '../support/events';
import { issuesOf } from '../support/issues';

const TEMPLATE = referenceEvent('fc3-template-http.json');
const edited = (path: string[], value: unknown) => withField(TEMPLATE, path, value);

describe('decoding what FC hands the handler', () => {
  it('property: any bytes decode to a JSON value or an InvalidParameterError naming the event', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), anyJson.map((v) => new TextEncoder().encode(JSON.stringify(v) ?? ''))), (bytes) => {
        try {
          decodeEvent(Buffer.from(bytes));
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidParameterError);
          expect((error as InvalidParameterError).issues).toEqual([{ Path: 'event', Message: 'is not valid JSON' }]);
        }
      }),
    );
  });

  it('a string and a Uint8Array decode like a Buffer; an object passes through', () => {
    expect(decodeEvent('{"a":1}')).toEqual({ a: 1 });
    expect(decodeEvent(new TextEncoder().encode('[1]'))).toEqual([1]);
    const event = { a: 1 };
    expect(decodeEvent(event)).toBe(event);
  });
});

describe('an event too large to parse', () => {
  const padded = (event: Record<string, unknown>, bytes: number): Buffer => {
    const text = JSON.stringify({ ...event, pad: '' });
    return Buffer.from(text.replace('"pad":""', `"pad":"${'x'.repeat(Math.max(0, bytes - text.length))}"`));
  };

  it('is judged on its bytes: 1 MiB passes, one byte more does not', () => {
    const event = { InstanceId: 'i', ScriptId: 's' };
    expect(oversizedEvent(padded(event, MAX_EVENT_BYTES))).toBeUndefined();
    expect(oversizedEvent(padded(event, MAX_EVENT_BYTES + 1))).toEqual({ bytes: MAX_EVENT_BYTES + 1, http: false });
    expect(oversizedEvent(padded(event, MAX_EVENT_BYTES + 1).toString())).toEqual({ bytes: MAX_EVENT_BYTES + 1, http: false });
    expect(oversizedEvent({ big: 'x'.repeat(MAX_EVENT_BYTES + 1) })).toBeUndefined();
  });

  it('is answered as HTTP when its bytes name both fields of an HTTP trigger event', () => {
    expect(oversizedEvent(padded(httpEvent({ body: '' }), MAX_EVENT_BYTES + 10))).toMatchObject({ http: true });
    expect(oversizedEvent(padded({ requestContext: {} }, MAX_EVENT_BYTES + 10))).toMatchObject({ http: false });
  });

  it('only the outermost object\'s keys count: the same names inside data, or inside a string, do not', () => {
    const pad = 'x'.repeat(MAX_EVENT_BYTES);
    const nested = { specversion: '1.0', data: { rawPath: '/', requestContext: {} }, pad };
    expect(oversizedEvent(Buffer.from(JSON.stringify(nested)))).toMatchObject({ http: false });
    const inString = { body: `"rawPath": "requestContext": ${pad}` };
    expect(oversizedEvent(Buffer.from(JSON.stringify(inString)))).toMatchObject({ http: false });
    const escapedQuotes = { body: `\\"\" ${pad} \\`, rawPath: '/', requestContext: { http: { method: 'POST' } } };
    expect(oversizedEvent(Buffer.from(JSON.stringify(escapedQuotes, null, 1)))).toMatchObject({ http: true });
    expect(oversizedEvent(JSON.stringify(escapedQuotes))).toMatchObject({ http: true });
  });

  it('a string event is measured in UTF-8 bytes: 700,000 CJK characters are 2.1 MB', () => {
    expect(oversizedEvent(JSON.stringify({ text: '漢'.repeat(700_000) }))).toMatchObject({ bytes: 2_100_011 });
    expect(oversizedEvent(JSON.stringify({ text: '漢'.repeat(300_000) }))).toBeUndefined();
  });

  it('a view into a larger buffer is measured and searched within its own bytes', () => {
    const whole = Buffer.concat([Buffer.from('"rawPath""requestContext"'), Buffer.alloc(MAX_EVENT_BYTES + 1, 0x20)]);
    expect(oversizedEvent(whole.subarray(25))).toEqual({ bytes: MAX_EVENT_BYTES + 1, http: false });
  });
});

describe('the HTTP trigger event shape', () => {
  it('the FC 3.0 template and the events the tests and the local front end build are well-formed', () => {
    expect(httpEventIssues(TEMPLATE)).toEqual([]);
    expect(httpEventIssues(httpEvent({ body: Buffer.from('x'), query: { ScriptId: 's' } }))).toEqual([]);
    expect(httpEventIssues(edited(['body'], MISSING))).toEqual([]);
    expect(httpEventIssues(edited(['headers'], MISSING))).toEqual([]);
  });

  it('an event carrying rawPath or requestContext is HTTP-shaped; CloudEvents, MNS and items are not', () => {
    expect(isHttpShaped({ rawPath: null })).toBe(true);
    expect(isHttpShaped({ requestContext: 0 })).toBe(true);
    for (const other of [{ specversion: '1.0', data: {} }, { TopicName: 't', Message: '{}' }, { body: '{}' }, { InstanceId: 'a', ScriptId: 'b' }, { version: 'v1' }]) {
      expect(isHttpShaped(other)).toBe(false);
    }
  });

  it.each([
    ['no method', ['requestContext', 'http', 'method'], MISSING, { Path: 'requestContext.http.method', Message: 'is required' }],
    ['an empty method', ['requestContext', 'http', 'method'], '', { Path: 'requestContext.http.method', Message: 'must not be empty' }],
    ['a numeric method', ['requestContext', 'http', 'method'], 7, { Path: 'requestContext.http.method', Message: 'must be a string' }],
    ['no requestContext.http', ['requestContext', 'http'], MISSING, { Path: 'requestContext.http', Message: 'is required' }],
    ['a null requestContext.http', ['requestContext', 'http'], null, { Path: 'requestContext.http', Message: 'must be an object' }],
    ['an array requestContext', ['requestContext'], [], { Path: 'requestContext', Message: 'must be an object' }],
    ['no requestContext', ['requestContext'], MISSING, { Path: 'requestContext', Message: 'is required' }],
    ['a body that is an object', ['body'], { InstanceId: 'a' }, { Path: 'body', Message: 'must be a string' }],
    ['a null body', ['body'], null, { Path: 'body', Message: 'must be a string' }],
    ['headers as an array', ['headers'], ['Content-Type'], { Path: 'headers', Message: 'must be an object of strings' }],
    ['a header that is a number', ['headers', 'Content-Length'], 12, { Path: 'headers.Content-Length', Message: 'must be a string' }],
    ['a header that is null', ['headers', 'webhook-id'], null, { Path: 'headers.webhook-id', Message: 'must be a string' }],
    ['isBase64Encoded as text', ['isBase64Encoded'], 'true', { Path: 'isBase64Encoded', Message: 'must be a boolean' }],
    ['query values as an array', ['queryParameters', 'ScriptId'], ['a', 'b'], { Path: 'queryParameters.ScriptId', Message: 'must be a string' }],
    ['queryParameters as a string', ['queryParameters'], 'ScriptId=a', { Path: 'queryParameters', Message: 'must be an object of strings' }],
    ['another version', ['version'], 'v2', { Path: 'version', Message: 'must be "v1"' }],
    ['no rawPath', ['rawPath'], MISSING, { Path: 'rawPath', Message: 'is required' }],
  ] as const)('%s is refused, naming the field', (_name, path, value, issue) => {
    expect(issuesOf(() => parseHttpEvent(edited([...path], value)), InvalidParameterError)).toEqual([issue]);
  });

  it('every bad field is named, each map by its first bad entry; a long key is cut', () => {
    const headers = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`${'k'.repeat(100)}${i}`, i]));
    const event = withField(withField(edited(['headers'], headers), ['body'], 1), ['requestContext', 'http', 'method'], MISSING);
    expect(issuesOf(() => parseHttpEvent(event), InvalidParameterError)).toEqual([
      { Path: `headers.${'k'.repeat(64)}…`, Message: 'must be a string' },
      { Path: 'body', Message: 'must be a string' },
      { Path: 'requestContext.http.method', Message: 'is required' },
    ]);
  });

  it('an own __proto__ header that is not a string is named, though zod\'s record skips that key', () => {
    const event = { ...TEMPLATE, headers: JSON.parse('{"__proto__":{"webhook-signature":"v1,x"},"Accept":"*/*"}') as unknown };
    expect(issuesOf(() => parseHttpEvent(event), InvalidParameterError)).toEqual([{ Path: 'headers.__proto__', Message: 'must be a string' }]);
    expect(httpEventIssues({ ...TEMPLATE, headers: JSON.parse('{"__proto__":"text"}') as unknown })).toEqual([]);
  });

  it('a well-formed event is returned as it is, not copied', () => {
    expect(parseHttpEvent(TEMPLATE)).toBe(TEMPLATE);
  });

  it('property: any JSON in any field: well-formed and unchanged, or refused naming a field that was replaced', () => {
    const FIELDS = [['version'], ['rawPath'], ['headers'], ['headers', 'Accept'], ['queryParameters'], ['queryParameters', 'ScriptId'], ['body'], ['isBase64Encoded'], ['requestContext'], ['requestContext', 'http'], ['requestContext', 'http', 'method']];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...FIELDS), anyField), { minLength: 1, maxLength: 3 }), (edits) => {
        const event = edits.reduce((e, [path, value]) => withField(e, path, value), TEMPLATE);
        const issues = httpEventIssues(event);
        for (const issue of issues) expect(edits.some(([path]) => issue.Path.startsWith(path[0]!))).toBe(true);
        if (issues.length === 0) expect(parseHttpEvent(event)).toBe(event);
        else expect(() => parseHttpEvent(event)).toThrow(InvalidParameterError);
      }),
    );
  });
});
