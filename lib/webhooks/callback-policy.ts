/**
 * What the callback may be sent to (DESIGN.md §7), decided before and right after the one DNS
 * lookup: no userinfo, https (http only for allow-listed hosts), a valid CALLBACK_SECRET, and
 * no internal address among those the host resolves to unless the operator allow-listed it.
 * Each check answers the refusal's message, or undefined when the URL passes.
 */
import { InvalidConfigurationError } from '../core/errors';
import { isForbiddenAddress } from './address-policy';
import { isAllowedHost } from './allowed-hosts';
import { decodeWebhookSecret } from './verify';

/** The URL, or undefined when it is not a valid absolute URL. */
export function parseCallbackUrl(text: string): URL | undefined {
  return URL.canParse(text) ? new URL(text) : undefined;
}

/** The URL as answers and logs show it: scheme and host only. Many receivers take a token in the path or query. */
export function reportUrl(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** `url.hostname` without the brackets of an IPv6 literal: what DNS and the socket take. */
export function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

export interface UrlVerdict {
  /** The host is in CALLBACK_ALLOWED_HOSTS: http and internal addresses are admitted. */
  allowListed: boolean;
  refusal?: string;
}

function schemeRefusal(url: URL, allowListed: boolean): string | undefined {
  if (url.protocol === 'https:' || (url.protocol === 'http:' && allowListed)) return undefined;
  return url.protocol === 'http:'
    ? `Callback URL must use https unless ${url.hostname} is in CALLBACK_ALLOWED_HOSTS`
    : `Callback URL scheme ${url.protocol} is not supported; use https`;
}

function secretRefusal(secret: string | undefined): string | undefined {
  if (secret === undefined) return undefined;
  try {
    decodeWebhookSecret(secret, 'CALLBACK_SECRET');
    return undefined;
  } catch (error) {
    // Stryker disable next-line StringLiteral: decodeWebhookSecret throws InvalidConfigurationError only; the fallback is defence in depth
    return error instanceof InvalidConfigurationError ? error.message : 'CALLBACK_SECRET is invalid';
  }
}

/** The checks that need no lookup, in order: userinfo, scheme, secret. */
export function checkCallbackUrl(url: URL, allowedHosts: readonly string[], secret: string | undefined): UrlVerdict {
  if (url.username !== '' || url.password !== '') {
    return { allowListed: false, refusal: 'Callback URL must not contain credentials (userinfo)' };
  }
  const allowListed = isAllowedHost(url, allowedHosts);
  const refusal = schemeRefusal(url, allowListed) ?? secretRefusal(secret);
  return refusal === undefined ? { allowListed } : { allowListed, refusal };
}

/** Refuses when ANY address `hostname` resolved to is internal, unless the host is allow-listed. */
export function addressRefusal(hostname: string, addresses: ReadonlyArray<{ address: string }>, allowListed: boolean): string | undefined {
  if (allowListed) return undefined;
  const forbidden = addresses.find((a) => isForbiddenAddress(a.address));
  if (!forbidden) return undefined;
  return `${hostname} resolves to ${forbidden.address}, a private, loopback, link-local or otherwise internal address; add the host to CALLBACK_ALLOWED_HOSTS to allow it`;
}
