/** Refusals only the cleanup raises. Each is one of core's kinds, so its answer (Code, status) is that kind's. */
import { InvalidConfigurationError } from '../core/errors';

/** fc2 refused the fan-out client's settings (e.g. an STS key without its token); what it threw is the cause. */
export class FcClientSettingsError extends InvalidConfigurationError {
  constructor(cause: unknown) {
    super([{ Path: 'FC client', Message: cause instanceof Error ? cause.message : String(cause) }]);
    // InvalidConfigurationError takes no options; set `cause` as Error's constructor would (not enumerable).
    Object.defineProperty(this, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
    this.name = 'FcClientSettingsError';
  }
}
