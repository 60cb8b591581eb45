/**
 * `npm start`: the withdraw (and cleanup) functions behind a local Function Compute
 * front end, with an embedded OutboundBot emulator unless real credentials are given.
 * The wiring is in local-stack.ts (shared with the tests); this file reads the
 * environment, prints how to use the server, and stops it cleanly on Ctrl-C.
 */
import path from 'node:path';
import { LOCAL_DEFAULT_PORT, LOCAL_FC_KEY } from './local-keys';
import { startLocal, type LocalStack } from './local-stack';

async function main() {
  const env = process.env;
  const realCredentials = Boolean(env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET);
  const stack = await startLocal({
    root: path.resolve(__dirname, '..'),
    host: env.HOST ?? '127.0.0.1',
    // PORT=0 picks a free port; the lines below print the real one.
    port: Number(env.PORT ?? LOCAL_DEFAULT_PORT),
    upstream:
      realCredentials && !env.OUTBOUNDBOT_ENDPOINT
        ? { kind: 'cloud', credentials: { accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID, accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET, securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN } }
        : { kind: 'emulator', port: Number(env.EMULATOR_PORT ?? 0) },
    asyncRetries: 2,
    asyncRetryDelayMs: 1_000,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  for (const line of banner(stack)) process.stderr.write(`${line}\n`);
  stopOnSignals(stack);
}

/** What to try first: the curl line must work exactly as printed (test/local-server.test.ts runs it). */
function banner({ frontend, functions, emulator, demo }: LocalStack): string[] {
  const lines = [
    `withdraw-script-review local Function Compute on ${frontend.url}`,
    emulator && demo
      ? `  OutboundBot emulator on http://${emulator.endpoint} (demo instance ${demo.instanceId})`
      : `  OutboundBot: ${process.env.OUTBOUNDBOT_ENDPOINT ?? 'outboundbot.cn-shanghai.aliyuncs.com'} with your credentials`,
    `  functions: ${[...functions.keys()].filter((n) => !n.includes('-')).join(', ')}; invoke path ${frontend.url}/2023-03-30/functions/{name}/invocations (key ${LOCAL_FC_KEY.accessKeyId})`,
  ];
  // Two different scripts, so that trying both lines withdraws two reviews instead of failing the second.
  const [first, second] = demo?.scripts.filter((s) => s.Status.endsWith('EXAMINE_IN_PROGRESS')) ?? [];
  if (demo && first && second) {
    const item = JSON.stringify({ InstanceId: demo.instanceId, ScriptId: first.ScriptId });
    lines.push('Try it (each line withdraws a demo script that is under review):');
    lines.push(`  curl -s -X POST ${frontend.url}/ -H 'content-type: application/json' -d '${item}'`);
    // The CLI finds a server on the default port by itself; elsewhere it is told where.
    const endpoint = frontend.url === `http://127.0.0.1:${LOCAL_DEFAULT_PORT}` ? '' : ` --endpoint ${frontend.url}`;
    lines.push(`  node build/cli.js ${demo.instanceId} ${second.ScriptId}${endpoint}`);
  }
  lines.push('Ctrl-C to stop.');
  return lines;
}

/** Lets accepted async invocations finish before exiting, so Ctrl-C never cuts a withdrawal in half. */
function stopOnSignals(stack: LocalStack): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping…\n');
    await stack.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
  process.stderr.write(`npm start failed: ${error.message}\n`);
  process.exit(1);
});
