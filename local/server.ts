/**
 * `npm start`: the withdraw (and cleanup) functions behind a local Function Compute
 * front end, with an embedded OutboundBot emulator unless real credentials are given.
 * The wiring is in local-stack.ts (shared with the tests); this file reads the
 * environment, prints how to use the server, and stops it cleanly on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { DemoSeed } from '../emulator/outboundbot';
import { parseWebhookSecrets } from '../lib/webhooks/verify';
import { defaultReceiverPort, startCallbackReceiver, type CallbackReceiver } from './callback-receiver';
import { defaultEmulatorPort, defaultMnsPort, LOCAL_DEFAULT_PORT, LOCAL_FC_KEY } from './local-keys';
import { startLocal, type LocalStack } from './local-stack';
import { shellQuote, signedCurl, signingSecret, unsignedCurl, validityNote } from './signed-curl';

async function main() {
  const env = process.env;
  const realCredentials = Boolean(env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET);
  // PORT=0 picks a free port; the lines below print the real one.
  const port = Number(env.PORT ?? LOCAL_DEFAULT_PORT);
  const host = env.HOST ?? '127.0.0.1';
  const callbacks = await startReceiver(host, port);
  const stack = await startLocal({
    root: path.resolve(__dirname, '..'),
    host,
    port,
    upstream:
      realCredentials && !env.OUTBOUNDBOT_ENDPOINT
        ? { kind: 'cloud', credentials: { accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID, accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET, securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN } }
        : { kind: 'emulator', port: Number(env.EMULATOR_PORT ?? defaultEmulatorPort(port)) },
    mnsPort: Number(env.MNS_PORT ?? defaultMnsPort(port)),
    asyncRetries: 2,
    asyncRetryDelayMs: 1_000,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  for (const line of banner(stack, callbacks)) process.stderr.write(`${line}\n`);
  stopOnSignals(stack, callbacks.receiver);
}

interface Callbacks {
  receiver: CallbackReceiver;
  /** The receiver is the functions' CALLBACK_URL (the user set none), so every result reaches it. */
  isCallbackUrl: boolean;
}

/**
 * The callback receiver, and the functions' callback settings aimed at it: CALLBACK_SECRET (a
 * fresh one unless set), CALLBACK_URL (unless set) and CALLBACK_ALLOWED_HOSTS (added to). Set
 * before the bundles load, as FC sets a function's variables before it starts.
 */
async function startReceiver(host: string, port: number): Promise<Callbacks> {
  const env = process.env;
  if (!env.CALLBACK_SECRET) env.CALLBACK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
  const secrets = parseWebhookSecrets(env.CALLBACK_SECRET, 'CALLBACK_SECRET');
  const receiver = await startCallbackReceiver({ host, port: defaultReceiverPort(port), secrets, print: (line) => process.stdout.write(`${line}\n`) });
  const isCallbackUrl = !env.CALLBACK_URL;
  if (isCallbackUrl) env.CALLBACK_URL = receiver.url;
  env.CALLBACK_ALLOWED_HOSTS = [env.CALLBACK_ALLOWED_HOSTS, receiver.hostEntry].filter(Boolean).join(',');
  return { receiver, isCallbackUrl };
}

