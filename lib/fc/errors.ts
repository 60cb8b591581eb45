/** Refusals of the FC HTTP trigger's envelope (method, size, media type), and the error that asks FC to retry an event. */
import { ServiceError } from '../core/errors';

export class MethodNotAllowedError extends ServiceError {
  readonly code = 'MethodNotAllowed';
  readonly statusCode = 405;
  constructor(readonly method: string) {
    super(`Method ${method} is not allowed; use POST`);
  }
}

export class PayloadTooLargeError extends ServiceError {
  readonly code = 'PayloadTooLarge';
  readonly statusCode = 413;
  constructor(readonly sizeBytes: number, readonly limitBytes: number, what: 'Body' | 'Event' = 'Body') {
    super(`${what} of ${sizeBytes} bytes exceeds the limit of ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends ServiceError {
  readonly code = 'UnsupportedMediaType';
  readonly statusCode = 415;
  constructor(readonly contentType: string) {
    super(`Content-Type ${contentType} is not supported; use application/json or application/x-www-form-urlencoded`);
  }
}

/**
 * Thrown on purpose so that FC retries an asynchronous event (then hands it to the
 * on-failure destination). Its outcome is already logged, so it is rethrown as it is,
 * never reported as a crash (lib/fc/error-mapping.ts).
 */
export abstract class AsyncRetryError extends Error {}
