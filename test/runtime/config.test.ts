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
    ALLOWED_INSTANCE_IDS: [],
    LOG_LEVEL: 'info',
    IDEMPOTENCY_TTL_SECONDS: 86_400,
    IDEMPOTENCY_TIMEOUT_MS: 1_000,
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

  it('names CALLBACK_ALLOWED_HOSTS and the position of the entry that is not a host, never the entry (it may carry credentials)', () => {
    expect(issues({ CALLBACK_ALLOWED_HOSTS: 'ok.example.com https://hook:Pa55w0rd@hooks.example.com/T0KEN' })).toEqual([
      { Path: 'CALLBACK_ALLOWED_HOSTS', Message: 'entries must be host or host:port (no scheme, path or credentials); entry 2 of 2 is not' },
    ]);
  });

  it('text with a pattern is trimmed, and blank is unset (OUTBOUNDBOT_ENDPOINT, WITHDRAW_FUNCTION_NAME)', () => {
    expect(parseWithdrawConfig({ OUTBOUNDBOT_ENDPOINT: ' outboundbot.example.com ' }).OUTBOUNDBOT_ENDPOINT).toBe('outboundbot.example.com');
    expect(parseWithdrawConfig({ OUTBOUNDBOT_ENDPOINT: '\t' }).OUTBOUNDBOT_ENDPOINT).toBe('outboundbot.cn-shanghai.aliyuncs.com');
    expect(parseCleanupConfig({ WITHDRAW_FUNCTION_NAME: ' ' }).WITHDRAW_FUNCTION_NAME).toBe('withdraw-script-review-withdraw');
  });

  it.each(Object.entries(parsers))('%s: choices are read trimmed and in any case, blanks as unset (issue #25)', (_, parse) => {
    expect(parse({ LOG_LEVEL: 'INFO', OUTBOUNDBOT_PROTOCOL: ' Http ', RETRY_MAX_ATTEMPTS: ' 08 ', CALLBACK_TIMEOUT_MS: ' ' })).toMatchObject({
      LOG_LEVEL: 'info',
      OUTBOUNDBOT_PROTOCOL: 'http',
      RETRY_MAX_ATTEMPTS: 8,
      CALLBACK_TIMEOUT_MS: 5_000,
    });
    expect(parse({ OUTBOUNDBOT_PROTOCOL: '', LOG_LEVEL: '  ' })).toMatchObject({ OUTBOUNDBOT_PROTOCOL: 'https', LOG_LEVEL: 'info' });
  });

  it('flags and modes too: TRUE, "fanout "', () => {
    expect(parseWithdrawConfig({ ALLOW_UNSIGNED_HTTP: 'TRUE' }).ALLOW_UNSIGNED_HTTP).toBe(true);
    expect(parseCleanupConfig({ CLEANUP_MODE: 'fanout ' }).CLEANUP_MODE).toBe('fanout');
  });

  it.each(Object.entries(parsers))('%s: reports every bad variable at once', (_, parse) => {
    const found = issues({ RETRY_MAX_ATTEMPTS: '0', LOG_LEVEL: 'loud' }, parse);
    expect(found.map((i) => i.Path).sort()).toEqual(['LOG_LEVEL', 'RETRY_MAX_ATTEMPTS']);
  });

  it.each([
    ['RETRY_MAX_ATTEMPTS', 'three', 'must be a whole number written in decimal digits'],
    ['RETRY_MAX_ATTEMPTS', 'Infinity', 'must be a whole number written in decimal digits'],
    ['RETRY_MAX_ATTEMPTS', '1.5', 'must be a whole number written in decimal digits'],
    // Number() would read these as 4, 10 and 4: only decimal digits are taken (issue #25).
    ['RETRY_MAX_ATTEMPTS', '0x4', 'must be a whole number written in decimal digits'],
    ['CALLBACK_TIMEOUT_MS', '1e1', 'must be a whole number written in decimal digits'],
    ['RETRY_MAX_ATTEMPTS', '+4', 'must be a whole number written in decimal digits'],
    ['RETRY_MAX_ATTEMPTS', '-1', 'must be a whole number written in decimal digits'],
    ['RETRY_MAX_ATTEMPTS', '11', 'must be at most 10'],
    ['ALLOW_UNSIGNED_HTTP', 'maybe', 'must be true or false'],
    ['LOG_LEVEL', 'verbose', 'must be one of debug, info, warn, error'],
    ['OUTBOUNDBOT_ENDPOINT', 'host:123456', 'must be host or host:port (port 1-65535)'],
    // The pattern allows five digits: a port no client can use is refused at start, not on every call.
    ['OUTBOUNDBOT_ENDPOINT', '127.0.0.1:99999', 'must be host or host:port (port 1-65535)'],
    ['OUTBOUNDBOT_ENDPOINT', '127.0.0.1:0', 'must be host or host:port (port 1-65535)'],
    ['IDEMPOTENCY_REDIS_URL', 'http://cache.example.com', 'must be redis://[:password@]host[:port][/db] or rediss://…, the password percent-encoded'],
    ['IDEMPOTENCY_REDIS_URL', 'redis:///0', 'must be redis://[:password@]host[:port][/db] or rediss://…, the password percent-encoded'],
    ['IDEMPOTENCY_REDIS_URL', 'not a url', 'must be redis://[:password@]host[:port][/db] or rediss://…, the password percent-encoded'],
    ['WEBHOOK_SECRET', 'nope', 'each secret must start with "whsec_"'],
  ])('withdraw: %s=%j says %j', (name, value, message) => {
    expect(issues({ [name]: value })).toEqual([{ Path: name, Message: message }]);
  });

  it.each([
    ['FC_ENDPOINT', 'https://fc.example.com/some/path', 'must be http(s)://host[:port]'],
    ['FC_ENDPOINT', '/', 'must be http(s)://host[:port]'],
    ['FC_ENDPOINT', 'http://127.0.0.1:99999', 'must be http(s)://host[:port]'],
    ['FC_ENDPOINT', 'http://[::1', 'must be http(s)://host[:port]'],
    ['FC_ENDPOINT', 'http://127.0.0.1:', 'must be http(s)://host[:port]'],
  ])('cleanup: %s=%j says %j', (name, value, message) => {
    expect(issues({ [name]: value }, parseCleanupConfig)).toEqual([{ Path: name, Message: message }]);
  });

  it.each([
    ['OUTBOUNDBOT_CONNECT_TIMEOUT_MS', 1, 3_600_000],
    ['OUTBOUNDBOT_READ_TIMEOUT_MS', 1, 3_600_000],
    ['RETRY_MAX_ATTEMPTS', 1, 10],
    ['RETRY_BASE_DELAY_MS', 1, 3_600_000],
    ['RETRY_MAX_DELAY_MS', 1, 3_600_000],
    ['CALLBACK_TIMEOUT_MS', 1, 3_600_000],
    // At least the 2 × 300 s in which a signed request verifies, or a replay inside that window runs again.
    ['IDEMPOTENCY_TTL_SECONDS', 600, 2_592_000],
    ['IDEMPOTENCY_TIMEOUT_MS', 50, 10_000],
    ['BATCH_CONCURRENCY', 1, 64],
    ['CLEANUP_CONCURRENCY', 1, 64],
    ['FANOUT_CHUNK_SIZE', 1, 100],
  ])('%s holds from %d to %d', (name, min, max) => {
    const parse = name.startsWith('BATCH') ? parseWithdrawConfig : parseCleanupConfig;
    expect(parse({ [name]: ` ${min} ` })).toHaveProperty(name, min);
    expect(parse({ [name]: String(max) })).toHaveProperty(name, max);
    expect(issues({ [name]: String(min - 1) }, parse)).toEqual([{ Path: name, Message: `must be at least ${min}` }]);
    expect(issues({ [name]: String(max + 1) }, parse)).toEqual([{ Path: name, Message: `must be at most ${max}` }]);
  });

  it.each(Object.entries(parsers))('%s: ALLOWED_INSTANCE_IDS is a space- or comma-separated list of instance ids', (_, parse) => {
    expect(parse({ ALLOWED_INSTANCE_IDS: ' inst-a, inst-b\tinst-c,,inst-a ' })).toHaveProperty('ALLOWED_INSTANCE_IDS', ['inst-a', 'inst-b', 'inst-c']);
    expect(parse({ ALLOWED_INSTANCE_IDS: ' ' })).toHaveProperty('ALLOWED_INSTANCE_IDS', []);
    expect(issues({ ALLOWED_INSTANCE_IDS: 'inst-a;inst-b' }, parse)).toEqual([
      { Path: 'ALLOWED_INSTANCE_IDS', Message: 'entries must be OutboundBot instance ids, space- or comma-separated; entry 1 of 1 is not' },
    ]);
  });

  it.each(Object.entries(parsers))('%s: ALLOWED_INSTANCE_IDS set to separators only names nothing: refused, not read as any', (_, parse) => {
    expect(issues({ ALLOWED_INSTANCE_IDS: ' , ' }, parse)).toEqual([{ Path: 'ALLOWED_INSTANCE_IDS', Message: 'names no instance id; leave it unset to allow any' }]);
  });

  it('a store URL whose password is not valid percent-encoding is refused at start, not a crash on first use', () => {
    expect(issues({ IDEMPOTENCY_REDIS_URL: 'redis://:bad%zzpassword@127.0.0.1:6379/0' })).toEqual([
      { Path: 'IDEMPOTENCY_REDIS_URL', Message: 'must be redis://[:password@]host[:port][/db] or rediss://…, the password percent-encoded' },
    ]);
  });

  it('reads flags, a trimmed store URL, and an FC endpoint without its trailing slashes', () => {
    for (const [value, expected] of [['1', true], ['yes', true], ['', false], ['no', false], ['0', false]] as const) {
      expect(parseWithdrawConfig({ ALLOW_UNSIGNED_HTTP: value }).ALLOW_UNSIGNED_HTTP).toBe(expected);
    }
    expect(parseWithdrawConfig({ IDEMPOTENCY_REDIS_URL: ' rediss://:pw@cache.example.com:6380/2 ' }).IDEMPOTENCY_REDIS_URL).toBe('rediss://:pw@cache.example.com:6380/2');
    expect(parseWithdrawConfig({ IDEMPOTENCY_REDIS_URL: ' ' }).IDEMPOTENCY_REDIS_URL).toBeUndefined();
    expect(parseCleanupConfig({ FC_ENDPOINT: ' https://fc.example.com/// ' }).FC_ENDPOINT).toBe('https://fc.example.com');
    expect(parseCleanupConfig({ FC_ACCOUNT_ID: ' 123 ', FC_REGION: '' })).toMatchObject({ FC_ACCOUNT_ID: '123', FC_REGION: undefined });
  });

  it('keeps only the variables it reads', () => {
    const config = parseWithdrawConfig({ PATH: '/usr/bin', CLEANUP_MODE: 'fanout', LOG_LEVEL: 'debug' });
    expect(config).not.toHaveProperty('PATH');
    expect(config).not.toHaveProperty('CLEANUP_MODE');
    expect(parseCleanupConfig({ BATCH_CONCURRENCY: 'x' })).not.toHaveProperty('BATCH_CONCURRENCY');
  });

  it('lists every bad variable in the order it declares them', () => {
    const env = { FC_ENDPOINT: 'ftp://x', LOG_LEVEL: 'loud', CLEANUP_MODE: 'x', RETRY_MAX_ATTEMPTS: '0', OUTBOUNDBOT_ENDPOINT: 'x/y' };
    expect(issues(env, parseCleanupConfig).map((i) => i.Path)).toEqual(['OUTBOUNDBOT_ENDPOINT', 'RETRY_MAX_ATTEMPTS', 'LOG_LEVEL', 'CLEANUP_MODE', 'FC_ENDPOINT']);
  });
});
