// FC event envelopes at their edges (issue #23), beside events.test.ts: what a malformed HTTP
// event is told, field by field; the size check that runs before any parsing, its cost and its
// key scan, against JSON.parse as the reference; the timer event's shape.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeEvent, httpEventIssues, isTimerEvent, MAX_EVENT_BYTES, oversizedEvent } from '../../lib/fc/events';
import { withField, MISSING } from '../support/json-shapes';
import { referenceEvent } from '../support/events';

const TEMPLATE = referenceEvent('fc3-template-http.json');
const edited = (path: string[], value: unknown) => withField(TEMPLATE, path, value);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a malformed HTTP trigger event', () => {
  // First in this file on purpose: the schema is built on first use, so this test is the one that
  // runs its construction, and with it every message it declares.
  it('is told, for each bad field, what that field must be', () => {
    const cases: Array<[string[], unknown, string, string]> = [
      [['version'], 'v2', 'version', 'must be "v1"'],
      [['version'], 1, 'version', 'must be "v1"'],
      [['rawPath'], 7, 'rawPath', 'must be a string'],
      [['headers'], 'text', 'headers', 'must be an object of strings'],
      [['headers', 'Accept'], 1, 'headers.Accept', 'must be a string'],
      [['queryParameters'], [], 'queryParameters', 'must be an object of strings'],
      [['queryParameters', 'ScriptId'], null, 'queryParameters.ScriptId', 'must be a string'],
      [['body'], 1, 'body', 'must be a string'],
      [['isBase64Encoded'], 'yes', 'isBase64Encoded', 'must be a boolean'],
      [['requestContext'], 'ctx', 'requestContext', 'must be an object'],
      [['requestContext', 'http'], [], 'requestContext.http', 'must be an object'],
      [['requestContext', 'http', 'method'], 5, 'requestContext.http.method', 'must be a string'],
      [['requestContext', 'http', 'method'], '', 'requestContext.http.method', 'must not be empty'],
    ];
    for (const [path, value, Path, Message] of cases) {
      expect([path.join('.'), httpEventIssues(edited(path, value))]).toEqual([path.join('.'), [{ Path, Message }]]);
    }
    // An own __proto__ key (JSON.parse makes one) is held to the same rule, in both maps.
    for (const map of ['headers', 'queryParameters']) {
      expect(httpEventIssues(edited([map], JSON.parse('{"__proto__":{"x":"y"}}')))).toEqual([{ Path: `${map}.__proto__`, Message: 'must be a string' }]);
    }
  });

  it('names each map by its first bad entry only, however many there are, and every other bad field', () => {
    const many = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, i]));
    const event = withField(withField(edited(['queryParameters'], many), ['headers'], many), ['requestContext', 'http', 'method'], MISSING);
    expect(httpEventIssues(event)).toEqual([
      { Path: 'headers.k0', Message: 'must be a string' },
      { Path: 'queryParameters.k0', Message: 'must be a string' },
      { Path: 'requestContext.http.method', Message: 'is required' },
    ]);
  });
});

