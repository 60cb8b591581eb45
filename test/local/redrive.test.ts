/**
 * `redrive` (issue #21) end to end in one process: the CLI's `run()` reads the local stack's
 * failure queue with @alicloud/mns over loopback and invokes the bundled withdraw function with
 * @alicloud/fc2, both signed; the OutboundBot emulator counts the calls that reach it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import type { WithdrawalItem } from '../../lib/withdraw/withdraw-item';
import { createFc3Client, invokeFunction } from '../../lib/fc/client';
import { EXIT_SUCCESS, EXIT_USAGE, EXIT_WITHDRAWAL_FAILED, run } from '../../local/cli';
import { failureRecord, functionArn } from '../../local/fc-destination';
import { eventBridgeEvent } from '../../local/fc-events';
import { LOCAL_ACCOUNT_ID, LOCAL_FC_KEY, LOCAL_REGION } from '../../local/local-keys';
import type { LocalStack } from '../../local/local-stack';
import { ROOT, scriptUnderReview, startTestStack } from '../support/local-stack';

const QUEUE = 'withdraw-script-review-failures';
let stack: LocalStack & { emulator: OutboundBotEmulator };

beforeAll(async () => {
  // One attempt per invocation, so each async withdrawal is parked within FC's retries' 10 ms delays.
  process.env.RETRY_MAX_ATTEMPTS = '1';
  stack = await startTestStack(() => {});
}, 120_000);

afterAll(async () => {
  await stack?.close();
  delete process.env.RETRY_MAX_ATTEMPTS;
});

const queue = () => stack.mns.queue(QUEUE)!;

afterEach(() => {
  // Each test starts from an empty queue: take and delete what a test left.
  for (const message of queue().receive(16)) queue().delete(message.ReceiptHandle!);
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {}, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  expect(stderr).not.toMatch(/\n\s+at /);
  return { code, stdout, stderr };
}

const redrive = (...args: string[]) => cli(['redrive', '--endpoint', stack.frontend.url, '--mns-endpoint', stack.mns.url, ...args]);

/** The withdrawal's calls that reached OutboundBot and were answered 200: the emulator's own count. */
function answeredWithdrawals(item: WithdrawalItem): number {
  return stack.emulator.requests.filter((r) => r.action === 'WithdrawScriptReview' && r.query.ScriptId === item.ScriptId && r.status === 200).length;
}

/** A withdrawal whose script fails, invoked async: FC's retries are spent and it is parked. */
async function parkFailedWithdrawal(item: WithdrawalItem): Promise<void> {
  stack.emulator.setWithdrawalFailing(item.ScriptId, true);
  const client = createFc3Client({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION, endpoint: stack.frontend.url, credentials: LOCAL_FC_KEY }, 10_000);
  await invokeFunction(client, 'withdraw-script-review-withdraw', item, 'Async');
  await stack.frontend.drain();
  stack.emulator.setWithdrawalFailing(item.ScriptId, false);
}

/** FC's destination message for an invocation of the withdraw function that never ran, parked by hand. */
function parkRecord(item: WithdrawalItem): string {
  const record = failureRecord({
    functionArn: functionArn(LOCAL_REGION, LOCAL_ACCOUNT_ID, 'withdraw-script-review-withdraw'),
    requestId: randomUUID(),
    acceptedAtMs: Date.now() - 60_000,
    payload: Buffer.from(JSON.stringify(item)),
    attempts: 3,
    error: new Error('1 withdrawal(s) failed retryably'),
  });
  return queue().send(JSON.stringify(record)).MessageId;
}

/** Every key of `shape`, at every depth, with a value of the same JSON type. */
function sameShape(value: unknown, shape: unknown): boolean {
  if (typeof shape !== 'object' || shape === null) return typeof value === typeof shape;
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(shape).sort();
  return JSON.stringify(Object.keys(value).sort()) === JSON.stringify(keys) && keys.every((k) => sameShape((value as Record<string, unknown>)[k], (shape as Record<string, unknown>)[k]));
}

