import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/core/config';
import { InvalidConfigurationError } from '../../lib/core/errors';
import { issuesOf } from '../support/issues';

const issues = (env: Record<string, string>) => issuesOf(() => parseConfig(env), InvalidConfigurationError);

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    expect(parseConfig({})).toMatchObject({
      OUTBOUNDBOT_ENDPOINT: 'outboundbot.cn-shanghai.aliyuncs.com',
      OUTBOUNDBOT_PROTOCOL: 'https',
      OUTBOUNDBOT_CONNECT_TIMEOUT_MS: 3_000,
      OUTBOUNDBOT_READ_TIMEOUT_MS: 10_000,
      RETRY_MAX_ATTEMPTS: 4,
      RETRY_BASE_DELAY_MS: 200,
      RETRY_MAX_DELAY_MS: 5_000,
      BATCH_CONCURRENCY: 8,
      ALLOW_UNSIGNED_HTTP: false,
      CALLBACK_TIMEOUT_MS: 5_000,
      LOG_LEVEL: 'info',
      CLEANUP_MODE: 'inline',
      WITHDRAW_FUNCTION_NAME: 'withdraw-script-review-withdraw',
      FANOUT_CHUNK_SIZE: 50,
    });
  });

  it('reads numbers, flags and overrides', () => {
    const config = parseConfig({ OUTBOUNDBOT_ENDPOINT: '127.0.0.1:8080', OUTBOUNDBOT_PROTOCOL: 'http', RETRY_MAX_ATTEMPTS: '2', ALLOW_UNSIGNED_HTTP: 'true' });
    expect(config).toMatchObject({ OUTBOUNDBOT_ENDPOINT: '127.0.0.1:8080', OUTBOUNDBOT_PROTOCOL: 'http', RETRY_MAX_ATTEMPTS: 2, ALLOW_UNSIGNED_HTTP: true });
  });

  it('treats blank values as unset (s.yaml renders an unset env as "")', () => {
    expect(parseConfig({ WEBHOOK_SECRET: '  ', CALLBACK_URL: '' })).toMatchObject({ WEBHOOK_SECRET: undefined, CALLBACK_URL: undefined });
  });

  it.each([
    ['OUTBOUNDBOT_PROTOCOL', 'ftp'],
    ['OUTBOUNDBOT_ENDPOINT', 'https://outboundbot.cn-shanghai.aliyuncs.com'],
    ['RETRY_MAX_ATTEMPTS', '0'],
    ['RETRY_MAX_ATTEMPTS', 'three'],
    ['BATCH_CONCURRENCY', '1.5'],
    ['ALLOW_UNSIGNED_HTTP', 'maybe'],
    ['LOG_LEVEL', 'verbose'],
    ['CLEANUP_MODE', 'parallel'],
  ])('names %s when it is %j, without echoing the value', (name, value) => {
    const found = issues({ [name]: value });
    expect(found.map((i) => i.Path)).toEqual([name]);
    expect(found[0]!.Message).not.toContain(value);
  });
});
