/**
 * Adversary on issue #21: "never redrives twice" and "no message is deleted before its outcome is
 * final", against the built CLI (`node build/cli.js redrive`) killed, raced and slowed. The failure
 * queue here is an MNS emulator of the test's own whose clock the test moves (a hold running out
 * without waiting 90 s), started afresh for each test; FC is the local stack's front end, reached directly or through a gate
 * that holds its answers or cuts MNS's DeleteMessage.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startMnsEmulator, type MnsEmulator } from '../../emulator/mns';
import { createFc3Client, invokeFunction } from '../../lib/fc/client';
import { LOCAL_ACCOUNT_ID, LOCAL_FC_KEY, LOCAL_REGION } from '../../local/local-keys';
import { scriptUnderReview } from '../support/local-stack';
import { answeredWithdrawals, cli, withdrawalCalls, destinationBody, QUEUE, startCli, useRedriveWorld, WITHDRAW } from './redrive-helpers';

const world = useRedriveWorld();
let mns: MnsEmulator;
let clockOffsetMs = 0;
const servers: Server[] = [];

beforeEach(async () => {
  clockOffsetMs = 0;
  mns = await startMnsEmulator({ credentials: [LOCAL_FC_KEY], queues: [{ name: QUEUE }], now: () => Date.now() + clockOffsetMs });
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  await mns.close();
});

const queue = () => mns.queue(QUEUE)!;
const ids = () => queue().messages().map((m) => m.MessageId);
const args = (fc = world.stack.frontend.url, mnsUrl = mns.url) => ['redrive', '--endpoint', fc, '--mns-endpoint', mnsUrl];

/**
 * An HTTP proxy to `port`: `hold(req)` true keeps that request's answer until `release()`;
 * `refuse(req)` true answers it 503 without forwarding (or cuts it, `cut`); `seen` each request.
 */
