import { z } from 'zod';
import { InvalidConfigurationError } from './errors';

const intMs = (fallback: number) => z.coerce.number().int().min(1).max(3_600_000).default(fallback);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const schema = z.object({
  OUTBOUNDBOT_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host or host:port')
    .default('outboundbot.cn-shanghai.aliyuncs.com'),
  OUTBOUNDBOT_PROTOCOL: z.enum(['https', 'http']).default('https'),
  OUTBOUNDBOT_CONNECT_TIMEOUT_MS: intMs(3_000),
  OUTBOUNDBOT_READ_TIMEOUT_MS: intMs(10_000),
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
  RETRY_BASE_DELAY_MS: intMs(200),
  RETRY_MAX_DELAY_MS: intMs(5_000),
  BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  WEBHOOK_SECRET: optional,
  ALLOW_UNSIGNED_HTTP: bool,
  CALLBACK_URL: optional,
  CALLBACK_SECRET: optional,
  CALLBACK_ALLOWED_HOSTS: optional,
  CALLBACK_TIMEOUT_MS: intMs(5_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  ALIBABA_CLOUD_ACCESS_KEY_ID: optional,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optional,
  ALIBABA_CLOUD_SECURITY_TOKEN: optional,
});

export type Config = z.infer<typeof schema>;

/**
 * Parses the environment once per process (FC reuses the process across warm
 * invocations). Errors name the variable so a mistyped `s.yaml` is obvious in the log.
 */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new InvalidConfigurationError(
      result.error.issues.map((issue) => ({ Path: issue.path.join('.'), Message: issue.message })),
    );
  }
  return result.data;
}
