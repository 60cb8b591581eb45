import { errorBody, ServiceError } from '../core/errors';
import type { Logger } from '../core/logger';
import { AsyncRetryError } from './errors';
import { errorResponse, type FcHttpResponse } from './http-trigger';

/** What the mapping needs to know of the invocation that failed. */
export interface FailedInvocation {
  requestId: string;
  startMs: number;
  coldStart: boolean;
  /** True once the event is known to be an HTTP trigger's: refusals are then HTTP responses. */
  http: boolean;
  log: Logger;
}

/** What becomes of an error: an answer FC returns, or the error itself, rethrown to FC. */
export type ErrorVerdict = { kind: 'answer'; response: FcHttpResponse | Record<string, unknown> } | { kind: 'rethrow' };

const RETHROW: ErrorVerdict = { kind: 'rethrow' };

/** The `request refused` line: one per refusal, with what the caller needs to fix it. */
export function logRefusal(invocation: Pick<FailedInvocation, 'log' | 'startMs' | 'coldStart'>, error: ServiceError, nowMs: number): void {
  invocation.log.warn('request refused', {
    Code: error.code,
    HttpStatusCode: error.statusCode,
    Message: error.message,
    durationMs: nowMs - invocation.startMs,
    coldStart: invocation.coldStart,
  });
}

/**
 * What FC gets for an error the handler threw. A ServiceError (ours, typed) is logged as a
 * refusal and answered: as an HTTP error response for an HTTP request, as the API's error
 * body for an event, except that an event's retryable error is rethrown so FC retries it.
 * Anything else is rethrown; unless it is an AsyncRetryError (already logged) it is a bug,
 * logged as `invocation crashed` (the logger's redactor keeps secrets out of the line).
 */
export function mapInvocationError(error: unknown, invocation: FailedInvocation, nowMs: number): ErrorVerdict {
  if (!(error instanceof ServiceError)) {
    if (!(error instanceof AsyncRetryError)) invocation.log.error('invocation crashed', { error });
    return RETHROW;
  }
  logRefusal(invocation, error, nowMs);
  if (invocation.http) return { kind: 'answer', response: errorResponse(error, invocation.requestId) };
  if (error.retryable) return RETHROW;
  return { kind: 'answer', response: errorBody(error, invocation.requestId) };
}
