/**
 * The CLI's `run()` end to end: @alicloud/fc2 over real loopback HTTP to the stack that
 * `npm start` runs, covering what a user sees (stdout JSON, one-line stderr, exit code).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { EXIT_SUCCESS, EXIT_USAGE, EXIT_WITHDRAWAL_FAILED, run } from '../../local/cli';
import type { LocalFunction } from '../../local/fc-frontend';
import { LOCAL_ACCOUNT_ID, LOCAL_FC_KEY } from '../../local/local-keys';
import type { LocalStack } from '../../local/local-stack';
import { freePort } from '../../local/redis-server';
import { buildScript, scriptUnderReview, startTestStack } from '../support/local-stack';
import { script } from '../support/stack';
import { startCallbackReceiver } from '../support/callback-receiver';
import { Webhook } from 'standardwebhooks';
import { shell } from './shell';

let stack: LocalStack & { emulator: OutboundBotEmulator };
/** What `npm start` would have in PORT: the CLI's default target. */
let localEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  stack = await startTestStack(() => {});
  localEnv = { PORT: String(stack.frontend.port) };
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  json: () => Record<string, unknown>;
}

/** Runs the CLI and checks what must hold for every run: no stack trace, at most one error line. */
async function cli(args: string[], env: NodeJS.ProcessEnv = localEnv): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, env, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> };
}

/** The deployed-function form of the command, pointed at the local front end. */
function deployedArgs(...args: string[]): string[] {
  return [...args, '--region', 'cn-shanghai', '--account-id', LOCAL_ACCOUNT_ID, '--endpoint', stack.frontend.url];
}

function credentialsEnv(accessKeyId: string, accessKeySecret: string): NodeJS.ProcessEnv {
  return { ALIBABA_CLOUD_ACCESS_KEY_ID: accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: accessKeySecret };
}

/** A stand-in function that keeps every event it gets and succeeds. */
function recorder(events: string[]): LocalFunction {
  return {
    timeoutSeconds: 5,
    handler: async (event) => {
      events.push(event.toString('utf8'));
      return { Success: true };
    },
  };
}

describe('withdrawing', () => {
  it('sync: prints the result as indented JSON and exits 0', async () => {
    const item = scriptUnderReview(stack.emulator);
    const out = await cli([item.InstanceId, item.ScriptId]);
    expect(out.code).toBe(EXIT_SUCCESS);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/^\{\n {2}"InstanceId"/);
    expect(out.json()).toMatchObject({ ...item, Success: true, Code: 'OK', Script: { Status: 'DRAFTED' } });
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
  });

  it('--async: exits 0 once queued, and the withdrawal lands', async () => {
    const item = scriptUnderReview(stack.emulator);
    const out = await cli([item.InstanceId, item.ScriptId, '--async']);
    expect(out.code).toBe(EXIT_SUCCESS);
    expect(out.json()).toMatchObject({ Accepted: true, InvocationType: 'Async', RequestId: expect.any(String) });
    await stack.frontend.drain();
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
  });

  it('invokes the named function on the FC 3.0 invoke path with the item as the event', async () => {
    const events: string[] = [];
    stack.functions.set('probe', recorder(events));
    const out = await cli(['instance-1', 'script-1', '--function', 'probe']);
    expect(out.code).toBe(EXIT_SUCCESS);
    expect(events).toEqual(['{"InstanceId":"instance-1","ScriptId":"script-1"}']);
  });

  it('--function picks the function (its short local name here)', async () => {
    const item = scriptUnderReview(stack.emulator);
    const out = await cli([item.InstanceId, item.ScriptId, '--function', 'withdraw']);
    expect(out.code).toBe(EXIT_SUCCESS);
  });

  it('--endpoint points the local key at a server on another port, whatever PORT says', async () => {
    const item = scriptUnderReview(stack.emulator);
    const out = await cli([item.InstanceId, item.ScriptId, '--endpoint', `${stack.frontend.url}/`], { PORT: '1' });
    expect(out.code).toBe(EXIT_SUCCESS);
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
  });

  it('a withdrawal the API refuses: the result on stdout, a summary on stderr, exit 1', async () => {
    const item = scriptUnderReview(stack.emulator, 'PUBLISHED');
    const out = await cli([item.InstanceId, item.ScriptId]);
    expect(out.code).toBe(EXIT_WITHDRAWAL_FAILED);
    expect(out.json()).toMatchObject({ Success: false, Code: 'OperationDenied.ScriptNotUnderReview', HttpStatusCode: 400 });
    expect(out.stderr).toMatch(/^withdraw-script-review: withdrawal failed: OperationDenied\.ScriptNotUnderReview \(HTTP 400\)/);
  });

  it('--callback-url reaches the function (which refuses a host not in CALLBACK_ALLOWED_HOSTS): exit 1', async () => {
    const item = scriptUnderReview(stack.emulator);
    const out = await cli([item.InstanceId, item.ScriptId, '--callback-url', 'https://hooks.example.com/withdrawn']);
    expect(out.code).toBe(EXIT_WITHDRAWAL_FAILED);
    expect(out.json()).toMatchObject({ Code: 'InvalidParameter', Issues: [{ Path: 'CallbackUrl' }] });
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(0);
  });

  it('a function that throws (FC: 200 + x-fc-error-type): exit 1 with the error on stderr', async () => {
    stack.functions.set('explodes', {
      timeoutSeconds: 5,
      handler: async () => {
        throw new Error('upstream still failing after 3 attempts');
      },
    });
    const out = await cli(['instance-1', 'script-1', '--function', 'explodes']);
    expect(out.code).toBe(EXIT_WITHDRAWAL_FAILED);
    expect(out.json()).toMatchObject({ errorMessage: 'upstream still failing after 3 attempts' });
    expect(out.stderr).toMatch(/the function failed \(UnhandledInvocationError\): upstream still failing after 3 attempts; request id /);
  });

  it('the deployed form (--region/--account-id) signs with the ALIBABA_CLOUD_* credentials', async () => {
    const item = scriptUnderReview(stack.emulator);
    const out = await cli(deployedArgs(item.InstanceId, item.ScriptId), credentialsEnv(LOCAL_FC_KEY.accessKeyId, LOCAL_FC_KEY.accessKeySecret));
    expect(out.code).toBe(EXIT_SUCCESS);
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
  });
});

