import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/core/errors';
import { parseWithdrawConfig } from '../../lib/runtime/config';
import { callbackTarget } from '../../lib/withdraw/callback-target';

const cfg = parseWithdrawConfig({ CALLBACK_URL: 'https://hooks.example.com/results', CALLBACK_ALLOWED_HOSTS: 'hooks.partner.test,127.0.0.1:8080' });
const issuesOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidParameterError) return error.issues;
    throw error;
  }
  throw new Error('expected an InvalidParameterError');
};

describe('callbackTarget', () => {
  it('is CALLBACK_URL when the request names none', () => {
    expect(callbackTarget(cfg, undefined)).toBe('https://hooks.example.com/results');
    expect(callbackTarget(parseWithdrawConfig({}), undefined)).toBeUndefined();
  });

  it('is the request\'s CallbackUrl when its host (and port) is allowed', () => {
    expect(callbackTarget(cfg, 'https://hooks.partner.test/withdrawals?x=1')).toBe('https://hooks.partner.test/withdrawals?x=1');
    expect(callbackTarget(cfg, 'http://127.0.0.1:8080/hook')).toBe('http://127.0.0.1:8080/hook');
  });

  it('refuses any other host, naming CallbackUrl', () => {
    expect(issuesOf(() => callbackTarget(cfg, 'https://hooks.example.com/results'))).toEqual([{ Path: 'CallbackUrl', Message: 'host is not in CALLBACK_ALLOWED_HOSTS' }]);
    expect(issuesOf(() => callbackTarget(cfg, 'http://127.0.0.1:9090/hook'))).toEqual([{ Path: 'CallbackUrl', Message: 'host is not in CALLBACK_ALLOWED_HOSTS' }]);
  });

  it('refuses what is not an absolute URL', () => {
    expect(issuesOf(() => callbackTarget(cfg, '/relative/hook'))).toEqual([{ Path: 'CallbackUrl', Message: 'must be an absolute URL' }]);
  });
});
