import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../lib/core/errors';
import { decodeWebhookSecret, parseWebhookSecrets, signWebhook, verifyWebhook } from '../../lib/webhooks/verify';
import { InvalidSignatureError } from '../../lib/webhooks/errors';

const SECRET_A = `whsec_${Buffer.from('a-test-secret-of-24-byte').toString('base64')}`;
const SECRET_B = `whsec_${Buffer.from('another-secret-24-bytes!').toString('base64')}`;
const NOW_MS = 1_750_000_000_123;
const NOW_S = Math.floor(NOW_MS / 1000);

function headersFor(secret: string, id: string, ts: number, body: Buffer | string) {
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, body) };
}

function verify(
  headers: Record<string, string | undefined>,
  body: Buffer | string,
  secrets: readonly string[] = [SECRET_A],
  nowMs = NOW_MS,
) {
  return verifyWebhook({ secrets, headers, rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body), nowMs });
}

function expectRefused(fn: () => unknown, message: RegExp): InvalidSignatureError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSignatureError);
    expect((error as Error).message).toMatch(message);
    expect((error as InvalidSignatureError).statusCode).toBe(401);
    return error as InvalidSignatureError;
  }
  throw new Error('expected verifyWebhook to throw');
}

const BODY = '{"InstanceId":"inst-1","ScriptId":"script-1"}';

