/**
 * Typed errors. Each carries the HTTP status and the `Code` we answer with, so the
 * handler maps any of them to a response without knowing where it came from.
 */
export interface Issue {
  Path: string;
  Message: string;
}

export abstract class WithdrawServiceError extends Error {
  abstract readonly code: string;
  abstract readonly statusCode: number;
  /** True when FC (async retry) or our retry loop may try the same work again. */
  readonly retryable: boolean = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidParameterError extends WithdrawServiceError {
  readonly code = 'InvalidParameter';
  readonly statusCode = 400;
  constructor(readonly issues: Issue[]) {
    super(issues.map((i) => (i.Path ? `${i.Path}: ${i.Message}` : i.Message)).join('; '));
  }
}

export class InvalidSignatureError extends WithdrawServiceError {
  readonly code = 'InvalidSignature';
  readonly statusCode = 401;
}

export class MethodNotAllowedError extends WithdrawServiceError {
  readonly code = 'MethodNotAllowed';
  readonly statusCode = 405;
  constructor(readonly method: string) {
    super(`Method ${method} is not allowed; use POST`);
  }
}

export class PayloadTooLargeError extends WithdrawServiceError {
  readonly code = 'PayloadTooLarge';
  readonly statusCode = 413;
  constructor(readonly sizeBytes: number, readonly limitBytes: number) {
    super(`Body of ${sizeBytes} bytes exceeds the limit of ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends WithdrawServiceError {
  readonly code = 'UnsupportedMediaType';
  readonly statusCode = 415;
  constructor(readonly contentType: string) {
    super(`Content-Type ${contentType} is not supported; use application/json or application/x-www-form-urlencoded`);
  }
}

export class MissingCredentialsError extends WithdrawServiceError {
  readonly code = 'MissingCredentials';
  readonly statusCode = 500;
  constructor() {
    super(
      'No credentials: attach a RAM role to the function or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    );
  }
}

export class InvalidConfigurationError extends WithdrawServiceError {
  readonly code = 'InvalidConfiguration';
  readonly statusCode = 500;
  constructor(readonly issues: Issue[]) {
    super(issues.map((i) => `${i.Path}: ${i.Message}`).join('; '));
  }
}

export class DeadlineExceededError extends WithdrawServiceError {
  readonly code = 'DeadlineExceeded';
  readonly statusCode = 504;
  override readonly retryable = true;
}
