/**
 * The callback host's addresses, looked up once (DESIGN.md §7): every attempt then connects to
 * these, after the policy has checked them. An IP literal needs no lookup.
 */
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { MIN_ATTEMPT_MS } from '../core/retry-policy';
import { within } from '../core/within';
import { CallbackTimeoutError, errorText } from './errors';
import type { PinnedTarget } from './pinned-request';

export type Lookup = (hostname: string) => Promise<PinnedTarget[]>;

export type Resolution =
  | { ok: true; addresses: PinnedTarget[] }
  | { ok: false; code: 'CallbackTimeout' | 'CallbackFailed'; message: string };

/** What the report says when the deadline leaves no time to send. */
export const NO_TIME_LEFT = 'Deadline reached before the callback could be sent';

async function defaultLookup(hostname: string): Promise<PinnedTarget[]> {
  const answers = await dnsPromises.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

/**
 * `hostname` (without IPv6 brackets) as addresses. A lookup is bounded by `timeoutMs` and not
 * started with less than {@link MIN_ATTEMPT_MS} of `timeLeftMs`: no attempt could follow it.
 */
export async function resolveOnce(hostname: string, timeLeftMs: number, timeoutMs: number, lookup: Lookup = defaultLookup): Promise<Resolution> {
  const literal = isIP(hostname);
  if (literal !== 0) return { ok: true, addresses: [{ address: hostname, family: literal === 6 ? 6 : 4 }] };
  if (timeLeftMs < MIN_ATTEMPT_MS) return { ok: false, code: 'CallbackTimeout', message: NO_TIME_LEFT };
  let addresses: PinnedTarget[];
  try {
    const lookupMs = Math.min(timeoutMs, timeLeftMs);
    addresses = await within(lookup(hostname), lookupMs, () => new CallbackTimeoutError(`DNS lookup timed out after ${lookupMs} ms`));
  } catch (error) {
    const code = error instanceof CallbackTimeoutError ? 'CallbackTimeout' : 'CallbackFailed';
    return { ok: false, code, message: `DNS lookup of ${hostname} failed: ${errorText(error)}` };
  }
  if (addresses.length === 0) return { ok: false, code: 'CallbackFailed', message: `DNS lookup of ${hostname} returned no addresses` };
  return { ok: true, addresses };
}
