// What a delivery's fingerprint tells apart: a key reused for another request is refused (422),
// the same request is replayed. Records outlive a deploy (IDEMPOTENCY_TTL_SECONDS) and a shared
// store serves instances on several Node 20 releases, so the digest must not move between them.
import crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { fingerprintOf } from '../../lib/idempotency/fingerprint';

const instanceId = '38d2e8ed-04e9-4dac-83b5-a8e57642ef13';
const request = (scriptId: string, callbackUrl?: string) => ({
  items: [{ InstanceId: instanceId, ScriptId: scriptId }],
  batch: false,
  ...(callbackUrl ? { callbackUrl } : {}),
});
const scriptA = 'e4e2a770-b97b-465a-80d8-06dca008c503';
const scriptB = '9b1c3f52-6d4e-4a8f-b2c7-1e5d9a0f3c21';

/** Fingerprints written by earlier releases: a redelivery after a deploy must still match them. */
const written = [
  [request(scriptA), 'ebSu04ISUnToYQI-Hl6xuy4R6EPEzfCV0H0F7o8msJg'],
  // A payload JSON cannot write still has one fingerprint, not a failure.
  [undefined, '6wRdeNJzEHNIsDAMAdKbdVLWIqu8b6-Bs-xVNZqplQw'],
] as const;

describe('fingerprintOf', () => {
  it('gives the same request, built anew, the same fingerprint', () => {
    expect(fingerprintOf(request(scriptA))).toBe(fingerprintOf(request(scriptA)));
  });

  it('tells apart requests that differ in any field: the script, the batch form, the callback', () => {
    const fingerprints = [
      request(scriptA),
      request(scriptB),
      { ...request(scriptA), batch: true },
      request(scriptA, 'https://hooks.example.com/a'),
      request(scriptA, 'https://hooks.example.com/b'),
      { items: [...request(scriptA).items, ...request(scriptB).items], batch: true },
      null,
      undefined,
    ].map(fingerprintOf);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
  });

  it('is a 43-character base64url digest, whatever the payload holds or weighs: no part of it reaches the store', () => {
    const secretUrl = 'https://hooks.example.com/cb?token=tok_secret_value_123';
    for (const payload of [request(scriptA, secretUrl), { items: Array.from({ length: 500 }, () => request(scriptB).items[0]), batch: true }]) {
      const fingerprint = fingerprintOf(payload);
      expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(fingerprint).not.toContain('tok_secret');
    }
  });

  it.each(written)('still gives a record written by an earlier release its fingerprint (%j)', (payload, fingerprint) => {
    expect(fingerprintOf(payload)).toBe(fingerprint);
  });

  it('is the same digest on a Node 20 release without crypto.hash: instances on either share records', async () => {
    const oneShot = crypto.hash;
    (crypto as { hash?: unknown }).hash = undefined;
    try {
      vi.resetModules();
      const { fingerprintOf: withoutOneShot } = await import('../../lib/idempotency/fingerprint');
      for (const [payload, fingerprint] of written) expect(withoutOneShot(payload)).toBe(fingerprint);
    } finally {
      crypto.hash = oneShot;
      vi.resetModules();
    }
  });
});
