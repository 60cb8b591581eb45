/**
 * curl command lines that work as printed: the `npm start` banner and
 * `withdraw-script-review sign` print them, and the tests paste them into bash.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_TOLERANCE_SECONDS, parseWebhookSecrets, signWebhook } from '../lib/webhooks/verify';

/** One word for any POSIX shell (bash, zsh, sh): single quotes, a quote inside as '\''. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** What the function accepts only where ALLOW_UNSIGNED_HTTP=true (`npm start` without WEBHOOK_SECRET). */
export function unsignedCurl(url: string, body: string): string {
  return `curl -sS -w '\\n' -X POST ${url} -H 'content-type: application/json' -d ${shellQuote(body)}`;
}

export interface SignedCurl {
  line: string;
  /** After this the function refuses the line as stale (401): it carries its signing time. */
  expiresAtMs: number;
}

/**
 * The secret to sign with: WEBHOOK_SECRET may list several during a rotation, and the first
 * is the current one (the function accepts any of them).
 * @returns undefined when the variable is unset or empty.
 * @throws InvalidConfigurationError naming WEBHOOK_SECRET when an entry is malformed.
 */
export function signingSecret(value: string | undefined): string | undefined {
  return parseWebhookSecrets(value)[0];
}

/**
 * A Standard Webhooks request (`webhook-id`, `webhook-timestamp`, `webhook-signature`) for
 * `body`, signed now with the project's own signer. A fresh id each time, so the function
 * never answers it as a replay of an earlier line. `--data-binary` sends the exact bytes signed.
 */
export function signedCurl(url: string, body: string, secret: string, nowMs: number): SignedCurl {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const timestamp = Math.floor(nowMs / 1000);
  const signature = signWebhook(secret, id, timestamp, body);
  const headers = [`content-type: application/json`, `webhook-id: ${id}`, `webhook-timestamp: ${timestamp}`, `webhook-signature: ${signature}`];
  return {
    line: `curl -sS -w '\\n' -X POST ${url} ${headers.map((h) => `-H ${shellQuote(h)}`).join(' ')} --data-binary ${shellQuote(body)}`,
    expiresAtMs: (timestamp + DEFAULT_TOLERANCE_SECONDS) * 1000,
  };
}

/** The note that goes with a signed line: how long it works, and how to get another. */
export function validityNote(expiresAtMs: number): string {
  const minutes = DEFAULT_TOLERANCE_SECONDS / 60;
  return `signed with the first WEBHOOK_SECRET; valid for ${minutes} minutes, until ${new Date(expiresAtMs).toISOString()}`;
}
