/**
 * `send --event` (issue #21, "every trigger locally") against `npm start` as a developer meets
 * it: the built server as a process, the banner's send line and the README's one line per trigger
 * run exactly as printed, each answered by the function on that trigger's path, each result
 * arriving at the callback receiver, which prints it with its signature checked.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_SUCCESS, EXIT_USAGE, EXIT_WITHDRAWAL_FAILED, run } from '../../local/cli';
import { eventBridgeEvent, httpTriggerEvent, mnsTopicEvent, timerEvent } from '../../local/fc-events';
import { referenceEvent, mnsQueueEvent } from '../support/events';
import { buildScript, ROOT } from '../support/local-stack';
import { readUntil, shell } from './shell';

const DEMO_INSTANCE = '38d2e8ed-04e9-4dac-83b5-a8e57642ef13';
const SCRIPT = { http: 'e4e2a770-b97b-465a-80d8-06dca008c503', eventbridge: '5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03', 'mns-topic': '9b1c3f52-6d4e-4a8f-b2c7-1e5d9a0f3c21', async: 'c3d8e1a4-7f2b-4b9c-a5e6-2d4f8b1c7e95' };
const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CALLBACK_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

beforeAll(async () => {
  const build = await buildScript();
  await build.buildFunctions();
  await build.buildTools();
}, 120_000);

/** `node build/server.js` (what `npm start` runs) on free ports, its stdout kept line by line. */
interface Server {
  banner: string;
  port: number;
  /** The banner's `node build/cli.js send …` line, as printed. */
  sendLine: string;
  /** stdout so far: the functions' log lines and the receiver's. */
  stdout: string[];
  /** Waits for a stdout line that matches. */
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<number | null>;
}

