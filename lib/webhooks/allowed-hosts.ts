/**
 * `CALLBACK_ALLOWED_HOSTS`: the hosts an operator vouches for as callback targets. Plain
 * string logic, kept apart from the address policy so the withdraw path can check a
 * per-request CallbackUrl without loading the callback sender.
 */
import { badEntries, InvalidConfigurationError } from '../core/errors';

/**
 * Parses `CALLBACK_ALLOWED_HOSTS`: `host` or `host:port` entries separated by commas or spaces.
 * @throws InvalidConfigurationError naming the variable for an entry that is not a host (e.g. a URL).
 */
export function parseAllowedHosts(value: string | undefined): string[] {
  if (value === undefined) return [];
  // Stryker disable next-line Regex: splitting on each separator instead of each run only adds empty entries, which the filter drops
  const entries = value.split(/[\s,]+/).filter((e) => e !== '');
  const bad = badEntries(entries, (e) => parseHostEntry(e) === undefined);
  if (bad !== undefined) {
    throw new InvalidConfigurationError([{ Path: 'CALLBACK_ALLOWED_HOSTS', Message: `entries must be host or host:port (no scheme, path or credentials); ${bad}` }]);
  }
  return entries.map((e) => e.toLowerCase());
}

interface HostEntry {
  host: string;
  port?: number;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal → normalised parts. */
export function parseHostEntry(entry: string): HostEntry | undefined {
  const text = entry.trim().toLowerCase();
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) {
    host = `[${bracketed[1]}]`;
    portText = bracketed[2];
  } else if (text.split(':').length > 2) {
    host = `[${text}]`;
  } else {
    const [name, port] = text.split(':');
    // Stryker disable next-line StringLiteral: split always returns at least one element, so name is never undefined
    host = name ?? '';
    portText = port;
    if (port !== undefined && !/^\d{1,5}$/.test(port)) return undefined;
  }
  // An empty host (`:8080`) makes `http:///`, which the URL parser refuses below.
  if (/[/?#@\\\s]/.test(host)) return undefined;
  let hostname: string;
  try {
    // The WHATWG parser gives the same normal form as `URL.hostname` (punycode, IPv6 compression).
    hostname = new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
  if (portText === undefined) return { host: stripTrailingDot(hostname) };
  const port = Number(portText);
  if (port < 1 || port > 65_535) return undefined;
  return { host: stripTrailingDot(hostname), port };
}

function stripTrailingDot(hostname: string): string {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

/** The port a URL will really connect to (the WHATWG parser blanks default ports). */
export function effectivePort(url: URL): number | undefined {
  if (url.port !== '') return Number(url.port);
  if (url.protocol === 'https:') return 443;
  if (url.protocol === 'http:') return 80;
  return undefined;
}

/**
 * True when the operator allow-listed `url`'s host (`CALLBACK_ALLOWED_HOSTS`): an entry
 * `host` admits any port, `host:port` only that port (`host:443` matches `https://host/`).
 * Case-insensitive; a trailing dot on either side is ignored; IPv6 entries may be bracketed.
 */
export function isAllowedHost(url: URL, allowedHosts: readonly string[]): boolean {
  const hostname = stripTrailingDot(url.hostname.toLowerCase());
  const port = effectivePort(url);
  return allowedHosts.some((raw) => {
    const entry = parseHostEntry(raw);
    return entry !== undefined && entry.host === hostname && (entry.port === undefined || entry.port === port);
  });
}
