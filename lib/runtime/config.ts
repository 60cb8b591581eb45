// Every environment variable either function reads, parsed here and nowhere else: the
// variables both functions share, extended once per function. Plain checks (core/fields)
// rather than a schema library, whose module init and schemas cost ~6.7 ms of every cold start.
import { InvalidConfigurationError, type Issue } from '../core/errors';
import { flagText, integerText, matchText, oneOfText, optionalText, parsedBy, refuse } from '../core/fields';
import { FUNCTION_NAME_PATTERN } from '../fc/function-name';
import { parseInstanceAllowList } from '../outboundbot/instance-allow-list';
import { parseAllowedHosts } from '../webhooks/allowed-hosts';
import { DEFAULT_TOLERANCE_SECONDS, parseWebhookSecrets } from '../webhooks/verify';

export interface BaseConfig {
  OUTBOUNDBOT_ENDPOINT: string;
  OUTBOUNDBOT_PROTOCOL: 'https' | 'http';
  OUTBOUNDBOT_CONNECT_TIMEOUT_MS: number;
  OUTBOUNDBOT_READ_TIMEOUT_MS: number;
  RETRY_MAX_ATTEMPTS: number;
  RETRY_BASE_DELAY_MS: number;
  RETRY_MAX_DELAY_MS: number;
  CALLBACK_URL: string | undefined;
  CALLBACK_SECRET: string | undefined;
  CALLBACK_ALLOWED_HOSTS: string[];
  CALLBACK_TIMEOUT_MS: number;
  LOG_LEVEL: 'debug' | 'info' | 'warn' | 'error';
  /** The OutboundBot instances this deployment may touch; empty: any. */
  ALLOWED_INSTANCE_IDS: string[];
  ALIBABA_CLOUD_ACCESS_KEY_ID: string | undefined;
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: string | undefined;
  ALIBABA_CLOUD_SECURITY_TOKEN: string | undefined;
  /** Unset: each instance remembers alone (local runs, one instance). Set: every instance shares one store. */
  IDEMPOTENCY_REDIS_URL?: string;
  IDEMPOTENCY_TTL_SECONDS: number;
  IDEMPOTENCY_TIMEOUT_MS: number;
}

export interface WithdrawConfig extends BaseConfig {
  /** Several secrets, space- or comma-separated, during a rotation. */
  WEBHOOK_SECRET: string[];
  ALLOW_UNSIGNED_HTTP: boolean;
  BATCH_CONCURRENCY: number;
}

export interface CleanupConfig extends BaseConfig {
  CLEANUP_MODE: 'inline' | 'fanout';
  CLEANUP_CONCURRENCY: number;
  WITHDRAW_FUNCTION_NAME: string;
  FANOUT_CHUNK_SIZE: number;
  FC_ENDPOINT?: string;
  FC_ACCOUNT_ID: string | undefined;
  FC_REGION: string | undefined;
}

/** How each variable is read: one reader per field, named as the variable, so none is missed or misspelt. */
type Reader<T> = (value: string | undefined, name: string, issues: Issue[]) => T | undefined;
type Readers<T> = { [K in keyof T]-?: Reader<T[K]> };

const integer =
  (min: number, max: number, fallback: number): Reader<number> =>
  (value, name, issues) =>
    integerText(value, name, issues, min, max, fallback);
const durationMs = (fallback: number) => integer(1, 3_600_000, fallback);
const oneOf =
  <T extends string>(values: readonly T[], fallback: T): Reader<T> =>
  (value, name, issues) =>
    oneOfText(value, name, issues, values, fallback);
const matching =
  (pattern: RegExp, message: string, fallback: string): Reader<string> =>
  (value, name, issues) =>
    matchText(value, name, issues, pattern, message, fallback);
/** A variable read by a parser of its own concern. */
const parsedWith =
  <T>(parse: (value: string | undefined) => T): Reader<T> =>
  (value, name, issues) =>
    parsedBy(value, name, issues, parse);

/** Twice the signature's ±300 s tolerance: a replay verifies until 10 minutes after the first use at worst. */
export const MIN_IDEMPOTENCY_TTL_SECONDS = 2 * DEFAULT_TOLERANCE_SECONDS;

