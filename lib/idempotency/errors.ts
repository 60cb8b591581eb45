import { ServiceError } from '../core/errors';

/** The store could not be asked: nothing was withdrawn, and a retry may find it back. */
export class IdempotencyStoreUnavailableError extends ServiceError {
  readonly code = 'IdempotencyStoreUnavailable';
  readonly statusCode = 503;
  override readonly retryable = true;
  /** The client reconnects in the background; a second later is a fair next try. */
  override readonly retryAfterSeconds = 1;

  constructor(
    message: string,
    options?: ErrorOptions & {
      /** False only when the commands were never sent (no connection): nothing they would write was written. */
      mayHaveApplied?: boolean;
    },
  ) {
    super(message, options);
    this.mayHaveApplied = options?.mayHaveApplied ?? true;
  }

  readonly mayHaveApplied: boolean;
}

/** The key was first used for another payload: a client bug, never a retry. */
export class IdempotencyKeyMismatchError extends ServiceError {
  readonly code = 'IdempotencyKeyMismatch';
  readonly statusCode = 422;
  constructor() {
    super('This idempotency key was already used with a different payload; nothing was withdrawn');
  }
}

/** The same delivery (or the same script) is being worked on elsewhere and did not finish in time to wait for it. */
export class RequestInProgressError extends ServiceError {
  readonly code = 'RequestInProgress';
  readonly statusCode = 409;
  override readonly retryable = true;
  constructor(
    what: string,
    /** When the other holder's claim runs out at the latest: a sensible `retry-after`. */
    override readonly retryAfterSeconds: number,
  ) {
    super(`${what} is in progress in another invocation; retry after ${retryAfterSeconds} s`);
  }
}
