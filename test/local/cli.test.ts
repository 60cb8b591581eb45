/**
 * The CLI's `run()` end to end: @alicloud/fc2 over real loopback HTTP to the stack that
 * `npm start` runs, covering what a user sees (stdout JSON, one-line stderr, exit code).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { EXIT_SUCCESS, EXIT_USAGE, EXIT_WITHDRAWAL_FAILED, run } from '../../local/cli';
import { LOCAL_ACCOUNT_ID, LOCAL_FC_KEY } from '../../local/local-keys';
import type { LocalStack } from '../../local/local-stack';
import { scriptUnderReview, startTestStack } from '../support/local-stack';

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
    stack.functions.set('probe', {
      timeoutSeconds: 5,
      handler: async (event) => {
        events.push(event.toString('utf8'));
        return { Success: true };
      },
    });
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
    [['instance-1', '-starts-with-dash'], /Unknown option|invalid ScriptId/],
    [['instance-1', 'x'.repeat(65)], /invalid ScriptId/],
    [['instance-1'], /expected <InstanceId> <ScriptId>, got 1 argument/],
    [['instance-1', 'script-1', 'extra'], /got 3 argument/],
    [['instance-1', 'script-1', '--bogus'], /Unknown option '--bogus'/],
    [['instance-1', 'script-1', '--function'], /argument missing/],
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

describe('--help', () => {
  it('prints the usage on stdout and exits 0', async () => {
    const out = await cli(['--help']);
    expect(out.code).toBe(EXIT_SUCCESS);
    expect(out.stdout).toMatch(/^usage: withdraw-script-review <InstanceId> <ScriptId>/);
    expect(out.stdout).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID');
  });
});

/** A port on which nothing listens (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
