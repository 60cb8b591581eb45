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
const parse = (options: Parameters<typeof httpEvent>[0]) => parseHttpWithdrawal(read(options));

describe('the withdrawal an HTTP request carries', () => {
  it('JSON body', () => {
    expect(parse({ body: JSON.stringify(item), contentType: 'application/json; charset=utf-8' }).items).toEqual([item]);
  });

  it('base64-encoded JSON body, byte for byte', () => {
    const request = read({ body: Buffer.from(JSON.stringify(item)), contentType: 'application/json' });
    expect(request.rawBody.toString()).toBe(JSON.stringify(item));
    expect(parseHttpWithdrawal(request).items).toEqual([item]);
  });

  it('form-urlencoded body', () => {
    expect(parse({ body: `InstanceId=${INSTANCE_ID}&ScriptId=${SCRIPT_ID}`, contentType: 'application/x-www-form-urlencoded' }).items).toEqual([item]);
  });

  it('the two ids as query parameters with no body', () => {
    expect(parse({ query: { ...item } }).items).toEqual([item]);
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

  it('property: any body, content type and query give a withdrawal or a 400 / 415, never a crash', () => {
    const text = fc.oneof(fc.string({ maxLength: 30 }), anyJson.map((v) => JSON.stringify(v) ?? ''), fc.constant(JSON.stringify(item)));
    const contentType = fc.oneof(fc.constantFrom('application/json', 'application/cloudevents+json', 'application/x-www-form-urlencoded', 'APPLICATION/JSON; charset=x', ';', ''), fc.string({ maxLength: 20 }));
    const query = fc.dictionary(fc.constantFrom('InstanceId', 'ScriptId', 'CallbackUrl', '__proto__', 'other'), fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(INSTANCE_ID, SCRIPT_ID)), { maxKeys: 3 });
    fc.assert(
      fc.property(text, contentType, query, fc.boolean(), (body, type, queryParameters, base64) => {
        try {
          parse({ body: base64 ? Buffer.from(body) : body, contentType: type, query: queryParameters });
        } catch (error) {
          expect([InvalidParameterError, UnsupportedMediaTypeError].some((kind) => error instanceof kind)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
