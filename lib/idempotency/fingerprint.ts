import { createHash } from 'node:crypto';

/** A digest of a payload's meaning (its parsed form, not its bytes): what a key is checked against on replay. */
export function fingerprintOf(payload: unknown): string {
  return createHash('sha256').update(JSON.stringify(payload) ?? 'undefined').digest('base64url');
}
