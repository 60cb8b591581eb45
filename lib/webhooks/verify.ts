/**
 * Standard Webhooks (https://www.standardwebhooks.com/) signing and verification.
 *
 * Inbound: the HTTP trigger calls {@link verifyWebhook} before it looks at the body, so an
 * unsigned or replayed-too-late request never reaches the withdrawal (DESIGN.md §8).
 * Outbound: the callback sender calls {@link signWebhook} (DESIGN.md §7).
 *
 * Why not `standardwebhooks`' own `Webhook.verify`/`sign`: `verify` reads `Date.now()`
 * (our clock is injected), and `sign` turns a Buffer body into a string with
 * `payload.toString()` — a UTF-8 decode that replaces invalid byte sequences with U+FFFD, so
 * it does not sign the exact raw bytes. We therefore compute the same HMAC-SHA256 with
 * `node:crypto` over `${id}.${timestamp}.` followed by the raw body bytes (identical output
 * for UTF-8 bodies; the tests cross-check against the library) and compare in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidConfigurationError } from '../core/errors';
import { MemoCache } from '../core/memo-cache';
import { InvalidSignatureError } from './errors';

/** ±5 minutes, as the Standard Webhooks spec recommends and DESIGN.md §8 requires. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Below this an HMAC key is guessable; the spec recommends 24–64 bytes. */
const MIN_SECRET_BYTES = 16;

/** Generous bounds so a hostile header cannot make us do unbounded work. */
const MAX_WEBHOOK_ID_CHARS = 256;
const MAX_SIGNATURE_HEADER_CHARS = 8_192;

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TIMESTAMP = /^\d{1,15}$/;

/**
 * Decoded keys by secret string. Validating and decoding a secret costs about 0.4–0.9 µs, a
 * hit about 0.02 µs, against about 2 µs for a whole verification: without the cache every
 * signed request would pay a third more, once per configured secret. Secrets come from
 * configuration only, so a few entries are ever used; the bound (oldest dropped, never
 * expiring) only stops a caller passing ever-new secrets from growing it for good.
 */
const KEY_CACHE_ENTRIES = 16;
// Stryker disable next-line ArrowFunction: the TTL is infinite; with `() => undefined` an entry expires at undefined + Infinity = NaN, and `NaN <= undefined` is false, so no entry ever expires, as with `() => 0`
const keyCache = new MemoCache<Buffer>(KEY_CACHE_ENTRIES, Number.POSITIVE_INFINITY, () => 0);

/**
 * Decodes a `whsec_<base64>` secret into its HMAC key.
 * @throws InvalidConfigurationError naming `variableName` (never echoing the secret).
 */
export function decodeWebhookSecret(secret: string, variableName = 'WEBHOOK_SECRET'): Buffer {
  const cached = keyCache.get(secret);
  if (cached) return cached;
  let problem: string | undefined;
  if (!secret.startsWith(SECRET_PREFIX)) {
    problem = `must start with "${SECRET_PREFIX}"`;
  } else {
    const encoded = secret.slice(SECRET_PREFIX.length);
    if (encoded === '' || !BASE64.test(encoded)) {
      problem = `must be "${SECRET_PREFIX}" followed by standard padded base64`;
    } else if (Buffer.from(encoded, 'base64').length < MIN_SECRET_BYTES) {
      problem = `must decode to at least ${MIN_SECRET_BYTES} bytes`;
    }
  }
  if (problem !== undefined) {
    throw new InvalidConfigurationError([{ Path: variableName, Message: `each secret ${problem}` }]);
  }
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  keyCache.set(secret, key);
  return key;
}

/**
 * Parses `WEBHOOK_SECRET` (or `CALLBACK_SECRET`): one or more `whsec_` secrets separated by
 * spaces or commas, so a key can be rotated by listing old and new side by side.
 * Empty or unset → `[]` (the caller decides whether unsigned requests are allowed).
 * @throws InvalidConfigurationError naming the variable when an entry is not a valid secret.
 */
export function parseWebhookSecrets(value: string | undefined, variableName = 'WEBHOOK_SECRET'): string[] {
  if (value === undefined) return [];
  // Stryker disable next-line Regex: splitting on each separator instead of each run only adds empty entries, which the filter drops
  const secrets = value.split(/[\s,]+/).filter((s) => s !== '');
  for (const secret of secrets) decodeWebhookSecret(secret, variableName);
  return secrets;
}

