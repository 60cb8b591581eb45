import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundBotEmulator } from '../../emulator/outboundbot';
import type { FcHttpResponse } from '../../lib/fc/http-trigger';
import type { ItemResult } from '../../lib/withdraw/results';
import { signWebhook, verifyWebhook } from '../../lib/webhooks/verify';
import { httpEvent } from '../support/events';
import { contextFor, script, serviceFor, startTestEmulator, type RoleCredentials } from '../support/stack';

const INSTANCE = 'inst-secure';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OLD_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const CALLBACK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let emulator: OutboundBotEmulator;
let role: RoleCredentials;
let receiver: { url: string; received: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }>; status: number; close(): Promise<void> };
let ids: string[];

beforeAll(async () => {
  ({ emulator, role } = await startTestEmulator());
  const received: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
  const state = { status: 200 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  receiver = {
    url: `http://127.0.0.1:${port}/hooks/withdrawals`,
    received,
    get status() {
      return state.status;
    },
    set status(v: number) {
      state.status = v;
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});
beforeEach(() => {
  emulator.reset();
  receiver.received.length = 0;
  receiver.status = 200;
  ids = [randomUUID(), randomUUID()];
  emulator.addInstance(INSTANCE, ids.map((id) => script(id)));
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

function signedEvent(body: string | Buffer, options: { secret?: string; id?: string; timestampSeconds?: number; contentType?: string; tamper?: (b: Buffer) => Buffer } = {}) {
  const id = options.id ?? `msg_${randomUUID()}`;
  const ts = options.timestampSeconds ?? nowSeconds();
  const raw = Buffer.from(body);
  const signature = signWebhook(options.secret ?? SECRET, id, ts, raw);
  const sent = options.tamper ? options.tamper(raw) : raw;
  return Buffer.from(
    JSON.stringify(
      httpEvent({
        body: typeof body === 'string' && !options.tamper ? body : sent,
        contentType: options.contentType ?? 'application/json',
        headers: { 'Webhook-Id': id, 'Webhook-Timestamp': String(ts), 'Webhook-Signature': signature },
      }),
    ),
  );
}

const secured = (env: Record<string, string> = {}) => serviceFor(emulator, { WEBHOOK_SECRET: SECRET, ALLOW_UNSIGNED_HTTP: 'false', ...env });
const itemBody = (i = 0) => JSON.stringify({ InstanceId: INSTANCE, ScriptId: ids[i] });
const call = async (service: ReturnType<typeof secured>['service'], event: Buffer, requestId = randomUUID()) =>
  (await service.handle(event, contextFor(role, 30, requestId))) as FcHttpResponse;
const bodyOf = (r: FcHttpResponse) => JSON.parse(r.body) as Record<string, any>;

describe('inbound Standard Webhooks verification', () => {
  it('a correctly signed request withdraws', async () => {
    const { service } = secured();
    const response = await call(service, signedEvent(itemBody()));
    expect(response.statusCode).toBe(200);
    expect(emulator.withdrawals(INSTANCE, ids[0]!)).toBe(1);
  });

  it('a base64-encoded body is verified over its exact bytes', async () => {
    const { service } = secured();
    const response = await call(service, signedEvent(Buffer.from(itemBody())));
    expect(response.statusCode).toBe(200);
  });

  it('key rotation: either configured secret is accepted', async () => {
    const { service } = secured({ WEBHOOK_SECRET: `${OLD_SECRET} ${SECRET}` });
    expect((await call(service, signedEvent(itemBody(0), { secret: OLD_SECRET }))).statusCode).toBe(200);
    expect((await call(service, signedEvent(itemBody(1), { secret: SECRET }))).statusCode).toBe(200);
  });

  it.each([
    ['unsigned', (b: string) => Buffer.from(JSON.stringify(httpEvent({ body: b, contentType: 'application/json' })))],
    ['wrong key', (b: string) => signedEvent(b, { secret: OLD_SECRET })],
    ['stale (6 minutes old)', (b: string) => signedEvent(b, { timestampSeconds: nowSeconds() - 360 })],
    ['from the future (6 minutes ahead)', (b: string) => signedEvent(b, { timestampSeconds: nowSeconds() + 360 })],
    ['tampered body', (b: string) => signedEvent(b, { tamper: (raw) => Buffer.from(raw.toString().replace(/.$/, ' }')) })],
  ])('%s → 401 InvalidSignature and no API call', async (_name, make) => {
    const { service, lines } = secured();
    const response = await call(service, make(itemBody()));
    expect(response.statusCode).toBe(401);
    expect(bodyOf(response).Code).toBe('InvalidSignature');
    expect(emulator.requests).toHaveLength(0);
    expect(lines.join('\n')).not.toContain(SECRET.slice(6, 20));
  });

  it('a repeated webhook-id is answered from the first outcome, not withdrawn again', async () => {
    const { service } = secured();
    const event = signedEvent(itemBody());
    const first = await call(service, event);
    const second = await call(service, event);
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.headers['webhook-replayed']).toBe('true');
    expect(bodyOf(second).RequestId).toBe(bodyOf(first).RequestId);
    expect(emulator.withdrawals(INSTANCE, ids[0]!)).toBe(1);
    expect(emulator.requests.filter((r) => r.action === 'WithdrawScriptReview')).toHaveLength(1);
  });

  it('concurrent deliveries of one webhook-id withdraw once', async () => {
    const { service } = secured();
    const event = signedEvent(itemBody());
    const responses = await Promise.all([call(service, event), call(service, event), call(service, event)]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(emulator.withdrawals(INSTANCE, ids[0]!)).toBe(1);
  });

  it('a 70 KB body is 413 before the signature or the JSON is looked at', async () => {
    const { service } = secured();
    const response = await call(service, signedEvent(`{"x":"${'a'.repeat(70 * 1024)}"}`));
    expect(response.statusCode).toBe(413);
    expect(emulator.requests).toHaveLength(0);
  });

  it('a signed body with an unsupported content type is 415', async () => {
    const { service } = secured();
    expect((await call(service, signedEvent(itemBody(), { contentType: 'text/plain' }))).statusCode).toBe(415);
  });

  it('a malformed WEBHOOK_SECRET is 500 InvalidConfiguration naming the variable, not an open door', async () => {
    const { service } = secured({ WEBHOOK_SECRET: 'whsec_***' });
    const response = await call(service, signedEvent(itemBody()));
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response).Message).toContain('WEBHOOK_SECRET');
    expect(emulator.requests).toHaveLength(0);
  });

  it('property: no input without a valid signature reaches the API, and every answer is a typed 4xx', async () => {
    const { service } = secured();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          body: fc.oneof(fc.string(), fc.constant(itemBody())),
          id: fc.string({ maxLength: 40 }),
          ts: fc.oneof(fc.string({ maxLength: 12 }), fc.constant(String(nowSeconds()))),
          sig: fc.oneof(fc.string({ maxLength: 120 }), fc.base64String({ maxLength: 60 }).map((s) => `v1,${s}`)),
          base64: fc.boolean(),
          method: fc.constantFrom('POST', 'GET', 'PUT'),
        }),
        async ({ body, id, ts, sig, base64, method }) => {
          const event = httpEvent({ body: base64 ? Buffer.from(body) : body, contentType: 'application/json', method, headers: { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig } });
          const response = (await service.handle(Buffer.from(JSON.stringify(event)), contextFor(role))) as FcHttpResponse;
          expect([401, 405]).toContain(response.statusCode);
          expect(typeof bodyOf(response).Code).toBe('string');
        },
      ),
      { numRuns: 150 },
    );
    expect(emulator.requests).toHaveLength(0);
  });
});