describe('errors: exit 2, one clear line, nothing withdrawn', () => {
  it('an unknown function', async () => {
    const out = await cli(['instance-1', 'script-1', '--function', 'no-such-function']);
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^withdraw-script-review: no function named 'no-such-function' at http:\/\/127\.0\.0\.1:\d+ \(HTTP 404 FunctionNotFound; request id [\w-]+\)/);
  });

  it('a key the server does not know: refused, and the secret is not printed', async () => {
    const item = scriptUnderReview(stack.emulator);
    const secret = 'wrong-secret-must-not-be-printed';
    const out = await cli(deployedArgs(item.InstanceId, item.ScriptId), credentialsEnv('LTAI5tNotTheLocalKey', secret));
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stderr).toMatch(/the call was refused \(HTTP 403: signature or credentials\): check ALIBABA_CLOUD_ACCESS_KEY_ID/);
    expect(out.stdout + out.stderr).not.toContain(secret);
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(0);
  });

  it('the right key id with the wrong secret: refused', async () => {
    const item = scriptUnderReview(stack.emulator);
    const out = await cli(deployedArgs(item.InstanceId, item.ScriptId), credentialsEnv(LOCAL_FC_KEY.accessKeyId, 'not-the-secret'));
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stderr).toMatch(/refused/);
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(0);
  });

  it('--region/--account-id without credentials names the variables to set', async () => {
    const out = await cli(deployedArgs('instance-1', 'script-1'), {});
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stderr).toMatch(/missing credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
  });

  it('an STS key without its token names ALIBABA_CLOUD_SECURITY_TOKEN', async () => {
    const out = await cli(deployedArgs('instance-1', 'script-1'), credentialsEnv('STS.NSomething', 'sts-secret'));
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stderr).toMatch(/ALIBABA_CLOUD_SECURITY_TOKEN/);
    expect(out.stderr).not.toContain('sts-secret');
  });

  it('--region without --account-id', async () => {
    const out = await cli(['instance-1', 'script-1', '--region', 'cn-shanghai'], credentialsEnv('LTAI5tX', 'y'));
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stderr).toMatch(/--region and --account-id go together/);
  });

  it('nothing listening: connection refused, with a hint to run npm start', async () => {
    const closedPort = await freePort();
    const out = await cli(['instance-1', 'script-1'], { PORT: String(closedPort) });
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stderr).toBe(`withdraw-script-review: cannot reach http://127.0.0.1:${closedPort}: connection refused; is \`npm start\` running?\n`);
  });

  it.each([
    [['bad id!', 'script-1'], /invalid InstanceId: must be 1-64 characters/],
    [['instance-1', '-starts-with-dash'], /unknown option -s; see --help/],
    [['instance-1', 'x'.repeat(65)], /invalid ScriptId/],
    [['instance-1'], /expected <InstanceId> <ScriptId>, got 1 argument/],
    [['instance-1', 'script-1', 'extra'], /got 3 argument/],
    [['instance-1', 'script-1', '--bogus'], /unknown option --bogus; see --help/],
    [['instance-1', 'script-1', '--function'], /--function needs a value/],
    [['instance-1', 'script-1', '--function', 'bad/name'], /--function "bad\/name" is not a Function Compute function name/],
    [['instance-1', 'script-1', '--endpoint', 'ftp://example.com'], /--endpoint must be an http\(s\) origin/],
    [['instance-1', 'script-1', '--endpoint', 'http://127.0.0.1:9000/2023-03-30'], /--endpoint must be an http\(s\) origin/],
    [['instance-1', 'script-1', '--callback-url', 'not a url'], /--callback-url must be an absolute http\(s\) URL/],
    [['instance-1', 'script-1', '--region', 'cn-shanghai.evil.com', '--account-id', '1'], /--region "cn-shanghai\.evil\.com" is not a region id/],
    [['instance-1', 'script-1', '--region', 'cn-shanghai', '--account-id', '1.evil'], /--account-id must be the numeric/],
  ])('bad arguments %j', async (args, message) => {
    const requestsBefore = stack.emulator.requests.length;
    const out = await cli(args, { ...localEnv, ...credentialsEnv('LTAI5tX', 'y') });
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^withdraw-script-review: /);
    expect(out.stderr).toMatch(message);
    expect(stack.emulator.requests.length).toBe(requestsBefore);
  });

  it('a PORT that is not a port', async () => {
    const out = await cli(['instance-1', 'script-1'], { PORT: 'abc' });
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stderr).toMatch(/PORT must be the port `npm start` listens on/);
  });
});

