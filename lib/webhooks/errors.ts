import { ServiceError } from '../core/errors';

export class InvalidSignatureError extends ServiceError {
  readonly code = 'InvalidSignature';
  readonly statusCode = 401;
}
