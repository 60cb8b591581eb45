/**
 * The wiring behind `npm start` as a function, so that tests start the very same stack
 * (on port 0) that a developer gets: the bundled functions from `dist/`, the local FC front
 * end, and the OutboundBot emulator standing in for the real API.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { FcCredentials } from '../lib/core/credentials';
import { seedDemo, startEmulator, type DemoSeed, type OutboundBotEmulator } from '../emulator/outboundbot';
import { startFrontend, type FcHandler, type Frontend, type LocalFunction } from './fc-frontend';
import type { FcKey } from './fc-signature';
import { LOCAL_FC_KEY } from './local-keys';

export interface LocalStackOptions {
  /** The checkout; bundles are loaded from `<root>/dist/<name>/index.js`. */
  root: string;
  host: string;
  /** 0 picks a free port; read it back from {@link LocalStack.frontend}. */
  port: number;
  /**
   * `emulator`: an embedded OutboundBot emulator seeded with demo scripts (port 0 = any).
   * `cloud`: the real API (or whatever OUTBOUNDBOT_ENDPOINT names), signed with these credentials.
   */
  upstream: { kind: 'emulator'; port: number } | { kind: 'cloud'; credentials: FcCredentials };
  /** FC's `maxAsyncRetryAttempts` and the first back-off; tests shorten the delay. */
  asyncRetries: number;
  asyncRetryDelayMs: number;
  /** The front end's own log lines (async retries); the functions log to stdout themselves. */
  log: (line: string) => void;
}

export interface LocalStack {
  frontend: Frontend;
  /**
   * Name → function, as the front end resolves the invoke path. Mutable on purpose: tests
   * register stand-in handlers next to the real ones.
   */
  functions: Map<string, LocalFunction>;
  /** Present when `upstream.kind` is `emulator`. */
  emulator?: OutboundBotEmulator;
  demo?: DemoSeed;
  /** Waits for accepted async invocations, then stops the front end and the emulator. */
  close(): Promise<void>;
}

/** The functions s.yaml deploys; each also answers to its deployed name, and keeps its timeout and async retries. */
const DEPLOYED_FUNCTIONS = ['withdraw', 'cleanup'] as const;
const DEPLOYED_PREFIX = 'withdraw-script-review-';

/**
 * Starts the stack. The bundles read their configuration from `process.env`, as in FC, so
 * this sets OUTBOUNDBOT_ENDPOINT/PROTOCOL (emulator) and ALLOW_UNSIGNED_HTTP (when no
 * WEBHOOK_SECRET is set) there before the first invocation: one stack per process.
 */
export async function startLocal(options: LocalStackOptions): Promise<LocalStack> {
  const upstream = options.upstream.kind === 'emulator' ? await startEmulatorUpstream(options.upstream.port) : undefined;
  const role = upstream?.role ?? (options.upstream.kind === 'cloud' ? options.upstream.credentials : {});
  try {
    allowUnsignedHttpLocally();
    const functions = loadFunctions(options.root);
    const keys = new Map<string, FcKey>([[LOCAL_FC_KEY.accessKeyId, { accessKeySecret: LOCAL_FC_KEY.accessKeySecret }]]);
    // The cleanup's fan-out invokes the withdraw function with the role's own key, as in FC.
    if (upstream) keys.set(upstream.role.accessKeyId, { accessKeySecret: upstream.role.accessKeySecret, securityToken: upstream.role.securityToken });
    const frontend = await startFrontend({
      host: options.host,
      port: options.port,
      functions,
      httpFunction: 'withdraw',
      keys,
      roleCredentials: () => ({ ...role }),
      asyncRetries: options.asyncRetries,
      asyncRetryDelayMs: options.asyncRetryDelayMs,
      log: options.log,
    });
    if (upstream) process.env.FC_ENDPOINT ??= frontend.url;
    return {
      frontend,
      functions,
      emulator: upstream?.emulator,
      demo: upstream?.demo,
      close: async () => {
        await frontend.close();
        await upstream?.emulator.close();
      },
    };
  } catch (error) {
    await upstream?.emulator.close();
    throw error;
  }
}

/**
 * The function signs as an FC role would, with a fresh STS triple that the emulator checks
 * like the real gateway: a function that ignored the token would fail here too.
 */
async function startEmulatorUpstream(port: number) {
  const emulator = await startEmulator({ port });
  const demo = seedDemo(emulator);
  const role = {
    accessKeyId: `STS.Local${randomBytes(6).toString('hex')}`,
    accessKeySecret: randomBytes(18).toString('base64'),
    securityToken: `CAIS${randomBytes(48).toString('base64')}`,
  };
  emulator.addCredential(role);
  process.env.OUTBOUNDBOT_ENDPOINT = emulator.endpoint;
  process.env.OUTBOUNDBOT_PROTOCOL = 'http';
  return { emulator, demo, role };
}

/** Locally, unsigned requests are allowed so the printed curl line works; deployed, they are refused. */
function allowUnsignedHttpLocally(): void {
  if (!process.env.WEBHOOK_SECRET && process.env.ALLOW_UNSIGNED_HTTP === undefined) process.env.ALLOW_UNSIGNED_HTTP = 'true';
}

/** Loads what `npm run build` produced, so the local run exercises the deployable bundles. */
function loadFunctions(root: string): Map<string, LocalFunction> {
  const load = createRequire(path.join(root, 'package.json'));
  const deployed = deployedSettings(root);
  const functions = new Map<string, LocalFunction>();
  for (const name of DEPLOYED_FUNCTIONS) {
    const bundle = path.join(root, 'dist', name, 'index.js');
    if (!existsSync(bundle)) continue;
    const { handler } = load(bundle) as { handler: FcHandler };
    const fn = { handler, ...deployed[name] };
    functions.set(name, fn);
    functions.set(`${DEPLOYED_PREFIX}${name}`, fn);
  }
  if (!functions.has('withdraw')) throw new Error('dist/withdraw/index.js is missing: run npm run build');
  return functions;
}

/** What s.yaml gives each function that the local FC must honour: its timeout and its async retries. */
export function deployedSettings(root: string): Record<(typeof DEPLOYED_FUNCTIONS)[number], { timeoutSeconds: number; asyncRetries: number }> {
  const doc = parseYaml(readFileSync(path.join(root, 's.yaml'), 'utf8')) as { resources: Record<string, { props: { timeout: number; asyncInvokeConfig?: { maxAsyncRetryAttempts?: number } } }> };
  const of = (name: string) => {
    const props = doc.resources[name]!.props;
    return { timeoutSeconds: props.timeout, asyncRetries: props.asyncInvokeConfig?.maxAsyncRetryAttempts ?? 2 };
  };
  return { withdraw: of('withdraw'), cleanup: of('cleanup') };
}
