/**
 * The MNS emulator through the official SDK (`@alicloud/mns`), unchanged: the queue actions the
 * failure queue's producer and redrive use, in MNS's XML, and MNS's own signature checked as the
 * real service checks it (a wrong secret, an unknown key, a stale Date are refused, and change nothing).
 */
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startMnsEmulator, type MnsEmulator } from '../../emulator/mns';
import { openFailureQueue } from '../../local/redrive/failure-queue';

const KEY = { accessKeyId: 'LTAI5tMnsTestKey', accessKeySecret: 'mns-test-secret' };
const QUEUE = 'withdraw-script-review-failures';
const ACCOUNT = '1234567890123456';

type Sdk = {
  sendMessage(queue: string, params: Record<string, unknown>): Promise<{ code: number; body: Record<string, string> }>;
  receiveMessage(queue: string, waitSeconds?: number): Promise<{ code: number; body: Record<string, string> }>;
};
const MnsClient = createRequire(import.meta.url)('@alicloud/mns') as new (account: string, options: Record<string, unknown>) => Sdk;

let mns: MnsEmulator;
let nowMs: number;

beforeEach(async () => {
  nowMs = Date.now();
  mns = await startMnsEmulator({ credentials: [KEY], queues: [{ name: QUEUE, visibilityTimeoutSeconds: 30 }], now: () => nowMs });
});

afterEach(async () => {
  await mns.close();
});

const sdk = (key: { accessKeyId: string; accessKeySecret: string } = KEY) => new MnsClient(ACCOUNT, { ...key, endpoint: mns.url });
const queue = () => openFailureQueue({ accountId: ACCOUNT, region: 'cn-shanghai', endpoint: mns.url, credentials: KEY }, QUEUE);

