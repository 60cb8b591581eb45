/**
 * Adversary on issue #21: what the built `node build/cli.js redrive` reports and refuses — bad
 * flags, --dry-run, --max, unreachable queue or FC, secrets in its output — and what it takes
 * for a withdrawal request (a tampered or foreign message, a misread dead letter, a huge one).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventBridgeEvent } from '../../local/fc-events';
import { LOCAL_FC_KEY } from '../../local/local-keys';
import { scriptUnderReview } from '../support/local-stack';
import { answeredWithdrawals, cli, destinationBody, park, queueOf, redriveArgs, useRedriveWorld, withdrawalCalls } from './redrive-helpers';

const world = useRedriveWorld();
const servers: Server[] = [];

afterEach(() => {
  const queue = queueOf(world);
  for (let batch = queue.receive(16); batch.length > 0; batch = queue.receive(16)) for (const m of batch) queue.delete(m.ReceiptHandle!);
});
afterAll(() => servers.forEach((s) => (s.closeAllConnections(), s.close())));

const snapshot = () => queueOf(world).messages().map(({ MessageId, DequeueCount, NextVisibleTime }) => ({ MessageId, DequeueCount, NextVisibleTime }));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An HTTP server recording each request line and answering `answer`. */
async function recorder(answer: (req: import('node:http').IncomingMessage) => { status: number; headers?: Record<string, string>; body: string }) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    const a = answer(req);
    res.writeHead(a.status, a.headers ?? {});
    res.end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('bad flags: one line ending "see --help", exit 2, nothing touched', () => {
  it.each([
    [['--max', '1.5']],
    [['--max', '-1']],
    [['--max', '1e3']],
    [['--max', '99999999999999999999999']],
    [['--max']],
    [['--queue']],
    [['--queue', '']],
    [['--dry-run=yes']],
    [['--mns-endpoint', 'ftp://127.0.0.1:1']],
    [['--mns-endpoint', 'http://user:pass@127.0.0.1:1']],
    [['--endpoint', 'not a url']],
    [['--account-id', '123']],
    [['--bogus']],
  ])('redrive %j', async (args) => {
    park(world, destinationBody(JSON.stringify(scriptUnderReview(world.stack.emulator))));
    const before = snapshot();
    const out = await cli([...redriveArgs(world), ...args]);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(out.stderr.trimEnd()).toMatch(/see --help$/);
    expect(snapshot()).toEqual(before);
  });
});

describe('--dry-run and --max: reports what happened truthfully', () => {
  it('--dry-run changes nothing: only a peek reaches MNS, nothing reaches FC, no message is received, hidden or deleted', async () => {
    for (let i = 0; i < 3; i += 1) park(world, destinationBody(JSON.stringify(scriptUnderReview(world.stack.emulator))));
    const before = snapshot();
    const fc = await recorder(() => ({ status: 500, body: 'should not be called' }));
    const out = await cli(['redrive', '--endpoint', fc.url, '--mns-endpoint', world.stack.mns.url, '--dry-run']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('dry run: 3 message(s) visible');
    expect(fc.seen).toEqual([]);
    expect(snapshot()).toEqual(before);
  });

  it('FIXED: --dry-run on a queue holding 20 visible messages does not report "16 message(s) visible"', async () => {
    for (let i = 0; i < 20; i += 1) park(world, '{"unreadable":true}');
    const out = await cli([...redriveArgs(world), '--dry-run']);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain('dry run: 16 message(s) visible');
  });

  it('--max 2 takes exactly two of five messages (left ones count), and the counts and reasons say so', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => park(world, `not json ${i}`));
    const out = await cli([...redriveArgs(world), '--max', '2']);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('0 redriven, 0 done, 2 left');
    expect(out.stdout.match(/^ {2}left \w+: not redriven: the body is not JSON/gm)).toHaveLength(2);
    expect(queueOf(world).messages().filter((m) => m.DequeueCount > 0)).toHaveLength(2);
    expect(queueOf(world).messages().map((m) => m.MessageId).sort()).toEqual([...ids].sort());
  });
});

