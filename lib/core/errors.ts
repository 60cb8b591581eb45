/**
 * Typed errors. Each carries the HTTP status and the `Code` we answer with, so the
 * handler maps any of them to a response without knowing where it came from. Errors of
 * one concern live in its folder's errors.ts; these are the ones every concern raises.
 */
export interface Issue {
  Path: string;
  Message: string;
}

export abstract class ServiceError extends Error {
  abstract readonly code: string;
  abstract readonly statusCode: number;
  /** True when FC (async retry) or our retry loop may try the same work again. */
  readonly retryable: boolean = false;
  /** When a retry is worth making, in seconds: HTTP answers carry it as `retry-after`. */
  readonly retryAfterSeconds: number | undefined = undefined;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

// The name follows the Code (`InvalidParameter` → `InvalidParameterError`), as every subclass is
// named, and survives minification, which renames classes (new.target.name would say `Oe`).
Object.defineProperty(ServiceError.prototype, 'name', {
  get(this: ServiceError) {
    return `${this.code}Error`;
  },
  // A subclass that shares its parent's Code may still name itself.
  set(this: ServiceError, name: string) {
    Object.defineProperty(this, 'name', { value: name, writable: true, configurable: true });
  },
  configurable: true,
});

export class InvalidParameterError extends ServiceError {
  readonly code = 'InvalidParameter';
  readonly statusCode = 400;
  constructor(readonly issues: Issue[]) {
    super(issues.map((i) => (i.Path ? `${i.Path}: ${i.Message}` : i.Message)).join('; '));
  }
}

export class InvalidConfigurationError extends ServiceError {
  readonly code = 'InvalidConfiguration';
  readonly statusCode = 500;
  constructor(readonly issues: Issue[]) {
    super(issues.map((i) => `${i.Path}: ${i.Message}`).join('; '));
  }
}

export class DeadlineExceededError extends ServiceError {
  readonly code = 'DeadlineExceeded';
  readonly statusCode = 504;
  override readonly retryable = true;
}

export class MissingCredentialsError extends ServiceError {
  readonly code = 'MissingCredentials';
  readonly statusCode = 500;
  constructor() {
    super(
      'No credentials: attach a RAM role to the function or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    );
  }
}

/**
 * Which entries of a list variable are bad, by position (`entries 2, 5 of 5 are not`): a
 * variable's value is never echoed, since it may be, or hold, a secret (a URL with a password, a
 * key pasted into the wrong variable), and an answer reaches callers before they are authenticated.
 */
export function badEntries(entries: readonly string[], isBad: (entry: string) => boolean): string | undefined {
  const bad = entries.flatMap((entry, index) => (isBad(entry) ? [index + 1] : []));
  if (bad.length === 0) return undefined;
  const positions = `${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ', …' : ''} of ${entries.length}`;
  return bad.length === 1 ? `entry ${positions} is not` : `entries ${positions} are not`;
}

/** Our own refusals, in the API's error shape so clients parse one format. */
export function errorBody(error: ServiceError, requestId: string): Record<string, unknown> {
  return {
    Success: false,
    HttpStatusCode: error.statusCode,
    Code: error.code,
    Message: error.message,
    RequestId: requestId,
    ...(error instanceof InvalidParameterError ? { Issues: error.issues } : {}),
  };
}
