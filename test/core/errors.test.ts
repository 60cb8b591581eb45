import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, InvalidConfigurationError, InvalidParameterError, MissingCredentialsError, ServiceError } from '../../lib/core/errors';
import { FcClientSettingsError } from '../../lib/cleanup/errors';
import { MethodNotAllowedError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../lib/fc/errors';
import { IdempotencyKeyMismatchError, IdempotencyStoreUnavailableError, RequestInProgressError } from '../../lib/idempotency/errors';
import { InvalidSignatureError } from '../../lib/webhooks/errors';

// Bundles are minified, which renames classes: an error's name must not come from its class.
describe('typed error names', () => {
  const errors: ServiceError[] = [
    new InvalidParameterError([{ Path: 'x', Message: 'y' }]),
    new InvalidConfigurationError([{ Path: 'X', Message: 'y' }]),
    new DeadlineExceededError('late'),
    new MissingCredentialsError(),
    new MethodNotAllowedError('GET'),
    new PayloadTooLargeError(2, 1),
    new UnsupportedMediaTypeError('text/plain'),
    new IdempotencyStoreUnavailableError('down'),
    new IdempotencyKeyMismatchError(),
    new RequestInProgressError('work', 3),
    new InvalidSignatureError('no'),
  ];

  it.each(errors.map((error) => [error.constructor.name, error] as const))('%s is named after its Code, as its class is', (className, error) => {
    expect(error.name).toBe(`${error.code}Error`);
    expect(error.name).toBe(className);
  });

  it('a subclass sharing its parent Code names itself', () => {
    const error = new FcClientSettingsError(new Error('bad'));
    expect(error.name).toBe('FcClientSettingsError');
    expect(error.code).toBe('InvalidConfiguration');
  });
});