describe('unreachable queue or FC: a clear error, nothing deleted', () => {
  it('an MNS endpoint nobody listens on: exit 2, one line naming it, FC never called', async () => {
    const port = await closedPort();
    const fc = await recorder(() => ({ status: 500, body: '' }));
    const out = await cli(['redrive', '--endpoint', fc.url, '--mns-endpoint', `http://127.0.0.1:${port}`]);
    expect(out.code).toBe(2);
    expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(out.stderr).toContain(`http://127.0.0.1:${port}`);
    expect(out.stderr).toContain('ECONNREFUSED');
    expect(fc.seen).toEqual([]);
  });

  it('--queue naming a queue that does not exist: exit 2, one line with MNS\'s code, nothing invoked', async () => {
    const fc = await recorder(() => ({ status: 500, body: '' }));
    const out = await cli(['redrive', '--endpoint', fc.url, '--mns-endpoint', world.stack.mns.url, '--queue', 'no-such-queue']);
    expect(out.code).toBe(2);
    expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(out.stderr).toContain('QueueNotExist');
    expect(fc.seen).toEqual([]);
  });

  it('an FC endpoint nobody listens on: each message left with the reason, exit 1, none deleted and all visible again after the run', async () => {
    const ids = [1, 2].map(() => park(world, destinationBody(JSON.stringify(scriptUnderReview(world.stack.emulator)))));
    const port = await closedPort();
    const out = await cli(['redrive', '--endpoint', `http://127.0.0.1:${port}`, '--mns-endpoint', world.stack.mns.url]);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('0 redriven, 0 done, 2 left');
    for (const id of ids) expect(out.stdout).toContain(`left ${id}: no answer: cannot reach http://127.0.0.1:${port}: connection refused`);
    expect(queueOf(world).peek(16).map((m) => m.MessageId).sort()).toEqual([...ids].sort());
  });

  /** A parked withdrawal redriven against an FC endpoint that answers `answer`. */
  async function againstFc(answer: { status: number; headers?: Record<string, string>; body: string }) {
    const id = park(world, destinationBody(JSON.stringify(scriptUnderReview(world.stack.emulator))));
    const fc = await recorder(() => answer);
    const out = await cli(['redrive', '--endpoint', fc.url, '--mns-endpoint', world.stack.mns.url]);
    return { code: out.code, stillThere: queueOf(world).messages().some((m) => m.MessageId === id) };
  }

  it('an FC gateway answering 502 (HTML): left, not deleted', async () => {
    expect(await againstFc({ status: 502, body: '<html>Bad Gateway</html>' })).toEqual({ code: 1, stillThere: true });
  });

  it('FIXED: an answer that is not a result (200, JSON `{}`: a proxy, or another handler) is left, not deleted as "done"', async () => {
    expect(await againstFc({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' })).toEqual({ code: 1, stillThere: true });
  });
});

describe('secrets never leave', () => {
  it('a wrong secret and an STS token (deployed-style target): the refusal names neither, nor a signature', async () => {
    const secret = `wrong-secret-${randomUUID()}`;
    const token = `sts-token-${randomUUID()}`;
    const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_FC_KEY.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret, ALIBABA_CLOUD_SECURITY_TOKEN: token, CALLBACK_SECRET: 'cb-secret-x', WEBHOOK_SECRET: 'whsec_x' };
    const out = await cli(['redrive', '--region', 'cn-shanghai', '--account-id', '1234567890123456', '--endpoint', world.stack.frontend.url, '--mns-endpoint', world.stack.mns.url], env);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('(HTTP 403)');
    const all = out.stdout + out.stderr;
    for (const s of [secret, token, 'cb-secret-x', 'whsec_x', 'MNS LTAI', 'Signature=']) expect(all).not.toContain(s);
  });

  it("an FC gateway whose error page echoes the request's Authorization and token: redrive prints neither", async () => {
    const token = `sts-token-${randomUUID()}`;
    const fc = await recorder((req) => ({ status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Code: 'InternalError', Message: `${String(req.headers.authorization)} ${String(req.headers['x-acs-security-token'])}` }) }));
    const id = park(world, destinationBody(JSON.stringify(scriptUnderReview(world.stack.emulator))));
    const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_FC_KEY.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: LOCAL_FC_KEY.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: token };
    const out = await cli(['redrive', '--region', 'cn-shanghai', '--account-id', '1234567890123456', '--endpoint', fc.url, '--mns-endpoint', world.stack.mns.url], env);
    expect(out.stdout).toContain(`left ${id}`);
    const all = out.stdout + out.stderr;
    for (const s of [token, LOCAL_FC_KEY.accessKeySecret, `${LOCAL_FC_KEY.accessKeyId}:`]) expect(all).not.toContain(s);
  });
});

