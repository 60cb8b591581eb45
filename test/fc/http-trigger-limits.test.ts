// The HTTP trigger's limits (issue #23), beside http-trigger.test.ts: the 64 KiB body cap at
// its exact edge, plain and base64, judged before a huge base64 text is decoded; an absent body
// is empty; retry-after is sent exactly when the refusal says when to retry.
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../lib/core/errors';
import { MethodNotAllowedError, PayloadTooLargeError } from '../../lib/fc/errors';
import type { FcHttpEvent } from '../../lib/fc/events';
import { errorResponse, MAX_BODY_BYTES, readHttpRequest } from '../../lib/fc/http-trigger';
import { httpEvent } from '../support/events';

const read = (options: Parameters<typeof httpEvent>[0]) => readHttpRequest(httpEvent(options) as unknown as FcHttpEvent);

function tooLarge(run: () => unknown): PayloadTooLargeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    return error as PayloadTooLargeError;
  }
  return expect.unreachable('accepted');
}

describe('the body of an HTTP request', () => {
  it('is at most 64 KiB: the cap is accepted, one byte more is 413 naming its size, plain or base64', () => {
    expect(MAX_BODY_BYTES).toBe(65_536);
    for (const base64 of [false, true]) {
      expect(read({ body: 'x'.repeat(MAX_BODY_BYTES), base64 }).rawBody).toHaveLength(MAX_BODY_BYTES);
      for (const extra of [1, 2]) {
        const error = tooLarge(() => read({ body: 'x'.repeat(MAX_BODY_BYTES + extra), base64 }));
        expect([base64, extra, error.sizeBytes, error.limitBytes]).toEqual([base64, extra, MAX_BODY_BYTES + extra, MAX_BODY_BYTES]);
      }
      // Past the edge, base64 is judged on its text's length (its padding may count a byte or two more).
      expect(tooLarge(() => read({ body: 'x'.repeat(MAX_BODY_BYTES + 3), base64 })).sizeBytes).toBeGreaterThanOrEqual(MAX_BODY_BYTES + 3);
    }
  });

  it('is counted in bytes, not characters', () => {
    const cjk = '漢'.repeat(Math.floor(MAX_BODY_BYTES / 3)); // 3 bytes each: 65,535 bytes
    expect(read({ body: cjk }).rawBody).toHaveLength(65_535);
    expect(tooLarge(() => read({ body: `${cjk}éé` })).sizeBytes).toBe(65_539);
  });

  it('in base64 is refused by the length of its text, before decoding, whatever that text would decode to', () => {
    // 100,000 characters that are no base64 at all decode to almost nothing: the text's length decides.
    const text = '!'.repeat(100_000);
    const event = { ...httpEvent({ body: '' }), body: text, isBase64Encoded: true };
    expect(tooLarge(() => readHttpRequest(event as unknown as FcHttpEvent)).sizeBytes).toBe(75_000);
  });

  it('is empty when the event has none', () => {
    const event = httpEvent({ body: '' });
    delete event.body;
    for (const isBase64Encoded of [false, true, undefined]) {
      expect(readHttpRequest({ ...event, isBase64Encoded } as unknown as FcHttpEvent).rawBody).toHaveLength(0);
    }
  });
});

describe('an error answer', () => {
  class Busy extends ServiceError {
    readonly code = 'Busy';
    readonly statusCode = 409;
    constructor(override readonly retryAfterSeconds: number | undefined) {
      super('busy');
    }
  }

  it('carries retry-after exactly when the refusal says when to retry, zero included', () => {
    expect(errorResponse(new Busy(7), 'req-1').headers).toStrictEqual({ 'content-type': 'application/json', 'x-fc-request-id': 'req-1', 'retry-after': '7' });
    expect(errorResponse(new Busy(0), 'req-1').headers['retry-after']).toBe('0');
    expect(errorResponse(new Busy(undefined), 'req-1').headers).toStrictEqual({ 'content-type': 'application/json', 'x-fc-request-id': 'req-1' });
    expect(errorResponse(new MethodNotAllowedError('GET'), 'req-2').headers).toStrictEqual({ 'content-type': 'application/json', 'x-fc-request-id': 'req-2', allow: 'POST' });
  });
});