describe('the queue actions, through the official SDK', () => {
  it('sends, receives (hiding the message), changes its visibility and deletes it by receipt handle', async () => {
    const body = '{"requestPayload":"{\\"InstanceId\\":\\"a&b<c>\\"}"}';
    const sent = await sdk().sendMessage(QUEUE, { MessageBody: body.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') });
    expect(sent.code).toBe(201);
    expect(sent.body.MessageId).toMatch(/^[0-9A-F]{32}$/);

    const received = await queue().receive();
    expect(received).toMatchObject({ messageId: sent.body.MessageId, body, dequeueCount: 1 });
    expect(await queue().receive()).toBeUndefined(); // hidden from every other reader
    expect(await queue().peek(16)).toEqual([]);

    const handle = await queue().hide(received!.receiptHandle!, 60);
    await expect(queue().delete(received!.receiptHandle!)).rejects.toMatchObject({ code: 'MessageNotExist' }); // the old handle stopped working
    nowMs += 45_000; // past the queue's 30 s, within the 60 s asked for
    expect(await queue().receive()).toBeUndefined();
    await queue().delete(handle);
    nowMs += 60_000;
    expect(mns.queue(QUEUE)!.messages()).toEqual([]);
  });

  it('peeks without hiding or counting; a message comes back once its visibility timeout is over', async () => {
    mns.queue(QUEUE)!.send('one');
    mns.queue(QUEUE)!.send('two');
    expect((await queue().peek(16)).map((m) => [m.body, m.dequeueCount, m.receiptHandle])).toEqual([['one', 0, undefined], ['two', 0, undefined]]);
    const first = await queue().receive();
    expect(first?.body).toBe('one');
    expect((await queue().peek(16)).map((m) => m.body)).toEqual(['two']);
    nowMs += 30_001;
    expect((await queue().receive())?.body).toBe('two');
    const again = await queue().receive();
    expect(again).toMatchObject({ body: 'one', dequeueCount: 2 });
    expect(again!.receiptHandle).not.toBe(first!.receiptHandle);
  });

  it("takes a body of MNS's 64 KB and refuses one byte more, whoever sends it (the local FC's parking too)", async () => {
    const fits = 'x'.repeat(65_536);
    expect((await sdk().sendMessage(QUEUE, { MessageBody: fits })).code).toBe(201);
    await expect(sdk().sendMessage(QUEUE, { MessageBody: `${fits}x` })).rejects.toMatchObject({ name: 'MNSInvalidArgumentError' });
    expect(() => mns.queue(QUEUE)!.send(`${fits}x`)).toThrow(/MessageTooLong/);
    expect(mns.queue(QUEUE)!.messages()).toHaveLength(1);
  });

  it('answers a queue it does not hold with 404 QueueNotExist', async () => {
    const other = openFailureQueue({ accountId: ACCOUNT, region: 'cn-shanghai', endpoint: mns.url, credentials: KEY }, 'no-such-queue');
    await expect(other.receive()).rejects.toMatchObject({ name: 'QueueError', code: 'QueueNotExist', message: 'ReceiveMessage failed: QueueNotExist (HTTP 404)' });
  });
});

describe("MNS's signature, checked as the service checks it", () => {
  it('refuses a request signed with a wrong secret: 403 SignatureDoesNotMatch in MNS error XML, and nothing is sent', async () => {
    const refused = sdk({ accessKeyId: KEY.accessKeyId, accessKeySecret: 'not-the-secret' }).sendMessage(QUEUE, { MessageBody: 'x' });
    await expect(refused).rejects.toMatchObject({ name: 'MNSSignatureDoesNotMatchError', message: expect.stringContaining('failed with 403') });
    expect(mns.queue(QUEUE)!.messages()).toEqual([]);
  });

  it('refuses an unknown AccessKeyId with 403 InvalidAccessKeyId, and a receive with a wrong secret takes nothing', async () => {
    mns.queue(QUEUE)!.send('parked');
    await expect(sdk({ accessKeyId: 'LTAI5tUnknown', accessKeySecret: KEY.accessKeySecret }).receiveMessage(QUEUE)).rejects.toMatchObject({ name: 'MNSInvalidAccessKeyIdError' });
    await expect(sdk({ ...KEY, accessKeySecret: 'wrong' }).receiveMessage(QUEUE)).rejects.toMatchObject({ name: 'MNSSignatureDoesNotMatchError' });
    expect(mns.queue(QUEUE)!.messages()).toEqual([expect.objectContaining({ MessageBody: 'parked', DequeueCount: 0 })]);
  });

  it('refuses a Date more than 15 minutes from its clock (408 TimeExpired), and accepts one within', async () => {
    mns.queue(QUEUE)!.send('parked');
    nowMs = Date.now() + 15 * 60_000 + 5_000; // the SDK dates its request with the real clock
    await expect(queue().receive()).rejects.toMatchObject({ code: 'TimeExpired', message: 'ReceiveMessage failed: TimeExpired (HTTP 408)' });
    nowMs = Date.now() + 14 * 60_000;
    expect((await queue().receive())?.body).toBe('parked');
  });

  it('refuses a request without an Authorization header', async () => {
    const response = await fetch(`${mns.url}/queues/${QUEUE}/messages`, { headers: { date: new Date().toUTCString() } });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/<Error xmlns="http:\/\/mns\.aliyuncs\.com\/doc\/v1\/"><Code>MissingAuthorizationHeader<\/Code>/);
  });

  it('holds the body to its signed Content-MD5: a body swapped under valid headers is 400 InvalidDegist', async () => {
    const signed = '<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>signed</MessageBody></Message>';
    const resource = `/queues/${QUEUE}/messages`;
    // The SDK's own headers (Date, Content-MD5, Authorization) for the signed body.
    const headers = (sdk() as unknown as { buildHeaders(m: string, b: Buffer, r: string): Record<string, string> }).buildHeaders('POST', Buffer.from(signed), resource);
    const send = (body: string) => fetch(`${mns.url}${resource}`, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, body });
    const swapped = await send(signed.replace('signed', 'swapped'));
    expect(swapped.status).toBe(400);
    expect(await swapped.text()).toContain('<Code>InvalidDegist</Code>');
    expect(mns.queue(QUEUE)!.messages()).toEqual([]);
    expect((await send(signed)).status).toBe(201);
    expect(mns.queue(QUEUE)!.messages()).toEqual([expect.objectContaining({ MessageBody: 'signed' })]);
  });
});
