// Shared set-up for the redrive attacks: the local stack (built bundles, MNS emulator, OutboundBot
// emulator) in this process, and the built CLI (`node build/cli.js redrive …`) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import { failureRecord, functionArn } from '../../local/fc-destination';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../local/local-keys';
import type { LocalStack } from '../../local/local-stack';
import type { WithdrawalItem } from '../../lib/withdraw/withdraw-item';
import { buildScript, ROOT, startTestStack } from '../support/local-stack';

export const QUEUE = 'withdraw-script-review-failures';
export const WITHDRAW = 'withdraw-script-review-withdraw';
export const CLEANUP = 'withdraw-script-review-cleanup';
export type Stack = LocalStack & { emulator: OutboundBotEmulator };

export interface World {
  stack: Stack;
  logs: string[];
}

/** One stack per file, built from the current sources (functions and the CLI). */
export function useRedriveWorld(): World {
  const world = { logs: [] } as unknown as World;
  beforeAll(async () => {
    process.env.RETRY_MAX_ATTEMPTS = '1';
    const build = await buildScript();
    await build.buildTools();
    world.stack = await startTestStack((line) => world.logs.push(line));
  }, 120_000);
  afterAll(async () => {
    await world.stack?.close();
    delete process.env.RETRY_MAX_ATTEMPTS;
  });
  return world;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node build/cli.js …` with nothing in the environment but PATH and `env`. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliRun>; stdout: () => string } {
  const child = spawn(process.execPath, [path.join(ROOT, 'build/cli.js'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const done = once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, done, stdout: () => stdout };
}

export const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => startCli(args, env).done;

/** The redrive against this world's stack, or the given endpoints. */
export function redriveArgs(world: World, fc = world.stack.frontend.url, mns = world.stack.mns.url): string[] {
  return ['redrive', '--endpoint', fc, '--mns-endpoint', mns];
}

export const queueOf = (world: World) => world.stack.mns.queue(QUEUE)!;

/** Empties the queue (what a test left). */
export function drainQueue(world: World): void {
  const queue = queueOf(world);
  for (const m of queue.receive(16)) queue.delete(m.ReceiptHandle!);
}

/** FC's destination message for `payload` (text), as the local FC parks it. */
export function destinationBody(payload: string, fn = WITHDRAW, requestId: string = randomUUID()): string {
  return JSON.stringify(
    failureRecord({
      functionArn: functionArn(LOCAL_REGION, LOCAL_ACCOUNT_ID, fn),
      requestId,
      acceptedAtMs: Date.now() - 60_000,
      payload: Buffer.from(payload),
      attempts: 3,
      error: new Error('1 withdrawal(s) failed retryably'),
    }),
  );
}

export function park(world: World, body: string): string {
  return queueOf(world).send(body).MessageId;
}

/** WithdrawScriptReview calls for the item that OutboundBot answered 200. */
export function answeredWithdrawals(world: World, item: WithdrawalItem): number {
  return world.stack.emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.ScriptId === item.ScriptId && r.status === 200).length;
}

/** Every WithdrawScriptReview call for the item that reached OutboundBot, whatever it answered. */
export function withdrawalCalls(world: World, item: WithdrawalItem): number {
  return world.stack.emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.ScriptId === item.ScriptId).length;
}
