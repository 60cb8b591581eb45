import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, InvalidConfigurationError, InvalidParameterError } from '../../lib/core/errors';
import { createLogger } from '../../lib/core/logger';
import { SecretRegistry } from '../../lib/core/redact';
import { mapInvocationError, type FailedInvocation } from '../../lib/fc/error-mapping';
import { AsyncRetryError, MethodNotAllowedError } from '../../lib/fc/errors';
import type { FcHttpResponse } from '../../lib/fc/http-trigger';

const SECRET = 'whsec_c2VjcmV0LXZhbHVlLWZvci10aGUtdGVzdA==';
const TOKEN = 'CAIS-sts-token-0123456789abcdef';

function failed(http: boolean) {
  const lines: string[] = [];
  const secrets = new SecretRegistry();
  secrets.add(TOKEN);
  const log = createLogger({ level: 'info', secrets, write: (line) => lines.push(line), nowMs: () => 0 }).child({ requestId: 'req-7' });
  const invocation: FailedInvocation = { requestId: 'req-7', startMs: 1_000, coldStart: true, http, log };
  return { invocation, lines, logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const badItem = () => new InvalidParameterError([{ Path: 'ScriptId', Message: 'is required' }]);

class ItemsFailedRetryably extends AsyncRetryError {}

describe('mapInvocationError: refusals of an HTTP request', () => {
  it('are answered as an HTTP error response in the API error shape, and logged once', () => {
    const { invocation, logs } = failed(true);
    const verdict = mapInvocationError(badItem(), invocation, 1_250);
    expect(verdict.kind).toBe('answer');
    const response = (verdict as { response: FcHttpResponse }).response;
    expect(response.statusCode).toBe(400);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'x-fc-request-id': 'req-7' });
    expect(JSON.parse(response.body)).toEqual({
      Success: false,
      HttpStatusCode: 400,
      Code: 'InvalidParameter',
      Message: 'ScriptId: is required',
      RequestId: 'req-7',
      Issues: [{ Path: 'ScriptId', Message: 'is required' }],
    });
    expect(logs()).toEqual([
      expect.objectContaining({ level: 'warn', message: 'request refused', requestId: 'req-7', Code: 'InvalidParameter', HttpStatusCode: 400, durationMs: 250, coldStart: true }),
    ]);
  });

  it('are answered even when retryable: FC never retries an HTTP request', () => {
    const { invocation } = failed(true);
    const verdict = mapInvocationError(new DeadlineExceededError('out of time'), invocation, 1_000);
    expect(verdict).toMatchObject({ kind: 'answer', response: { statusCode: 504 } });
  });

  it('keep their own headers (405 carries allow: POST)', () => {
    const { invocation } = failed(true);
    expect(mapInvocationError(new MethodNotAllowedError('GET'), invocation, 1_000)).toMatchObject({ kind: 'answer', response: { statusCode: 405, headers: { allow: 'POST' } } });
  });
});

describe('mapInvocationError: refusals of an event', () => {
  it('a non-retryable one is answered with the error body, not thrown (FC must not retry it)', () => {
    const { invocation, logs } = failed(false);
    const verdict = mapInvocationError(new InvalidConfigurationError([{ Path: 'OUTBOUNDBOT_PROTOCOL', Message: 'must be https or http' }]), invocation, 1_000);
    expect(verdict).toEqual({
      kind: 'answer',
      response: { Success: false, HttpStatusCode: 500, Code: 'InvalidConfiguration', Message: 'OUTBOUNDBOT_PROTOCOL: must be https or http', RequestId: 'req-7' },
    });
    expect(logs().map((l) => [l.level, l.message, l.Code])).toEqual([['warn', 'request refused', 'InvalidConfiguration']]);
  });

  it('a retryable one is rethrown, so FC retries the event, after its refusal line', () => {
    const { invocation, logs } = failed(false);
    expect(mapInvocationError(new DeadlineExceededError('out of time'), invocation, 1_000)).toEqual({ kind: 'rethrow' });
    expect(logs().map((l) => [l.level, l.message, l.Code])).toEqual([['warn', 'request refused', 'DeadlineExceeded']]);
  });
});

describe('mapInvocationError: what is not a refusal', () => {
  it.each([true, false])('an unexpected error is logged as a crash and rethrown (HTTP: %s)', (http) => {
    const { invocation, logs } = failed(http);
    expect(mapInvocationError(new TypeError('cannot read properties of undefined'), invocation, 1_000)).toEqual({ kind: 'rethrow' });
    expect(logs()).toEqual([
      expect.objectContaining({ level: 'error', message: 'invocation crashed', requestId: 'req-7', error: { name: 'TypeError', message: 'cannot read properties of undefined' } }),
    ]);
  });

  it('an AsyncRetryError is rethrown without a line: its outcome is logged already', () => {
    const { invocation, lines } = failed(false);
    expect(mapInvocationError(new ItemsFailedRetryably('1 withdrawal(s) failed retryably'), invocation, 1_000)).toEqual({ kind: 'rethrow' });
    expect(lines).toEqual([]);
  });

  it('a thrown non-Error is a crash too', () => {
    const { invocation, logs } = failed(false);
    expect(mapInvocationError('boom', invocation, 1_000)).toEqual({ kind: 'rethrow' });
    expect(logs().map((l) => [l.message, l.error])).toEqual([['invocation crashed', 'boom']]);
  });

  it('no secret reaches the crash line: known values, secret-shaped text and signatures are masked', () => {
    const { invocation, lines } = failed(false);
    const error = new Error(`credential provider failed: token=${TOKEN} webhook=${SECRET} Signature=abcdef0123 v1,${Buffer.alloc(32, 7).toString('base64')}`);
    mapInvocationError(error, invocation, 1_000);
    expect(lines).toHaveLength(1);
    for (const secret of [TOKEN, SECRET, SECRET.slice(6), 'abcdef0123']) expect(lines[0]).not.toContain(secret);
    expect(lines[0]).not.toMatch(/v1,[A-Za-z0-9+/]{20,}/);
    expect(JSON.parse(lines[0]!).message).toBe('invocation crashed');
  });
});
