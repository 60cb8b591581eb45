/**
 * The local front end's FC signature check against what @alicloud/fc2 really sends: a
 * request captured on the wire must pass, and each kind of tampering must fail with its
 * own reason, so the local invoke path refuses what Function Compute would refuse.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcSignature, fcStringToSign, verifyFcRequest, type FcKey } from '../../local/fc-signature';

interface Captured {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

interface Fc2Client {
  version: string;
  post(path: string, body: string, headers: Record<string, string>): Promise<unknown>;
}
type Fc2 = (new (accountId: string, config: Record<string, unknown>) => Fc2Client) & {
  getSignature(id: string, secret: string, method: string, path: string, headers: Record<string, unknown>, queries: null): string;
};

const load = createRequire(import.meta.url);
const FC = load('@alicloud/fc2') as Fc2;
const fc2Helper = load('@alicloud/fc2/lib/helper.js') as { composeStringToSign(method: string, path: string, headers: Record<string, unknown>, queries: null): string };

const KEY = { accessKeyId: 'LTAI5tSignatureTestKey', accessKeySecret: 'signature-test-secret' };
const STS = { accessKeyId: 'STS.NSignatureTest', accessKeySecret: 'sts-secret', securityToken: 'CAIS-sts-token-for-the-test' };
const INVOKE_PATH = '/2023-03-30/functions/withdraw/invocations';
const BODY = JSON.stringify({ InstanceId: 'instance-1', ScriptId: 'script-1' });
const MINUTE = 60_000;

let server: Server;
let endpoint: string;
const captured: Captured[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      captured.push({ method: req.method ?? '', path: req.url ?? '', headers: flatten(req.headers), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function flatten(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]));
}

/** One invocation made by fc2 itself (FC 3.0 version, as the CLI sets it), as the server received it. */
async function captureFc2Request(
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string } = KEY,
  headers: Record<string, string> = { 'x-fc-invocation-type': 'Sync' },
): Promise<Captured> {
  const client = new FC('1234567890123456', {
    accessKeyID: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    securityToken: credentials.securityToken,
    region: 'cn-shanghai',
    endpoint,
    timeout: 5_000,
  });
  client.version = '2023-03-30';
  const before = captured.length;
  await client.post('/functions/withdraw/invocations', BODY, headers);
  expect(captured).toHaveLength(before + 1);
  return captured[before]!;
}

function keysFor(credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string }): Map<string, FcKey> {
  return new Map([[credentials.accessKeyId, { accessKeySecret: credentials.accessKeySecret, securityToken: credentials.securityToken }]]);
}

function verify(request: Captured, keys: ReadonlyMap<string, FcKey> = keysFor(KEY), nowMs = Date.parse(request.headers.date ?? '')) {
  return verifyFcRequest(request, keys, nowMs);
}

function base64OfHexMd5(body: Buffer): string {
  return Buffer.from(createHash('md5').update(body).digest('hex'), 'utf8').toString('base64');
}

describe('what fc2 sends', () => {
  it('goes to the FC 3.0 invoke path and passes the check', async () => {
    const request = await captureFc2Request();
    expect(request.method).toBe('POST');
    expect(request.path).toBe(INVOKE_PATH);
    expect(request.headers.authorization).toMatch(/^FC LTAI5tSignatureTestKey:[A-Za-z0-9+/]+=*$/);
    expect(request.body.toString()).toBe(BODY);
    expect(verify(request)).toBeUndefined();
  });

  it('is signed over the same string fc2 composes', async () => {
    const request = await captureFc2Request(KEY, { 'x-fc-invocation-type': 'Async', 'x-fc-log-type': 'None' });
    const ours = fcStringToSign(request.method, request.path, request.headers);
    expect(ours).toBe(fc2Helper.composeStringToSign(request.method, request.path, request.headers, null));
    expect(ours).toContain('x-fc-invocation-type:Async\nx-fc-log-type:None\n');
    expect(`FC ${KEY.accessKeyId}:${fcSignature(KEY.accessKeySecret, ours)}`).toBe(request.headers.authorization);
    expect(verify(request)).toBeUndefined();
  });

  it('passes with an STS key whose token matches, and fails when the token differs', async () => {
    const request = await captureFc2Request(STS);
    expect(request.headers['x-fc-security-token']).toBe(STS.securityToken);
    expect(verify(request, keysFor(STS))).toBeUndefined();
    expect(verify(request, keysFor({ ...STS, securityToken: 'CAIS-another-token' }))).toBe('InvalidSecurityToken');
  });
});