async function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, [path.join(ROOT, 'build/server.js')], { cwd: ROOT, env: { PATH: process.env.PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const stdout: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop()!;
    stdout.push(...lines);
  });
  let banner: string;
  try {
    banner = await readUntil(child.stderr, 'Ctrl-C to stop.');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const sendLine = banner.split('\n').map((l) => l.trim()).find((l) => l.startsWith('node build/cli.js send '));
  if (!sendLine) throw new Error(`no send line in the banner:\n${banner}`);
  return {
    banner,
    port: Number(/local Function Compute on http:\/\/127\.0\.0\.1:(\d+)/.exec(banner)![1]),
    sendLine,
    stdout,
    waitFor: async (match, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = stdout.find(match);
        if (found !== undefined) return found;
        if (Date.now() > until) throw new Error(`no such line on the server's stdout:\n${stdout.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return (await exited)[0];
    },
  };
}

/** The README's send lines, one per trigger, between their markers. */
function readmeSendLines(): Record<string, string> {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- send-examples -->\s*```sh\n([\s\S]*?)```\s*<!-- \/send-examples -->/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no <!-- send-examples --> block');
  const lines = block.trim().split('\n');
  return Object.fromEntries(lines.map((line) => [/--event (\S+)/.exec(line)![1]!, line]));
}

const json = (text: string) => JSON.parse(text) as Record<string, any>;

/** The receiver's line for a callback whose body matches, split into its webhook-id, verdict and body. */
async function callbackLine(server: Server, match: (body: Record<string, any>) => boolean) {
  const line = await server.waitFor((l) => l.startsWith('callback received: ') && match(json(l.slice(l.indexOf(': {') + 2))));
  const [, webhookId, verdict, body] = /^callback received: POST \/callbacks webhook-id (\S+), (.*?): (\{.*)$/.exec(line)!;
  return { webhookId, verdict, body: json(body!) };
}

/** The function's own log line for a script: it names the trigger the function took the event for. */
function logLineFor(server: Server, scriptId: string): Promise<Record<string, any>> {
  return server.waitFor((l) => l.startsWith('{') && l.includes(`"ScriptId":"${scriptId}"`) && l.includes('"message":"withdrawal')).then(json);
}

describe('npm start without secrets: every trigger as printed', () => {
  let server: Server;
  let lines: Record<string, string>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startServer({});
    lines = readmeSendLines();
    // What a shell next to `PORT=0 npm start` would say; the README's lines use the default port.
    env = { PORT: String(server.port) };
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('the README has one line per trigger, and the banner prints its receiver and the README\'s eventbridge line', () => {
    expect(Object.keys(lines).sort()).toEqual(['async', 'eventbridge', 'http', 'mns-topic', 'timer']);
    expect(server.banner).toMatch(/callback receiver on http:\/\/127\.0\.0\.1:\d+\/callbacks: the functions' CALLBACK_URL \(and in CALLBACK_ALLOWED_HOSTS\); it prints each callback it gets on stdout, its signature checked with CALLBACK_SECRET/);
    // The one difference: this server is on a free port, so its line names it.
    expect(server.sendLine).toBe(`${lines.eventbridge} --endpoint http://127.0.0.1:${server.port}`);
  });

  it('eventbridge (the banner line): an array of one CloudEvent, answered as a batch; the callback arrives verified', async () => {
    const result = await shell(server.sendLine);
    expect(result.code, result.stderr).toBe(0);
    const answer = json(result.stdout);
    expect(answer).toMatchObject({ Success: true, Results: [{ InstanceId: DEMO_INSTANCE, ScriptId: SCRIPT.eventbridge, Success: true, Code: 'OK', Callback: { Delivered: true, StatusCode: 204 } }] });
    expect((await logLineFor(server, SCRIPT.eventbridge)).trigger).toBe('eventbridge');
    const callback = await callbackLine(server, (b) => b.ScriptId === SCRIPT.eventbridge);
    expect(callback).toMatchObject({ webhookId: answer.Results[0].Callback.WebhookId, verdict: 'signature verified with CALLBACK_SECRET', body: { ScriptId: SCRIPT.eventbridge, Success: true, Code: 'OK' } });
  });

  it('http: an HTTP-trigger event on the invoke path, answered with the HTTP response FC would send', async () => {
    const result = await shell(lines.http!, env);
    expect(result.code, result.stderr).toBe(0);
    const answer = json(result.stdout);
    expect(answer).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' }, isBase64Encoded: false });
    const body = json(answer.body);
    expect(body).toMatchObject({ InstanceId: DEMO_INSTANCE, ScriptId: SCRIPT.http, Success: true, Code: 'OK', Script: { Status: 'DRAFTED' } });
    expect((await logLineFor(server, SCRIPT.http)).trigger).toBe('http');
    const callback = await callbackLine(server, (b) => b.ScriptId === SCRIPT.http);
    expect(callback).toMatchObject({ webhookId: body.Callback.WebhookId, verdict: 'signature verified with CALLBACK_SECRET', body: { Success: true } });
  });

  it('mns-topic: an MNS topic message (JSON format), answered with the result', async () => {
    const result = await shell(lines['mns-topic']!, env);
    expect(result.code, result.stderr).toBe(0);
    const answer = json(result.stdout);
    expect(answer).toMatchObject({ InstanceId: DEMO_INSTANCE, ScriptId: SCRIPT['mns-topic'], Success: true, Code: 'OK' });
    expect((await logLineFor(server, SCRIPT['mns-topic'])).trigger).toBe('mns-topic');
    const callback = await callbackLine(server, (b) => b.ScriptId === SCRIPT['mns-topic']);
    expect(callback).toMatchObject({ webhookId: answer.Callback.WebhookId, verdict: 'signature verified with CALLBACK_SECRET' });
  });

  it('async: accepted at once (x-fc-invocation-type: Async); the result arrives at the receiver only', async () => {
    const result = await shell(lines.async!, env);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result.stdout)).toMatchObject({ Accepted: true, InvocationType: 'Async', RequestId: expect.any(String) });
    const callback = await callbackLine(server, (b) => b.ScriptId === SCRIPT.async);
    expect(callback).toMatchObject({ verdict: 'signature verified with CALLBACK_SECRET', body: { InstanceId: DEMO_INSTANCE, Success: true, Code: 'OK' } });
    const log = await logLineFor(server, SCRIPT.async);
    expect(log).toMatchObject({ trigger: 'invoke', requestId: json(result.stdout).RequestId });
  });

  it('timer: the cleanup function reads its timer event; its summary is called back', async () => {
    const result = await shell(lines.timer!, env);
    expect(result.code, result.stderr).toBe(0);
    const summary = json(result.stdout);
    expect(summary).toMatchObject({ InstanceId: DEMO_INSTANCE, Success: true, DryRun: true, OlderThanMinutes: 1440, Withdrawn: 0 });
    const log = json(await server.waitFor((l) => l.includes('"message":"cleanup finished') && l.includes(`"RequestId":"${summary.RequestId}"`)));
    expect(log.trigger).toBe('timer');
    const callback = await callbackLine(server, (b) => b.RequestId === summary.RequestId);
    expect(callback).toMatchObject({ webhookId: summary.Callback.WebhookId, verdict: 'signature verified with CALLBACK_SECRET', body: { DryRun: true } });
  });

  it('--file: the event in a file, sent as it is (an MNS topic message in STREAM format, from the fc3 template)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wsr-send-'));
    try {
      const file = path.join(dir, 'event.json');
      const event = { ...referenceEvent('fc3-template-mns-stream.json'), body: JSON.stringify({ InstanceId: DEMO_INSTANCE, ScriptId: SCRIPT.http }) };
      writeFileSync(file, JSON.stringify(event));
      const result = await shell(`node build/cli.js send --event mns-topic --file ${file}`, env);
      // The http line withdrew this script: the function answers past every check, on the mns-topic path.
      expect(result.code).toBe(1);
      expect(json(result.stdout)).toMatchObject({ ScriptId: SCRIPT.http, Success: false, Code: 'OperationDenied.ScriptNotUnderReview' });
      expect(result.stderr).toMatch(/^withdraw-script-review: withdrawal failed: OperationDenied\.ScriptNotUnderReview/);
      const refused = json(await server.waitFor((l) => l.startsWith('{') && l.includes(`"ScriptId":"${SCRIPT.http}"`) && l.includes('"trigger":"mns-topic"')));
      expect(refused.Code).toBe('OperationDenied.ScriptNotUnderReview');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every callback the receiver printed verified', () => {
    const received = server.stdout.filter((l) => l.startsWith('callback received: '));
    expect(received.length).toBeGreaterThanOrEqual(5);
    for (const line of received) expect(line).toContain('signature verified with CALLBACK_SECRET');
  });
});

