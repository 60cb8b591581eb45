// Attacks on secrecy and the callback: echoing upstreams, SSRF to loopback, redirects, slow receivers.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ALLOWED, SECRET, calls, ctx, fresh, httpAnswer, instance, signed, useWorld } from './helpers';

const world = useWorld();
const CALLBACK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const servers = world.servers;

/** A TCP listener that counts connections (and answers nothing): proves whether anything connected. */
async function counter(): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { port: (server.address() as net.AddressInfo).port, connections: () => n };
}
async function httpServer(handler: http.RequestListener): Promise<{ port: number; hits: () => number; bodies: string[] }> {
  let n = 0;
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    n++;
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => bodies.push(body));
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { port: (server.address() as net.AddressInfo).port, hits: () => n, bodies };
}


describe('secrets echoed by the upstream', () => {
  it('a refusal whose Message carries the STS token and key secret percent-encoded (as an RPC "string to sign" echo does) never reaches the answer, log or callback', async () => {
    const receiver = await httpServer((_req, res) => res.writeHead(204).end());
    const w = await instance(world, { CALLBACK_URL: `http://127.0.0.1:${receiver.port}/cb`, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_SECRET });
    const [id] = fresh(world, 1);
    const { securityToken, accessKeySecret } = world.role;
    const enc = (s: string) => encodeURIComponent(s);
    const message = `Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeySecret%3D${enc(enc(accessKeySecret))}%26SecurityToken%3D${enc(securityToken)}`;
    world.emulator.injectFault({ kind: 'status', status: 400, code: 'SignatureDoesNotMatch', message }, { action: 'WithdrawScriptReview' });
    const a = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world)));
    const everything = JSON.stringify(a.body) + w.output() + receiver.bodies.join('');
    for (const [name, form] of [
      ['token %-encoded', enc(securityToken)],
      ['secret double-%-encoded', enc(enc(accessKeySecret))],
      ['token body (no CAIS prefix, first 40 chars)', enc(securityToken).slice(4, 44)],
    ] as const) {
      expect([name, everything.includes(form)]).toEqual([name, false]);
    }
  });

  it('the built-in echo-secrets fault (Authorization + raw token): masked everywhere', async () => {
    const w = await instance(world);
    const [id] = fresh(world, 1);
    world.emulator.injectFault({ kind: 'echo-secrets', status: 400 }, { action: 'WithdrawScriptReview' });
    const a = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world)));
    const everything = JSON.stringify(a.body) + w.output();
    expect(everything).not.toContain(world.role.securityToken);
    expect(everything).not.toContain(world.role.accessKeySecret);
  });

  it('a bad WEBHOOK_SECRET or CALLBACK_SECRET is named, never echoed', async () => {
    const badWebhook = 'whsec_c2hvcnQ=';
    const w = await instance(world, { WEBHOOK_SECRET: `${SECRET} ${badWebhook}` });
    const a = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: 'x' })), ctx(world)));
    expect(a.status).toBe(500);
    expect(JSON.stringify(a.body) + w.output()).not.toContain('c2hvcnQ');
    const badCallback = 'not-a-whsec-but-a-secret-value-123';
    const receiver = await httpServer((_req, res) => res.writeHead(204).end());
    const w2 = await instance(world, { CALLBACK_URL: `http://127.0.0.1:${receiver.port}/`, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_SECRET: badCallback });
    const [id] = fresh(world, 1);
    const b = httpAnswer(await w2.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world)));
    expect(JSON.stringify(b.body) + w2.output()).not.toContain(badCallback);
    expect(receiver.hits()).toBe(0);
  });

  it('the callback a receiver gets carries no secret, and its reply (echoing headers) is not reflected', async () => {
    const receiver = await httpServer((req, res) => res.writeHead(500, { 'x-echo': String(req.headers['webhook-signature']) }).end(JSON.stringify(req.headers)));
    const w = await instance(world, { CALLBACK_URL: `http://127.0.0.1:${receiver.port}/cb?k=capability-9876`, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_SECRET, CALLBACK_TIMEOUT_MS: '500' });
    const [id] = fresh(world, 1);
    const a = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world, 5)));
    const everything = JSON.stringify(a.body) + w.output() + receiver.bodies.join('');
    for (const s of [SECRET, CALLBACK_SECRET, world.role.securityToken, world.role.accessKeySecret, 'capability-9876']) expect(everything).not.toContain(s);
    expect(JSON.stringify(a.body)).not.toMatch(/v1,[A-Za-z0-9+/=]{20}/);
    expect(a.body.Callback.Url).toBe(`http://127.0.0.1:${receiver.port}`);
  });
});