async function gate(port: number, rules: { hold?: (req: IncomingMessage) => boolean; refuse?: (req: IncomingMessage) => boolean; cut?: boolean } = {}) {
  const held: Array<() => void> = [];
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    if (rules.refuse?.(req)) {
      if (rules.cut) return void req.socket.destroy();
      res.writeHead(503, { 'content-type': 'text/plain' });
      return void res.end('unavailable');
    }
    const upstream = request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      const pass = () => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      };
      if (rules.hold?.(req)) held.push(pass);
      else pass();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, heldCount: () => held.length, release: () => held.splice(0).forEach((f) => f()) };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('never redrives twice; no message deleted before its outcome is final', () => {
  it('a redrive SIGKILLed between the invocation and DeleteMessage (the delete never sent): the message is not deleted, reappears after the hold, and is redriven without a second withdrawal', async () => {
    const item = scriptUnderReview(world.stack.emulator);
    const id = queue().send(destinationBody(JSON.stringify(item))).MessageId;
    const fcGate = await gate(world.stack.frontend.port, { hold: () => true });
    const run = startCli(args(fcGate.url));
    await until(() => fcGate.heldCount() > 0); // the function ran; its answer is held
    run.child.kill('SIGKILL');
    await run.done;
    expect(answeredWithdrawals(world, item)).toBe(1);
    expect(ids()).toEqual([id]);
    const hidden = queue().messages()[0]!;
    expect(hidden.NextVisibleTime).toBeGreaterThan(Date.now() + clockOffsetMs); // held by the dead run
    clockOffsetMs += 91_000;
    const again = await cli(args());
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('1 redriven, 0 done, 0 left');
    expect(ids()).toEqual([]);
    expect(answeredWithdrawals(world, item)).toBe(1);
  });

  /** A slow run's invocation is held at FC until its hold is over; a second run takes the message meanwhile. */
  async function holdRunsOut() {
    const item = scriptUnderReview(world.stack.emulator);
    const id = queue().send(destinationBody(JSON.stringify(item))).MessageId;
    const fcGate = await gate(world.stack.frontend.port, { hold: () => true });
    const slow = startCli(args(fcGate.url));
    await until(() => fcGate.heldCount() > 0);
    clockOffsetMs += 91_000; // the slow run's hold is over: the message is visible again
    const fast = await cli(args());
    fcGate.release();
    return { item, id, fast, late: await slow.done };
  }

  it('a message whose hold runs out during a slow invocation is taken by another redrive; the script is withdrawn once and the slow run deletes nothing', async () => {
    const { item, id, fast, late } = await holdRunsOut();
    expect(fast.code, fast.stdout + fast.stderr).toBe(0);
    expect(fast.stdout).toContain('1 redriven, 0 done, 0 left');
    expect(ids()).not.toContain(id);
    expect(answeredWithdrawals(world, item)).toBe(1);
    expect(world.stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
    expect(late.stdout).not.toMatch(/redriven: [^\n]*message deleted/);
  });

  it('FIXED: the slow run of that race reports truthfully: it does not say the message "stays in the queue" (another run deleted it) nor exit 1 for a message that is gone', async () => {
    const { id, late } = await holdRunsOut();
    expect(ids()).not.toContain(id);
    expect(late.stdout).not.toContain('the message stays in the queue');
    expect(late.code).toBe(0);
  });

  it('three redrives at once (built CLI, separate processes): each message taken by one run, each script withdrawn once', async () => {
    const items = Array.from({ length: 6 }, () => scriptUnderReview(world.stack.emulator));
    for (const item of items) queue().send(destinationBody(JSON.stringify(item)));
    const runs = await Promise.all([cli(args()), cli(args()), cli(args())]);
    const total = runs.map((r) => Number(/: (\d+) redriven/.exec(r.stdout)?.[1] ?? 0)).reduce((a, b) => a + b, 0);
    expect(total, runs.map((r) => r.stdout + r.stderr).join('\n---\n')).toBe(6);
    for (const item of items) expect(answeredWithdrawals(world, item)).toBe(1);
    expect(ids()).toEqual([]);
  });

  it('a DeleteMessage that fails (503, or the connection cut) leaves the message, says so, exits 1; the next redrive is answered from the delivery record', async () => {
    for (const cut of [false, true]) {
      const item = scriptUnderReview(world.stack.emulator);
      const id = queue().send(destinationBody(JSON.stringify(item))).MessageId;
      const mnsGate = await gate(mns.port, { refuse: (req) => req.method === 'DELETE', cut });
      const out = await cli(args(world.stack.frontend.url, mnsGate.url));
      expect(out.code, out.stdout + out.stderr).toBe(1);
      expect(out.stdout).toContain(`left ${id}: redriven`);
      expect(ids()).toEqual([id]);
      const again = await cli(args());
      expect(again.stdout, again.stderr).toContain('1 redriven, 0 done, 0 left');
      expect(ids()).toEqual([]);
      expect(answeredWithdrawals(world, item)).toBe(1);
    }
  });

  it('the same destination message delivered twice (FC delivers at least once) is withdrawn once: the second copy is answered from the delivery record', async () => {
    const item = scriptUnderReview(world.stack.emulator);
    const body = destinationBody(JSON.stringify(item));
    queue().send(body);
    queue().send(body);
    const out = await cli(args());
    expect(out.stdout, out.stderr).toContain('2 redriven, 0 done, 0 left');
    expect(withdrawalCalls(world, item)).toBe(1);
  });

  it("a batch whose async run withdrew one item and failed the other for good: the redrive withdraws only the rest, under the original request's key", async () => {
    const a = scriptUnderReview(world.stack.emulator);
    const b = scriptUnderReview(world.stack.emulator);
    world.stack.emulator.setWithdrawalFailing(b.ScriptId, true);
    const client = createFc3Client({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION, endpoint: world.stack.frontend.url, credentials: LOCAL_FC_KEY }, 10_000);
    await invokeFunction(client, WITHDRAW, { Items: [a, b] }, 'Async');
    await world.stack.frontend.drain();
    world.stack.emulator.setWithdrawalFailing(b.ScriptId, false);
    const parked = world.stack.mns.queue(QUEUE)!;
    const [message] = parked.receive(1);
    expect(message, 'the async batch was parked').toBeDefined();
    parked.delete(message!.ReceiptHandle!);
    queue().send(message!.MessageBody); // into this test's queue
    expect(answeredWithdrawals(world, a)).toBe(1);
    const out = await cli(args());
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toContain('1 redriven, 0 done, 0 left');
    expect(withdrawalCalls(world, a)).toBe(1); // the original run's, answered from its record since
    expect(answeredWithdrawals(world, b)).toBe(1);
  });
});