/** Node hashes a string as its UTF-8 bytes, and a Buffer as the bytes it holds. */
function hmacBase64(key: Buffer, id: string, timestampSeconds: number, body: string | Buffer): string {
  return createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
}

/**
 * The `webhook-signature` value (`v1,<base64 HMAC-SHA256>`) for one message. A string body
 * is signed as its UTF-8 bytes, a Buffer as its exact bytes.
 * @throws InvalidConfigurationError when `secret` is not a valid `whsec_` secret.
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string | Buffer): string {
  return `v1,${hmacBase64(decodeWebhookSecret(secret), id, timestampSeconds, body)}`;
}

function header(headers: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = headers[name];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidSignatureError(`Missing ${name} header`);
  }
  return value.trim();
}

/**
 * Verifies a Standard Webhooks request over its exact raw body.
 *
 * Passes when the timestamp is within ±`toleranceSeconds` of `nowMs` (too old is a replay,
 * too new is a clock-skew or pre-signed message) and any `whsec_` secret matches any `v1,`
 * entry of the space-separated `webhook-signature` (key rotation on either side); entries of
 * other versions (e.g. `v1a,`) are ignored. Comparison is constant-time per candidate.
 *
 * @param input.headers lower-case header names, as FC3's HTTP trigger delivers them.
 * @returns the message id (for de-duplication) and its timestamp.
 * @throws InvalidSignatureError saying what was wrong, never echoing a signature or secret.
 * @throws InvalidConfigurationError when a configured secret is malformed (validate them at
 *   start-up with {@link parseWebhookSecrets} so this never happens per request).
 */
export function verifyWebhook(input: {
  secrets: readonly string[];
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
  nowMs: number;
  toleranceSeconds?: number;
}): { webhookId: string; timestampSeconds: number } {
  const toleranceSeconds = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const webhookId = header(input.headers, 'webhook-id');
  const timestampText = header(input.headers, 'webhook-timestamp');
  const signatureHeader = header(input.headers, 'webhook-signature');

  if (webhookId.length > MAX_WEBHOOK_ID_CHARS || /[\x00-\x1f\x7f]/.test(webhookId)) {
    throw new InvalidSignatureError('Malformed webhook-id header');
  }
  if (!TIMESTAMP.test(timestampText)) {
    throw new InvalidSignatureError('Malformed webhook-timestamp header: expected integer seconds since the epoch');
  }
  const timestampSeconds = Number(timestampText);
  const nowSeconds = Math.floor(input.nowMs / 1000);
  if (nowSeconds - timestampSeconds > toleranceSeconds) {
    throw new InvalidSignatureError(`Stale webhook-timestamp: older than ${toleranceSeconds} seconds`);
  }
  if (timestampSeconds - nowSeconds > toleranceSeconds) {
    throw new InvalidSignatureError(`webhook-timestamp is more than ${toleranceSeconds} seconds in the future`);
  }
  if (signatureHeader.length > MAX_SIGNATURE_HEADER_CHARS) {
    throw new InvalidSignatureError('webhook-signature header is too long');
  }
  if (input.secrets.length === 0) {
    throw new InvalidSignatureError('No webhook secret is configured to verify the signature');
  }

  const candidates: Buffer[] = [];
  // Stryker disable next-line Regex: splitting on each space instead of each run only adds empty entries, which are no 'v1,' entry
  for (const entry of signatureHeader.split(/\s+/)) {
    if (entry.startsWith('v1,')) candidates.push(Buffer.from(entry.slice('v1,'.length)));
  }
  if (candidates.length === 0) {
    throw new InvalidSignatureError('webhook-signature header has no v1 signature');
  }

  for (const secret of input.secrets) {
    const expected = Buffer.from(hmacBase64(decodeWebhookSecret(secret), webhookId, timestampSeconds, input.rawBody));
    for (const candidate of candidates) {
      // Lengths are public (a SHA-256 base64 is always 44 characters); contents are not.
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        return { webhookId, timestampSeconds };
      }
    }
  }
  throw new InvalidSignatureError('No matching webhook signature');
}