describe('the size of an event, judged before it is parsed', () => {
  it('a string event is measured in UTF-8 bytes up to its last character: 1 MiB of UTF-16 units with one CJK character is over', () => {
    const ascii = `"${'x'.repeat(MAX_EVENT_BYTES - 2)}"`;
    expect(ascii).toHaveLength(MAX_EVENT_BYTES);
    expect(oversizedEvent(ascii)).toBeUndefined();
    const withCjk = `"漢${'x'.repeat(MAX_EVENT_BYTES - 3)}"`;
    expect(withCjk).toHaveLength(MAX_EVENT_BYTES);
    expect(oversizedEvent(withCjk)).toEqual({ bytes: MAX_EVENT_BYTES + 2, http: false });
  });

  it('a string is measured only when its UTF-16 length leaves the answer open', () => {
    const measure = vi.spyOn(Buffer, 'byteLength');
    expect(oversizedEvent('"small"')).toBeUndefined();
    expect(oversizedEvent(`"${'x'.repeat(Math.floor(MAX_EVENT_BYTES / 3) - 2)}"`)).toBeUndefined();
    expect(oversizedEvent(`"${'x'.repeat(MAX_EVENT_BYTES)}"`)).toEqual({ bytes: MAX_EVENT_BYTES + 2, http: false });
    expect(measure).not.toHaveBeenCalled();
    expect(oversizedEvent(`"${'x'.repeat(Math.floor(MAX_EVENT_BYTES / 3))}"`)).toBeUndefined();
    expect(measure).toHaveBeenCalledTimes(1);
  });

  it('a key may have JSON whitespace of any kind before its colon', () => {
    const pad = 'x'.repeat(MAX_EVENT_BYTES);
    for (const space of [' ', '\n', '\r', '\t', ' \r\n\t ']) {
      const text = `{"rawPath"${space}:"/","requestContext"${space}:{},"pad":"${pad}"}`;
      expect([JSON.stringify(space), oversizedEvent(text), oversizedEvent(Buffer.from(text))]).toEqual([JSON.stringify(space), { bytes: text.length, http: true }, { bytes: text.length, http: true }]);
    }
    // A name followed by anything else is a value, not a key.
    for (const values of [`{"a":"rawPath","b":"requestContext","pad":"${pad}"}`, `{"a":["rawPath","requestContext"],"pad":"${pad}"}`, `{"a":"rawPath" ,"b":"requestContext"\n}`.replace('}', `,"pad":"${pad}"}`)]) {
      expect(oversizedEvent(values)).toMatchObject({ http: false });
    }
  });

  it('keys after an array at the top level still count; keys inside arrays do not', () => {
    const pad = 'x'.repeat(MAX_EVENT_BYTES);
    const after = `{"list":[1,[2],{"x":[]}],"rawPath":"/","requestContext":{},"pad":"${pad}"}`;
    expect(oversizedEvent(Buffer.from(after))).toMatchObject({ http: true });
    const inside = `{"list":[{"rawPath":"/","requestContext":{}}],"pad":"${pad}"}`;
    expect(oversizedEvent(Buffer.from(inside))).toMatchObject({ http: false });
  });

  it('an event cut off inside a string ends the scan with the keys read before it', () => {
    const cut = `{"rawPath":"/","requestContext":{},"pad":"${'x'.repeat(MAX_EVENT_BYTES)}`;
    expect(oversizedEvent(cut)).toEqual({ bytes: cut.length, http: true });
    expect(oversizedEvent(Buffer.from(`{"pad":"${'x'.repeat(MAX_EVENT_BYTES)}\\"}`))).toMatchObject({ http: false });
  });

  it('property: says HTTP exactly when both fields are keys of the outermost object, as JSON.parse reads it', () => {
    // Strings full of quotes, backslashes, brackets and the two names themselves, nested in arrays and objects.
    const piece = fc.constantFrom('"', '\\', '\\\\', '\\"', '{', '}', '[', ']', ':', ',', ' ', '\n', 'rawPath', 'requestContext', '"rawPath":', 'a');
    const text = fc.oneof(fc.array(piece, { maxLength: 6 }).map((parts) => parts.join('')), fc.constantFrom('rawPath', 'requestContext'));
    const key = fc.oneof(fc.constantFrom('rawPath', 'requestContext', 'body', 'data'), text);
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(key, tie('value'), { maxKeys: 3 })),
    }));
    const pad = 'x'.repeat(MAX_EVENT_BYTES);
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 5 }), fc.boolean(), fc.constantFrom(undefined, 1, '\t'), (fields, padFirst, indent) => {
        const event = padFirst ? { pad, ...fields } : { ...fields, pad };
        const json = JSON.stringify(event, null, indent);
        const parsed = JSON.parse(json) as Record<string, unknown>;
        const http = Object.hasOwn(parsed, 'rawPath') && Object.hasOwn(parsed, 'requestContext');
        expect(oversizedEvent(json)?.http).toBe(http);
        expect(oversizedEvent(Buffer.from(json))?.http).toBe(http);
      }),
      { numRuns: 150 },
    );
  });
});

describe('decoding an event', () => {
  it('decodes a Buffer where it lies, without copying it first', () => {
    const copy = vi.spyOn(Buffer, 'from');
    expect(decodeEvent(Buffer.from('{"a":[1]}'))).toEqual({ a: [1] });
    expect(copy).toHaveBeenCalledTimes(1); // the test's own Buffer.from, no other
  });
});

describe('the timer event', () => {
  it('has a string triggerTime, a string triggerName and a payload, which may be anything', () => {
    const timer = { triggerTime: '2025-11-25T01:00:00Z', triggerName: 'cleanup-timer', payload: '{}' };
    expect(isTimerEvent(timer)).toBe(true);
    expect(isTimerEvent({ ...timer, payload: undefined })).toBe(true);
    const { payload: _payload, ...noPayload } = timer;
    expect(isTimerEvent(noPayload)).toBe(false);
    expect(isTimerEvent({ ...timer, triggerTime: 1 })).toBe(false);
    expect(isTimerEvent({ ...timer, triggerName: 1 })).toBe(false);
    expect(isTimerEvent({ ...timer, triggerName: undefined })).toBe(false);
    expect(isTimerEvent({ payload: '{}' })).toBe(false);
    expect(isTimerEvent({})).toBe(false);
  });
});
