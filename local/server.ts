/**
 * `npm start`: the withdraw (and cleanup) functions behind a local Function Compute
 * front end, with an embedded OutboundBot emulator unless real credentials are given.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { seedDemo, startEmulator, type OutboundBotEmulator } from '../emulator/outboundbot';
import { startFrontend, type FcHandler, type LocalFunction } from './fc-frontend';
import type { FcKey } from './fc-signature';

/** The key pair the local front end and its invoke path accept (also the CLI's default). */
export const LOCAL_FC_KEY = { accessKeyId: 'LTAI5tLocalFcInvokeKey', accessKeySecret: 'local-fc-invoke-secret-for-npm-start' };

async function main() {
  const root = path.resolve(__dirname, '..');
  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 9000);
  const realCredentials = Boolean(process.env.ALIBABA_CLOUD_ACCESS_KEY_ID && process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET);

  let emulator: OutboundBotEmulator | undefined;
  let demo: ReturnType<typeof seedDemo> | undefined;
  let role: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  if (realCredentials && !process.env.OUTBOUNDBOT_ENDPOINT) {
    role = {
      accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID!,
      accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET!,
      securityToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN,
    };
  } else {
    emulator = await startEmulator({ port: Number(process.env.EMULATOR_PORT ?? 0) });
    demo = seedDemo(emulator);
    // The function signs as an FC role would: an STS triple, checked by the emulator like the real gateway.
    role = { accessKeyId: `STS.Local${randomBytes(6).toString('hex')}`, accessKeySecret: randomBytes(18).toString('base64'), securityToken: `CAIS${randomBytes(48).toString('base64')}` };
    emulator.addCredential(role);
    process.env.OUTBOUNDBOT_ENDPOINT = emulator.endpoint;
    process.env.OUTBOUNDBOT_PROTOCOL = 'http';
  }
  if (!process.env.WEBHOOK_SECRET && process.env.ALLOW_UNSIGNED_HTTP === undefined) {
    // Locally, unsigned requests are allowed so the printed curl line works; deployed, they are refused.
    process.env.ALLOW_UNSIGNED_HTTP = 'true';
  }

  const functions = new Map<string, LocalFunction>();
  for (const [name, timeoutSeconds] of [['withdraw', 30], ['cleanup', 600]] as const) {
    const bundle = path.join(root, 'dist', name, 'index.js');
    if (!existsSync(bundle)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(bundle) as { handler: FcHandler };
    const fn = { handler, timeoutSeconds };
    functions.set(name, fn);
    functions.set(`withdraw-script-review-${name}`, fn);
  }
  if (!functions.has('withdraw')) throw new Error('dist/withdraw/index.js is missing: run npm run build');

  const keys = new Map<string, FcKey>([[LOCAL_FC_KEY.accessKeyId, { accessKeySecret: LOCAL_FC_KEY.accessKeySecret }]]);
  const frontend = await startFrontend({
    host,
    port,
    functions,
    httpFunction: 'withdraw',
    keys,
    roleCredentials: () => ({ ...role }),
    asyncRetries: 2,
    asyncRetryDelayMs: 1_000,
    log: (line) => process.stdout.write(`${line}\n`),
  });

  const out = (line: string) => process.stderr.write(`${line}\n`);
  out(`withdraw-script-review local Function Compute on ${frontend.url}`);
  out(emulator ? `  OutboundBot emulator on http://${emulator.endpoint} (demo instance ${demo!.instanceId})` : `  OutboundBot: ${process.env.OUTBOUNDBOT_ENDPOINT ?? 'outboundbot.cn-shanghai.aliyuncs.com'} with your credentials`);
  out(`  functions: ${[...functions.keys()].filter((n) => !n.includes('-')).join(', ')}; invoke path ${frontend.url}/2023-03-30/functions/{name}/invocations (key ${LOCAL_FC_KEY.accessKeyId})`);
  if (demo) {
    const script = demo.scripts.find((s) => s.Status === 'EXAMINE_IN_PROGRESS')!;
    out('Try it (withdraws a demo script that is under review):');
    out(
      `  curl -s -X POST ${frontend.url}/ -H 'content-type: application/json' -d '${JSON.stringify({ InstanceId: demo.instanceId, ScriptId: script.ScriptId })}'`,
    );
  }
  out('Ctrl-C to stop.');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    out('stopping…');
    await frontend.close();
    await emulator?.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
  process.stderr.write(`npm start failed: ${error.message}\n`);
  process.exit(1);
});
