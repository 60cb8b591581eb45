// What a caller is told when exactly-once cannot go ahead (docs/DESIGN.md, the error table):
// the status, the Code, the retry-after, the message, and whether FC retries an event.
import { describe, expect, it } from 'vitest';
import type { ServiceError } from '../../lib/core/errors';
import { createLogger } from '../../lib/core/logger';
import { SecretRegistry } from '../../lib/core/redact';
import { mapInvocationError, type FailedInvocation } from '../../lib/fc/error-mapping';
import type { FcHttpResponse } from '../../lib/fc/http-trigger';
import { IdempotencyKeyMismatchError, IdempotencyStoreUnavailableError, RequestInProgressError } from '../../lib/idempotency/errors';

const invocation = (http: boolean): FailedInvocation => ({
  requestId: 'req-23',
  startMs: 0,
  coldStart: false,
  http,
  log: createLogger({ level: 'error', secrets: new SecretRegistry(), write: () => {}, nowMs: () => 0 }),
});

/** The HTTP answer for `error`: status, retry-after and body. */
function answered(error: ServiceError) {
  const verdict = mapInvocationError(error, invocation(true), 0);
  if (verdict.kind !== 'answer') throw new Error('an HTTP refusal must be answered');
  const response = verdict.response as FcHttpResponse;
  return { status: response.statusCode, retryAfter: response.headers['retry-after'], body: JSON.parse(response.body) as Record<string, unknown> };
}

/** Whether FC retries an event that ends with `error`: it does when the error is rethrown. */
const eventRetried = (error: ServiceError) => mapInvocationError(error, invocation(false), 0).kind === 'rethrow';

describe('IdempotencyStoreUnavailableError', () => {
  it('is a 503 IdempotencyStoreUnavailable with retry-after: 1, in the words it was given', () => {
    expect(answered(new IdempotencyStoreUnavailableError('The idempotency store did not answer (read: ECONNREFUSED)'))).toEqual({
      status: 503,
      retryAfter: '1',
      body: { Success: false, HttpStatusCode: 503, Code: 'IdempotencyStoreUnavailable', Message: 'The idempotency store did not answer (read: ECONNREFUSED)', RequestId: 'req-23' },
    });
  });

  it('makes FC retry the event: nothing was withdrawn, and the store may be back', () => {
    expect(eventRetried(new IdempotencyStoreUnavailableError('down'))).toBe(true);
  });

  it('assumes the commands may have applied unless told they were never sent, and keeps its cause', () => {
    const cause = new Error('ETIMEDOUT');
    const unknown = new IdempotencyStoreUnavailableError('down', { cause });
    expect(unknown.mayHaveApplied).toBe(true);
    expect(unknown.cause).toBe(cause);
    expect(new IdempotencyStoreUnavailableError('down').mayHaveApplied).toBe(true);
    expect(new IdempotencyStoreUnavailableError('down', { mayHaveApplied: false }).mayHaveApplied).toBe(false);
  });
});

describe('IdempotencyKeyMismatchError', () => {
  it('is a 422 IdempotencyKeyMismatch without retry-after, saying nothing was withdrawn', () => {
    const { status, retryAfter, body } = answered(new IdempotencyKeyMismatchError());
    expect({ status, retryAfter, Code: body.Code }).toEqual({ status: 422, retryAfter: undefined, Code: 'IdempotencyKeyMismatch' });
    expect(body.Message).toMatch(/different payload/);
    expect(body.Message).toMatch(/nothing was withdrawn/);
  });

  it('is answered, never retried, for an event: the same payload would meet the same key again', () => {
    expect(eventRetried(new IdempotencyKeyMismatchError())).toBe(false);
  });
});

describe('RequestInProgressError', () => {
  it('is a 409 RequestInProgress whose retry-after is the holder\'s remaining time, named in the message too', () => {
    const { status, retryAfter, body } = answered(new RequestInProgressError('A withdrawal of script i/s', 7));
    expect({ status, retryAfter, Code: body.Code }).toEqual({ status: 409, retryAfter: '7', Code: 'RequestInProgress' });
    expect(body.Message).toBe('A withdrawal of script i/s is in progress in another invocation; retry after 7 s');
  });

  it('makes FC retry the event later: the other invocation may not finish', () => {
    expect(eventRetried(new RequestInProgressError('A delivery', 3))).toBe(true);
  });
});
