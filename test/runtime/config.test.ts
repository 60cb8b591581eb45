import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../lib/core/errors';
import { parseCleanupConfig, parseWithdrawConfig } from '../../lib/runtime/config';
import { issuesOf } from '../support/issues';

const SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
const parsers = { withdraw: parseWithdrawConfig, cleanup: parseCleanupConfig };
const issues = (env: Record<string, string>, parse: (env: NodeJS.ProcessEnv) => unknown = parseWithdrawConfig) =>
  issuesOf(() => parse(env), InvalidConfigurationError);

describe('configuration from the environment', () => {
  const shared = {
    OUTBOUNDBOT_ENDPOINT: 'outboundbot.cn-shanghai.aliyuncs.com',
    OUTBOUNDBOT_PROTOCOL: 'https',
    OUTBOUNDBOT_CONNECT_TIMEOUT_MS: 3_000,
    OUTBOUNDBOT_READ_TIMEOUT_MS: 10_000,
    RETRY_MAX_ATTEMPTS: 4,
    RETRY_BASE_DELAY_MS: 200,
    RETRY_MAX_DELAY_MS: 5_000,
    CALLBACK_TIMEOUT_MS: 5_000,
    CALLBACK_ALLOWED_HOSTS: [],
    LOG_LEVEL: 'info',
  };

  it('has the documented defaults for the withdraw function', () => {
    expect(parseWithdrawConfig({})).toMatchObject({ ...shared, BATCH_CONCURRENCY: 8, ALLOW_UNSIGNED_HTTP: false, WEBHOOK_SECRET: [] });
  });

  it('has the documented defaults for the cleanup function', () => {
    expect(parseCleanupConfig({})).toMatchObject({
      ...shared,
      CLEANUP_MODE: 'inline',
      CLEANUP_CONCURRENCY: 8,
      WITHDRAW_FUNCTION_NAME: 'withdraw-script-review-withdraw',
      FANOUT_CHUNK_SIZE: 50,
    });
  });

  it('reads numbers, flags and overrides', () => {
    const config = parseWithdrawConfig({ OUTBOUNDBOT_ENDPOINT: '127.0.0.1:8080', OUTBOUNDBOT_PROTOCOL: 'http', RETRY_MAX_ATTEMPTS: '2', ALLOW_UNSIGNED_HTTP: 'true' });
    expect(config).toMatchObject({ OUTBOUNDBOT_ENDPOINT: '127.0.0.1:8080', OUTBOUNDBOT_PROTOCOL: 'http', RETRY_MAX_ATTEMPTS: 2, ALLOW_UNSIGNED_HTTP: true });
  });

  it('treats blank values as unset (s.yaml renders an unset env as "")', () => {
    expect(parseWithdrawConfig({ WEBHOOK_SECRET: '  ', CALLBACK_URL: '' })).toMatchObject({ WEBHOOK_SECRET: [], CALLBACK_URL: undefined });
  });

  it('reads rotation lists and allow-lists into their parsed form', () => {
    const other = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
    expect(parseWithdrawConfig({ WEBHOOK_SECRET: `${SECRET} ${other}` }).WEBHOOK_SECRET).toEqual([SECRET, other]);
    expect(parseWithdrawConfig({ CALLBACK_ALLOWED_HOSTS: 'Hooks.Example.com, 10.0.0.5:8443' }).CALLBACK_ALLOWED_HOSTS).toEqual(['hooks.example.com', '10.0.0.5:8443']);
    expect(parseCleanupConfig({ FC_ENDPOINT: 'http://127.0.0.1:9000/' }).FC_ENDPOINT).toBe('http://127.0.0.1:9000');
  });

  it.each([
    ['OUTBOUNDBOT_PROTOCOL', 'ftp'],
    ['OUTBOUNDBOT_ENDPOINT', 'https://outboundbot.cn-shanghai.aliyuncs.com'],
    ['RETRY_MAX_ATTEMPTS', '0'],
    ['RETRY_MAX_ATTEMPTS', 'three'],
    ['BATCH_CONCURRENCY', '1.5'],
    ['ALLOW_UNSIGNED_HTTP', 'maybe'],
    ['LOG_LEVEL', 'verbose'],
    ['WEBHOOK_SECRET', 'whsec_c2hvcnQ='],
    ['WEBHOOK_SECRET', 'not-a-secret-at-all-really'],
  ])('withdraw: names %s when it is %j, without echoing the value', (name, value) => {
    const found = issues({ [name]: value });
    expect(found.map((i) => i.Path)).toEqual([name]);
    expect(found[0]!.Message).not.toContain(value);
  });

  it.each([
    ['CLEANUP_MODE', 'parallel'],
    ['FANOUT_CHUNK_SIZE', '101'],
    ['WITHDRAW_FUNCTION_NAME', '9starts-with-a-digit'],
    ['FC_ENDPOINT', 'ftp://fc.example.com'],
    ['FC_ENDPOINT', 'https://fc.example.com/some/path'],
  ])('cleanup: names %s when it is %j, without echoing the value', (name, value) => {
    const found = issues({ [name]: value }, parseCleanupConfig);
    expect(found.map((i) => i.Path)).toEqual([name]);
    expect(found[0]!.Message).not.toContain(value);
  });

  it('names CALLBACK_ALLOWED_HOSTS and the entry that is not a host (a host list is no secret)', () => {
    expect(issues({ CALLBACK_ALLOWED_HOSTS: 'ok.example.com https://hooks.example.com/path' })).toEqual([
      { Path: 'CALLBACK_ALLOWED_HOSTS', Message: expect.stringContaining('"https://hooks.example.com/path"') },
    ]);
  });

  it.each(Object.entries(parsers))('%s: reports every bad variable at once', (_, parse) => {
    const found = issues({ RETRY_MAX_ATTEMPTS: '0', LOG_LEVEL: 'loud' }, parse);
    expect(found.map((i) => i.Path).sort()).toEqual(['LOG_LEVEL', 'RETRY_MAX_ATTEMPTS']);
  });
});