const FC_ENDPOINT_PATTERN = /^https?:\/\/[^/?#\s]+$/;

/** `http(s)://host[:port]`; trailing slashes are dropped. */
function fcEndpoint(value: string | undefined, name: string, issues: Issue[]): string | undefined {
  const text = optionalText(value)?.replace(/\/+$/, '');
  return text === undefined || FC_ENDPOINT_PATTERN.test(text) ? text : refuse(issues, name, 'must be http(s)://host[:port]');
}

/** `redis://` or `rediss://` with host; the password and db travel in the URL. */
function redisUrl(value: string | undefined, name: string, issues: Issue[]): string | undefined {
  const text = optionalText(value);
  return text === undefined || isRedisUrl(text) ? text : refuse(issues, name, 'must be redis://[:password@]host[:port][/db] or rediss://…, the password percent-encoded');
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    // The client decodes the password: a malformed escape would crash it on first use.
    decodeURIComponent(url.password);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const base: Readers<BaseConfig> = {
  OUTBOUNDBOT_ENDPOINT: matching(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host or host:port', 'outboundbot.cn-shanghai.aliyuncs.com'),
  OUTBOUNDBOT_PROTOCOL: oneOf(['https', 'http'], 'https'),
  OUTBOUNDBOT_CONNECT_TIMEOUT_MS: durationMs(3_000),
  OUTBOUNDBOT_READ_TIMEOUT_MS: durationMs(10_000),
  RETRY_MAX_ATTEMPTS: integer(1, 10, 4),
  RETRY_BASE_DELAY_MS: durationMs(200),
  RETRY_MAX_DELAY_MS: durationMs(5_000),
  CALLBACK_URL: optionalText,
  CALLBACK_SECRET: optionalText,
  CALLBACK_ALLOWED_HOSTS: parsedWith(parseAllowedHosts),
  CALLBACK_TIMEOUT_MS: durationMs(5_000),
  LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error'], 'info'),
  ALLOWED_INSTANCE_IDS: parsedWith(parseInstanceAllowList),
  ALIBABA_CLOUD_ACCESS_KEY_ID: optionalText,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optionalText,
  ALIBABA_CLOUD_SECURITY_TOKEN: optionalText,
  IDEMPOTENCY_REDIS_URL: redisUrl,
  IDEMPOTENCY_TTL_SECONDS: integer(MIN_IDEMPOTENCY_TTL_SECONDS, 2_592_000, 86_400),
  IDEMPOTENCY_TIMEOUT_MS: integer(50, 10_000, 1_000),
};

const withdraw: Readers<WithdrawConfig> = {
  ...base,
  WEBHOOK_SECRET: parsedWith(parseWebhookSecrets),
  ALLOW_UNSIGNED_HTTP: flagText,
  BATCH_CONCURRENCY: integer(1, 64, 8),
};

const cleanup: Readers<CleanupConfig> = {
  ...base,
  CLEANUP_MODE: oneOf(['inline', 'fanout'], 'inline'),
  CLEANUP_CONCURRENCY: integer(1, 64, 8),
  WITHDRAW_FUNCTION_NAME: matching(FUNCTION_NAME_PATTERN, 'must be an FC function name', 'withdraw-script-review-withdraw'),
  FANOUT_CHUNK_SIZE: integer(1, 100, 50),
  FC_ENDPOINT: fcEndpoint,
  FC_ACCOUNT_ID: optionalText,
  FC_REGION: optionalText,
};

/**
 * Only the variables named in `readers` end up in the result. Errors name the variable so a
 * mistyped `s.yaml` is obvious in the log; they never echo the value, which may be a secret.
 */
function readEnv<T>(readers: Readers<T>, env: NodeJS.ProcessEnv): T {
  const issues: Issue[] = [];
  const config: Partial<Record<keyof T, unknown>> = {};
  for (const name in readers) config[name] = readers[name](env[name], name, issues);
  if (issues.length > 0) throw new InvalidConfigurationError(issues);
  return config as T;
}

export const parseWithdrawConfig = (env: NodeJS.ProcessEnv): WithdrawConfig => readEnv(withdraw, env);
export const parseCleanupConfig = (env: NodeJS.ProcessEnv): CleanupConfig => readEnv(cleanup, env);

/** Values the redactor must mask wherever they appear. */
export function configSecrets(config: BaseConfig & { WEBHOOK_SECRET?: readonly string[] }): string[] {
  const values = [config.CALLBACK_SECRET, config.ALIBABA_CLOUD_ACCESS_KEY_SECRET, config.ALIBABA_CLOUD_SECURITY_TOKEN];
  return [...(config.WEBHOOK_SECRET ?? []), ...values.flatMap((v) => v?.split(/[\s,]+/) ?? []), ...redisSecrets(config.IDEMPOTENCY_REDIS_URL)];
}

/** The store's password, raw and as written in the URL (percent-encoded), and the URL itself. */
function redisSecrets(url: string | undefined): string[] {
  if (url === undefined) return [];
  const { password } = new URL(url);
  return password ? [url, password, decodeURIComponent(password)] : [];
}
