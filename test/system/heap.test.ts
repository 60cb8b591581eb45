// What a warm instance keeps between calls (issue #13): finished calls must be released at once,
// whatever the SDK's timers do. The built bundle in a process of its own, 2,000 warm withdrawals,
// the heap measured after a full GC before and after.
import { fork } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { buildScript } from '../support/local-stack';
import { script, startTestEmulator, type RoleCredentials } from '../support/stack';

const CALLS = 2_000;
const WARMUP = 300;
let emulator: OutboundBotEmulator;
let role: RoleCredentials;

beforeAll(async () => {
  await (await buildScript()).buildFunctions();
  ({ emulator, role } = await startTestEmulator());
  emulator.addInstance('heap-instance', Array.from({ length: CALLS + WARMUP }, (_, i) => script(`s${i}`)));
}, 60_000);
afterAll(() => emulator.close());

function measure(): Promise<{ start: number; end: number }> {
  const child = fork(path.join(__dirname, '../support/heap-child.cjs'), [JSON.stringify({ role, instanceId: 'heap-instance', calls: CALLS, warmup: WARMUP })], {
    execArgv: ['--expose-gc'],
    env: { PATH: process.env.PATH ?? '', OUTBOUNDBOT_ENDPOINT: emulator.endpoint, OUTBOUNDBOT_PROTOCOL: 'http' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { start: number; end: number; error?: string }) => {
      child.kill();
      if (message.error) reject(new Error(message.error));
      else resolve(message);
    });
    child.once('exit', (code) => reject(new Error(`heap child exited with ${code}`)));
  });
}

describe('a warm instance', () => {
  it(`keeps its heap within a few MB over ${CALLS} withdrawals`, async () => {
    const { start, end } = await measure();
    const growthMb = (end - start) / 1024 / 1024;
    // The idempotency memory keeps each delivery's outcome (~1 KB, bounded): 2,000 of them are ~2 MB.
    expect(growthMb).toBeLessThan(4);
  }, 90_000);
});