describe('never withdraws what was not asked', () => {
  it('FIXED: an EventBridge dead letter it misreads (a CloudEvent wrapping the undelivered event) is left, not deleted as "done"', async () => {
    const item = scriptUnderReview(world.stack.emulator);
    const [original] = eventBridgeEvent(JSON.stringify(item), Date.now());
    // A plausible dead-letter envelope: a CloudEvent of its own whose data carries the event that was not delivered.
    const deadLetter = { specversion: '1.0', id: randomUUID(), source: 'acs.eventbridge', type: 'eventbridge:Events:DeadLetter', datacontenttype: 'application/json', data: { event: original, errorMessage: 'function timed out' } };
    const id = park(world, JSON.stringify(deadLetter));
    const out = await cli(redriveArgs(world));
    expect(answeredWithdrawals(world, item)).toBe(0);
    expect(out.stdout).toContain(`left ${id}`);
    expect(queueOf(world).messages().map((m) => m.MessageId)).toContain(id);
  });

  it("FIXED: a destination message naming another account's (or region's) function is left, not redriven into this account", async () => {
    const item = scriptUnderReview(world.stack.emulator);
    const record = JSON.parse(destinationBody(JSON.stringify(item)));
    record.requestContext.functionArn = 'acs:fc:cn-beijing:9999999999999999:functions/withdraw-script-review-withdraw';
    const id = park(world, JSON.stringify(record));
    const out = await cli(redriveArgs(world));
    expect(withdrawalCalls(world, item)).toBe(0);
    expect(out.stdout).toContain(`left ${id}`);
  });

  it.fails('LIMIT (docs/OPERATIONS.md, "Redriving the failure queue": whoever may send to the failure queue is trusted): a forged destination message for a script nobody asked to withdraw is not withdrawn', async () => {
    // Anyone who may SendMessage to the failure queue writes this; nothing in it is signed.
    const victim = scriptUnderReview(world.stack.emulator);
    park(world, destinationBody(JSON.stringify(victim)));
    await cli(redriveArgs(world));
    expect(withdrawalCalls(world, victim)).toBe(0);
  });

  it("a message near MNS's 64 KB limit (a batch padded with whitespace) is redriven as the batch it holds, no more", async () => {
    const items = Array.from({ length: 20 }, () => scriptUnderReview(world.stack.emulator));
    const payload = JSON.stringify({ Items: items }, null, 1).replace(/\n/g, `\n${' '.repeat(600)}`);
    const body = destinationBody(payload);
    expect(Buffer.byteLength(body)).toBeGreaterThan(40_000);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(65_536);
    const id = park(world, body);
    const out = await cli(redriveArgs(world));
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toContain('1 redriven, 0 done, 0 left');
    for (const item of items) expect(answeredWithdrawals(world, item)).toBe(1);
    expect(queueOf(world).messages().map((m) => m.MessageId)).not.toContain(id);
  });
});
