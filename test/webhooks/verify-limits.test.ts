// What verifyWebhook and the secret parser promise at their edges (issue #23): the bounds on
// what a sender may put in a header, what a secret must be, and which bytes the HMAC covers.
// Each secret here is used by this file alone, so its decoding runs inside the test that uses
// it (the key cache would otherwise hand over a key decoded by an earlier test).
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../lib/core/errors';
import { decodeWebhookSecret, parseWebhookSecrets, signWebhook, verifyWebhook } from '../../lib/webhooks/verify';
import { InvalidSignatureError } from '../../lib/webhooks/errors';

const NOW_MS = 1_760_000_000_456;
const NOW_S = Math.floor(NOW_MS / 1000);
const BODY = '{"InstanceId":"inst-1","ScriptId":"script-1"}';

let fresh = 0;
/** A valid secret of `bytes` random bytes that no other test has decoded. */
function freshSecret(bytes = 24): { secret: string; key: Buffer } {
  fresh++;
  const key = Buffer.concat([Buffer.from(`limits-${fresh}-`), randomBytes(bytes)]).subarray(0, bytes);
  return { secret: `whsec_${key.toString('base64')}`, key };
}

function configError(fn: () => unknown): InvalidConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    return error as InvalidConfigurationError;
  }
  throw new Error('expected an InvalidConfigurationError');
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSignatureError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidSignatureError');
}

function verify(secret: string, headers: Record<string, string | undefined>, body: string | Buffer = BODY) {
  return verifyWebhook({ secrets: [secret], headers, rawBody: Buffer.from(body), nowMs: NOW_MS });
}

function signed(secret: string, id: string, body: string = BODY): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(NOW_S), 'webhook-signature': signWebhook(secret, id, NOW_S, body) };
}

