/**
 * ACS3-HMAC-SHA256, the V3 request signature of Alibaba Cloud's OpenAPI gateway, as plain
 * functions: {@link signRequest} for callers that want a signed request without the SDK
 * (the benchmark's floor), {@link verifyRequest} for the emulator.
 *
 * Wire compatibility with `@alicloud/openapi-client` 0.4.x (`openapi-util` `getAuthorization`)
 * is the point, so where that client and the written spec could differ the client wins:
 * - it signs `host` as the endpoint it was configured with, port included, and sends that
 *   same value as the `Host` header;
 * - it signs every `x-acs-*` header it sends (including `x-acs-credentials-provider` and, with
 *   STS, `x-acs-accesskey-id`), plus `content-type` when there is a body;
 * - it puts parameters in the URL with `querystring.stringify`, which leaves `!'()*` raw, so
 *   the verifier re-encodes the decoded values rather than trusting the raw query text;
 * - with no body it still sends `Content-Length: 0` and signs the hash of the empty string.
 *
 * @module
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/**
 * Headers a signature must cover. Without them a captured signature could be replayed later
 * (date, nonce), against another host, API or version, or with another body.
 */
export const REQUIRED_SIGNED_HEADERS: readonly string[] = [
  'host',
  'x-acs-action',
  'x-acs-content-sha256',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-version',
];

const EMPTY_BODY_SHA256 = createHash('sha256').update('').digest('hex');
const ACS_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/i;

/** The parts of an `Authorization: ACS3-HMAC-SHA256 …` header. */
export interface Acs3Authorization {
  readonly accessKeyId: string;
  /** As the client listed them: the canonical request uses this order, not a re-sorted one. */
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** What {@link signRequest} needs; header names may be in any case. */
export interface SignRequestInput {
  readonly method: string;
  /** `host[:port]` exactly as the `Host` header will carry it. */
  readonly host: string;
  readonly pathname: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Typically `x-acs-action`, `x-acs-version` and, with a body, `content-type`. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
  /** Epoch milliseconds to stamp as `x-acs-date`; defaults to the wall clock. */
  readonly now?: number;
}

/** A request as a server received it: decoded query, Node-style lower-case header names. */
export interface ReceivedRequest {
  readonly method: string;
  /** The path exactly as it arrived, without the query. */
  readonly pathname: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array;
}

export type VerifyFailureCode = 'IncompleteSignature' | 'InvalidContentSha256' | 'SignatureDoesNotMatch';

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly code: VerifyFailureCode; readonly message: string };

/** RFC 3986 encoding: `encodeURIComponent` leaves `!'()*` alone, the gateway does not. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Sorted `key=value` pairs, both RFC 3986-encoded. The result is also a valid URL query, so a
 * raw client can send exactly the string it signed. (The official client leaves keys raw; API
 * parameter names are plain ASCII, where the two agree.)
 */
export function canonicalQueryString(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .sort()
    .map((key) => `${percentEncode(key)}=${percentEncode(query[key] ?? '')}`)
    .join('&');
}