describe('tampering', () => {
  it('a changed body fails the content MD5', async () => {
    const request = await captureFc2Request();
    const body = Buffer.from(request.body.toString().replace('script-1', 'script-2'));
    expect(verify({ ...request, body })).toBe('InvalidContentMD5');
  });

  it('a changed body with a recomputed MD5 fails the signature, which covers the MD5', async () => {
    const request = await captureFc2Request();
    const body = Buffer.from(request.body.toString().replace('script-1', 'script-2'));
    expect(verify({ ...request, body, headers: { ...request.headers, 'content-md5': base64OfHexMd5(body) } })).toBe('SignatureNotMatch');
  });

  it('an emptied body with its MD5 header removed fails the signature', async () => {
    const request = await captureFc2Request();
    const { 'content-md5': _md5, ...headers } = request.headers;
    expect(verify({ ...request, body: Buffer.alloc(0), headers })).toBe('SignatureNotMatch');
  });

  it.each([
    ['x-fc-invocation-type', 'Async'],
    ['x-fc-account-id', '1234567890123457'],
    ['x-fc-added-header', 'anything'],
    ['content-type', 'application/json'],
  ])('a changed or added %s header fails the signature', async (name, value) => {
    const request = await captureFc2Request();
    expect(verify({ ...request, headers: { ...request.headers, [name]: value } })).toBe('SignatureNotMatch');
  });

  it('a header fc2 does not sign (user-agent) may change', async () => {
    const request = await captureFc2Request();
    expect(verify({ ...request, headers: { ...request.headers, 'user-agent': 'curl/8' } })).toBeUndefined();
  });

  it('another function in the path fails the signature', async () => {
    const request = await captureFc2Request();
    expect(verify({ ...request, path: '/2023-03-30/functions/cleanup/invocations' })).toBe('SignatureNotMatch');
  });

  it('another method fails the signature', async () => {
    const request = await captureFc2Request();
    expect(verify({ ...request, method: 'PUT' })).toBe('SignatureNotMatch');
  });

  it('a date moved by one second, still fresh, fails the signature', async () => {
    const request = await captureFc2Request();
    const date = new Date(Date.parse(request.headers.date!) + 1_000).toUTCString();
    expect(verify({ ...request, headers: { ...request.headers, date } }, keysFor(KEY), Date.parse(date))).toBe('SignatureNotMatch');
  });

  it('one flipped character of the signature fails', async () => {
    const request = await captureFc2Request();
    const authorization = request.headers.authorization!;
    const at = authorization.indexOf(':') + 1;
    const flipped = `${authorization.slice(0, at)}${authorization[at] === 'A' ? 'B' : 'A'}${authorization.slice(at + 1)}`;
    expect(verify({ ...request, headers: { ...request.headers, authorization: flipped } })).toBe('SignatureNotMatch');
  });

  it('the right AccessKeyId with the wrong secret fails the signature', async () => {
    const request = await captureFc2Request({ ...KEY, accessKeySecret: 'not-the-secret' });
    expect(verify(request)).toBe('SignatureNotMatch');
  });

  it('an unknown AccessKeyId is refused before anything else', async () => {
    const request = await captureFc2Request({ accessKeyId: 'LTAI5tSomebodyElse', accessKeySecret: KEY.accessKeySecret });
    expect(verify(request)).toBe('InvalidAccessKeyId');
  });

  it('no Authorization header, or one that is not an FC signature, is missing authorization', async () => {
    const request = await captureFc2Request();
    const { authorization: _authorization, ...headers } = request.headers;
    expect(verify({ ...request, headers })).toBe('MissingAuthorization');
    expect(verify({ ...request, headers: { ...headers, authorization: `ACS3-HMAC-SHA256 Credential=${KEY.accessKeyId}` } })).toBe('MissingAuthorization');
  });
});

describe('freshness', () => {
  it('accepts a date up to 15 minutes either side of the clock', async () => {
    const request = await captureFc2Request();
    const sentMs = Date.parse(request.headers.date!);
    expect(verify(request, keysFor(KEY), sentMs + 15 * MINUTE)).toBeUndefined();
    expect(verify(request, keysFor(KEY), sentMs - 15 * MINUTE)).toBeUndefined();
  });

  it('refuses a replay after 15 minutes, and a date from the future', async () => {
    const request = await captureFc2Request();
    const sentMs = Date.parse(request.headers.date!);
    expect(verify(request, keysFor(KEY), sentMs + 15 * MINUTE + 1_000)).toBe('RequestTimeTooSkewed');
    expect(verify(request, keysFor(KEY), sentMs - 16 * MINUTE)).toBe('RequestTimeTooSkewed');
  });

  it('refuses a missing or unreadable date', async () => {
    const request = await captureFc2Request();
    const { date: _date, ...headers } = request.headers;
    expect(verify({ ...request, headers }, keysFor(KEY), Date.now())).toBe('RequestTimeTooSkewed');
    expect(verify({ ...request, headers: { ...headers, date: 'yesterday' } }, keysFor(KEY), Date.now())).toBe('RequestTimeTooSkewed');
  });
});

describe('fcSignature', () => {
  it('is the signature fc2 computes for the same request', () => {
    const headers = { date: 'Tue, 24 Nov 2026 20:00:00 GMT', 'content-type': 'application/octet-stream', 'content-md5': 'abc', 'x-fc-account-id': '1' };
    const expected = FC.getSignature(KEY.accessKeyId, KEY.accessKeySecret, 'POST', INVOKE_PATH, headers, null);
    expect(`FC ${KEY.accessKeyId}:${fcSignature(KEY.accessKeySecret, fcStringToSign('POST', INVOKE_PATH, headers))}`).toBe(expected);
  });
});
