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
import { startMnsEmulator, type MnsEmulator } from '../emulator/mns';
import { seedDemo, startEmulator, type DemoSeed, type OutboundBotEmulator } from '../emulator/outboundbot';
import type { DestinationRecord } from './fc-destination';
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
  /** The MNS endpoint holding the functions' failure queue (port 0 = any). */
  mnsPort: number;
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
  /** The MNS endpoint that holds s.yaml's failure queue, where async invocations whose retries are spent are parked. */
  mns: MnsEmulator;
  /** Waits for accepted async invocations, then stops the front end and the emulators. */
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
  let mns: MnsEmulator | undefined;
  try {
    allowUnsignedHttpLocally();
    const deployed = deployedSettings(options.root);
    mns = await startFailureQueues(options.host, options.mnsPort, deployed);
    const functions = loadFunctions(options.root, deployed, mns);
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
    const queues = mns;
    return {
      frontend,
      functions,
      emulator: upstream?.emulator,
      demo: upstream?.demo,
      mns: queues,
      close: async () => {
        await frontend.close();
        await queues.close();
        await upstream?.emulator.close();
      },
    };
  } catch (error) {
    await mns?.close();
    await upstream?.emulator.close();
    throw error;
  }
}

/** The failure queues s.yaml names, on a local MNS endpoint that accepts the local key pair (as the deployed queue accepts an operator's key). */
function startFailureQueues(host: string, port: number, deployed: DeployedSettings): Promise<MnsEmulator> {
  const names = new Set(Object.values(deployed).flatMap(({ failureQueue }) => (failureQueue === undefined ? [] : [failureQueue])));
  return startMnsEmulator({ host, port, credentials: [LOCAL_FC_KEY], queues: [...names].map((name) => ({ name })) });
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
function loadFunctions(root: string, deployed: DeployedSettings, mns: MnsEmulator): Map<string, LocalFunction> {
  const load = createRequire(path.join(root, 'package.json'));
  const functions = new Map<string, LocalFunction>();
  for (const name of DEPLOYED_FUNCTIONS) {
    const bundle = path.join(root, 'dist', name, 'index.js');
    if (!existsSync(bundle)) continue;
    const { handler } = load(bundle) as { handler: FcHandler };
    const { failureQueue, ...settings } = deployed[name];
    const fn: LocalFunction = { handler, ...settings };
    if (failureQueue !== undefined) fn.onFailure = async (record) => parkIn(mns, failureQueue, record);
    functions.set(name, fn);
    functions.set(`${DEPLOYED_PREFIX}${name}`, fn);
  }
  if (!functions.has('withdraw')) throw new Error('dist/withdraw/index.js is missing: run npm run build');
  return functions;
}

/** FC's destination message, sent to the queue as JSON text (what a SendMessage of it would leave there). */
function parkIn(mns: MnsEmulator, queueName: string, record: DestinationRecord): string {
  const { MessageId } = mns.queue(queueName)!.send(JSON.stringify(record));
  return `MNS queue ${queueName}, message ${MessageId}`;
}

interface FunctionSettings {
  timeoutSeconds: number;
  asyncRetries: number;
  /** The queue of asyncInvokeConfig.destinationConfig.onFailure, when it is an MNS queue. */
  failureQueue?: string;
}

type DeployedSettings = Record<(typeof DEPLOYED_FUNCTIONS)[number], FunctionSettings>;

interface YamlFunction {
  props: { timeout: number; asyncInvokeConfig?: { maxAsyncRetryAttempts?: number; destinationConfig?: { onFailure?: { destination?: string } } } };
}

/** What s.yaml gives each function that the local FC must honour: its timeout, its async retries and where failures go. */
export function deployedSettings(root: string): DeployedSettings {
  const doc = parseYaml(readFileSync(path.join(root, 's.yaml'), 'utf8')) as { vars: Record<string, unknown>; resources: Record<string, YamlFunction> };
  // `${vars.name}` is the only variable a queue's name may hold and still be known here.
  const resolved = (text: string) => text.replace(/\$\{vars\.(\w+)\}/g, (_, name: string) => String(doc.vars[name]));
  const of = (name: string): FunctionSettings => {
    const config = doc.resources[name]!.props.asyncInvokeConfig;
    const settings: FunctionSettings = { timeoutSeconds: doc.resources[name]!.props.timeout, asyncRetries: config?.maxAsyncRetryAttempts ?? 2 };
    const queue = /:\/queues\/([^/]+)\/messages$/.exec(resolved(config?.destinationConfig?.onFailure?.destination ?? ''))?.[1];
    if (queue !== undefined) settings.failureQueue = queue;
    return settings;
  };
  return { withdraw: of('withdraw'), cleanup: of('cleanup') };
}