/** `x-acs-date` format: ISO 8601 UTC to the second, no milliseconds. */
export function formatAcsDate(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19)}Z`;
}

/** Epoch milliseconds of a well-formed `x-acs-date`, else undefined. */
export function parseAcsDate(value: string | undefined): number | undefined {
  if (value === undefined || !ACS_DATE_PATTERN.test(value)) return undefined;
  const epochMs = Date.parse(value);
  return Number.isNaN(epochMs) ? undefined : epochMs;
}

export function sha256Hex(body: string | Uint8Array | undefined): string {
  if (body === undefined || body.length === 0) return EMPTY_BODY_SHA256;
  return createHash('sha256').update(body).digest('hex');
}

/** Undefined when the header is not a well-formed ACS3-HMAC-SHA256 authorization. */
export function parseAuthorization(header: string): Acs3Authorization | undefined {
  const prefix = `${ACS3_ALGORITHM} `;
  if (!header.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(prefix.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signedHeaders || !signature) return undefined;
  return { accessKeyId, signedHeaders: signedHeaders.split(';'), signature };
}

/** Returns the headers to send: the caller's, lower-cased, plus host, date, nonce, hash, token and authorization. */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['host'] = input.host;
  headers['x-acs-date'] = formatAcsDate(input.now ?? Date.now());
  headers['x-acs-signature-nonce'] = randomUUID();
  const payloadHash = sha256Hex(input.body);
  headers['x-acs-content-sha256'] = payloadHash;
  if (input.securityToken) headers['x-acs-security-token'] = input.securityToken;
  const signedHeaders = Object.keys(headers).filter(isSignableHeader).sort();
  const canonical = canonicalRequest(input.method, input.pathname, input.query ?? {}, signedHeaders, (name) => headers[name], payloadHash);
  const signature = createHmac('sha256', input.accessKeySecret).update(stringToSign(canonical)).digest('hex');
  headers['authorization'] = `${ACS3_ALGORITHM} Credential=${input.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
  return headers;
}

/**
 * Checks coverage, body hash and signature, in that order. Dates, nonces, tokens and key
 * lookup are the caller's: they need state (clock, nonce memory, credential store).
 */
export function verifyRequest(request: ReceivedRequest, authorization: Acs3Authorization, accessKeySecret: string): VerifyResult {
  const uncovered = uncoveredHeader(request.headers, authorization.signedHeaders);
  if (uncovered !== undefined) {
    return { ok: false, code: 'IncompleteSignature', message: `The signature does not cover the header ${uncovered}.` };
  }
  const payloadHash = sha256Hex(request.body);
  if (request.headers['x-acs-content-sha256'] !== payloadHash) {
    return { ok: false, code: 'InvalidContentSha256', message: 'x-acs-content-sha256 does not match the SHA-256 of the body.' };
  }
  const canonical = canonicalRequest(request.method, request.pathname, request.query, authorization.signedHeaders, (name) => headerValue(request.headers, name), payloadHash);
  const serverStringToSign = stringToSign(canonical);
  const expected = createHmac('sha256', accessKeySecret).update(serverStringToSign).digest();
  if (!SIGNATURE_PATTERN.test(authorization.signature) || !timingSafeEqual(expected, Buffer.from(authorization.signature, 'hex'))) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: `Specified signature does not match our calculation. Server string to sign is: ${JSON.stringify(serverStringToSign)}`,
    };
  }
  return { ok: true };
}

function isSignableHeader(name: string): boolean {
  return name === 'host' || name === 'content-type' || name.startsWith('x-acs-');
}

/**
 * The first header that must be signed but is not (or is signed but absent). Every `x-acs-*`
 * header present counts, not just the required ones: an unsigned security token or action
 * could otherwise be swapped under a valid signature.
 */
function uncoveredHeader(headers: ReceivedRequest['headers'], signedHeaders: readonly string[]): string | undefined {
  const signed = new Set(signedHeaders);
  for (const name of REQUIRED_SIGNED_HEADERS) if (!signed.has(name)) return name;
  for (const name of Object.keys(headers)) if (isSignableHeader(name) && !signed.has(name)) return name;
  for (const name of signedHeaders) if (headerValue(headers, name) === undefined) return name;
  return undefined;
}

function headerValue(headers: ReceivedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function canonicalRequest(
  method: string,
  pathname: string,
  query: Readonly<Record<string, string>>,
  signedHeaders: readonly string[],
  valueOf: (name: string) => string | undefined,
  payloadHash: string,
): string {
  let headerLines = '';
  for (const name of signedHeaders) headerLines += `${name}:${(valueOf(name) ?? '').trim()}\n`;
  return `${method}\n${pathname}\n${canonicalQueryString(query)}\n${headerLines}\n${signedHeaders.join(';')}\n${payloadHash}`;
}

function stringToSign(canonical: string): string {
  return `${ACS3_ALGORITHM}\n${createHash('sha256').update(canonical).digest('hex')}`;
}
