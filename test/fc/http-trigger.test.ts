import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { MAX_BODY_BYTES, errorResponse, readHttpRequest } from '../../lib/fc/http-trigger';

import { httpEvent, INSTANCE_ID, SCRIPT_ID } from '../support/events';
import { MethodNotAllowedError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../lib/fc/errors';
import { parseHttpWithdrawal } from '../../lib/withdraw/http-request';
import { type FcHttpEvent } from '../../lib/fc/events';

const item = { InstanceId: INSTANCE_ID, ScriptId: SCRIPT_ID };
const read = (options: Parameters<typeof httpEvent>[0]) => readHttpRequest(httpEvent(options) as unknown as FcHttpEvent);
const parse = (options: Parameters<typeof httpEvent>[0]) => parseHttpWithdrawal(read(options));

describe('HTTP trigger requests', () => {
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
});
