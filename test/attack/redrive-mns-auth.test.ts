/**
 * Adversary on issue #21: the local MNS endpoint `npm start` serves must check request signatures
 * as MNS does. Requests are signed here by hand from MNS's documented scheme (not with the
 * emulator's own signer): a correctly signed one is accepted, and each tampering is refused.
 */
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_FC_KEY } from '../../local/local-keys';
import { park, QUEUE, useRedriveWorld } from './redrive-helpers';

const world = useRedriveWorld();
const PATH = `/queues/${QUEUE}/messages`;

interface Wire {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** MNS's scheme: HMAC-SHA1 over VERB, Content-MD5, Content-Type, Date, the x-mns-* headers (lower-case, sorted) and the resource. */
function signed(wire: Wire, secret: string = LOCAL_FC_KEY.accessKeySecret): Wire {
  const h = Object.fromEntries(Object.entries(wire.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const mns = Object.keys(h).filter((k) => k.startsWith('x-mns-')).sort().map((k) => `${k}:${h[k]}\n`).join('');
  const toSign = `${wire.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${mns}${wire.path}`;
  const signature = createHmac('sha1', secret).update(toSign, 'utf8').digest('base64');
  return { ...wire, headers: { ...wire.headers, Authorization: `MNS ${LOCAL_FC_KEY.accessKeyId}:${signature}` } };
}

function send(wire: Wire): Promise<{ status: number; code: string | undefined }> {
  const url = new URL(world.stack.mns.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: wire.method, path: wire.path, headers: wire.headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode!, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] }));
    });
    req.on('error', reject);
    req.end(wire.body);
  });
}

const peek = (dateMs = Date.now()): Wire => ({
  method: 'GET',
  path: `${PATH}?peekonly=true`,
  headers: { Date: new Date(dateMs).toUTCString(), 'x-mns-version': '2015-06-06', 'Content-Type': 'text/xml;charset=utf-8' },
});

const sendMessage = (body: string): Wire => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>${body}</MessageBody></Message>`;
  const md5 = Buffer.from(createHash('md5').update(xml).digest('hex')).toString('base64');
  return { method: 'POST', path: PATH, body: xml, headers: { Date: new Date().toUTCString(), 'x-mns-version': '2015-06-06', 'Content-Type': 'text/xml;charset=utf-8', 'Content-MD5': md5, 'Content-Length': String(Buffer.byteLength(xml)) } };
};

const refused = (answer: { status: number; code: string | undefined }) => answer.status >= 400 && answer.code !== 'MessageNotExist';

beforeAll(() => void park(world, '{"not":"redriven here"}'));
afterAll(() => {
  const queue = world.stack.mns.queue(QUEUE)!;
  for (const m of queue.receive(16)) queue.delete(m.ReceiptHandle!);
});

describe('the MNS emulator verifies signatures like MNS', () => {
  it('accepts a request signed by hand from the documented scheme (the baseline every refusal below departs from)', async () => {
    expect(await send(signed(peek()))).toMatchObject({ status: 200 });
  });

  it('refuses an unsigned request', async () => {
    expect(refused(await send(peek()))).toBe(true);
  });

  it('refuses a request signed with the wrong secret', async () => {
    expect(await send(signed(peek(), 'not-the-secret'))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it.each([
    ['Date', { headers: { Date: new Date(Date.now() - 60_000).toUTCString() } }],
    ['Content-Type', { headers: { 'Content-Type': 'application/json' } }],
    ['x-mns-version', { headers: { 'x-mns-version': '2099-01-01' } }],
    ['x-mns-extra (a header added after signing)', { headers: { 'x-mns-extra': 'smuggled' } }],
  ] as const)('refuses a request whose %s differs from what was signed', async (_name, change) => {
    const good = signed(peek());
    const tampered: Wire = { ...good, headers: { ...good.headers, ...change.headers } };
    expect(await send(tampered)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a signature over another path or another query', async () => {
    const good = signed(peek());
    expect(refused(await send({ ...good, path: `/queues/other-queue/messages?peekonly=true` }))).toBe(true);
    expect(await send({ ...good, path: `${PATH}?peekonly=true&numOfMessages=16` })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await send({ ...good, path: PATH })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' }); // a receive, not a peek
  });

  it('refuses the replay of a correctly signed request whose Date is more than 15 minutes old', async () => {
    expect(await send(signed(peek(Date.now() - 16 * 60_000)))).toMatchObject({ status: 408, code: 'TimeExpired' });
    expect(await send(signed(peek(Date.now() + 16 * 60_000)))).toMatchObject({ status: 408, code: 'TimeExpired' });
  });

  it('refuses a SendMessage whose body was altered after signing (Content-MD5 holds it) and one whose Content-MD5 was altered', async () => {
    const good = signed(sendMessage('{"InstanceId":"a","ScriptId":"b"}'));
    const before = world.stack.mns.queue(QUEUE)!.messages().length;
    expect(await send({ ...good, body: good.body!.replace('"b"', '"c"') })).toMatchObject({ status: 400, code: 'InvalidDegist' });
    const md5 = Buffer.from(createHash('md5').update('other').digest('hex')).toString('base64');
    expect(await send({ ...good, headers: { ...good.headers, 'Content-MD5': md5 } })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(world.stack.mns.queue(QUEUE)!.messages()).toHaveLength(before);
  });

  it('refuses a signed SendMessage whose Content-MD5 was stripped and body altered (the signature covered the digest)', async () => {
    const good = signed(sendMessage('{"InstanceId":"a","ScriptId":"b"}'));
    const { 'Content-MD5': _, ...headers } = good.headers;
    const body = good.body!.replace('"b"', '"c"');
    const before = world.stack.mns.queue(QUEUE)!.messages().length;
    expect(await send({ ...good, body, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(world.stack.mns.queue(QUEUE)!.messages()).toHaveLength(before);
  });
});

describe('the MNS emulator keeps MNS limits the loop depends on', () => {
  it('FIXED: a SendMessage over 64 KB (MNS\'s message size limit) is refused, through the official SDK', async () => {
    const Client = require('@alicloud/mns');
    const sdk = new Client('1234567890123456', { ...LOCAL_FC_KEY, region: 'cn-shanghai', endpoint: world.stack.mns.url });
    const before = world.stack.mns.queue(QUEUE)!.messages().length;
    const outcome = await sdk.sendMessage(QUEUE, { MessageBody: 'x'.repeat(70 * 1024) }).then(
      () => 'accepted',
      (error: Error) => error.name,
    );
    expect(outcome).not.toBe('accepted');
    expect(world.stack.mns.queue(QUEUE)!.messages()).toHaveLength(before);
  });
});
