// The fan-out end to end, for the tests: the built cleanup bundle async-invokes the built withdraw
// bundle through the local FC front end (which checks the signature @alicloud/fc2 makes, and
// refuses a reused x-fc-async-task-id with 409 as FC does), which withdraws against the emulator.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EmulatorScript, OutboundBotEmulator } from '../../emulator/outboundbot';
import { startFrontend, type FcHandler, type Frontend } from '../../local/fc-frontend';
import type { FcKey } from '../../local/fc-signature';
import { startTestEmulator, type RoleCredentials } from './stack';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WITHDRAW_FUNCTION = 'withdraw-script-review-withdraw';
const MINUTE_MS = 60_000;

export interface FanoutStack {
  emulator: OutboundBotEmulator;
  role: RoleCredentials;
  frontend: Frontend;
  /** The cleanup function, one instance of the built bundle. */
  cleanup: FcHandler;
  /** Another instance of the cleanup bundle (a fresh load: nothing in memory shared with `cleanup`). */
  anotherCleanup(): FcHandler;
  metafiles: Record<string, { inputs: Record<string, unknown> }>;
  /** The role's key as the front end knows it; a test swaps the secret to see a refused signature. */
  keys: Map<string, FcKey>;
  /** The withdraw function starts a queued invocation once `gate(event)` settles: a test holds the queue. */
  gate: (event: Buffer) => Promise<void>;
  frontendLog: string[];
  /** The bundles' JSON log lines. */
  stdoutLines: string[];
  staleInstance(reviews: number, others: string[]): { instanceId: string; stale: EmulatorScript[]; all: EmulatorScript[] };
  close(): Promise<void>;
}

/** The functions' variables that the stack sets, and `env` on top; each bundle reads them on its first invocation. */
export async function startFanoutStack(env: Record<string, string> = {}): Promise<FanoutStack> {
  const build = (await import(pathToFileURL(path.join(ROOT, 'scripts/build.mjs')).href)) as { buildFunctions(): Promise<FanoutStack['metafiles']> };
  const metafiles = await build.buildFunctions();
  const { emulator, role } = await startTestEmulator();
  const keys = new Map<string, FcKey>([[role.accessKeyId, { accessKeySecret: role.accessKeySecret, securityToken: role.securityToken }]]);
  const savedEnv = { ...process.env };
  for (const name of Object.keys(process.env)) if (/^(CALLBACK_|WEBHOOK_|ALIBABA_CLOUD_|FC_|CLEANUP_|FANOUT_|IDEMPOTENCY_)/.test(name)) delete process.env[name];
  const load = (name: string): FcHandler => {
    const requireBundle = createRequire(import.meta.url);
    const file = path.join(ROOT, `dist/${name}/index.js`);
    delete requireBundle.cache[file];
    return (requireBundle(file) as { handler: FcHandler }).handler;
  };
  const withdraw = load('withdraw');
  const frontendLog: string[] = [];
  const stack = { gate: async () => {} } as unknown as FanoutStack;
  const frontend = await startFrontend({
    host: '127.0.0.1',
    port: 0,
    functions: new Map([[WITHDRAW_FUNCTION, { handler: async (event, context) => (await stack.gate(event), withdraw(event, context)), timeoutSeconds: 30 }]]),
    httpFunction: WITHDRAW_FUNCTION,
    keys,
    roleCredentials: () => ({ ...role }),
    asyncRetries: 1,
    asyncRetryDelayMs: 10,
    log: (line) => frontendLog.push(line),
  });
  Object.assign(process.env, {
    OUTBOUNDBOT_ENDPOINT: emulator.endpoint,
    OUTBOUNDBOT_PROTOCOL: 'http',
    RETRY_BASE_DELAY_MS: '1',
    RETRY_MAX_DELAY_MS: '5',
    CLEANUP_MODE: 'fanout',
    FANOUT_CHUNK_SIZE: '3',
    WITHDRAW_FUNCTION_NAME: WITHDRAW_FUNCTION,
    FC_ENDPOINT: frontend.url,
    ...env,
  });
  const restoreStdout = captureJsonLines((stack.stdoutLines = []));
  return Object.assign(stack, {
    emulator,
    role,
    frontend,
    cleanup: load('cleanup'),
    anotherCleanup: () => load('cleanup'),
    metafiles,
    keys,
    frontendLog,
    staleInstance: (reviews: number, others: string[]) => staleInstance(emulator, reviews, others),
    close: async () => {
      restoreStdout();
      for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
      Object.assign(process.env, savedEnv);
      await frontend.close();
      await emulator.close();
    },
  });
}

/** `reviews` stale reviews (the last made the oldest), `others` old scripts in other states, and one young review. */
function staleInstance(emulator: OutboundBotEmulator, reviews: number, others: string[]) {
  const aged = (Status: string, ageMinutes: number): EmulatorScript => ({ ScriptId: randomUUID(), ScriptName: Status, Status, UpdateTime: Date.now() - ageMinutes * MINUTE_MS });
  const stale = Array.from({ length: reviews }, (_, i) => aged(i % 2 ? 'PUBLISHED_AND_EXAMINE_IN_PROGRESS' : 'EXAMINE_IN_PROGRESS', 600 + i));
  const all = [...stale, ...others.map((status) => aged(status, 600)), aged('EXAMINE_IN_PROGRESS', 1)];
  const instanceId = randomUUID();
  emulator.addInstance(instanceId, all);
  return { instanceId, stale, all };
}

/** The bundles log JSON lines to stdout: kept in `lines` for assertions, out of the test report. */
function captureJsonLines(lines: string[]): () => void {
  const writeStdout = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = chunk.toString();
    if (!text.startsWith('{')) return (writeStdout as (...args: unknown[]) => boolean)(chunk, ...rest);
    lines.push(...text.split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  return () => void (process.stdout.write = writeStdout);
}

/**
 * A local FC front end whose withdraw function only hands each async invocation's event to
 * `onEvent`: for tests of what the cleanup queues, not of what the withdraw function does.
 */
export function startQueueingFrontend(role: RoleCredentials, onEvent: (event: Buffer) => void = () => {}): Promise<Frontend> {
  return startFrontend({
    host: '127.0.0.1',
    port: 0,
    functions: new Map([[WITHDRAW_FUNCTION, { handler: async (event) => (onEvent(event), {}), timeoutSeconds: 30 }]]),
    httpFunction: WITHDRAW_FUNCTION,
    keys: new Map([[role.accessKeyId, { accessKeySecret: role.accessKeySecret, securityToken: role.securityToken }]]),
    roleCredentials: () => ({ ...role }),
    asyncRetries: 0,
    asyncRetryDelayMs: 10,
    log: () => {},
  });
}

/** A timer trigger's event carrying `payload`, as FC delivers it. */
export const timerEvent = (payload: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ triggerTime: '2026-11-24T19:00:00Z', triggerName: 'nightly', payload: JSON.stringify(payload) }));
