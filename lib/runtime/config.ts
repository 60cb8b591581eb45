// Every environment variable either function reads, parsed here and nowhere else: one zod
// schema of the variables both functions share, extended once per function, built on first use.
// Issues name the variable so a mistyped `s.yaml` is obvious in the log; they never echo the
// value, which may be a secret.
import * as z from 'zod/mini';
import { InvalidConfigurationError } from '../core/errors';
import { integerIn, onFirstUse, parseOrRefuse } from '../core/schema';
import { FUNCTION_NAME_PATTERN } from '../fc/function-name';
import { parseInstanceAllowList } from '../outboundbot/instance-allow-list';
import { parseAllowedHosts } from '../webhooks/allowed-hosts';
import { DEFAULT_TOLERANCE_SECONDS, parseWebhookSecrets } from '../webhooks/verify';

/** Twice the signature's ±300 s tolerance: a replay verifies until 10 minutes after the first use at worst. */
export const MIN_IDEMPOTENCY_TTL_SECONDS = 2 * DEFAULT_TOLERANCE_SECONDS;

// ---- How a variable is read. Unset or blank is `fallback` (`s.yaml` renders an unset `${env(...)}` as '').
// A value is always text or unset, so no stage checks for a string; stages shared by several
// variables are built once (schemas are immutable): fewer schemas to build on a cold start.

/** Unset and blank are the same; anything else is trimmed. */
const trimmed = (value: string | undefined): string | undefined => value?.trim() || undefined;
const optionalText = onFirstUse(() => z.transform(trimmed));
/** A choice is read trimmed and in any case: `LOG_LEVEL=INFO` means info. */
const choiceText = onFirstUse(() => z.transform((value: string | undefined) => trimmed(value)?.toLowerCase()));

/** Plain decimal digits only: `0x4`, `1e1` or `1.5` are refused, not read as 4, 10 or 1.5. */
const DECIMAL = 'must be a whole number written in decimal digits';
const inRange = memoByRange((min, max) => z.pipe(z.string().check(z.regex(/^\d+$/, DECIMAL)), z.pipe(z.transform(Number), integerIn(min, max))));
/** An integer in [min, max]; unset or blank is `fallback`. */
const integer = (min: number, max: number, fallback: number) => z.pipe(optionalText(), z._default(inRange(min, max), fallback));
const durationMs = (fallback: number) => integer(1, 3_600_000, fallback);
/** One of `values`, in any case; unset or blank is `fallback`. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z.pipe(choiceText(), z._default(z.enum(values, { error: `must be one of ${values.join(', ')}` }), fallback));
/** Trimmed text matching `pattern` (and `also`, when given); unset or blank is `fallback`. */
const matching = (pattern: RegExp, message: string, fallback: string, also: (text: string) => boolean = () => true) =>
  z.pipe(optionalText(), z._default(z.string().check(z.refine((text) => pattern.test(text) && also(text), message)), fallback));

/** A TCP port a client can connect to: 1-65535 (`host:99999` passed the pattern, and failed every call). */
const isPort = (port: string) => Number(port) >= 1 && Number(port) <= 65_535;
const hostPortOk = (text: string) => !text.includes(':') || isPort(text.slice(text.lastIndexOf(':') + 1));
/** An absolute http(s) URL of a host and a usable port, nothing after it. */
function isServiceUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const { port } = new URL(text);
  return !/:$/.test(text) && (port === '' || isPort(port));
}
const TRUE = ['true', '1', 'yes'] as const;
/** true/false, 1/0, yes/no, in any case; unset or blank is false. */
const flag = () =>
  z.pipe(choiceText(), z._default(z.pipe(z.enum([...TRUE, 'false', '0', 'no'], { error: 'must be true or false' }), z.transform((value) => (TRUE as readonly string[]).includes(value))), false));

function memoByRange<T>(build: (min: number, max: number) => T): (min: number, max: number) => T {
  const built = new Map<string, T>();
  return (min, max) => {
    const key = `${min}:${max}`;
    let schema = built.get(key);
    if (schema === undefined) built.set(key, (schema = build(min, max)));
    return schema;
  };
}

/** A variable read by a parser of its own concern, given its trimmed text; its refusal becomes issues on this variable. */
const parsedWith = <T>(parse: (value: string | undefined) => T) =>
  z.transform((value: string | undefined, context): T => {
    try {
      return parse(trimmed(value));
    } catch (error) {
      if (!(error instanceof InvalidConfigurationError)) throw error;
      for (const issue of error.issues) context.issues.push({ code: 'custom', message: issue.Message, input: value });
      return z.NEVER;
    }
  });

