import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import type { WithdrawalItem } from '../../lib/withdraw/withdraw-item';
import { startLocal, type LocalStack } from '../../local/local-stack';
import { script } from './stack';

export const ROOT = path.resolve(__dirname, '../..');

/** Settings a developer's shell may carry that would change what the local stack does. */
const AMBIENT_SETTINGS = [
  'WEBHOOK_SECRET',
  'ALLOW_UNSIGNED_HTTP',
  'CALLBACK_URL',
  'CALLBACK_SECRET',
  'CALLBACK_ALLOWED_HOSTS',
  'OUTBOUNDBOT_ENDPOINT',
  'OUTBOUNDBOT_PROTOCOL',
  'ALIBABA_CLOUD_ACCESS_KEY_ID',
  'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  'ALIBABA_CLOUD_SECURITY_TOKEN',
];

interface BuildScript {
  buildFunctions(): Promise<unknown>;
  buildTools(outdir?: string): Promise<void>;
}

/** scripts/build.mjs, so the tests run the bundles that would be deployed, built from the current sources. */
export async function buildScript(): Promise<BuildScript> {
  return (await import(pathToFileURL(path.join(ROOT, 'scripts/build.mjs')).href)) as BuildScript;
}

/**
 * What `npm start` runs, on port 0 against its embedded emulator, with short async retry
 * delays. The bundle reads process.env, so ambient settings are cleared first.
 */
export async function startTestStack(log: (line: string) => void): Promise<LocalStack & { emulator: OutboundBotEmulator }> {
  await (await buildScript()).buildFunctions();
  for (const name of AMBIENT_SETTINGS) delete process.env[name];
  const stack = await startLocal({
    root: ROOT,
    host: '127.0.0.1',
    port: 0,
    upstream: { kind: 'emulator', port: 0 },
    mnsPort: 0,
    asyncRetries: 2,
    asyncRetryDelayMs: 10,
    log,
  });
  if (!stack.emulator) throw new Error('the local stack started without its emulator');
  return { ...stack, emulator: stack.emulator };
}

/** A script under review in an instance of its own, so tests do not depend on each other's withdrawals. */
export function scriptUnderReview(emulator: OutboundBotEmulator, Status = 'EXAMINE_IN_PROGRESS'): WithdrawalItem {
  const item = { InstanceId: randomUUID(), ScriptId: randomUUID() };
  emulator.addInstance(item.InstanceId, [script(item.ScriptId, Status)]);
  return item;
}
