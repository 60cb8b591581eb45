import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The FC data-plane request signature, as @alicloud/fc2 makes it and FC checks it:
 * `Authorization: FC <AccessKeyId>:<base64 HMAC-SHA256>` over method, content-md5,
 * content-type, date, the sorted `x-fc-*` headers and the path.
 */
export function fcStringToSign(method: string, path: string, headers: Record<string, string | undefined>): string {
  const fcHeaders = Object.keys(headers)
    .map((name) => name.toLowerCase())
    .filter((name) => name.startsWith('x-fc-'))
    .sort()
    .map((name) => `${name}:${headers[name]}\n`)
    .join('');
  return `${method}\n${headers['content-md5'] ?? ''}\n${headers['content-type'] ?? ''}\n${headers.date ?? ''}\n${fcHeaders}${path}`;
}

export function fcSignature(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('base64');
}

export type FcAuthFailure = 'MissingAuthorization' | 'InvalidAccessKeyId' | 'RequestTimeTooSkewed' | 'InvalidContentMD5' | 'SignatureNotMatch' | 'InvalidSecurityToken';

export interface FcKey {
  accessKeySecret: string;
  securityToken?: string;
}

/** Checks a request against known keys; returns the failure, or undefined when it is authentic. */
export function verifyFcRequest(
  request: { method: string; path: string; headers: Record<string, string | undefined>; body: Buffer },
  keys: ReadonlyMap<string, FcKey>,
  nowMs: number,
  maxSkewMs = 15 * 60_000,
): FcAuthFailure | undefined {
  const match = /^FC ([^:]+):(.+)$/.exec(request.headers.authorization ?? '');
  if (!match) return 'MissingAuthorization';
  const key = keys.get(match[1]!);
  if (!key) return 'InvalidAccessKeyId';
  const dateMs = Date.parse(request.headers.date ?? '');
  if (!Number.isFinite(dateMs) || Math.abs(nowMs - dateMs) > maxSkewMs) return 'RequestTimeTooSkewed';
  if (key.securityToken !== undefined && request.headers['x-fc-security-token'] !== key.securityToken) return 'InvalidSecurityToken';
  const md5 = request.headers['content-md5'];
  if (request.body.length > 0 || md5) {
    // fc2 sends base64 of the hex digest, not of the raw digest.
    const expected = Buffer.from(createHash('md5').update(request.body).digest('hex'), 'utf8').toString('base64');
    if (md5 !== expected) return 'InvalidContentMD5';
  }
  const expected = Buffer.from(fcSignature(key.accessKeySecret, fcStringToSign(request.method, request.path, request.headers)));
  const given = Buffer.from(match[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'SignatureNotMatch';
  return undefined;
}
