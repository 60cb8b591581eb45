/**
 * `npm start` as a developer meets it: the built server as a process, whose banner's command
 * lines (and the README's handler example) must work exactly as printed, unsigned and signed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultEmulatorPort, LOCAL_DEFAULT_PORT } from '../../local/local-keys';
import { markedBlock } from '../support/doc-blocks';
import { buildScript, ROOT } from '../support/local-stack';
import net from 'node:net';
import { shell, startServerProcess, type ServerProcess } from './shell';

const DEMO_INSTANCE = '38d2e8ed-04e9-4dac-83b5-a8e57642ef13';
/** Two secrets, as during a rotation: lines are signed with the first. */
const SECRETS = ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'];

beforeAll(async () => {
  const build = await buildScript();
  await build.buildFunctions();
  await build.buildTools();
}, 120_000);

function command(server: ServerProcess, prefix: string): string {
  const found = server.commands.find((line) => line.startsWith(prefix));
  if (!found) throw new Error(`no line starting with "${prefix}" in:\n${server.banner}`);
  return found;
}

function json(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

/** docs/OPERATIONS.md's "Invoking the built handler yourself" snippet, under its marker. */
function readmeHandlerExample(): string {
  return markedBlock(readFileSync(path.join(ROOT, 'docs/OPERATIONS.md'), 'utf8'), 'handler-example');
}

describe('npm start without WEBHOOK_SECRET (unsigned requests allowed)', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServerProcess({});
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('says the timeouts and retries it applies as s.yaml does, and that locally every request shares one instance (issue #25.6)', () => {
    expect(server.banner).toContain('as s.yaml sets them: withdraw 30 s, 2 async retries; cleanup 600 s, 1 async retry');
    expect(server.banner).toMatch(/every request shares one process and one memory store.*IDEMPOTENCY_REDIS_URL/);
  });

  it('lists the demo scripts under review, with their state and name', () => {
    expect(server.banner).toContain(`Demo scripts under review in instance ${DEMO_INSTANCE}`);
    for (const [id, state, name] of [
      ['e4e2a770-b97b-465a-80d8-06dca008c503', 'EXAMINE_IN_PROGRESS', '信用卡分期营销'],
      ['9b1c3f52-6d4e-4a8f-b2c7-1e5d9a0f3c21', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', '贷后还款提醒'],
      ['5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03', 'EXAMINE_IN_PROGRESS', '快递签收回访'],
      ['c3d8e1a4-7f2b-4b9c-a5e6-2d4f8b1c7e95', 'PUBLISHED_AND_EXAMINE_IN_PROGRESS', '会员续费提醒'],
    ]) {
      expect(server.banner).toMatch(new RegExp(`${id} +${state} .*${name}`));
    }
    // Not under review, so not offered.
    expect(server.banner).not.toContain('1a6f9c3e-8b2d-4f7a-9e1c-5d3b7a2f8c46');
  });

  it('the unsigned curl line withdraws a demo script', async () => {
    const result = await shell(command(server, 'curl '));
    expect(result.code).toBe(0);
    expect(json(result.stdout)).toMatchObject({ InstanceId: DEMO_INSTANCE, Success: true, Code: 'OK', Script: { Status: 'DRAFTED' } });
  });

  it('the CLI line withdraws another demo script', async () => {
    const line = command(server, 'node build/cli.js ');
    expect(line).not.toContain('--cleanup');
    const result = await shell(line);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result.stdout)).toMatchObject({ Success: true, Code: 'OK' });
  });

  it('the cleanup line runs a dry run of the cleanup function on the demo instance', async () => {
    const result = await shell(command(server, 'node build/cli.js --cleanup '));
    expect(result.code, result.stderr).toBe(0);
    const summary = json(result.stdout);
    expect(summary).toMatchObject({ InstanceId: DEMO_INSTANCE, Success: true, DryRun: true, Withdrawn: 0, OlderThanMinutes: 1440 });
    // 5f7a… has waited 72 h; nothing this file does withdraws it.
    expect(summary.Candidates).toContainEqual(expect.objectContaining({ ScriptId: '5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03' }));
  });

  it("the operator's guide's handler example withdraws through the running emulator as printed", async () => {
    const snippet = readmeHandlerExample();
    const documented = `127.0.0.1:${defaultEmulatorPort(LOCAL_DEFAULT_PORT)}`;
    expect(snippet.split(documented)).toHaveLength(2);
    // The one difference from the README: this server runs on free ports, the README's on the defaults.
    const emulator = /OutboundBot emulator on http:\/\/(127\.0\.0\.1:\d+)/.exec(server.banner)?.[1];
    expect(emulator).toBeDefined();
    const result = await shell(snippet.replace(documented, emulator!));
    expect(result.code, result.stderr).toBe(0);
    const resultText = result.stdout.slice(result.stdout.indexOf('\n{\n') + 1);
    expect(json(resultText)).toMatchObject({ InstanceId: DEMO_INSTANCE, ScriptId: 'c3d8e1a4-7f2b-4b9c-a5e6-2d4f8b1c7e95', Success: true, Code: 'OK' });
  });

  it('stops with exit code 0 on Ctrl-C, within 3 s', async () => {
    const started = Date.now();
    expect(await server.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('npm start on a port in use (issue #22.5)', () => {
  it('says which port and what to do, in one line, and exits 1', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const result = await shell(`node build/server.js`, { PORT: String(port), EMULATOR_PORT: '0' });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(`npm start failed: port ${port} is in use: another npm start (or server) still running? Stop it, or pick free ports with PORT=0 (or PORT=… EMULATOR_PORT=…)`);
    } finally {
      taken.close();
    }
  });
});

describe('npm start with HOST=::1 (issue #25.2)', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServerProcess({ HOST: '::1' });
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('brackets the IPv6 host in every URL it prints, and the curl, CLI and cleanup lines work as printed', async () => {
    expect(server.banner).toMatch(/local Function Compute on http:\/\/\[::1\]:\d+/);
    expect(server.banner).not.toMatch(/http:\/\/::1/);
    const curl = await shell(command(server, 'curl '));
    expect(json(curl.stdout)).toMatchObject({ Success: true, Code: 'OK' });
    const cli = await shell(command(server, 'node build/cli.js '));
    expect(cli.code, cli.stderr).toBe(0);
    // The cleanup's dry run goes through the front end's URL, which also becomes the fan-out FC_ENDPOINT.
    const cleanup = await shell(command(server, 'node build/cli.js --cleanup '));
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(json(cleanup.stdout)).toMatchObject({ Success: true, DryRun: true });
  });
});

describe('npm start with WEBHOOK_SECRET set (signed requests only)', () => {
  let server: ServerProcess;
  const env = { WEBHOOK_SECRET: SECRETS.join(' ') };

  beforeAll(async () => {
    server = await startServerProcess(env);
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('prints one curl line, signed with the first secret, and says how long it is valid', () => {
    // The HTTP trigger's: the failure loop's curl lines go to the emulator's switch.
    const curls = server.commands.filter((line) => line.startsWith('curl ') && !line.includes('/_emulator/'));
    expect(curls).toHaveLength(1);
    expect(curls[0]).toMatch(/-H 'webhook-id: msg_\w+' -H 'webhook-timestamp: \d+' -H 'webhook-signature: v1,[\w+/=]+'/);
    expect(server.banner).toMatch(/signed with the first WEBHOOK_SECRET; valid for 5 minutes, until \d{4}-\d\d-\d\dT/);
    expect(server.banner).not.toMatch(/<[A-Za-z ]+>/); // no placeholder: every line is usable as printed
  });

  it('the signed curl line withdraws a demo script; the same body unsigned is refused', async () => {
    const line = command(server, 'curl ');
    const result = await shell(line);
    expect(result.code).toBe(0);
    expect(json(result.stdout)).toMatchObject({ Success: true, Code: 'OK' });

    const url = /^curl -sS -w '\\n' -X POST (\S+)/.exec(line)![1]!;
    const unsigned = await shell(`curl -s -X POST ${url} -H 'content-type: application/json' -d '{"InstanceId":"${DEMO_INSTANCE}","ScriptId":"5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03"}'`);
    expect(json(unsigned.stdout)).toMatchObject({ Success: false, HttpStatusCode: 401, Code: 'InvalidSignature' });
  });

  it('the sign line prints a fresh signed line for the same body, which the function accepts', async () => {
    const sign = await shell(command(server, 'node build/cli.js sign '), env);
    expect(sign.code, sign.stderr).toBe(0);
    expect(sign.stdout).toMatch(/^curl -sS -w '\\n' -X POST .*'webhook-signature: v1,/);
    const sent = await shell(sign.stdout);
    // The signed curl line above already withdrew this script: an answer past the signature check.
    expect(json(sent.stdout)).toMatchObject({ ScriptId: 'e4e2a770-b97b-465a-80d8-06dca008c503', Code: 'OperationDenied.ScriptNotUnderReview' });
  });

  it('the banner says the sign line needs the secret exported, and without it the line says why in one line (issue #22.2)', async () => {
    expect(server.banner).toContain('`WEBHOOK_SECRET=… npm start` sets it for npm start alone');
    const withoutSecret = await shell(command(server, 'node build/cli.js sign '));
    expect(withoutSecret.code).toBe(2);
    expect(withoutSecret.stderr.trim().split('\n')).toEqual([expect.stringContaining('WEBHOOK_SECRET is not set in this shell')]);
  });

  it('`node build/cli.js sign --url` prints a line that works when piped to a shell', async () => {
    const url = /^curl -sS -w '\\n' -X POST (\S+)/.exec(command(server, 'curl '))![1]!;
    const body = JSON.stringify({ InstanceId: DEMO_INSTANCE, ScriptId: '5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03' });
    const result = await shell(`node build/cli.js sign --url ${url} '${body}' | bash`, env);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result.stdout)).toMatchObject({ ScriptId: '5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03', Success: true });
    expect(result.stderr).toMatch(/valid for 5 minutes/);
  });

  it('the signature verifies with the Standard Webhooks reference library and the first secret only', async () => {
    const line = command(server, 'curl ');
    const headers = Object.fromEntries([...line.matchAll(/-H '([\w-]+): ([^']*)'/g)].map((m) => [m[1]!, m[2]!]));
    const body = /--data-binary '([^']*)'$/.exec(line)![1]!;
    expect(() => new Webhook(SECRETS[0]!).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(SECRETS[1]!).verify(body, headers)).toThrow();
  });

  it('the CLI and cleanup lines work as printed with a secret set too', async () => {
    for (const prefix of ['node build/cli.js --cleanup ', 'node build/cli.js 38d2']) {
      const result = await shell(command(server, prefix));
      expect(result.code, `${prefix}: ${result.stderr}`).toBe(0);
    }
  });
});