describe('verifyWebhook', () => {
  it('accepts a valid signature and returns the id and timestamp', () => {
    expect(verify(headersFor(SECRET_A, 'msg_1', NOW_S, BODY), BODY)).toEqual({ webhookId: 'msg_1', timestampSeconds: NOW_S });
  });

  it('accepts either secret during key rotation', () => {
    const secrets = [SECRET_A, SECRET_B];
    expect(verify(headersFor(SECRET_A, 'msg_a', NOW_S, BODY), BODY, secrets).webhookId).toBe('msg_a');
    expect(verify(headersFor(SECRET_B, 'msg_b', NOW_S, BODY), BODY, secrets).webhookId).toBe('msg_b');
  });

  it('refuses a signature made with another key', () => {
    expectRefused(() => verify(headersFor(SECRET_B, 'msg_1', NOW_S, BODY), BODY, [SECRET_A]), /No matching/);
  });

  it('refuses a tampered body, id or timestamp', () => {
    const headers = headersFor(SECRET_A, 'msg_1', NOW_S, BODY);
    expectRefused(() => verify(headers, BODY.replace('script-1', 'script-2')), /No matching/);
    expectRefused(() => verify({ ...headers, 'webhook-id': 'msg_2' }, BODY), /No matching/);
    expectRefused(() => verify({ ...headers, 'webhook-timestamp': String(NOW_S - 1) }, BODY), /No matching/);
  });

  it('refuses stale timestamps and accepts the edge of the tolerance', () => {
    expect(verify(headersFor(SECRET_A, 'm', NOW_S - 300, BODY), BODY).timestampSeconds).toBe(NOW_S - 300);
    expectRefused(() => verify(headersFor(SECRET_A, 'm', NOW_S - 301, BODY), BODY), /Stale/);
  });

  it('refuses timestamps from the future and accepts the edge of the tolerance', () => {
    expect(verify(headersFor(SECRET_A, 'm', NOW_S + 300, BODY), BODY).timestampSeconds).toBe(NOW_S + 300);
    expectRefused(() => verify(headersFor(SECRET_A, 'm', NOW_S + 301, BODY), BODY), /future/);
  });

  it('honours a custom tolerance', () => {
    const headers = headersFor(SECRET_A, 'm', NOW_S - 61, BODY);
    expect(() =>
      verifyWebhook({ secrets: [SECRET_A], headers, rawBody: Buffer.from(BODY), nowMs: NOW_MS, toleranceSeconds: 60 }),
    ).toThrow(/Stale/);
  });

  it('names each missing header', () => {
    const headers = headersFor(SECRET_A, 'msg_1', NOW_S, BODY);
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      expectRefused(() => verify({ ...headers, [name]: undefined }, BODY), new RegExp(`Missing ${name}`));
      expectRefused(() => verify({ ...headers, [name]: '  ' }, BODY), new RegExp(`Missing ${name}`));
    }
  });

  it('refuses malformed timestamps that parseInt would accept', () => {
    const headers = headersFor(SECRET_A, 'msg_1', NOW_S, BODY);
    for (const ts of [`${NOW_S}abc`, `${NOW_S}.0`, `-${NOW_S}`, `0x${NOW_S.toString(16)}`, `${NOW_S}e0`]) {
      expectRefused(() => verify({ ...headers, 'webhook-timestamp': ts }, BODY), /Malformed webhook-timestamp/);
    }
  });

  it('accepts when only the second of several signature entries matches, and ignores other versions', () => {
    const good = signWebhook(SECRET_A, 'msg_1', NOW_S, BODY);
    const wrong = signWebhook(SECRET_B, 'msg_1', NOW_S, BODY);
    const base = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW_S) };
    expect(verify({ ...base, 'webhook-signature': `${wrong} ${good}` }, BODY).webhookId).toBe('msg_1');
    expect(verify({ ...base, 'webhook-signature': `v1a,${good.slice(3)} ${good}` }, BODY).webhookId).toBe('msg_1');
    // The right bytes under another version label do not count.
    expectRefused(() => verify({ ...base, 'webhook-signature': `v1a,${good.slice(3)}` }, BODY), /no v1 signature/);
    expectRefused(() => verify({ ...base, 'webhook-signature': `v2,${good.slice(3)} ${wrong}` }, BODY), /No matching/);
  });

  it('never echoes the presented signature or the secret', () => {
    const wrong = signWebhook(SECRET_B, 'msg_1', NOW_S, BODY);
    const error = expectRefused(
      () => verify({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW_S), 'webhook-signature': wrong }, BODY),
      /No matching/,
    );
    expect(error.message).not.toContain(wrong.slice(3));
    expect(error.message).not.toContain(SECRET_A.slice(6));
  });

  it('refuses everything when no secret is configured', () => {
    expectRefused(() => verify(headersFor(SECRET_A, 'm', NOW_S, BODY), BODY, []), /No webhook secret/);
  });

  it('signs the exact raw bytes, e.g. a base64-encoded FC body that is not valid UTF-8', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x7d]);
    const eventBody = bytes.toString('base64'); // what FC3 delivers with isBase64Encoded: true
    const headers = headersFor(SECRET_A, 'msg_bin', NOW_S, bytes);
    expect(verify(headers, Buffer.from(eventBody, 'base64')).webhookId).toBe('msg_bin');
    // Verifying the base64 text, or a UTF-8 round trip of the bytes, must fail.
    expectRefused(() => verify(headers, Buffer.from(eventBody)), /No matching/);
    expectRefused(() => verify(headers, Buffer.from(bytes.toString('utf8'))), /No matching/);
    // The standardwebhooks library decodes Buffers as UTF-8 before signing, so it signs other bytes.
    const lib = new Webhook(SECRET_A).sign('msg_bin', new Date(NOW_S * 1000), bytes);
    expect(lib).not.toBe(headers['webhook-signature']);
  });

  it('produces the same signatures as the standardwebhooks library for UTF-8 bodies', () => {
    const body = '{"msg":"héllo ✓"}';
    const nowS = Math.floor(Date.now() / 1000);
    const ours = signWebhook(SECRET_A, 'msg_x', nowS, body);
    expect(new Webhook(SECRET_A).sign('msg_x', new Date(nowS * 1000), body)).toBe(ours);
    expect(new Webhook(SECRET_A).sign('msg_x', new Date(nowS * 1000), Buffer.from(body))).toBe(ours);
    // And the library's verifier (which reads Date.now()) accepts what we sign.
    expect(
      new Webhook(SECRET_A).verify(body, { 'webhook-id': 'msg_x', 'webhook-timestamp': String(nowS), 'webhook-signature': ours }),
    ).toEqual({ msg: 'héllo ✓' });
  });

  it('round-trips arbitrary bodies and ids; any single flipped body byte fails', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.string({ minLength: 1, maxLength: 64 }).filter((s) => s.trim() !== '' && !/[\x00-\x1f\x7f]/.test(s)),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bodyBytes, id, indexSeed, mask) => {
          const body = Buffer.from(bodyBytes);
          const headers = headersFor(SECRET_A, id.trim(), NOW_S, body);
          expect(verify(headers, body).webhookId).toBe(id.trim());
          const flipped = Buffer.from(body);
          const index = indexSeed % flipped.length;
          flipped[index] = flipped[index]! ^ mask;
          expect(() => verify(headers, flipped)).toThrow(InvalidSignatureError);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('throws nothing but InvalidSignatureError for arbitrary header values', () => {
    const headerValue = fc.option(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('v1,', 'v1', ',', ' v1,x ', String(NOW_S))), {
      nil: undefined,
    });
    fc.assert(
      fc.property(headerValue, headerValue, headerValue, fc.uint8Array({ maxLength: 64 }), (id, ts, sig, body) => {
        try {
          verify({ 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig }, Buffer.from(body), [SECRET_A, SECRET_B]);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidSignatureError);
          return;
        }
        throw new Error('arbitrary headers verified');
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseWebhookSecrets', () => {
  it('splits on spaces and commas and drops empties', () => {
    expect(parseWebhookSecrets(undefined)).toEqual([]);
    expect(parseWebhookSecrets('')).toEqual([]);
    expect(parseWebhookSecrets(` ${SECRET_A} ,${SECRET_B}  `)).toEqual([SECRET_A, SECRET_B]);
  });

  it('accepts real-looking generated secrets', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    expect(parseWebhookSecrets(secret)).toEqual([secret]);
  });

  it.each([
    ['no prefix', Buffer.from('a-test-secret-of-24-byte').toString('base64')],
    ['empty body', 'whsec_'],
    ['not base64', 'whsec_not*base64*at*all!!'],
    ['unpadded', `whsec_${Buffer.from('a-test-secret-of-24-bytes').toString('base64').replace(/=+$/, '')}`],
    ['too short', `whsec_${Buffer.from('short').toString('base64')}`],
  ])('refuses an entry with %s, naming WEBHOOK_SECRET without echoing it', (_, bad) => {
    let thrown: unknown;
    try {
      parseWebhookSecrets(`${SECRET_A} ${bad}`);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidConfigurationError);
    const message = (thrown as Error).message;
    expect(message).toContain('WEBHOOK_SECRET');
    if (bad.length > 8) expect(message).not.toContain(bad.replace(/^whsec_/, ''));
  });

  it('names another variable when asked', () => {
    expect(() => parseWebhookSecrets('nope', 'CALLBACK_SECRET')).toThrow(/CALLBACK_SECRET/);
  });
});

describe('signWebhook', () => {
  it('returns v1,<base64 of 32 bytes>', () => {
    const signature = signWebhook(SECRET_A, 'msg_1', NOW_S, BODY);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(signature.slice(3), 'base64')).toHaveLength(32);
  });

  it('refuses an invalid secret', () => {
    expect(() => signWebhook('secret', 'msg_1', NOW_S, BODY)).toThrow(InvalidConfigurationError);
  });
});

