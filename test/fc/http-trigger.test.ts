import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { MethodNotAllowedError, PayloadTooLargeError } from '../../lib/fc/errors';
import { parseHttpEvent, type FcHttpEvent } from '../../lib/fc/events';
import { MAX_BODY_BYTES, errorResponse, readHttpRequest } from '../../lib/fc/http-trigger';
import { httpEvent, INSTANCE_ID, SCRIPT_ID } from '../support/events';

// What the request carries (JSON, form, query ids, media types) is lib/withdraw's: test/withdraw/http-request.test.ts.
const item = { InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID };
const read = (options: Parameters<typeof httpEvent>[0]) => readHttpRequest(httpEvent(options) as unknown as FcHttpEvent);

describe('HTTP trigger requests', () => {
  it('a base64-encoded body is decoded byte for byte', () => {
    expect(read({ body: Buffer.from(JSON.stringify(item)), contentType: 'application/json' }).rawBody.toString()).toBe(JSON.stringify(item));
  });

  it.each(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s is 405 with Allow: POST', (method) => {
    expect(() => read({ method, body: JSON.stringify(item), contentType: 'application/json' })).toThrow(MethodNotAllowedError);
    const response = errorResponse(new MethodNotAllowedError(method), 'req-1');
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });

  it('a 70 KB body is 413, plain or base64, before parsing', () => {
    const big = `{"InstanceId":"${'a'.repeat(70 * 1024)}"`; // not even valid JSON: it must not be parsed
    expect(() => read({ body: big, contentType: 'application/json' })).toThrow(PayloadTooLargeError);
    expect(() => read({ body: Buffer.from(big), contentType: 'application/json' })).toThrow(PayloadTooLargeError);
  });

  it('exactly 64 KiB is accepted', () => {
    expect(read({ body: Buffer.alloc(MAX_BODY_BYTES, 0x20), contentType: 'application/json' }).rawBody.length).toBe(MAX_BODY_BYTES);
  });

  it('the error response is JSON in the API error shape with the issues', () => {
    const response = errorResponse(new InvalidParameterError([{ Path: 'ScriptId', Message: 'is required' }]), 'req-2');
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['x-fc-request-id']).toBe('req-2');
    expect(JSON.parse(response.body)).toEqual({
      Success: false,
      HttpStatusCode: 400,
      Code: 'InvalidParameter',
      Message: 'ScriptId: is required',
      RequestId: 'req-2',
      Issues: [{ Path: 'ScriptId', Message: 'is required' }],
    });
  });

  it('property: total over well-formed events: a request, or a 405 / 413 refusal, never a TypeError', () => {
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', 'POST', 'post', ' ', '\u0000', '__proto__'));
    const strings = fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'toString', 'Content-Type', 'CONTENT-TYPE')), text, { maxKeys: 5 });
    const event = fc.record(
      {
        version: fc.constant('v1'),
        rawPath: text,
        headers: strings,
        queryParameters: strings,
        body: fc.oneof(text, fc.integer({ min: 64 * 1024 - 8, max: 90_000 }).map((n) => 'A'.repeat(n))),
        isBase64Encoded: fc.boolean(),
        requestContext: fc.record({ http: fc.record({ method: fc.oneof(fc.constant('POST'), text.filter((m) => m !== '')) }) }),
      },
      { requiredKeys: ['version', 'rawPath', 'requestContext'] },
    );
    fc.assert(
      fc.property(event, (drawn) => {
        const checked = parseHttpEvent(JSON.parse(JSON.stringify(drawn)) as Record<string, unknown>);
        try {
          const request = readHttpRequest(checked);
          expect(request.method).toBe('POST');
          for (const name of Object.keys(request.headers)) expect(name).toBe(name.toLowerCase());
        } catch (error) {
          expect([MethodNotAllowedError, PayloadTooLargeError].some((type) => error instanceof type)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
