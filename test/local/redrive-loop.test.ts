/**
 * The failure loop as a developer meets it (issue #21): `npm start`'s built server as a process,
 * and the banner's "When a withdrawal fails for good" lines — the README's, on other ports — run
 * exactly as printed, in order: a script made to fail, its async withdrawal parked in the failure
 * queue, seen by a dry run, left by a redrive while OutboundBot still fails, withdrawn by a redrive
 * once healed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScript, ROOT } from '../support/local-stack';
import { readUntil, shell } from './shell';

const SCRIPT = 'd6b4f2e8-5a1c-4e9b-8f3d-2c7a9e1b5f64';
const HEADER = 'When a withdrawal fails for good';

let child: ReturnType<typeof spawn>;
let banner: string;
let stdout = '';

beforeAll(async () => {
  const build = await buildScript();
  await build.buildFunctions();
  await build.buildTools();
  // Shorter in-function retries (variables the function reads anyway), so FC's retries end in about 3 s.
  child = spawn(process.execPath, [path.join(ROOT, 'build/server.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: '0', RETRY_MAX_ATTEMPTS: '2', RETRY_BASE_DELAY_MS: '20' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  banner = await readUntil(child.stderr!, 'Ctrl-C to stop.');
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGINT');
    await once(child, 'exit');
  }
});

/** The banner's loop lines, as printed. */
function loopLines(): string[] {
  const lines = banner.split('\n');
  const start = lines.findIndex((line) => line.startsWith(HEADER));
  return lines.slice(start + 1).map((l) => l.trim()).filter((l) => /^(curl|node) /.test(l));
}

/** The README's loop, between its markers. */
function readmeLines(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- failure-loop -->\s*```sh\n([\s\S]*?)```\s*<!-- \/failure-loop -->/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no <!-- failure-loop --> block');
  return block.trim().split('\n');
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const untilMs = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > untilMs) throw new Error(`timed out; the server printed:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start: a withdrawal that fails for good, parked and redriven, as printed', () => {
  it("the README's lines are the banner's, on the default ports", () => {
    const emulatorUrl = /OutboundBot emulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)![1]!;
    const onDefaultPorts = loopLines().map((line) =>
      line.replace(/ --endpoint \S+/, '').replace(/ --mns-endpoint \S+/, '').replace(emulatorUrl, 'http://127.0.0.1:9001'),
    );
    expect(readmeLines()).toEqual(onDefaultPorts);
  });

  it('fail → async withdraw → parked → dry run shows it → redrive leaves it (exit 1) → heal → redrive withdraws it (exit 0)', async () => {
    const [fail, withdraw, dryRun, redrive, heal, redriveAgain] = loopLines();
    expect(fail).toContain(`/_emulator/fail?ScriptId=${SCRIPT}`);
    expect(redriveAgain).toBe(redrive);

    expect(JSON.parse((await shell(fail!)).stdout)).toMatchObject({ ScriptId: SCRIPT, WithdrawScriptReview: 'fails with 503 ServiceUnavailable' });
    const accepted = await shell(withdraw!);
    expect(accepted.code, accepted.stderr).toBe(0);
    const requestId = JSON.parse(accepted.stdout).RequestId as string;
    await until(() => stdout.includes('"message":"async invocation sent to the on-failure destination"') && stdout.includes(requestId), 20_000);

    const shown = await shell(dryRun!);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`request ${requestId}, UnhandledInvocationError after 3 attempt\\(s\\).*ScriptId ${SCRIPT}`));
    expect(shown.stdout).toContain('dry run: 1 message(s) visible');
    const messageId = /^message (\w+),/.exec(shown.stdout)![1]!;

    const left = await shell(redrive!);
    expect(left.code, left.stdout + left.stderr).toBe(1);
    expect(left.stdout).toContain(`left ${messageId}: the function failed again (UnhandledInvocationError)`);
    expect((await shell(dryRun!)).stdout).toContain(`message ${messageId},`); // nothing deleted

    expect(JSON.parse((await shell(heal!)).stdout)).toMatchObject({ ScriptId: SCRIPT, WithdrawScriptReview: 'works' });
    const redriven = await shell(redriveAgain!);
    expect(redriven.code, redriven.stdout + redriven.stderr).toBe(0);
    expect(redriven.stdout).toContain('redriven: Success (OK); message deleted');
    expect(redriven.stdout).toContain('1 redriven, 0 done, 0 left');
    expect((await shell(dryRun!)).stdout).toContain('dry run: 0 message(s) visible'); // the queue is empty

    // Withdrawn: the script is no longer under review.
    const again = await shell(withdraw!.replace(' --async', ''));
    expect(JSON.parse(again.stdout)).toMatchObject({ ScriptId: SCRIPT, Code: 'OperationDenied.ScriptNotUnderReview' });
  }, 60_000);
});