describe('fuzzing the whole handler', () => {
  it('property: arbitrary event bytes never crash it: always a typed refusal, and no API call', async () => {
    const { service } = secured();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
          fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
          fc.record({ Message: fc.string(), TopicName: fc.string() }).map((value) => Buffer.from(JSON.stringify(value))),
          fc.array(fc.record({ specversion: fc.constant('1.0'), data: fc.jsonValue() }), { maxLength: 3 }).map((value) => Buffer.from(JSON.stringify(value))),
        ),
        async (event) => {
          const answer = (await service.handle(event, contextFor(role))) as Record<string, any>;
          const results: Array<Record<string, any>> = answer.Results ?? [answer.statusCode ? JSON.parse(answer.body) : answer];
          for (const result of results) {
            expect(result.Success).toBe(false);
            expect(result.HttpStatusCode).toBeGreaterThanOrEqual(400);
            expect(result.HttpStatusCode).toBeLessThan(500);
            expect(typeof result.Code).toBe('string');
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(emulator.requests).toHaveLength(0);
  });
});

describe('signed result callbacks', () => {
  const withCallback = (env: Record<string, string> = {}) =>
    serviceFor(emulator, { CALLBACK_URL: receiver.url, CALLBACK_SECRET, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', ...env });
  const invoke = async (service: ReturnType<typeof withCallback>['service'], payload: unknown) =>
    (await service.handle(Buffer.from(JSON.stringify(payload)), contextFor(role))) as ItemResult;

  it('posts each result, signed the Standard Webhooks way, and reports the delivery', async () => {
    const { service } = withCallback();
    const result = await invoke(service, { InstanceId: INSTANCE, ScriptId: ids[0] });
    expect(result.Callback).toMatchObject({ Delivered: true, StatusCode: 200, Attempts: 1 });
    expect(receiver.received).toHaveLength(1);
    const { headers, body } = receiver.received[0]!;
    const verified = verifyWebhook({ secrets: [CALLBACK_SECRET], headers: headers as Record<string, string>, rawBody: body, nowMs: Date.now() });
    expect(verified.webhookId).toBe(result.Callback!.WebhookId);
    expect(JSON.parse(body.toString())).toMatchObject({ InstanceId: INSTANCE, ScriptId: ids[0], Success: true });
  });

  it('a failing receiver is reported and never causes a second withdrawal or a failed event', async () => {
    receiver.status = 503;
    const { service } = withCallback({ RETRY_MAX_ATTEMPTS: '3' });
    const result = await invoke(service, { InstanceId: INSTANCE, ScriptId: ids[0] });
    expect(result.Success).toBe(true);
    expect(result.Callback).toMatchObject({ Delivered: false, StatusCode: 503, Attempts: 3, Code: 'CallbackFailed' });
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(emulator.withdrawals(INSTANCE, ids[0]!)).toBe(1);
  });

  it('a callback host that resolves to the metadata service is refused, the withdrawal still reported', async () => {
    const { service } = serviceFor(emulator, { CALLBACK_URL: 'https://hooks.attacker.test/x' }, { lookup: async () => [{ address: '100.100.100.200', family: 4 }] });
    const result = await invoke(service, { InstanceId: INSTANCE, ScriptId: ids[0] });
    expect(result.Success).toBe(true);
    expect(result.Callback).toMatchObject({ Delivered: false, Code: 'CallbackRefused', Attempts: 0 });
  });

  it('a per-request CallbackUrl outside CALLBACK_ALLOWED_HOSTS is 400 and nothing is withdrawn', async () => {
    const { service } = withCallback();
    const result = (await invoke(service, { InstanceId: INSTANCE, ScriptId: ids[0], CallbackUrl: 'https://elsewhere.example.com/hook' })) as unknown as Record<string, any>;
    expect(result).toMatchObject({ HttpStatusCode: 400, Code: 'InvalidParameter' });
    expect(result.Issues[0].Path).toBe('CallbackUrl');
    expect(emulator.requests).toHaveLength(0);
  });

  it('a per-request CallbackUrl on an allowed host is used', async () => {
    const { service } = serviceFor(emulator, { CALLBACK_ALLOWED_HOSTS: '127.0.0.1' });
    const result = await invoke(service, { InstanceId: INSTANCE, ScriptId: ids[0], CallbackUrl: receiver.url });
    expect(result.Callback?.Delivered).toBe(true);
  });
});

describe('nothing secret reaches a log line', () => {
  it('across success, upstream failure, validation failure, refusal and a crash', async () => {
    const { service, lines } = serviceFor(emulator, { WEBHOOK_SECRET: SECRET, CALLBACK_URL: receiver.url, CALLBACK_SECRET, CALLBACK_ALLOWED_HOSTS: '127.0.0.1' });
    await call(service, signedEvent(itemBody(0)));
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError', message: `echo ${role.securityToken}` }, { times: 10 });
    await call(service, signedEvent(itemBody(1)));
    emulator.reset();
    await call(service, signedEvent(JSON.stringify({ InstanceId: INSTANCE, ScriptId: role.accessKeySecret })));
    await call(service, signedEvent(itemBody(1), { secret: OLD_SECRET }));
    const crashing = {
      ...contextFor(role),
      get credentials(): never {
        throw new Error(`credential provider failed: token=${role.securityToken} webhook=${SECRET} Signature=abcdef0123`);
      },
    };
    await expect(service.handle(signedEvent(itemBody(1)), crashing)).rejects.toThrow();
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const log = lines.join('\n');
    for (const secret of [role.accessKeySecret, role.securityToken, SECRET, SECRET.slice(6), OLD_SECRET.slice(6), CALLBACK_SECRET.slice(6), 'abcdef0123']) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toMatch(/v1,[A-Za-z0-9+/]{20,}/);
  });
});
