import type { CallbackDeps, CallbackReport } from '../webhooks/callback';
import type { Clock } from '../core/clock';
import { configSecrets, type BaseConfig } from './config';
import { resolveCredentials, type Credentials, type FcCredentials } from '../core/credentials';
import { ServiceError } from '../core/errors';
import { createLogger, type Logger } from '../core/logger';
import { createOutboundBotClient, type OutboundBotClient } from '../outboundbot/client';
import { SecretRegistry } from '../core/redact';
import type { RetryPolicy } from '../core/retry-policy';
import type { Timeline } from '../fc/timeline';
import { boundedBy } from '../idempotency/bounded-store';
import { openStore } from '../idempotency/open-store';
import type { IdempotencyStore } from '../idempotency/store';

export interface InstanceStateOptions {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Where log lines go; stdout in FC. */
  write?: (line: string) => void;
  /** Resolver for callback hosts; tests map names to loopback. */
  lookup?: CallbackDeps['lookup'];
}

/** The instance state of a function whose configuration is `Config`. */
export type InstanceState<Config extends BaseConfig> = ReturnType<typeof createInstanceState<Config>>;

/**
 * What lives as long as the FC instance and both functions need: the configuration
 * (parsed once, its secrets registered with the redactor), the logger, the callback
 * allow-list and sender, and an OutboundBot client reused while the credentials hold.
 */
export function createInstanceState<Config extends BaseConfig>(options: InstanceStateOptions, parseConfig: (env: NodeJS.ProcessEnv) => Config) {
  const secrets = new SecretRegistry();
  const config = createConfigLoader(() => parseConfig(options.env), secrets, (cfg) => warnAtStart(cfg, options.env, logger()));
  const logger = createLoggerCache(config.loaded, secrets, options);
  const client = createClientCache(secrets);
  let store: Promise<IdempotencyStore> | undefined;
  const openedStore = (cfg: BaseConfig): Promise<IdempotencyStore> =>
    (store ??= openStore({ redisUrl: cfg.IDEMPOTENCY_REDIS_URL, timeoutMs: cfg.IDEMPOTENCY_TIMEOUT_MS }, options.clock));
  let coldStart = true;
  return {
    loadConfig: config.load,
    logger,
    /** True for the first invocation of this instance only. */
    takeColdStart(): boolean {
      const wasCold = coldStart;
      coldStart = false;
      return wasCold;
    },
    credentials: invocationCredentials,
    retryPolicy,
    client,
    /** The idempotency store, opened on first use and kept for the instance's life. */
    store: openedStore,
    /**
     * The store as one invocation may use it: a shared one bounded by the invocation's end, since
     * IDEMPOTENCY_TIMEOUT_MS bounds one call, not the invocation (the memory store answers at once).
     */
    invocationStore: async (cfg: BaseConfig, timeline: Pick<Timeline, 'answerByMs'>): Promise<IdempotencyStore> => {
      const opened = await openedStore(cfg);
      return cfg.IDEMPOTENCY_REDIS_URL === undefined ? opened : boundedBy(opened, timeline.answerByMs, options.clock);
    },
    /** Posts `payload` to `url`, signed with CALLBACK_SECRET; never throws, reports instead. */
    callBack: (cfg: BaseConfig, url: string, payload: unknown, deadlineMs: number): Promise<CallbackReport> =>
      sendResultCallback(cfg, url, payload, deadlineMs, options),
  };
}

/** Parsed on first use; a bad configuration fails every invocation the same way, without re-parsing. */
function createConfigLoader<Config extends BaseConfig>(parse: () => Config, secrets: SecretRegistry, onLoaded: (config: Config) => void) {
  let config: Config | undefined;
  let configError: ServiceError | undefined;
  return {
    load(): Config {
      if (config) return config;
      if (configError) throw configError;
      try {
        const parsed = parse();
        for (const secret of configSecrets(parsed)) secrets.pin(secret);
        config = parsed;
        onLoaded(parsed);
        return parsed;
      } catch (error) {
        if (error instanceof ServiceError) configError = error;
        throw error;
      }
    },
    loaded: (): Config | undefined => config,
  };
}

/**
 * Said once per instance, when the configuration is first read. `FC_FUNCTION_NAME` is set by FC
 * in every deployed instance: a local run without an allow-list is not worth a warning.
 */