describe('a webhook secret', () => {
  it('is at least 16 bytes of key: 16 are accepted, 15 are refused, saying so', () => {
    const sixteen = freshSecret(16);
    expect(decodeWebhookSecret(sixteen.secret)).toEqual(sixteen.key);
    const fifteen = freshSecret(15);
    expect(fifteen.secret.length - 'whsec_'.length).toBeGreaterThanOrEqual(16); // its base64 text is longer than 16
    const error = configError(() => decodeWebhookSecret(fifteen.secret));
    expect(error.issues).toEqual([{ Path: 'WEBHOOK_SECRET', Message: 'each secret must decode to at least 16 bytes' }]);
  });

  it('must start with whsec_, even when the rest is a good key', () => {
    const { secret } = freshSecret();
    for (const unprefixed of [secret.slice('whsec_'.length), `WHSEC_${secret.slice(6)}`, `xxxxxx${secret.slice(6)}`]) {
      const error = configError(() => decodeWebhookSecret(unprefixed));
      expect(error.issues).toEqual([{ Path: 'WEBHOOK_SECRET', Message: 'each secret must start with "whsec_"' }]);
    }
  });

  it('must carry standard padded base64 after the prefix, and something at all', () => {
    const padded = 'each secret must be "whsec_" followed by standard padded base64';
    for (const bad of ['whsec_', 'whsec_ ', `whsec_${'A'.repeat(23)}`, `whsec_${'-'.repeat(24)}`, `whsec_${'_'.repeat(24)}`]) {
      expect(configError(() => decodeWebhookSecret(bad, 'CALLBACK_SECRET')).issues).toEqual([{ Path: 'CALLBACK_SECRET', Message: padded }]);
    }
  });

  it('is the HMAC key as the base64 after whsec_ decodes it: signatures match an independent HMAC-SHA256', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 40 }), fc.uint8Array({ maxLength: 200 }), (keyBytes, id, body) => {
        const key = Buffer.from(keyBytes);
        const secret = `whsec_${key.toString('base64')}`;
        const expected = createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${id}.${NOW_S}.`), Buffer.from(body)])).digest('base64');
        expect(signWebhook(secret, id, NOW_S, Buffer.from(body))).toBe(`v1,${expected}`);
        expect(decodeWebhookSecret(secret)).toEqual(key);
      }),
      { numRuns: 200 },
    );
  });

  it('a string body is signed as its UTF-8 bytes, the same as those bytes in a Buffer', () => {
    const { secret } = freshSecret();
    const body = '{"note":"héllo ✓ 漢"}';
    expect(signWebhook(secret, 'msg_u', NOW_S, body)).toBe(signWebhook(secret, 'msg_u', NOW_S, Buffer.from(body, 'utf8')));
    expect(signWebhook(secret, 'msg_u', NOW_S, body)).not.toBe(signWebhook(secret, 'msg_u', NOW_S, Buffer.from(body, 'latin1')));
  });

  it('a list names the variable it came from, and refuses if any one entry is bad', () => {
    const good = freshSecret().secret;
    expect(parseWebhookSecrets(`${good}\t,\n${good}`)).toEqual([good, good]);
    expect(configError(() => parseWebhookSecrets(`${good},whsec_`, 'CALLBACK_SECRET')).message).toMatch(/^CALLBACK_SECRET: each secret must be/);
  });
});

describe('what a sender may put in the headers', () => {
  it('header values are read without the whitespace around them, as HTTP defines field values', () => {
    const { secret } = freshSecret();
    const headers = signed(secret, 'msg_ws');
    const padded = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, ` \t${value} `]));
    expect(verify(secret, padded)).toEqual({ webhookId: 'msg_ws', timestampSeconds: NOW_S });
  });

  it('a webhook-id of up to 256 characters is accepted; one more is refused even when correctly signed', () => {
    const { secret } = freshSecret();
    const longest = 'i'.repeat(256);
    expect(verify(secret, signed(secret, longest)).webhookId).toBe(longest);
    const tooLong = 'i'.repeat(257);
    expect(refusal(() => verify(secret, signed(secret, tooLong)))).toBe('Malformed webhook-id header');
  });

  it('property: a webhook-id holding a control character is refused even when correctly signed', () => {
    const { secret } = freshSecret();
    const control = fc.constantFrom(...Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)), '\x7f');
    const printable = fc.string({ unit: fc.constantFrom('a', 'Z', '9', '_', '-', ' ', 'é', '\x80', '漢'), maxLength: 20 });
    fc.assert(
      fc.property(printable, control, printable, (before, ctl, after) => {
        const id = `x${before}${ctl}${after}x`; // not at the ends, where trimming would remove it
        expect(refusal(() => verify(secret, signed(secret, id)))).toBe('Malformed webhook-id header');
      }),
      { numRuns: 150 },
    );
    // The printable neighbours of the range are ids like any other.
    for (const id of ['a b', 'a\x80b', 'a~b']) expect(verify(secret, signed(secret, id)).webhookId).toBe(id);
  });

  it('a webhook-signature header of up to 8,192 characters is read; one more is refused even when it holds the right signature', () => {
    const { secret } = freshSecret();
    const headers = signed(secret, 'msg_len');
    const withPadding = (length: number) => {
      const head = `${headers['webhook-signature']} v1a,`;
      return `${head}${'A'.repeat(length - head.length)}`;
    };
    expect(withPadding(8_192)).toHaveLength(8_192);
    expect(verify(secret, { ...headers, 'webhook-signature': withPadding(8_192) }).webhookId).toBe('msg_len');
    expect(refusal(() => verify(secret, { ...headers, 'webhook-signature': withPadding(8_193) }))).toBe('webhook-signature header is too long');
  });

  it('an entry without a comma is no v1 signature, whatever it starts with', () => {
    const { secret } = freshSecret();
    const headers = signed(secret, 'msg_nc');
    for (const entry of ['v1x', 'v1', 'v1a', ',v1']) {
      expect(refusal(() => verify(secret, { ...headers, 'webhook-signature': entry }))).toBe('webhook-signature header has no v1 signature');
    }
  });
});
