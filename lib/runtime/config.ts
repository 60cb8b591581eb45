// Every environment variable either function reads, parsed here and nowhere else: a base
// schema both functions share, extended once per function.
// zod/mini: the same validators as `zod` at 3% of the bundle (the full build costs ~20 ms of cold start).
import * as z from 'zod/mini';
import { InvalidConfigurationError } from '../core/errors';
import { zodIssues } from '../core/zod-issues';
import { FUNCTION_NAME_PATTERN } from '../fc/function-name';
import { parseAllowedHosts } from '../webhooks/allowed-hosts';
import { parseWebhookSecrets } from '../webhooks/verify';

const integer = (min: number, max: number, fallback: number) =>
  z._default(
    z.pipe(
      z.coerce.number({ error: 'must be a number' }),
      z.int({ error: 'must be an integer' }).check(z.gte(min, `must be at least ${min}`), z.lte(max, `must be at most ${max}`)),
    ),
    fallback,
  );
const durationMs = (fallback: number) => integer(1, 3_600_000, fallback);
const flag = z.pipe(
  z._default(z.enum(['true', 'false', '1', '0', 'yes', 'no', ''], { error: 'must be true or false' }), 'false'),
  z.transform((v) => v === 'true' || v === '1' || v === 'yes'),
);
/** Unset and blank are the same: `s.yaml` renders an unset `${env(...)}` as ''. */
const optional = z.pipe(
  z.optional(z.string()),
  z.transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
);
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z._default(z.enum(values, { error: `must be one of ${values.join(', ')}` }), fallback);

/** A variable read by a parser of its own concern; its refusal becomes a zod issue on that variable. */
const parsedBy = <T>(parse: (value: string | undefined) => T) =>
  z.pipe(
    optional,
    z.transform((value, ctx) => {
      try {
        return parse(value);
      } catch (error) {
        if (!(error instanceof InvalidConfigurationError)) throw error;
        for (const issue of error.issues) ctx.issues.push({ code: 'custom', message: issue.Message, input: value });
        return z.NEVER;
      }
    }),
  );

const fcEndpoint = z.pipe(
  optional,
  z.pipe(
    z.transform((v: string | undefined) => v?.replace(/\/+$/, '')),
    z.optional(z.string().check(z.regex(/^https?:\/\/[^/?#\s]+$/, 'must be http(s)://host[:port]'))),
  ),
);

/** `redis://` or `rediss://` with host; the password and db travel in the URL. */
const redisUrl = z.pipe(
  optional,
  z.optional(
    z.string().check(
      z.refine((v) => {
        try {
          const url = new URL(v);
          return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
        } catch {
          return false;
        }
      }, 'must be redis://[:password@]host[:port][/db] or rediss://…'),
    ),
  ),
);

const baseSchema = z.object({
  OUTBOUNDBOT_ENDPOINT: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host or host:port')),
    'outboundbot.cn-shanghai.aliyuncs.com',
  ),
  OUTBOUNDBOT_PROTOCOL: oneOf(['https', 'http'], 'https'),
  OUTBOUNDBOT_CONNECT_TIMEOUT_MS: durationMs(3_000),
  OUTBOUNDBOT_READ_TIMEOUT_MS: durationMs(10_000),
  RETRY_MAX_ATTEMPTS: integer(1, 10, 4),
  RETRY_BASE_DELAY_MS: durationMs(200),
  RETRY_MAX_DELAY_MS: durationMs(5_000),
  CALLBACK_URL: optional,
  CALLBACK_SECRET: optional,
  CALLBACK_ALLOWED_HOSTS: parsedBy(parseAllowedHosts),
  CALLBACK_TIMEOUT_MS: durationMs(5_000),
  LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error'], 'info'),
  ALIBABA_CLOUD_ACCESS_KEY_ID: optional,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optional,
  ALIBABA_CLOUD_SECURITY_TOKEN: optional,
  /** Unset: each instance remembers alone (local runs, one instance). Set: every instance shares one store. */
  IDEMPOTENCY_REDIS_URL: redisUrl,
  IDEMPOTENCY_TTL_SECONDS: integer(60, 2_592_000, 86_400),
  IDEMPOTENCY_TIMEOUT_MS: integer(50, 10_000, 1_000),
});

const withdrawSchema = z.extend(baseSchema, {
  /** Several secrets, space- or comma-separated, during a rotation. */
  WEBHOOK_SECRET: parsedBy(parseWebhookSecrets),
  ALLOW_UNSIGNED_HTTP: flag,
  BATCH_CONCURRENCY: integer(1, 64, 8),
});

const cleanupSchema = z.extend(baseSchema, {
  CLEANUP_MODE: oneOf(['inline', 'fanout'], 'inline'),
  CLEANUP_CONCURRENCY: integer(1, 64, 8),
  WITHDRAW_FUNCTION_NAME: z._default(z.string().check(z.regex(FUNCTION_NAME_PATTERN, 'must be an FC function name')), 'withdraw-script-review-withdraw'),
  FANOUT_CHUNK_SIZE: integer(1, 100, 50),
  FC_ENDPOINT: fcEndpoint,
  FC_ACCOUNT_ID: optional,
  FC_REGION: optional,
});

export type BaseConfig = z.infer<typeof baseSchema>;
export type WithdrawConfig = z.infer<typeof withdrawSchema>;
export type CleanupConfig = z.infer<typeof cleanupSchema>;

/**
 * Errors name the variable so a mistyped `s.yaml` is obvious in the log; they never echo
 * the value, which may be a secret.
 */
function parseWith<S extends z.ZodMiniType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new InvalidConfigurationError(zodIssues(result.error));
  return result.data as z.infer<S>;
}

export const parseWithdrawConfig = (env: NodeJS.ProcessEnv): WithdrawConfig => parseWith(withdrawSchema, env);
export const parseCleanupConfig = (env: NodeJS.ProcessEnv): CleanupConfig => parseWith(cleanupSchema, env);

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
