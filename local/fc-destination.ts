/**
 * The message FC 3.0 sends an async invocation's on-failure destination once its retries are
 * spent, as Function Compute's "result callback" guide documents it for an MNS, FC or RocketMQ
 * destination (test/fixtures/fc-destination/ keeps the documented example):
 * `{timestamp, requestContext: {requestId, functionArn, condition, approximateInvokeCount},
 * requestPayload, responseContext: {statusCode, functionError}, responsePayload}`.
 * The guide's example gives the payloads as strings and names no value of `condition` for a
 * handler that threw; locally it is the error type FC reports for one (`UnhandledInvocationError`,
 * as `x-fc-error-type` says on a synchronous invocation), and `responsePayload` is the error
 * answer a synchronous invocation would get.
 *
 * @module
 */

export interface DestinationRecord {
  /** When the invocation was accepted, epoch ms. */
  timestamp: number;
  requestContext: { requestId: string; functionArn: string; condition: string; approximateInvokeCount: number };
  /** The invocation's payload as it was sent (text). */
  requestPayload: string;
  responseContext: { statusCode: number; functionError: string };
  responsePayload: string;
}

/** FC's error type for a handler that threw (or timed out) on its last attempt. */
export const UNHANDLED_ERROR = 'UnhandledInvocationError';

export function functionArn(region: string, accountId: string, name: string): string {
  return `acs:fc:${region}:${accountId}:functions/${name}`;
}

export interface FailedInvocation {
  functionArn: string;
  requestId: string;
  acceptedAtMs: number;
  payload: Buffer;
  attempts: number;
  error: Error;
}

export function failureRecord({ functionArn, requestId, acceptedAtMs, payload, attempts, error }: FailedInvocation): DestinationRecord {
  return {
    timestamp: acceptedAtMs,
    requestContext: { requestId, functionArn, condition: UNHANDLED_ERROR, approximateInvokeCount: attempts },
    requestPayload: payload.toString('utf8'),
    responseContext: { statusCode: 200, functionError: UNHANDLED_ERROR },
    responsePayload: JSON.stringify({ errorMessage: error.message, errorType: error.name }),
  };
}
