import crypto from 'node:crypto';

/**
 * SHA-256 in one call where Node has it (20.12+): no Hash object per call, the same digest.
 * Read off the module object, as older Node 20 releases (and the types of some) lack it.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

/** A digest of a payload's meaning (its parsed form, not its bytes): what a key is checked against on replay. */
export function fingerprintOf(payload: unknown): string {
  const text = JSON.stringify(payload) ?? 'undefined';
  return oneShot ? oneShot('sha256', text, 'base64url') : crypto.createHash('sha256').update(text).digest('base64url');
}