describe('npm start with WEBHOOK_SECRET and CALLBACK_SECRET set', () => {
  let server: Server;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startServer({ WEBHOOK_SECRET, CALLBACK_SECRET });
    env = { PORT: String(server.port) };
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('the http line is signed with WEBHOOK_SECRET from the shell, and refused 401 without it', async () => {
    const line = readmeSendLines().http!;
    const unsigned = await shell(line, env);
    expect(unsigned.code).toBe(EXIT_WITHDRAWAL_FAILED);
    const refusal = json(unsigned.stdout);
    expect(refusal.statusCode).toBe(401);
    expect(json(refusal.body)).toMatchObject({ Success: false, Code: 'InvalidSignature' });
    expect(unsigned.stderr).toMatch(/^withdraw-script-review: withdrawal failed: InvalidSignature \(HTTP 401\)/);

    const signed = await shell(line, { ...env, WEBHOOK_SECRET });
    expect(signed.code, signed.stderr).toBe(0);
    expect(json(json(signed.stdout).body)).toMatchObject({ ScriptId: SCRIPT.http, Success: true, Code: 'OK' });
    // The function signed the callback with the CALLBACK_SECRET given, which the receiver checks.
    expect(await callbackLine(server, (b) => b.ScriptId === SCRIPT.http)).toMatchObject({ verdict: 'signature verified with CALLBACK_SECRET' });
  });

  it('the receiver checks signatures for real: the reference library\'s signature with CALLBACK_SECRET passes, another secret\'s is refused 401', async () => {
    const url = /callback receiver on (\S+):/.exec(server.banner)![1]!;
    const post = async (secret: string, marker: string) => {
      const body = JSON.stringify({ ScriptId: marker });
      const id = `msg_${marker}`;
      const timestamp = new Date();
      const signature = new Webhook(secret).sign(id, timestamp, body);
      const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature } });
      return { status: response.status, printed: await callbackLine(server, (b) => b.ScriptId === marker) };
    };
    expect(await post(CALLBACK_SECRET, 'good')).toMatchObject({ status: 204, printed: { webhookId: 'msg_good', verdict: 'signature verified with CALLBACK_SECRET' } });
    expect(await post(WEBHOOK_SECRET, 'forged')).toMatchObject({ status: 401, printed: { webhookId: 'msg_forged', verdict: 'signature REFUSED (No matching webhook signature)' } });
  });
});

