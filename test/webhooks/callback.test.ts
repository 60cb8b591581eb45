import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../lib/core/errors';
import { parseAllowedHosts } from '../../lib/webhooks/allowed-hosts';
import { MIN_ATTEMPT_MS } from '../../lib/core/retry-policy';
import { type CallbackConfig, type CallbackDeps, sendCallback } from '../../lib/webhooks/callback';
import { parseRetryAfterMs } from '../../lib/webhooks/callback-attempt';
import { verifyWebhook } from '../../lib/webhooks/verify';

const SECRET = `whsec_${Buffer.from('callback-test-secret-24b!').toString('base64')}`;
const PAYLOAD = { InstanceId: 'inst-1', ScriptId: 'script-1', Success: true, HttpStatusCode: 200, Attempts: 1 };
const START_MS = 1_750_000_000_000; // whole second, so HTTP-date retry-after maths is exact

// A throwaway self-signed certificate for hooks.example.test (test-only key).
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpF86gcYvM1047dA
And0/58vfHGlrc/zPCliNLOK8yChRANCAASzQ4NC5IqvsiZfSXjD7W1I7lKsdIu6
+3wVbHkIpoCnTdgkuVP0TWQ2bmYR2EBEYdm14sRUOMEAoWVI+NCwB2Fm
-----END PRIVATE KEY-----`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBsTCCAVagAwIBAgIUWKs5lY8ke0gduWN8j+qTnjNVhWgwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSaG9va3MuZXhhbXBsZS50ZXN0MCAXDTI2MTEyNDIwMTMxN1oY
DzIxMjYxMDMxMjAxMzE3WjAdMRswGQYDVQQDDBJob29rcy5leGFtcGxlLnRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASzQ4NC5IqvsiZfSXjD7W1I7lKsdIu6
+3wVbHkIpoCnTdgkuVP0TWQ2bmYR2EBEYdm14sRUOMEAoWVI+NCwB2Fmo3IwcDAd
BgNVHQ4EFgQUKYFVzZ6v1cPSjlDH82z1vuJ49RswHwYDVR0jBBgwFoAUKYFVzZ6v
1cPSjlDH82z1vuJ49RswDwYDVR0TAQH/BAUwAwEB/zAdBgNVHREEFjAUghJob29r
cy5leGFtcGxlLnRlc3QwCgYIKoZIzj0EAwIDSQAwRgIhAMma5qscnvrq+WdAZm2n
oEwZq05mulpCK6C7N6qugtUcAiEA7jUowHb7dmUaBdM7L26KWNgCFg4Y+a4/mrXO
an4alVk=
-----END CERTIFICATE-----`;

interface Received {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, received: Received, index: number) => void;

interface TestServer {
  port: number;
  received: Received[];
  connections: number;
  /** TLS only: the server name the client asked for. */
  sni?: string;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(handler: Handler, tls = false, host = '127.0.0.1'): Promise<TestServer> {
  const received: Received[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers as Record<string, string | undefined>,
        body: Buffer.concat(chunks),
      };
      received.push(entry);
      handler(req, res, entry, received.length - 1);
    });
  };
  const context = createSecureContext({ key: TLS_KEY, cert: TLS_CERT });
  const server = tls
    ? https.createServer(
        {
          SNICallback: (servername, cb) => {
            state.sni = servername;
            cb(null, context);
          },
        },
        listener,
      )
    : http.createServer(listener);
  const state: TestServer = {
    port: 0,
    received,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => {
    state.connections += 1; // raw TCP connections, before any TLS or HTTP
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.port = (server.address() as AddressInfo).port;
  servers.push(state);
  return state;
}

function reply(res: http.ServerResponse, status: number, headers: Record<string, string> = {}, body = '') {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers });
  res.end(body);
}

function fakeDeps(lookup?: CallbackDeps['lookup']) {
  const clock = { t: START_MS, sleeps: [] as number[] };
  const deps: CallbackDeps = {
    nowMs: () => clock.t,
    sleep: async (ms) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
    random: () => 0.5,
    ...(lookup ? { lookup } : {}),
  };
  return { clock, deps };
}

const realDeps: CallbackDeps = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

function config(url: string, overrides: Partial<CallbackConfig> = {}): CallbackConfig {
  return { url, secret: SECRET, allowedHosts: ['127.0.0.1'], timeoutMs: 2_000, maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 5_000, ...overrides };
}