/** An instance with stale reviews (3 days old), a fresh one and one in another state. */
function staleInstance() {
  const instanceId = randomUUID();
  const old = Date.now() - 3 * 24 * 3_600_000;
  stack.emulator.addInstance(instanceId, [script('stale-1', 'EXAMINE_IN_PROGRESS', old), script('stale-2', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', old), script('fresh-1'), script('draft-1', 'DRAFTED', old)]);
  return instanceId;
}

describe('what the CLI prints arrives whole', () => {
  it('a dry-run answer of ~150 KB piped through a real pipe parses, every candidate in it (it was cut at 64 KiB)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wsr-cli-'));
    try {
      await (await buildScript()).buildTools(dir);
      const instanceId = randomUUID();
      const old = Date.now() - 3 * 24 * 3_600_000;
      stack.emulator.addInstance(instanceId, Array.from({ length: 1_000 }, (_, i) => script(`stale-${String(i).padStart(4, '0')}-${randomUUID()}`, 'EXAMINE_IN_PROGRESS', old)));
      const piped = await shell(`node ${JSON.stringify(path.join(dir, 'cli.js'))} --cleanup ${instanceId} --older-than-minutes 1440 --dry-run | cat`, localEnv, 60_000);
      expect(piped.stdout.length).toBeGreaterThan(128 * 1024);
      expect((JSON.parse(piped.stdout) as { Candidates: unknown[] }).Candidates).toHaveLength(1_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('--cleanup: one run of the cleanup function', () => {
  it('--dry-run lists the stale reviews, withdraws nothing, exits 0', async () => {
    const instanceId = staleInstance();
    const out = await cli(['--cleanup', instanceId, '--older-than-minutes', '1440', '--dry-run']);
    expect(out.code, out.stderr).toBe(EXIT_SUCCESS);
    const summary = out.json();
    expect(summary).toMatchObject({ InstanceId: instanceId, Success: true, DryRun: true, Selected: 2, Withdrawn: 0 });
    expect((summary.Candidates as Array<{ ScriptId: string }>).map((c) => c.ScriptId).sort()).toEqual(['stale-1', 'stale-2']);
    expect(stack.emulator.withdrawals(instanceId, 'stale-1')).toBe(0);
  });

  it('withdraws exactly the stale reviews, capped by --max-withdrawals, and exits 0', async () => {
    const instanceId = staleInstance();
    const out = await cli(['--cleanup', instanceId, '--older-than-minutes', '1440', '--max-withdrawals', '1']);
    expect(out.code, out.stderr).toBe(EXIT_SUCCESS);
    expect(out.json()).toMatchObject({ Success: true, DryRun: false, Eligible: 2, Selected: 1, Withdrawn: 1 });
    const again = await cli(['--cleanup', instanceId, '--older-than-minutes', '1440']);
    expect(again.json()).toMatchObject({ Success: true, Selected: 1, Withdrawn: 1 });
    for (const id of ['stale-1', 'stale-2']) expect(stack.emulator.withdrawals(instanceId, id)).toBe(1);
    for (const id of ['fresh-1', 'draft-1']) expect(stack.emulator.withdrawals(instanceId, id)).toBe(0);
  });

  it('sends the timer payload the cleanup function reads, to the cleanup function', async () => {
    const events: string[] = [];
    stack.functions.set('withdraw-script-review-cleanup', recorder(events));
    try {
      expect((await cli(['--cleanup', 'instance-1', '--older-than-minutes', '60'])).code).toBe(EXIT_SUCCESS);
      expect((await cli(['--cleanup', 'instance-1', '--older-than-minutes', '60', '--dry-run', '--max-withdrawals', '5'])).code).toBe(EXIT_SUCCESS);
    } finally {
      stack.functions.set('withdraw-script-review-cleanup', stack.functions.get('cleanup')!);
    }
    expect(events.map((e) => JSON.parse(e) as unknown)).toEqual([
      { InstanceId: 'instance-1', OlderThanMinutes: 60 },
      { InstanceId: 'instance-1', OlderThanMinutes: 60, DryRun: true, MaxWithdrawals: 5 },
    ]);
  });

  it('an instance OutboundBot does not know: the run fails, exit 1 with its Code on stderr', async () => {
    const out = await cli(['--cleanup', 'no-such-instance', '--older-than-minutes', '60']);
    expect(out.code).toBe(EXIT_WITHDRAWAL_FAILED);
    expect(out.json()).toMatchObject({ Success: false });
    expect(out.stderr).toMatch(/^withdraw-script-review: cleanup failed: \S+/);
  });

  it.each([
    [['--cleanup', 'instance-1'], /--cleanup needs --older-than-minutes N/],
    [['--cleanup', 'instance-1', '--older-than-minutes', 'ten'], /--older-than-minutes must be a whole number, got "ten"/],
    [['--cleanup', 'instance-1', '--older-than-minutes', '0'], /invalid --older-than-minutes: must be at least 1/],
    [['--cleanup', 'instance-1', '--older-than-minutes', '60', '--max-withdrawals', '1.5'], /--max-withdrawals must be a whole number, got "1.5"/],
    [['--cleanup', 'bad id!', '--older-than-minutes', '60'], /invalid --cleanup <InstanceId>: must be 1-64 characters/],
    [['--cleanup', 'instance-1', 'script-1', '--older-than-minutes', '60'], /--cleanup takes the InstanceId as its value and no other arguments/],
    [['--cleanup', 'instance-1', '--older-than-minutes', '60', '--callback-url', 'https://x.example'], /--callback-url does not go with cleanup/],
    [['instance-1', 'script-1', '--dry-run'], /--dry-run does not go with a withdrawal/],
    [['instance-1', 'script-1', '--older-than-minutes', '60'], /--older-than-minutes does not go with a withdrawal/],
  ])('refuses %j with exit 2 before sending anything', async (args, message) => {
    const requestsBefore = stack.emulator.requests.length;
    const out = await cli(args);
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(message);
    expect(stack.emulator.requests.length).toBe(requestsBefore);
  });
});

describe('sign: a signed curl line for the HTTP trigger', () => {
  const secrets = ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'];
  /** What `npm start` would have in PORT, plus the secrets (a function: localEnv is set in beforeAll). */
  const signEnv = () => ({ ...localEnv, WEBHOOK_SECRET: secrets.join(' ') });

  it('prints only the command on stdout; as printed, curl delivers a request that verifies with the first secret', async () => {
    const receiver = await startCallbackReceiver();
    try {
      // A quote in the body: the line must still be one shell word per part.
      const body = JSON.stringify({ InstanceId: 'instance-1', ScriptId: 'script-1', Note: "it's quoted" });
      const out = await cli(['sign', '--url', `${receiver.origin}/hook`, body], signEnv());
      expect(out.code).toBe(EXIT_SUCCESS);
      expect(out.stdout).toMatch(/^curl -sS -w '\\n' -X POST \S+ .*\n$/);
      expect(out.stdout.trim().split('\n')).toHaveLength(1);
      expect(out.stderr).toMatch(/valid for 5 minutes, until \d{4}-/);

      const sent = await shell(out.stdout);
      expect(sent.code).toBe(0);
      const [delivery] = receiver.deliveries;
      expect(delivery?.path).toBe('/hook');
      expect(delivery?.body).toEqual(JSON.parse(body));
      const headers = { 'webhook-id': String(delivery?.headers['webhook-id']), 'webhook-timestamp': String(delivery?.headers['webhook-timestamp']), 'webhook-signature': String(delivery?.headers['webhook-signature']) };
      expect(() => new Webhook(secrets[0]!).verify(body, headers)).not.toThrow();
      expect(() => new Webhook(secrets[1]!).verify(body, headers)).toThrow();
    } finally {
      await receiver.close();
    }
  });

  it('defaults --url to the local server on PORT', async () => {
    const out = await cli(['sign', '{}'], signEnv());
    expect(out.stdout).toMatch(new RegExp(`^curl -sS -w '\\\\n' -X POST http://127\\.0\\.0\\.1:${stack.frontend.port}/ `));
  });

  it.each([
    [['sign', '{}'], {}, /WEBHOOK_SECRET is not set/],
    [['sign', '{}'], { WEBHOOK_SECRET: 'not-a-whsec-secret-value' }, /WEBHOOK_SECRET.*must start with "whsec_"/],
    [['sign', 'InstanceId=1'], undefined, /the body must be JSON/],
    [['sign'], undefined, /sign expects one argument, the JSON body, got 0/],
    [['sign', '{}', '--url', 'ftp://x'], undefined, /--url must be an absolute http\(s\) URL/],
    [['sign', '{}', '--async'], undefined, /--async does not go with sign/],
    [['instance-1', 'script-1', '--url', 'http://x'], undefined, /--url does not go with a withdrawal/],
  ])('refuses %j with exit 2 and never prints a secret', async (args, env, message) => {
    const out = await cli(args, { ...localEnv, ...(env ?? { WEBHOOK_SECRET: secrets[0] }) });
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(message);
    expect(out.stderr).not.toContain('not-a-whsec-secret-value');
    expect(out.stderr).not.toContain(secrets[0]);
  });
});

describe('--help', () => {
  it('prints the usage on stdout and exits 0', async () => {
    const out = await cli(['--help']);
    expect(out.code).toBe(EXIT_SUCCESS);
    expect(out.stdout).toMatch(/^usage: withdraw-script-review <InstanceId> <ScriptId>/);
    expect(out.stdout).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID');
  });

  it('its usage lines are the README\'s, word for word (issue #22.4)', async () => {
    const help = (await cli(['--help'])).stdout.split('\n\n')[0]!.split('\n').map((line) => line.replace(/^(usage:)?\s*withdraw-script-review /, ''));
    const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const block = readme.slice(readme.indexOf('### The command-line client')).split('```')[1]!;
    const documented = block.trim().split('\n').map((line) => line.replace(/^node build\/cli\.js /, '').replace(/\s+#.*$/, ''));
    expect(documented).toEqual(help);
  });

  it('--version prints the package version', async () => {
    const out = await cli(['--version']);
    expect(out.code).toBe(EXIT_SUCCESS);
    expect(out.stdout).toBe(`withdraw-script-review ${(JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string }).version}\n`);
  });
});

describe('usage errors are one line that ends "see --help", exit 2 (issue #22.4)', () => {
  it.each([
    [['--asynk', 'inst', 'script'], 'unknown option --asynk, did you mean --async?; see --help'],
    [['--frobnicate'], 'unknown option --frobnicate; see --help'],
    [['--cleanup', 'inst', '--older-than-minutes', '-5'], '--older-than-minutes needs a value (a whole number or a name, not another option); see --help'],
    [['--async=yes', 'inst', 'script'], '--async takes no value; see --help'],
  ])('%j', async (args, message) => {
    const out = await cli(args);
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stderr).toBe(`withdraw-script-review: ${message}\n`);
  });
});