describe('what the local FC parks', () => {
  it('an async withdrawal whose retries are spent lands in the failure queue as FC documents its destination message', async () => {
    const item = scriptUnderReview(stack.emulator);
    await parkFailedWithdrawal(item);
    const [message] = queue().messages();
    const record = JSON.parse(message!.MessageBody) as Record<string, any>;
    const documented = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/fc-destination/fc3-result-callback-example.json'), 'utf8'));
    expect(sameShape(record, documented)).toBe(true);
    expect(record).toMatchObject({
      requestContext: { functionArn: `acs:fc:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:functions/withdraw-script-review-withdraw`, condition: 'UnhandledInvocationError', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, functionError: 'UnhandledInvocationError' },
    });
    expect(JSON.parse(record.requestPayload)).toEqual(item);
    expect(JSON.parse(record.responsePayload).errorMessage).toContain('ServiceUnavailable');
    expect(answeredWithdrawals(item)).toBe(0);
  });
});

describe('redrive', () => {
  it.each([
    [['--max', '0'], '--max must be at least 1; see --help'],
    [['--max', 'ten'], '--max must be a whole number, got "ten"; see --help'],
    [['--queue', 'bad_name'], '--queue "bad_name" is not an MNS queue name (a letter, then letters, digits and -); see --help'],
    [['--async'], '--async does not go with redrive; see --help'],
    [['--function', 'x'], '--function does not go with redrive; see --help'],
    [['--mns-endpoint', 'http://127.0.0.1:1/path'], '--mns-endpoint must be an http(s) origin such as https://<account-id>.mns.cn-shanghai.aliyuncs.com; see --help'],
    [['--region', 'cn-shanghai'], '--region and --account-id go together: they name the deployed function; see --help'],
    [['extra'], 'redrive takes no arguments, got "extra"; see --help'],
  ])('refuses %j in one line ending "see --help", exit 2, touching nothing', async (args, message) => {
    const id = parkRecord(scriptUnderReview(stack.emulator));
    const out = await cli(['redrive', ...args]);
    expect(out.code).toBe(EXIT_USAGE);
    expect(out.stderr).toBe(`withdraw-script-review: ${message}\n`);
    expect(out.stdout).toBe('');
    expect(queue().messages()).toEqual([expect.objectContaining({ MessageId: id, DequeueCount: 0 })]);
  });

  it('a parked withdrawal is left while OutboundBot still fails (exit 1, nothing deleted), and redriven once it is healed', async () => {
    const item = scriptUnderReview(stack.emulator);
    await parkFailedWithdrawal(item);
    const [parked] = queue().messages();
    stack.emulator.setWithdrawalFailing(item.ScriptId, true);
    const left = await redrive();
    expect(left.code).toBe(EXIT_WITHDRAWAL_FAILED);
    expect(left.stdout).toContain(`left ${parked!.MessageId}: the function failed again (UnhandledInvocationError)`);
    expect(left.stdout).toContain('0 redriven, 0 done, 1 left');
    // Still there, and visible to the next run at once.
    expect(queue().peek(16).map((m) => m.MessageId)).toEqual([parked!.MessageId]);

    stack.emulator.setWithdrawalFailing(item.ScriptId, false);
    const healed = await redrive();
    expect(healed.code, healed.stdout).toBe(EXIT_SUCCESS);
    expect(healed.stdout).toContain('redriven: Success (OK); message deleted');
    expect(healed.stdout).toContain('1 redriven, 0 done, 0 left');
    expect(queue().messages()).toEqual([]);
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
  });

  it('--dry-run peeks: it shows the message and takes, invokes and deletes nothing', async () => {
    const item = scriptUnderReview(stack.emulator);
    const id = parkRecord(item);
    const out = await redrive('--dry-run');
    expect(out.code).toBe(EXIT_SUCCESS);
    expect(out.stdout).toMatch(new RegExp(`message ${id}, parked \\d+ s ago: withdraw-script-review-withdraw, request [0-9a-f-]{36}, UnhandledInvocationError after 3 attempt\\(s\\): 1 withdrawal\\(s\\) failed retryably; InstanceId ${item.InstanceId} ScriptId ${item.ScriptId}`));
    expect(out.stdout).toContain('dry run: 1 message(s) visible');
    expect(queue().messages()).toEqual([expect.objectContaining({ MessageId: id, DequeueCount: 0 })]);
    expect(stack.emulator.requests.some((r) => r.query.ScriptId === item.ScriptId)).toBe(false);
  });

  it('a body it cannot read is left, never deleted', async () => {
    const id = queue().send('this is not an FC destination message').MessageId;
    const out = await redrive();
    expect(out.code).toBe(EXIT_WITHDRAWAL_FAILED);
    expect(out.stdout).toContain(`left ${id}: not redriven: the body is not JSON (nor Base64 of JSON)`);
    expect(queue().messages()).toEqual([expect.objectContaining({ MessageId: id, DequeueCount: 1 })]);
  });

  it('a final answer (the script is no longer under review) deletes the message and counts as done', async () => {
    const item = scriptUnderReview(stack.emulator, 'PUBLISHED');
    parkRecord(item);
    const out = await redrive();
    expect(out.code, out.stdout).toBe(EXIT_SUCCESS);
    expect(out.stdout).toContain(`done: a final answer: OperationDenied.ScriptNotUnderReview (HTTP 400) for ${item.ScriptId}; message deleted`);
    expect(out.stdout).toContain('0 redriven, 1 done, 0 left');
    expect(queue().messages()).toEqual([]);
  });

  it("an EventBridge dead letter (the trigger's CloudEvent, here Base64-encoded as some MNS producers send) goes to the withdraw function as the trigger delivers it", async () => {
    const item = scriptUnderReview(stack.emulator);
    const [event] = eventBridgeEvent(JSON.stringify(item), Date.now());
    const id = queue().send(Buffer.from(JSON.stringify(event)).toString('base64')).MessageId;
    const out = await redrive();
    expect(out.code, out.stdout).toBe(EXIT_SUCCESS);
    expect(out.stdout).toContain(`message ${id}, parked `);
    expect(out.stdout).toContain(`: withdraw-script-review-withdraw, request ${String(event!.id)}, EventBridge could not deliver it (dead letter); InstanceId ${item.InstanceId} ScriptId ${item.ScriptId}`);
    expect(out.stdout).toContain('1 redriven, 0 done, 0 left');
    expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
    expect(queue().messages()).toEqual([]);
  });

  it('--max N takes at most N messages', async () => {
    const items = [scriptUnderReview(stack.emulator), scriptUnderReview(stack.emulator)];
    items.forEach(parkRecord);
    const out = await redrive('--max', '1');
    expect(out.stdout).toContain('1 redriven, 0 done, 0 left');
    expect(queue().messages()).toHaveLength(1);
  });

  it('two redrives at once redrive each message once: each is taken by one run, and OutboundBot sees one withdrawal per script', async () => {
    const items = Array.from({ length: 4 }, () => scriptUnderReview(stack.emulator));
    const ids = items.map(parkRecord);
    const [a, b] = await Promise.all([redrive(), redrive()]);
    const redriven = (out: Outcome) => ids.filter((id) => new RegExp(`message ${id}[^\\n]*\\n  redriven: `).test(out.stdout));
    expect([...redriven(a), ...redriven(b)].sort()).toEqual([...ids].sort());
    expect(a.code + b.code).toBe(0);
    for (const item of items) expect(answeredWithdrawals(item)).toBe(1);
    expect(queue().messages()).toEqual([]);
  });

  describe('an invocation whose answer is lost', () => {
    let proxy: Server;
    afterEach(() => new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve())));

    it('leaves the message; the next redrive is answered from the delivery record, and the script is withdrawn once', async () => {
      // Forwards each request to the front end and cuts the connection when the answer arrives.
      proxy = createServer((req, res) => {
        const upstream = request({ host: '127.0.0.1', port: stack.frontend.port, path: req.url, method: req.method, headers: req.headers }, () => res.socket?.destroy());
        req.pipe(upstream);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const item = scriptUnderReview(stack.emulator);
      const id = parkRecord(item);

      const lost = await cli(['redrive', '--endpoint', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, '--mns-endpoint', stack.mns.url]);
      expect(lost.code).toBe(EXIT_WITHDRAWAL_FAILED);
      expect(lost.stdout).toContain(`left ${id}: no answer: the connection to`);
      expect(queue().messages()).toEqual([expect.objectContaining({ MessageId: id })]);
      expect(answeredWithdrawals(item)).toBe(1); // it did act

      const again = await redrive();
      expect(again.code, again.stdout).toBe(EXIT_SUCCESS);
      expect(again.stdout).toContain('1 redriven, 0 done, 0 left');
      expect(queue().messages()).toEqual([]);
      expect(answeredWithdrawals(item)).toBe(1);
      expect(stack.emulator.withdrawals(item.InstanceId, item.ScriptId)).toBe(1);
    });
  });
});