/** A lookup that records its calls and answers from a script (last answer repeats). */
function scriptedLookup(...answers: Array<Array<{ address: string; family: 4 | 6 }>>) {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    return answers[Math.min(calls.length - 1, answers.length - 1)]!;
  };
  return { calls, lookup };
}

function verifyReceived(received: Received, nowMs: number) {
  return verifyWebhook({ secrets: [SECRET], headers: received.headers, rawBody: received.body, nowMs });
}

describe('sendCallback delivery', () => {
  it('POSTs the signed JSON payload and reports the URL as scheme and host only (a path or query may be a token)', async () => {
    const server = await startServer((_req, res) => reply(res, 204));
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/hook/cap-7f3a9?token=abc#frag`), PAYLOAD, START_MS + 30_000, deps);

    expect(report).toMatchObject({ Delivered: true, StatusCode: 204, Attempts: 1, Url: `http://127.0.0.1:${server.port}` });
    expect(report.Code).toBeUndefined();
    expect(report.WebhookId).toMatch(/^msg_[A-Za-z0-9_-]{16,}$/);
    expect(server.received).toHaveLength(1);
    const got = server.received[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/hook/cap-7f3a9?token=abc');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.body.toString()).toBe(JSON.stringify(PAYLOAD));
    expect(got.headers['webhook-id']).toBe(report.WebhookId);
    expect(got.headers['webhook-timestamp']).toBe(String(START_MS / 1000));
    expect(verifyReceived(got, clock.t).webhookId).toBe(report.WebhookId);
    const reportText = JSON.stringify(report);
    expect(reportText).not.toContain(SECRET.slice(6));
    expect(reportText).not.toContain(got.headers['webhook-signature']!.slice(3));
    expect(reportText).not.toContain('token=abc');
    expect(reportText).not.toContain('cap-7f3a9');
  });

  it('sends no webhook-signature without a secret, and a fresh webhook-id per call', async () => {
    const server = await startServer((_req, res) => reply(res, 200));
    const { deps } = fakeDeps();
    const url = `http://127.0.0.1:${server.port}/`;
    const first = await sendCallback(config(url, { secret: undefined }), PAYLOAD, START_MS + 30_000, deps);
    const second = await sendCallback(config(url, { secret: undefined }), PAYLOAD, START_MS + 30_000, deps);
    expect([first.Delivered, second.Delivered]).toEqual([true, true]);
    expect(server.received[0]!.headers['webhook-signature']).toBeUndefined();
    expect(first.WebhookId).not.toBe(second.WebhookId);
  });

  it('retries a 503 with backoff and the same webhook-id, then reports success', async () => {
    const server = await startServer((_req, res, _r, i) => reply(res, i === 0 ? 503 : 200));
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS + 30_000, deps);

    expect(report).toMatchObject({ Delivered: true, StatusCode: 200, Attempts: 2 });
    expect(server.received).toHaveLength(2);
    expect(server.received[0]!.headers['webhook-id']).toBe(report.WebhookId);
    expect(server.received[1]!.headers['webhook-id']).toBe(report.WebhookId);
    expect(clock.sleeps).toEqual([100]); // full jitter: random 0.5 × base 200 ms
    for (const r of server.received) expect(verifyReceived(r, clock.t).webhookId).toBe(report.WebhookId);
  });

  it('gives up after maxAttempts of 5xx with exponential backoff', async () => {
    const server = await startServer((_req, res) => reply(res, 500));
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, StatusCode: 500, Attempts: 3, Code: 'CallbackFailed' });
    expect(server.received).toHaveLength(3);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('honours retry-after in seconds on 429, with a fresh timestamp and signature per attempt', async () => {
    const server = await startServer((_req, res, _r, i) => (i === 0 ? reply(res, 429, { 'retry-after': '7' }) : reply(res, 200)));
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS + 30_000, deps);

    expect(report).toMatchObject({ Delivered: true, Attempts: 2 });
    expect(clock.sleeps).toEqual([7_000]);
    const [a, b] = server.received;
    expect(Number(b!.headers['webhook-timestamp'])).toBe(Number(a!.headers['webhook-timestamp']) + 7);
    expect(b!.headers['webhook-signature']).not.toBe(a!.headers['webhook-signature']);
    expect(verifyReceived(a!, START_MS).webhookId).toBe(report.WebhookId);
    expect(verifyReceived(b!, clock.t).webhookId).toBe(report.WebhookId);
  });

  it('honours retry-after as an HTTP date', async () => {
    const retryAt = new Date(START_MS + 3_000).toUTCString();
    const server = await startServer((_req, res, _r, i) => (i === 0 ? reply(res, 503, { 'retry-after': retryAt }) : reply(res, 200)));
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: true, Attempts: 2 });
    expect(clock.sleeps).toEqual([3_000]);
  });

  it('does not wait for a retry-after that ends past the deadline', async () => {
    const server = await startServer((_req, res) => reply(res, 429, { 'retry-after': '120' }));
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, StatusCode: 429, Attempts: 1, Code: 'CallbackFailed' });
    expect(report.Message).toMatch(/deadline/);
    expect(report.Message).toBe('Receiver answered 429; retry-after of 120 s does not fit before the deadline');
    expect(clock.sleeps).toEqual([]);
    expect(server.received).toHaveLength(1);
  });

  it('does not wait for a backoff that ends past the deadline, and says so', async () => {
    const server = await startServer((_req, res) => reply(res, 500));
    const { clock, deps } = fakeDeps();
    // The attempt starts with 130 ms left; the backoff (100 ms) would leave less than MIN_ATTEMPT_MS.
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS + 130, deps);
    expect(report).toMatchObject({ Delivered: false, StatusCode: 500, Attempts: 1, Code: 'CallbackFailed' });
    expect(report.Message).toBe('Receiver answered 500; the next retry does not fit before the deadline');
    expect(clock.sleeps).toEqual([]);
    expect(server.received).toHaveLength(1);
  });

  it('adds no deadline note when the attempts, not the deadline, ran out', async () => {
    const server = await startServer((_req, res) => reply(res, 503, { 'retry-after': '1' }));
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`, { maxAttempts: 2 }), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, StatusCode: 503, Attempts: 2, Code: 'CallbackFailed', Message: 'Receiver answered 503' });
    expect(clock.sleeps).toEqual([1_000]);
  });

  it('takes its backoff from the configuration, not from defaults of its own', async () => {
    const server = await startServer((_req, res) => reply(res, 500));
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(
      config(`http://127.0.0.1:${server.port}/`, { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 3_000 }),
      PAYLOAD,
      START_MS + 30_000,
      deps,
    );
    expect(report).toMatchObject({ Delivered: false, Attempts: 4 });
    expect(clock.sleeps).toEqual([500, 1_000, 1_500]); // random 0.5 × min(3 000, 1 000·2^(n-1))
  });

  it.each([400, 401, 404, 410, 422])('does not retry a %i', async (status) => {
    const server = await startServer((_req, res) => reply(res, status));
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, StatusCode: status, Attempts: 1, Code: 'CallbackFailed' });
    expect(server.received).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('does not follow a 302', async () => {
    const server = await startServer((req, res) =>
      req.url === '/hook' ? reply(res, 302, { location: `http://127.0.0.1:${server.port}/elsewhere` }) : reply(res, 200),
    );
    const { deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/hook`), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, StatusCode: 302, Attempts: 1, Code: 'CallbackFailed' });
    expect(report.Message).toMatch(/redirect/i);
    expect(server.received.map((r) => r.url)).toEqual(['/hook']);
  });

  it('reads at most a little of a huge response body', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(Buffer.alloc(64 * 1024, 'x'));
      // …and never ends: only the cap lets the attempt finish.
    });
    const { deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`, { timeoutMs: 5_000 }), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: true, StatusCode: 200, Attempts: 1 });
  });

  it('retries network errors and reports them', async () => {
    const server = await startServer((_req, res) => reply(res, 200));
    const port = server.port;
    await server.close();
    const { clock, deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${port}/`), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, Attempts: 3, Code: 'CallbackFailed' });
    expect(report.StatusCode).toBeUndefined();
    expect(report.Message).toMatch(/ECONNREFUSED/);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('never throws, even for a payload JSON cannot encode', async () => {
    const { deps } = fakeDeps();
    const report = await sendCallback(config('http://127.0.0.1:9/'), { n: 1n }, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackFailed' });
    expect(report.Message).toMatch(/JSON/);
  });
});

describe('sendCallback timing (real clock)', () => {
  it('times a hanging receiver out within timeoutMs', async () => {
    const server = await startServer(() => {
      /* never answers */
    });
    const started = Date.now();
    const report = await sendCallback(
      config(`http://127.0.0.1:${server.port}/`, { timeoutMs: 300, maxAttempts: 1 }),
      PAYLOAD,
      started + 10_000,
      realDeps,
    );
    const elapsed = Date.now() - started;
    expect(report).toMatchObject({ Delivered: false, Attempts: 1, Code: 'CallbackTimeout' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_000);
    expect(server.received).toHaveLength(1);
  });

  it('never runs past the deadline, whatever timeoutMs and maxAttempts say', async () => {
    const server = await startServer(() => {
      /* never answers */
    });
    const started = Date.now();
    const deadline = started + 400;
    const report = await sendCallback(
      config(`http://127.0.0.1:${server.port}/`, { timeoutMs: 5_000, maxAttempts: 5 }),
      PAYLOAD,
      deadline,
      realDeps,
    );
    const finished = Date.now();
    expect(report).toMatchObject({ Delivered: false, Code: 'CallbackTimeout' });
    expect(finished - started).toBeGreaterThanOrEqual(350);
    expect(finished - deadline).toBeLessThan(100);
  });

  it('sends nothing when the deadline has already passed', async () => {
    const server = await startServer((_req, res) => reply(res, 200));
    const { deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS - 1, deps);
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackTimeout' });
    expect(server.connections).toBe(0);
  });

  it(`starts no attempt, the first included, with less than ${MIN_ATTEMPT_MS} ms left`, async () => {
    const server = await startServer((_req, res) => reply(res, 200));
    const { deps } = fakeDeps();
    const report = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS + MIN_ATTEMPT_MS - 1, deps);
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackTimeout', Message: 'Deadline reached before the callback could be sent' });
    expect(server.connections).toBe(0);
    const inTime = await sendCallback(config(`http://127.0.0.1:${server.port}/`), PAYLOAD, START_MS + MIN_ATTEMPT_MS, deps);
    expect(inTime).toMatchObject({ Delivered: true, Attempts: 1 });
  });

  it(`starts no DNS lookup with less than ${MIN_ATTEMPT_MS} ms left: no attempt could follow it`, async () => {
    const { calls, lookup } = scriptedLookup([{ address: '127.0.0.1', family: 4 }]);
    const { deps } = fakeDeps(lookup);
    const report = await sendCallback(
      config('http://hooks.example.test/', { allowedHosts: ['hooks.example.test'] }),
      PAYLOAD,
      START_MS + MIN_ATTEMPT_MS - 1,
      deps,
    );
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackTimeout', Message: 'Deadline reached before the callback could be sent' });
    expect(calls).toEqual([]);
  });

  it('bounds a hanging DNS lookup by timeoutMs', async () => {
    const lookup = () => new Promise<Array<{ address: string; family: 4 | 6 }>>(() => {});
    const started = Date.now();
    const report = await sendCallback(
      config('https://hooks.example.test/', { timeoutMs: 200 }),
      PAYLOAD,
      started + 10_000,
      { ...realDeps, lookup },
    );
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackTimeout' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('sendCallback SSRF policy', () => {
  it.each([
    ['127.0.0.1', 4],
    ['10.0.0.5', 4],
    ['100.100.100.200', 4],
    ['169.254.169.254', 4],
    ['::1', 6],
    ['fd00::1', 6],
    ['::ffff:127.0.0.1', 6],
  ] as const)('refuses an https host resolving to %s unless allow-listed, sending nothing', async (address, family) => {
    const server = await startServer((_req, res) => reply(res, 200));
    const { calls, lookup } = scriptedLookup([{ address, family }]);
    const { deps } = fakeDeps(lookup);
    const report = await sendCallback(
      config(`https://hooks.example.test:${server.port}/hook`, { allowedHosts: ['other.example.test'] }),
      PAYLOAD,
      START_MS + 30_000,
      deps,
    );
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackRefused' });
    expect(report.Message).toContain(address);
    expect(calls).toEqual(['hooks.example.test']);
    expect(server.connections).toBe(0);
  });

  it('refuses when ANY resolved address is internal', async () => {
    const { lookup } = scriptedLookup([
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ]);
    const { deps } = fakeDeps(lookup);
    const report = await sendCallback(config('https://hooks.example.test/', { allowedHosts: [] }), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Attempts: 0, Code: 'CallbackRefused' });
  });

  it.each(['https://127.0.0.1:9/', 'https://[::1]:9/', 'https://[::ffff:a9fe:a9fe]/', 'https://100.100.100.200/latest/meta-data'])(
    'refuses the IP literal %s without a DNS lookup',
    async (url) => {
      const { calls, lookup } = scriptedLookup([{ address: '93.184.216.34', family: 4 }]);
      const { deps } = fakeDeps(lookup);
      const report = await sendCallback(config(url, { allowedHosts: [] }), PAYLOAD, START_MS + 30_000, deps);
      expect(report).toMatchObject({ Attempts: 0, Code: 'CallbackRefused' });
      expect(calls).toEqual([]);
    },
  );

  it('refuses http:// to a host that is not allow-listed, before any lookup', async () => {
    const { calls, lookup } = scriptedLookup([{ address: '93.184.216.34', family: 4 }]);
    const { deps } = fakeDeps(lookup);
    const report = await sendCallback(
      config('http://hooks.example.test/hook', { allowedHosts: ['hooks.example.test:8443'] }),
      PAYLOAD,
      START_MS + 30_000,
      deps,
    );
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackRefused' });
    expect(report.Message).toMatch(/https/);
    expect(calls).toEqual([]);
  });

  it.each(['ftp://hooks.example.test/x', 'file:///etc/passwd', 'not a url'])('refuses %s', async (url) => {
    const { deps } = fakeDeps(scriptedLookup([{ address: '93.184.216.34', family: 4 }]).lookup);
    const report = await sendCallback(config(url), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackRefused' });
  });

  it('refuses a URL with userinfo and keeps it out of the report', async () => {
    const server = await startServer((_req, res) => reply(res, 200));
    const { deps } = fakeDeps();
    const report = await sendCallback(config(`http://user:hunter2@127.0.0.1:${server.port}/hook`), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackRefused', Url: `http://127.0.0.1:${server.port}` });
    expect(JSON.stringify(report)).not.toContain('hunter2');
    expect(server.connections).toBe(0);
  });

  it('refuses an invalid CALLBACK_SECRET without echoing it', async () => {
    const { deps } = fakeDeps();
    const report = await sendCallback(config('http://127.0.0.1:9/', { secret: 'not-a-whsec-secret' }), PAYLOAD, START_MS + 30_000, deps);
    expect(report).toMatchObject({ Delivered: false, Attempts: 0, Code: 'CallbackRefused' });
    expect(report.Message).toContain('CALLBACK_SECRET');
    expect(report.Message).not.toContain('not-a-whsec-secret');
  });

  it('admits an allow-listed name resolving to loopback, over http, keeping the Host header', async () => {
    const server = await startServer((_req, res) => reply(res, 200));
    const { calls, lookup } = scriptedLookup([{ address: '127.0.0.1', family: 4 }]);
    const { clock, deps } = fakeDeps(lookup);
    const report = await sendCallback(
      config(`http://HOOKS.example.test:${server.port}/hook`, { allowedHosts: ['hooks.example.test'] }),
      PAYLOAD,
      START_MS + 30_000,
      deps,
    );
    expect(report).toMatchObject({ Delivered: true, Attempts: 1 });
    expect(calls).toEqual(['hooks.example.test']);
    expect(server.received[0]!.headers.host).toBe(`hooks.example.test:${server.port}`);
    expect(verifyReceived(server.received[0]!, clock.t).webhookId).toBe(report.WebhookId);
  });

  it('reaches an allow-listed IPv6 receiver, by literal and by a name resolving to ::1', async () => {
    const server = await startServer((_req, res) => reply(res, 200), false, '::1');
    const { deps } = fakeDeps(scriptedLookup([{ address: '::1', family: 6 }]).lookup);
    const byLiteral = await sendCallback(config(`http://[::1]:${server.port}/`, { allowedHosts: ['[::1]'] }), PAYLOAD, START_MS + 30_000, deps);
    expect(byLiteral).toMatchObject({ Delivered: true, Url: `http://[::1]:${server.port}` });
    const byName = await sendCallback(
      config(`http://hooks.example.test:${server.port}/`, { allowedHosts: ['hooks.example.test'] }),
      PAYLOAD,
      START_MS + 30_000,
      deps,
    );
    expect(byName).toMatchObject({ Delivered: true });
    expect(server.received.map((r) => r.headers.host)).toEqual([`[::1]:${server.port}`, `hooks.example.test:${server.port}`]);
  });

  it('connects to the checked address on every attempt: one lookup, a changed answer is never used', async () => {
    // The server closes each connection, so the retry must open a new socket.
    const server = await startServer((_req, res, _r, i) => reply(res, i === 0 ? 503 : 200, { connection: 'close' }));
    const { calls, lookup } = scriptedLookup(
      [{ address: '127.0.0.1', family: 4 }],
      [{ address: '192.0.2.1', family: 4 }], // a rebinding answer: unroutable TEST-NET
    );
    const { deps } = fakeDeps(lookup);
    const report = await sendCallback(
      config(`http://hooks.example.test:${server.port}/`, { allowedHosts: ['hooks.example.test'], timeoutMs: 1_000 }),
      PAYLOAD,
      START_MS + 30_000,
      deps,
    );
    expect(report).toMatchObject({ Delivered: true, StatusCode: 200, Attempts: 2 });
    expect(calls).toHaveLength(1);
    expect(server.received).toHaveLength(2);
    expect(server.connections).toBe(2);
  });

  it('does not reuse a pooled keep-alive socket when a later call resolves the name elsewhere', async () => {
    const server = await startServer((_req, res) => reply(res, 200)); // keep-alive by default
    const url = `http://hooks.example.test:${server.port}/`;
    const cfg = config(url, { allowedHosts: ['hooks.example.test'], timeoutMs: 300, maxAttempts: 1 });
    const first = await sendCallback(cfg, PAYLOAD, START_MS + 30_000, fakeDeps(scriptedLookup([{ address: '127.0.0.1', family: 4 }]).lookup).deps);
    expect(first.Delivered).toBe(true);
    const second = await sendCallback(cfg, PAYLOAD, START_MS + 30_000, fakeDeps(scriptedLookup([{ address: '192.0.2.1', family: 4 }]).lookup).deps);
    expect(second.Delivered).toBe(false);
    expect(server.received).toHaveLength(1);
  });

  it('keeps TLS on the hostname (SNI and certificate check) while connecting to the checked address', async () => {
    const server = await startServer((_req, res) => reply(res, 200), true);
    const { calls, lookup } = scriptedLookup([{ address: '127.0.0.1', family: 4 }]);
    const { deps } = fakeDeps(lookup);
    const report = await sendCallback(
      config(`https://hooks.example.test:${server.port}/hook`, { allowedHosts: ['hooks.example.test'], maxAttempts: 1 }),
      PAYLOAD,
      START_MS + 30_000,
      deps,
    );
    expect(calls).toEqual(['hooks.example.test']);
    expect(server.connections).toBe(1); // reached 127.0.0.1 via the checked address
    expect(server.sni).toBe('hooks.example.test');
    // The certificate is self-signed, so verification (not disabled) must refuse it.
    expect(report).toMatchObject({ Delivered: false, Attempts: 1, Code: 'CallbackFailed' });
    expect(report.Message).toMatch(/self[- ]signed|certificate/i);
    expect(server.received).toHaveLength(0);
  });
});

describe('parseAllowedHosts', () => {
  it('splits on commas and spaces and lower-cases', () => {
    expect(parseAllowedHosts(undefined)).toEqual([]);
    expect(parseAllowedHosts(' Hooks.Example.com, b.example.com:8443  [::1]:9000,')).toEqual([
      'hooks.example.com',
      'b.example.com:8443',
      '[::1]:9000',
    ]);
  });

  it.each(['https://hooks.example.com', 'hooks.example.com/path', 'user@hooks.example.com', 'h:99999', 'h:abc'])(
    'refuses %s naming CALLBACK_ALLOWED_HOSTS',
    (entry) => {
      expect(() => parseAllowedHosts(`ok.example.com,${entry}`)).toThrow(InvalidConfigurationError);
      expect(() => parseAllowedHosts(entry)).toThrow(/CALLBACK_ALLOWED_HOSTS/);
    },
  );
});

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds and HTTP dates relative to the injected clock', () => {
    expect(parseRetryAfterMs('5', START_MS)).toBe(5_000);
    expect(parseRetryAfterMs(new Date(START_MS + 9_000).toUTCString(), START_MS)).toBe(9_000);
    expect(parseRetryAfterMs(new Date(START_MS - 9_000).toUTCString(), START_MS)).toBe(0);
    expect(parseRetryAfterMs('soon', START_MS)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, START_MS)).toBeUndefined();
  });
});