describe('SSRF', () => {
  it('CALLBACK_URL naming loopback in every spelling, not allow-listed: refused after DNS, nothing connects', async () => {
    const target = await counter();
    const p = target.port;
    const spellings = [`https://localhost:${p}/`, `https://vm:${p}/`, `https://127.1:${p}/`, `https://2130706433:${p}/`, `https://0x7f.0.0.1:${p}/`, `https://0177.0.0.1:${p}/`, `https://0.0.0.0:${p}/`, `https://0:${p}/`, `https://[::1]:${p}/`, `https://[::ffff:127.0.0.1]:${p}/`, `https://[::ffff:7f00:1]:${p}/`, `https://[::127.0.0.1]:${p}/`, `https://[0:0:0:0:0:ffff:127.0.0.1]:${p}/`, `https://[::]:${p}/`, `https://localhost.:${p}/`, `https://LOCALHOST:${p}/`, `http://127.0.0.1:${p}/`, `https://127.0.0.1:${p}/`, `https://127.255.255.254:${p}/`, `https://user:pw@127.0.0.1:${p}/`];
    for (const url of spellings) {
      const w = await instance(world, { CALLBACK_URL: url, CALLBACK_ALLOWED_HOSTS: 'hooks.example.com', CALLBACK_SECRET });
      const [id] = fresh(world, 1);
      const a = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world, 5)));
      // A name this resolver cannot resolve (`localhost.` here) fails at DNS: no connection either.
      const refused = a.body.Callback?.Code === 'CallbackRefused' || (a.body.Callback?.Code === 'CallbackFailed' && /DNS lookup/.test(a.body.Callback?.Message));
      expect([url, a.status, refused]).toEqual([url, 200, true]);
      w.kill();
    }
    expect(target.connections()).toBe(0);
  }, 60_000);

  it('a per-request CallbackUrl on loopback without allow-listing, in tricky spellings: 400 before any withdrawal', async () => {
    const target = await counter();
    const p = target.port;
    const w = await instance(world, { CALLBACK_ALLOWED_HOSTS: `hooks.example.com 127.0.0.1:${p + 1}` });
    const [id] = fresh(world, 1);
    const urls = [`http://127.0.0.1:${p}/`, `https://hooks.example.com@127.0.0.1:${p}/`, `https://127.0.0.1:${p}\\@hooks.example.com/`, `https://127.0.0.1:${p}#@hooks.example.com/`, `https://hooks.example.com:443@127.0.0.1:${p}/`, ` https://127.0.0.1:${p}/ `, `https://127.0.0.1:${p}\t/`, `https://hooks.example.com\t@127.0.0.1:${p}/`, `http://127.0.0.1:${p + 1}@127.0.0.1:${p}/`, `https://hooks.example.com%2f@127.0.0.1:${p}/`, `//127.0.0.1:${p}/`, `https://[::1]:${p}/`];
    for (const CallbackUrl of urls) {
      const a = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id, CallbackUrl })), ctx(world)));
      expect([CallbackUrl, a.status]).toEqual([CallbackUrl, 400]);
    }
    expect(calls(world, [id!])).toBe(0);
    expect(target.connections()).toBe(0);
  });

  it('redirects are never followed (301/302/303/307/308 from an allow-listed receiver to another loopback port)', async () => {
    const target = await counter();
    for (const status of [301, 302, 303, 307, 308]) {
      const redirector = await httpServer((_req, res) => res.writeHead(status, { location: `http://127.0.0.1:${target.port}/stolen` }).end());
      const w = await instance(world, { CALLBACK_URL: `http://127.0.0.1:${redirector.port}/`, CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${redirector.port}`, CALLBACK_SECRET });
      const [id] = fresh(world, 1);
      const a = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world, 5)));
      expect(a.body.Callback).toMatchObject({ Delivered: false, Code: 'CallbackFailed', StatusCode: status });
      w.kill();
    }
    expect(target.connections()).toBe(0);
  }, 30_000);
});

describe('slow and hostile receivers', () => {
  it('a receiver that trickles its response byte by byte forever, and one that sends headers byte by byte: 12 items withdrawn, answer inside the deadline', async () => {
    const trickle = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(t));
    });
    const slowHeaders = net.createServer((s) => {
      const text = 'HTTP/1.1 200 OK\r\nX-A: ' + 'a'.repeat(10_000);
      let i = 0;
      const t = setInterval(() => (i < text.length ? s.write(text[i++]!) : undefined), 20);
      s.on('close', () => clearInterval(t));
      s.on('error', () => clearInterval(t));
      s.on('data', () => undefined);
    });
    await new Promise<void>((r) => slowHeaders.listen(0, '127.0.0.1', r));
    servers.push(slowHeaders);
    const slowPort = (slowHeaders.address() as net.AddressInfo).port;
    for (const url of [`http://127.0.0.1:${trickle.port}/`, `http://127.0.0.1:${slowPort}/`]) {
      const w = await instance(world, { CALLBACK_URL: url, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_SECRET, CALLBACK_TIMEOUT_MS: '400', RETRY_MAX_ATTEMPTS: '4' });
      const ids = fresh(world, 12);
      const started = Date.now();
      const a = httpAnswer(await w.invoke(signed(JSON.stringify({ Items: ids.map((ScriptId) => ({ InstanceId: ALLOWED, ScriptId })) })), ctx(world, 3)));
      const elapsed = Date.now() - started;
      expect(elapsed).toBeLessThan(3_000);
      expect(a.body.Results.filter((r: { Success: boolean }) => !r.Success)).toEqual([]);
      w.kill();
    }
  }, 30_000);

  it('a receiver answering 503 with retry-after: 1 (10 attempts allowed): no retry past the deadline', async () => {
    const r = await httpServer((_req, res) => res.writeHead(503, { 'retry-after': '1' }).end());
    const w = await instance(world, { CALLBACK_URL: `http://127.0.0.1:${r.port}/`, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_SECRET, RETRY_MAX_ATTEMPTS: '10' });
    const [id] = fresh(world, 1);
    const started = Date.now();
    const a = httpAnswer(await w.invoke(signed(JSON.stringify({ InstanceId: ALLOWED, ScriptId: id })), ctx(world, 2)));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(a.body.Success).toBe(true);
  }, 15_000);
});