describe('npm start with your own CALLBACK_URL', () => {
  let server: Server;

  beforeAll(async () => {
    server = await startServer({ CALLBACK_URL: 'https://hooks.example.com/withdrawn' });
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('the receiver is only allow-listed, and the banner\'s line names it as --callback-url; as printed, the result arrives there', async () => {
    expect(server.banner).toMatch(/callback receiver on \S+: in CALLBACK_ALLOWED_HOSTS \(CALLBACK_URL is yours: pass this one as --callback-url\)/);
    expect(server.banner).not.toContain('hooks.example.com');
    expect(server.sendLine).toMatch(/^node build\/cli\.js send --event async 38d2\S+ 5f7a\S+ --callback-url http:\/\/127\.0\.0\.1:\d+\/callbacks --endpoint /);
    const result = await shell(server.sendLine);
    expect(result.code, result.stderr).toBe(0);
    expect(await callbackLine(server, (b) => b.ScriptId === SCRIPT.eventbridge)).toMatchObject({ verdict: 'signature verified with CALLBACK_SECRET', body: { Success: true, Code: 'OK' } });
  });
});

describe('the events follow the references', () => {
  const keys = (value: unknown) => Object.keys(value as object).sort();

  it('http: the fields of the fc3 HTTP-trigger template', () => {
    const template = referenceEvent<Record<string, any>>('fc3-template-http.json');
    const event = httpTriggerEvent('{}', WEBHOOK_SECRET, Date.now()) as Record<string, any>;
    expect(keys(event)).toEqual(keys(template));
    expect(keys(event.requestContext)).toEqual(keys(template.requestContext));
    expect(keys(event.requestContext.http)).toEqual(keys(template.requestContext.http));
    // Signed as `sign` signs: the reference library accepts it.
    expect(() => new Webhook(WEBHOOK_SECRET).verify(event.body, event.headers)).not.toThrow();
  });

  it('eventbridge: an array of the MNS-queue CloudEvent the tests\' reference builds', () => {
    const [event, ...rest] = eventBridgeEvent('{}', Date.now()) as Array<Record<string, any>>;
    const reference = mnsQueueEvent('{}') as Record<string, any>;
    expect(rest).toEqual([]);
    expect(keys(event)).toEqual(keys(reference));
    expect(keys(event!.data)).toEqual(keys(reference.data));
    expect(event!.data.messageBody).toBe('{}');
  });

  it('mns-topic: the fields of the fc3 MNS template (JSON format, no MessageAttributes)', () => {
    expect(keys(mnsTopicEvent('{}', Date.now()))).toEqual(keys(referenceEvent('fc3-template-mns-without-MessageAttributes.json')));
  });

  it('timer: {triggerTime, triggerName, payload} as FC documents it, the payload JSON text as s.yaml gives it', () => {
    const event = timerEvent('{"InstanceId":"i","OlderThanMinutes":1440}', Date.UTC(2026, 1, 9, 5, 49, 0, 123));
    expect(event).toEqual({ triggerTime: '2026-02-09T05:49:00Z', triggerName: 'nightly', payload: '{"InstanceId":"i","OlderThanMinutes":1440}' });
  });
});

describe('send: bad flags are one line ending "see --help", exit 2, nothing sent', () => {
  it.each([
    [['send', 'inst', 'script'], 'send needs --event http|eventbridge|mns-topic|timer|async; see --help'],
    [['send', '--event', 'sqs', 'inst', 'script'], '--event "sqs" is not one of http, eventbridge, mns-topic, timer, async; see --help'],
    [['send', '--event', 'eventbridge', 'inst', 'script', '--callback-url', 'http://127.0.0.1:1/'], '--callback-url does not go with --event eventbridge: its message carries the item alone, and the function calls back to its CALLBACK_URL; see --help'],
    [['send', '--event', 'http', 'inst', 'script', '--dry-run'], '--dry-run does not go with --event http; see --help'],
    [['send', '--event', 'http', 'inst', 'script', '--async'], '--async does not go with send: --event async queues the item; see --help'],
    [['send', '--event', 'mns-topic', 'inst'], 'expected <InstanceId> <ScriptId>, got 1 argument(s); see --help'],
    [['send', '--event', 'async', 'inst', 'bad id!'], 'invalid ScriptId: must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit; see --help'],
    [['send', '--event', 'timer', 'inst'], 'send --event timer needs --older-than-minutes N: reviews older than N minutes are withdrawn; see --help'],
    [['send', '--event', 'timer', 'inst', 'script', '--older-than-minutes', '60'], 'send --event timer expects <InstanceId>, got 2 argument(s); see --help'],
    [['send', '--event', 'timer', 'inst', '--older-than-minutes', '0'], 'invalid --older-than-minutes: must be at least 1; see --help'],
    [['send', '--event', 'http', '--file', '/no/such/event.json'], '--file: cannot read "/no/such/event.json" (ENOENT); see --help'],
    [['send', '--event', 'http', '--file', 'README.md'], '--file "README.md" is not JSON: an FC event is a JSON document; see --help'],
    [['send', '--event', 'timer', '--file', 'README.md', '--dry-run'], '--file holds the whole event; --dry-run does not go with it; see --help'],
    [['send', '--event', 'http', '--file', 'README.md', 'inst'], '--file holds the whole event; "inst" does not go with it; see --help'],
    [['send', '--evnt', 'http'], 'unknown option --evnt, did you mean --event?; see --help'],
  ])('%j', async (args, message) => {
    let stdout = '';
    let stderr = '';
    // PORT 1: nothing listens there, so anything sent would fail differently (connection refused).
    const code = await run(args, { PORT: '1' }, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    expect({ code, stdout, stderr }).toEqual({ code: EXIT_USAGE, stdout: '', stderr: `withdraw-script-review: ${message}\n` });
  });

  it('--help names every kind', async () => {
    let stdout = '';
    expect(await run(['--help'], {}, { stdout: (t) => (stdout += t), stderr: () => {} })).toBe(EXIT_SUCCESS);
    expect(stdout).toContain('send --event http|eventbridge|mns-topic|timer|async --file PATH [target]');
  });
});