describe('decodeWebhookSecret key cache', () => {
  // Distinct valid secrets (24 bytes each) that no other test uses.
  const secretNo = (i: number) => `whsec_${Buffer.from(`key-cache-test-${String(i).padStart(9, '0')}`).toString('base64')}`;

  it('reuses a decoded key while it is among the 16 most recently decoded secrets', () => {
    const first = decodeWebhookSecret(secretNo(0));
    for (let i = 1; i < 16; i++) decodeWebhookSecret(secretNo(i));
    expect(decodeWebhookSecret(secretNo(0))).toBe(first);
  });

  it('holds at most 16 keys: the oldest is dropped, so ever-new secrets cannot grow it without bound', () => {
    const first = decodeWebhookSecret(secretNo(100));
    for (let i = 101; i <= 116; i++) decodeWebhookSecret(secretNo(i));
    const again = decodeWebhookSecret(secretNo(100));
    expect(again).not.toBe(first); // decoded afresh: it had been dropped
    expect(again).toEqual(first);
    // Many more distinct secrets later, the latest 16 are still served from the cache and the rest are not.
    const keys = new Map<number, Buffer>();
    for (let i = 1_000; i < 11_000; i++) keys.set(i, decodeWebhookSecret(secretNo(i)));
    // Newest first: a miss re-inserts its secret and drops the oldest, which was already checked.
    const stillCached = [...keys].reverse().filter(([i, key]) => decodeWebhookSecret(secretNo(i)) === key).map(([i]) => i);
    expect(stillCached).toEqual(Array.from({ length: 16 }, (_, k) => 10_999 - k));
  });
});