function warnAtStart(cfg: BaseConfig, env: NodeJS.ProcessEnv, log: Logger): void {
  if (env.FC_FUNCTION_NAME === undefined || cfg.ALLOWED_INSTANCE_IDS.length > 0) return;
  log.warn('ALLOWED_INSTANCE_IDS is not set: any OutboundBot instance the role can see may be withdrawn from', { variable: 'ALLOWED_INSTANCE_IDS' });
}

/** Until the configuration has been read (or if it cannot be), lines are logged at info. */
function createLoggerCache(loadedConfig: () => BaseConfig | undefined, secrets: SecretRegistry, options: InstanceStateOptions): () => Logger {
  let baseLogger: Logger | undefined;
  let loggerConfigured = false;
  return () => {
    const config = loadedConfig();
    if (!baseLogger || (config && !loggerConfigured)) {
      baseLogger = createLogger({ level: config?.LOG_LEVEL ?? 'info', secrets, write: options.write, nowMs: options.clock.nowMs });
      loggerConfigured = config !== undefined;
    }
    return baseLogger;
  };
}

/** The role's STS triple (fresh each invocation), else the ALIBABA_CLOUD_* variables. */
function invocationCredentials(fromContext: FcCredentials | undefined, cfg: BaseConfig): Credentials {
  const { ALIBABA_CLOUD_ACCESS_KEY_ID: accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: securityToken } = cfg;
  return resolveCredentials(fromContext, { accessKeyId, accessKeySecret, securityToken });
}

function retryPolicy(cfg: BaseConfig): RetryPolicy {
  return { maxAttempts: cfg.RETRY_MAX_ATTEMPTS, baseDelayMs: cfg.RETRY_BASE_DELAY_MS, maxDelayMs: cfg.RETRY_MAX_DELAY_MS };
}

/**
 * The client for these credentials: the cached one while they are unchanged (its
 * keep-alive socket carries warm invocations), a new one as soon as FC rotates them.
 */
function createClientCache(secrets: SecretRegistry): (credentials: Credentials, cfg: BaseConfig) => OutboundBotClient {
  let cachedClient: { credentials: Credentials; client: OutboundBotClient } | undefined;
  return (credentials, cfg) => {
    if (cachedClient && sameCredentials(cachedClient.credentials, credentials)) return cachedClient.client;
    // Registered with each new set: the registry keeps the newest, and these are the newest until FC rotates them.
    secrets.add(credentials.accessKeySecret);
    secrets.add(credentials.securityToken);
    const client = createOutboundBotClient(credentials, {
      endpoint: cfg.OUTBOUNDBOT_ENDPOINT,
      protocol: cfg.OUTBOUNDBOT_PROTOCOL,
      connectTimeoutMs: cfg.OUTBOUNDBOT_CONNECT_TIMEOUT_MS,
    });
    cachedClient = { credentials, client };
    return client;
  };
}

const sameCredentials = (a: Credentials, b: Credentials): boolean =>
  a.accessKeyId === b.accessKeyId && a.accessKeySecret === b.accessKeySecret && a.securityToken === b.securityToken;

// The callback sender (DNS, TLS, the address policy) loads on first use: most deployments never call back.
let callbackModule: Promise<typeof import('../webhooks/callback')> | undefined;

async function sendResultCallback(cfg: BaseConfig, url: string, payload: unknown, deadlineMs: number, options: InstanceStateOptions): Promise<CallbackReport> {
  const { sendCallback } = await (callbackModule ??= import('../webhooks/callback'));
  const { clock, lookup } = options;
  return sendCallback(
    {
      url,
      secret: cfg.CALLBACK_SECRET,
      allowedHosts: cfg.CALLBACK_ALLOWED_HOSTS,
      timeoutMs: cfg.CALLBACK_TIMEOUT_MS,
      maxAttempts: cfg.RETRY_MAX_ATTEMPTS,
      baseDelayMs: cfg.RETRY_BASE_DELAY_MS,
      maxDelayMs: cfg.RETRY_MAX_DELAY_MS,
    },
    payload,
    deadlineMs,
    { nowMs: clock.nowMs, sleep: clock.sleep, random: clock.random, lookup },
  );
}
