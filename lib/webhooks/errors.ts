import { ServiceError } from '../core/errors';

export class InvalidSignatureError extends ServiceError {
  readonly code = 'InvalidSignature';
  readonly statusCode = 401;
}

/**
 * A callback step (the one DNS lookup, or one POST) outlived its time. Internal to the
 * sender, which reports it as `CallbackTimeout`; never answered over HTTP, so not a ServiceError.
 */
export class CallbackTimeoutError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CallbackTimeoutError';
  }
}

/** An error's message for a callback report, with its errno code when the message lacks it. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
