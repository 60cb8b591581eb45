import { InvalidParameterError } from '../core/errors';
import type { WithdrawConfig } from '../runtime/config';
import { isAllowedHost } from '../webhooks/allowed-hosts';

/**
 * Where results are called back: a per-request CallbackUrl if its host is in
 * CALLBACK_ALLOWED_HOSTS (any other is a 400 before anything is withdrawn), else CALLBACK_URL.
 */
export function callbackTarget(cfg: WithdrawConfig, requestUrl: string | undefined): string | undefined {
  if (requestUrl === undefined) return cfg.CALLBACK_URL;
  let parsed: URL;
  try {
    parsed = new URL(requestUrl);
  } catch {
    throw new InvalidParameterError([{ Path: 'CallbackUrl', Message: 'must be an absolute URL' }]);
  }
  if (!isAllowedHost(parsed, cfg.CALLBACK_ALLOWED_HOSTS)) {
    throw new InvalidParameterError([{ Path: 'CallbackUrl', Message: 'host is not in CALLBACK_ALLOWED_HOSTS' }]);
  }
  return requestUrl;
}