/** What is running and what to try: every command line below works exactly as printed (test/local/npm-start.test.ts runs them). */
function banner(stack: LocalStack, callbacks: Callbacks): string[] {
  const { frontend, functions, emulator, demo } = stack;
  const lines = [
    `withdraw-script-review local Function Compute on ${frontend.url}`,
    emulator && demo
      ? `  OutboundBot emulator on http://${emulator.endpoint} (demo key ${demo.credential.accessKeyId} / ${demo.credential.accessKeySecret})`
      : `  OutboundBot: ${process.env.OUTBOUNDBOT_ENDPOINT ?? 'outboundbot.cn-shanghai.aliyuncs.com'} with your credentials`,
    `  functions: ${[...functions.keys()].filter((n) => !n.includes('-')).join(', ')}; invoke path ${frontend.url}/2023-03-30/functions/{name}/invocations (key ${LOCAL_FC_KEY.accessKeyId})`,
    `  as s.yaml sets them: ${timeoutsText(functions)}`,
    '  locally every request shares one process and one memory store; deployed, FC gives each request an instance of its own, and only IDEMPOTENCY_REDIS_URL makes a duplicate on another instance meet the first',
    callbacks.isCallbackUrl
      ? `  callback receiver on ${callbacks.receiver.url}: the functions' CALLBACK_URL (and in CALLBACK_ALLOWED_HOSTS); it prints each callback it gets on stdout, its signature checked with CALLBACK_SECRET`
      : `  callback receiver on ${callbacks.receiver.url}: in CALLBACK_ALLOWED_HOSTS (CALLBACK_URL is yours: pass this one as --callback-url); it prints each callback it gets on stdout, its signature checked with CALLBACK_SECRET`,
    `  failure queue ${stack.mns.queueNames.join(', ')} on the MNS endpoint ${stack.mns.url} (MNS signatures checked; the invoke key above opens it): FC parks there the async invocations whose retries are spent; \`node build/cli.js redrive\` takes them`,
  ];
  if (demo) lines.push(...demoLines(stack, demo, callbacks));
  if (demo && emulator) lines.push(...failureLoopLines(stack, demo, `http://${emulator.endpoint}`));
  lines.push('Ctrl-C to stop.');
  return lines;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function timeoutsText(functions: LocalStack['functions']): string {
  return [...functions].filter(([name]) => !name.includes('-')).map(([name, fn]) => `${name} ${fn.timeoutSeconds} s, ${plural(fn.asyncRetries ?? 2, 'async retry', 'async retries')}`).join('; ');
}

/** Reviews the demo can withdraw, in the emulator's order. */
function underReview(demo: DemoSeed) {
  return demo.scripts.filter((s) => s.Status.endsWith('EXAMINE_IN_PROGRESS'));
}

/**
 * The demo scripts under review, then one line per way in: the HTTP trigger, the CLI's
 * withdrawal and its cleanup. The two withdrawals take different scripts, so trying both
 * withdraws two reviews instead of failing the second; the cleanup is a dry run, so it
 * works in any order and as often as you like.
 */
function demoLines({ frontend }: LocalStack, demo: DemoSeed, callbacks: Callbacks): string[] {
  const scripts = underReview(demo);
  const [first, second, third] = scripts;
  const lines = [`Demo scripts under review in instance ${demo.instanceId}:`];
  for (const s of scripts) lines.push(`  ${s.ScriptId}  ${s.Status.padEnd(33)}  updated ${ageHours(s.UpdateTime)} h ago  ${s.ScriptName}`);
  if (!first || !second || !third) return lines;
  // The CLI finds a server on the default port by itself; elsewhere it is told where.
  const onDefaultPort = frontend.url === `http://127.0.0.1:${LOCAL_DEFAULT_PORT}`;
  const endpoint = onDefaultPort ? '' : ` --endpoint ${frontend.url}`;
  lines.push('Try it (every line works as printed; the curl, the withdrawal and the send line each withdraw a demo script, the cleanup is a dry run):');
  lines.push(...httpLines(`${frontend.url}/`, JSON.stringify({ InstanceId: demo.instanceId, ScriptId: first.ScriptId }), onDefaultPort));
  lines.push(`  node build/cli.js ${demo.instanceId} ${second.ScriptId}${endpoint}`);
  lines.push(`  node build/cli.js --cleanup ${demo.instanceId} --older-than-minutes 1440 --dry-run${endpoint}`);
  // A trigger's own event (README, "The command-line client", has one per trigger); its result arrives at the receiver.
  const send = callbacks.isCallbackUrl ? `--event eventbridge ${demo.instanceId} ${third.ScriptId}` : `--event async ${demo.instanceId} ${third.ScriptId} --callback-url ${callbacks.receiver.url}`;
  lines.push(`  node build/cli.js send ${send}${endpoint}`);
  return lines;
}

/**
 * The loop of a withdrawal that fails for good, on the demo script no other line uses: the
 * emulator's switch makes its withdrawals fail, the async withdrawal is retried and parked,
 * the redrive leaves it while OutboundBot still fails, and withdraws it once healed.
 */
function failureLoopLines({ frontend, mns, functions }: LocalStack, demo: DemoSeed, emulatorUrl: string): string[] {
  const target = underReview(demo)[4];
  if (!target) return [];
  const onDefaultPort = frontend.url === `http://127.0.0.1:${LOCAL_DEFAULT_PORT}`;
  const endpoint = onDefaultPort ? '' : ` --endpoint ${frontend.url}`;
  const redrive = `  node build/cli.js redrive${onDefaultPort ? '' : ` --endpoint ${frontend.url} --mns-endpoint ${mns.url}`}`;
  const retries = plural(functions.get('withdraw')?.asyncRetries ?? 2, 'retry', 'retries');
  return [
    `When a withdrawal fails for good (in this order; after the second line, wait for "sent to the on-failure destination" here, a few seconds: ${retries}, then parked):`,
    `  curl -sS -w '\\n' -X POST '${emulatorUrl}/_emulator/fail?ScriptId=${target.ScriptId}'`,
    `  node build/cli.js ${demo.instanceId} ${target.ScriptId} --async${endpoint}`,
    `${redrive} --dry-run`,
    redrive,
    `  curl -sS -w '\\n' -X POST '${emulatorUrl}/_emulator/heal?ScriptId=${target.ScriptId}'`,
    redrive,
  ];
}

/**
 * The HTTP trigger's line as the function will accept it: signed when WEBHOOK_SECRET is set
 * (then unsigned requests are refused), plain when unsigned requests are allowed.
 */
function httpLines(url: string, body: string, onDefaultPort: boolean): string[] {
  const secret = signingSecret(process.env.WEBHOOK_SECRET);
  if (secret) {
    const { line, expiresAtMs } = signedCurl(url, body, secret, Date.now());
    return [
      `  ${line}`,
      `  (${validityNote(expiresAtMs)}. For a fresh line, for any body, the line below reads WEBHOOK_SECRET from the shell it runs in: export it there, since \`WEBHOOK_SECRET=… npm start\` sets it for npm start alone:)`,
      `  node build/cli.js sign${onDefaultPort ? '' : ` --url ${url}`} ${shellQuote(body)}`,
    ];
  }
  if (process.env.ALLOW_UNSIGNED_HTTP === 'true') return [`  ${unsignedCurl(url, body)}`];
  return ['  (HTTP requests are refused: ALLOW_UNSIGNED_HTTP is not true and WEBHOOK_SECRET is not set)'];
}

function ageHours(updateTimeMs: number): number {
  return Math.round((Date.now() - updateTimeMs) / 3_600_000);
}

/** Lets accepted async invocations finish before exiting, so Ctrl-C never cuts a withdrawal in half. */
function stopOnSignals(stack: LocalStack, receiver: CallbackReceiver): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping…\n');
    await stack.close();
    await receiver.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
  process.stderr.write(`npm start failed: ${startFailure(error)}\n`);
  process.exit(1);
});

/** A port in use says which and what to do: most often an earlier `npm start` still running. */
function startFailure(error: Error & { code?: string; port?: number }): string {
  if (error.code !== 'EADDRINUSE') return error.message;
  return `port ${error.port ?? '?'} is in use: another npm start (or server) still running? Stop it, or pick free ports with PORT=0 (or PORT=… EMULATOR_PORT=…)`;
}
