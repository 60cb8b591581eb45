import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { UnsupportedMediaTypeError } from '../../lib/fc/errors';
import type { FcHttpEvent } from '../../lib/fc/events';
import { readHttpRequest } from '../../lib/fc/http-trigger';
import { parseHttpWithdrawal } from '../../lib/withdraw/http-request';
import { anyJson } from '../support/json-shapes';
import { httpEvent, INSTANCE_ID, SCRIPT_ID } from '../support/events';

const item = { InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID };
const read = (options: Parameters<typeof httpEvent>[0]) => readHttpRequest(httpEvent(options) as unknown as FcHttpEvent);
// Unsigned (local mode) unless said otherwise: the query form exists only there.
const parse = (options: Parameters<typeof httpEvent>[0], signed = false) => parseHttpWithdrawal(read(options), signed);
const issuesOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    return (error as InvalidParameterError).issues;
  }
  return expect.unreachable('accepted');
};

describe('the withdrawal an HTTP request carries', () => {
  it('JSON body', () => {
    expect(parse({ body: JSON.stringify(item), contentType: 'application/json; charset=utf-8' }).items).toEqual([item]);
  });

  it('base64-encoded JSON body, byte for byte', () => {
    const request = read({ body: Buffer.from(JSON.stringify(item)), contentType: 'application/json' });
    expect(request.rawBody.toString()).toBe(JSON.stringify(item));
    expect(parseHttpWithdrawal(request, true).items).toEqual([item]);
  });

  it('form-urlencoded body', () => {
    expect(parse({ body: `InstanceId=${INSTANCE_ID}&ScriptId=${SCRIPT_ID}`, contentType: 'application/x-www-form-urlencoded' }).items).toEqual([item]);
  });

  it('the two ids as query parameters with no body, unsigned', () => {
    expect(parse({ query: { ...item } }).items).toEqual([item]);
    expect(parse({ query: { ...item, CallbackUrl: 'https://hooks.example/x' } }).callbackUrl).toBe('https://hooks.example/x');
  });

  describe('a signed request takes what it withdraws and where it calls back from the signed body alone', () => {
    it.each([['InstanceId'], ['ScriptId'], ['CallbackUrl']])('%s in the query of an empty-body request is a 400 naming it', (key) => {
      const query = { ...item, CallbackUrl: 'https://hooks.example/x' } as Record<string, string>;
      expect(issuesOf(() => parse({ query: { [key]: query[key]! } }, true))).toEqual([{ Path: key, Message: expect.stringContaining('signature does not cover') }]);
    });

    it('every query field is named, even when it repeats the signed body', () => {
      const body = JSON.stringify(item);
      expect(issuesOf(() => parse({ body, contentType: 'application/json', query: { ...item } }, true))).toEqual([
        { Path: 'InstanceId', Message: expect.any(String) },
        { Path: 'ScriptId', Message: expect.any(String) },
      ]);
    });

    it('an empty signed body names nothing, whatever the query says: 400, no withdrawal', () => {
      expect(issuesOf(() => parse({}, true))).toEqual([
        { Path: 'InstanceId', Message: 'is required' },
        { Path: 'ScriptId', Message: 'is required' },
      ]);
    });

    it('other query parameters are ignored', () => {
      expect(parse({ body: JSON.stringify(item), contentType: 'application/json', query: { utm: 'x' } }, true).items).toEqual([item]);
    });

    it('a signed JSON body replayed as a form names nothing: its keys are not fields', () => {
      // The CallbackUrl's query would read as ids in a lenient form parser.
      const body = JSON.stringify({ ...item, CallbackUrl: `https://hooks.example/?a=1&InstanceId=other&ScriptId=victim&b=` });
      expect(issuesOf(() => parse({ body, contentType: 'application/x-www-form-urlencoded' }, true))).toEqual([{ Path: 'body', Message: expect.stringContaining('looks like JSON') }]);
      // Not JSON-looking, a field the form cannot name is refused just the same.
      const spaced = `x=1&${body}`;
      const issues = issuesOf(() => parse({ body: spaced, contentType: 'application/x-www-form-urlencoded' }, true)) as Array<{ Message: string }>;
      expect(issues.map((issue) => issue.Message)).toContain('is not a field of a withdrawal (InstanceId, ScriptId, CallbackUrl)');
    });

    it('a JSON body sent without its content type (curl -d) says so, instead of naming the ids as missing', () => {
      for (const body of [JSON.stringify(item), ` [${JSON.stringify(item)}]`]) {
        expect(issuesOf(() => parse({ body, contentType: 'application/x-www-form-urlencoded' }))).toEqual([{ Path: 'body', Message: expect.stringContaining("-H 'content-type: application/json'") }]);
      }
    });

    it('a form that names a field twice is refused', () => {
      expect(issuesOf(() => parse({ body: `InstanceId=${INSTANCE_ID}&ScriptId=a&ScriptId=b`, contentType: 'application/x-www-form-urlencoded' }, true))).toEqual([
        { Path: 'ScriptId', Message: 'is given more than once' },
      ]);
    });
  });

  it('query ids that contradict the body are refused', () => {
    expect(() => parse({ body: JSON.stringify(item), contentType: 'application/json', query: { ScriptId: 'another-script' } })).toThrow(InvalidParameterError);
  });

  it('query ids that repeat the body are fine', () => {
    expect(parse({ body: JSON.stringify(item), contentType: 'application/json', query: { ScriptId: SCRIPT_ID } }).items).toEqual([item]);
  });

  it.each(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', ''])('content type "%s" is 415', (contentType) => {
    expect(() => parse({ body: JSON.stringify(item), contentType })).toThrow(UnsupportedMediaTypeError);
  });

  it('malformed JSON is 400 naming the body', () => {
    try {
      parse({ body: '{"InstanceId":', contentType: 'application/json' });
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidParameterError).issues).toEqual([{ Path: 'body', Message: 'is not valid JSON' }]);
    }
  });

  it('property: any body, content type and query give a withdrawal or a 400 / 415, never a crash; signed, never one named in the query', () => {
    const text = fc.oneof(fc.string({ maxLength: 30 }), anyJson.map((v) => JSON.stringify(v) ?? ''), fc.constant(JSON.stringify(item)));
    const contentType = fc.oneof(fc.constantFrom('application/json', 'application/cloudevents+json', 'application/x-www-form-urlencoded', 'APPLICATION/JSON; charset=x', ';', ''), fc.string({ maxLength: 20 }));
    const query = fc.dictionary(fc.constantFrom('InstanceId', 'ScriptId', 'CallbackUrl', '__proto__', 'other'), fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(INSTANCE_ID, SCRIPT_ID)), { maxKeys: 3 });
    fc.assert(
      fc.property(text, contentType, query, fc.boolean(), fc.boolean(), (body, type, queryParameters, base64, signed) => {
        try {
          parse({ body: base64 ? Buffer.from(body) : body, contentType: type, query: queryParameters }, signed);
          // A signed request that names anything in its query never gets this far.
          expect(signed && ['InstanceId', 'ScriptId', 'CallbackUrl'].some((key) => key in queryParameters)).toBe(false);
        } catch (error) {
          expect([InvalidParameterError, UnsupportedMediaTypeError].some((kind) => error instanceof kind)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
