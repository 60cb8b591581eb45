/**
 * MNS's own request signature, checked as the service checks it:
 * `Authorization: MNS <AccessKeyId>:<Signature>`, where the signature is
 * base64(HMAC-SHA1(secret, VERB \n Content-MD5 \n Content-Type \n Date \n
 * CanonicalizedMNSHeaders CanonicalizedResource)); the x-mns-* headers are lower-cased, sorted and
 * written `name:value\n`; the resource is the request path with its query as sent. The Date may
 * be at most 15 minutes off, and a Content-MD5 must match the body.
 *
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What the signature is checked against. */
export interface MnsRequest {
  method: string;
  /** Path and query exactly as received (`req.url`). */
  resource: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A refusal in MNS's terms: its HTTP status and error Code. */
export interface MnsRefusal {
  status: number;
  code: string;
  message: string;
}

export const MNS_MAX_CLOCK_SKEW_MS = 15 * 60_000;
const AUTHORIZATION = /^MNS ([^:\s]+):(\S+)$/;

/** The string MNS signs, from the request's own headers. */
export function stringToSign({ method, resource, headers }: Omit<MnsRequest, 'body'>): string {
  const canonical = Object.keys(headers)
    .map((name) => name.toLowerCase())
    .filter((name) => name.startsWith('x-mns-'))
    .sort()
    .map((name) => `${name}:${header(headers, name) ?? ''}\n`)
    .join('');
  return `${method}\n${header(headers, 'content-md5') ?? ''}\n${header(headers, 'content-type') ?? ''}\n${header(headers, 'date') ?? ''}\n${canonical}${resource}`;
}

export function signMns(secret: string, request: Omit<MnsRequest, 'body'>): string {
  return createHmac('sha1', secret).update(stringToSign(request), 'utf8').digest('base64');
}

/** Undefined when the request is MNS-signed by a key in `secrets` (AccessKeyId → secret) within the clock window. */
export function authenticateMns(request: MnsRequest, secrets: ReadonlyMap<string, string>, nowMs: number): MnsRefusal | undefined {
  const authorization = header(request.headers, 'authorization');
  if (authorization === undefined) return { status: 400, code: 'MissingAuthorizationHeader', message: 'Authorization header is required.' };
  const match = AUTHORIZATION.exec(authorization);
  if (!match) return { status: 400, code: 'InvalidAuthorizationHeader', message: 'The Authorization header format is invalid.' };
  const date = header(request.headers, 'date');
  if (date === undefined) return { status: 400, code: 'MissingDateHeader', message: 'Date header is required.' };
  const dateMs = Date.parse(date);
  if (Number.isNaN(dateMs)) return { status: 400, code: 'InvalidDateHeader', message: 'The Date header format is invalid.' };
  if (Math.abs(nowMs - dateMs) > MNS_MAX_CLOCK_SKEW_MS) return { status: 408, code: 'TimeExpired', message: 'The http request you sent is expired.' };
  const secret = secrets.get(match[1]!);
  if (secret === undefined) return { status: 403, code: 'InvalidAccessKeyId', message: 'The AccessKey Id you provided is not exist.' };
  const expected = Buffer.from(signMns(secret, request));
  const given = Buffer.from(match[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  }
  return digestRefusal(header(request.headers, 'content-md5'), request.body);
}

/**
 * The signature covers Content-MD5, not the body, so the body is held to it. The Node.js SDK
 * sends base64 of the hex digest; base64 of the raw digest (RFC 1864) is accepted too.
 */
function digestRefusal(contentMd5: string | undefined, body: Buffer): MnsRefusal | undefined {
  if (contentMd5 === undefined) return undefined;
  const digest = createHash('md5').update(body).digest();
  const accepted = [Buffer.from(digest.toString('hex')).toString('base64'), digest.toString('base64')];
  return accepted.includes(contentMd5) ? undefined : { status: 400, code: 'InvalidDegist', message: 'The Content-MD5 you specified is invalid.' };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}