/** `http(s)://host[:port]`; trailing slashes are dropped. */
const fcEndpoint = () =>
  z.pipe(
    optionalText(),
    z.optional(
      z.string().check(
        z.overwrite((text) => text.replace(/\/+$/, '')),
        z.refine((text) => /^https?:\/\/[^/?#\s]+$/.test(text) && isServiceUrl(text), 'must be http(s)://host[:port]'),
      ),
    ),
  );

/** `redis://` or `rediss://` with host; the password and db travel in the URL. */
const redisUrl = () =>
  z.pipe(optionalText(), z.optional(z.string().check(z.refine(isRedisUrl, 'must be redis://[:password@]host[:port][/db] or rediss://…, the password percent-encoded'))));

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

const baseShape = () => ({
  OUTBOUNDBOT_ENDPOINT: matching(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host or host:port (port 1-65535)', 'outboundbot.cn-shanghai.aliyuncs.com', hostPortOk),
  OUTBOUNDBOT_PROTOCOL: oneOf(['https', 'http'], 'https'),
  OUTBOUNDBOT_CONNECT_TIMEOUT_MS: durationMs(3_000),
  OUTBOUNDBOT_READ_TIMEOUT_MS: durationMs(10_000),
  RETRY_MAX_ATTEMPTS: integer(1, 10, 4),
  RETRY_BASE_DELAY_MS: durationMs(200),
  RETRY_MAX_DELAY_MS: durationMs(5_000),
  CALLBACK_URL: optionalText(),
  CALLBACK_SECRET: optionalText(),
  /** `host` or `host:port` entries a per-request CallbackUrl may name. */
  CALLBACK_ALLOWED_HOSTS: parsedWith(parseAllowedHosts),
  CALLBACK_TIMEOUT_MS: durationMs(5_000),
  LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error'], 'info'),
  /** The OutboundBot instances this deployment may touch; empty: any. */
  ALLOWED_INSTANCE_IDS: parsedWith(parseInstanceAllowList),
  ALIBABA_CLOUD_ACCESS_KEY_ID: optionalText(),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optionalText(),
  ALIBABA_CLOUD_SECURITY_TOKEN: optionalText(),
  /** Unset: each instance remembers alone (local runs, one instance). Set: every instance shares one store. */
  IDEMPOTENCY_REDIS_URL: redisUrl(),
  IDEMPOTENCY_TTL_SECONDS: integer(MIN_IDEMPOTENCY_TTL_SECONDS, 2_592_000, 86_400),
  IDEMPOTENCY_TIMEOUT_MS: integer(50, 10_000, 1_000),
});

const withdrawSchema = onFirstUse(() =>
  z.object({
    ...baseShape(),
    /** Several secrets, space- or comma-separated, during a rotation. */
    WEBHOOK_SECRET: parsedWith(parseWebhookSecrets),
    ALLOW_UNSIGNED_HTTP: flag(),
    BATCH_CONCURRENCY: integer(1, 64, 8),
  }),
);

const cleanupSchema = onFirstUse(() =>
  z.object({
    ...baseShape(),
    CLEANUP_MODE: oneOf(['inline', 'fanout'], 'inline'),
    CLEANUP_CONCURRENCY: integer(1, 64, 8),
    WITHDRAW_FUNCTION_NAME: matching(FUNCTION_NAME_PATTERN, 'must be an FC function name', 'withdraw-script-review-withdraw'),
    FANOUT_CHUNK_SIZE: integer(1, 100, 50),
    FC_ENDPOINT: fcEndpoint(),
    FC_ACCOUNT_ID: optionalText(),
    FC_REGION: optionalText(),
  }),
);

export type BaseConfig = z.output<z.ZodMiniObject<ReturnType<typeof baseShape>>>;
export type WithdrawConfig = z.output<ReturnType<typeof withdrawSchema>>;
export type CleanupConfig = z.output<ReturnType<typeof cleanupSchema>>;

const readEnv = <T>(schema: z.ZodMiniType<T>, env: NodeJS.ProcessEnv): T => parseOrRefuse(schema, env, (issues) => new InvalidConfigurationError(issues));

/** The variables each function reads: the keys of its schema. */
export const configVariables = { withdraw: () => Object.keys(withdrawSchema().shape), cleanup: () => Object.keys(cleanupSchema().shape) };

export const parseWithdrawConfig = (env: NodeJS.ProcessEnv): WithdrawConfig => readEnv(withdrawSchema(), env);
export const parseCleanupConfig = (env: NodeJS.ProcessEnv): CleanupConfig => readEnv(cleanupSchema(), env);

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
