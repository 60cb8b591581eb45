// The SSRF policy's edges (issue #23): which addresses a callback may reach, which hosts an
// operator may vouch for, and the order of the checks on a callback URL. Beside
// address-policy.test.ts (the ranges) and callback.test.ts (the sender end to end).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../lib/core/errors';
import { isForbiddenAddress } from '../../lib/webhooks/address-policy';
import { effectivePort, isAllowedHost, parseAllowedHosts, parseHostEntry } from '../../lib/webhooks/allowed-hosts';
import { addressRefusal, bareHostname, checkCallbackUrl, parseCallbackUrl, reportUrl } from '../../lib/webhooks/callback-policy';

const SECRET = `whsec_${Buffer.from('ssrf-policy-edges-secret').toString('base64')}`;

/** The IPv6 forms that carry an IPv4 address, each of which must be judged by that address. */
function embeddings(octets: readonly number[]): string[] {
  const [a, b, c, d] = octets as [number, number, number, number];
  const hex = (x: number, y: number) => ((x << 8) | y).toString(16);
  return [
    `::ffff:${a}.${b}.${c}.${d}`, // IPv4-mapped
    `::ffff:${hex(a, b)}:${hex(c, d)}`,
    `::ffff:0:${hex(a, b)}:${hex(c, d)}`, // RFC 6145
    `64:ff9b::${hex(a, b)}:${hex(c, d)}`, // RFC 6052 well-known NAT64
    `2002:${hex(a, b)}:${hex(c, d)}::1`, // 6to4
  ];
}

describe('an IPv6 address that carries an IPv4 address', () => {
  // Ranges decided by the low 16 bits too: a /24 (documentation, protocol assignments, the 6to4
  // relay) and the one broadcast address, beside the public addresses around them.
  const narrowRanges = fc.constantFrom([192, 0, 0], [192, 0, 2], [192, 88, 99], [198, 51, 100], [203, 0, 113], [255, 255, 255]);
  const neighbours = fc.constantFrom([192, 0, 1], [192, 0, 3], [198, 51, 99], [198, 51, 101], [203, 0, 112], [203, 0, 114], [8, 8, 8]);

  it('property: gets the verdict of the IPv4 address it carries, in every form, down to its last octet', () => {
    const octet = fc.nat(255);
    const anyV4 = fc.tuple(octet, octet, octet, octet);
    const inNarrow = fc.tuple(fc.oneof(narrowRanges, neighbours), octet).map(([prefix, d]) => [...prefix, d]);
    fc.assert(
      fc.property(fc.oneof(anyV4, inNarrow), (octets) => {
        const verdict = isForbiddenAddress(octets.join('.'));
        for (const ip of embeddings(octets)) expect([ip, isForbiddenAddress(ip)]).toEqual([ip, verdict]);
      }),
      { numRuns: 1_500 },
    );
  });

  it('a documentation address is refused in every form, and its public neighbour allowed', () => {
    for (const ip of embeddings([203, 0, 113, 5])) expect([ip, isForbiddenAddress(ip)]).toEqual([ip, true]);
    for (const ip of embeddings([203, 0, 114, 5])) expect([ip, isForbiddenAddress(ip)]).toEqual([ip, false]);
    for (const ip of embeddings([255, 255, 255, 255])) expect([ip, isForbiddenAddress(ip)]).toEqual([ip, true]);
  });
});

describe('the text of an address', () => {
  it('an IPv6 zone suffix is tolerated: the address before it decides', () => {
    expect(isForbiddenAddress('2606:4700:4700::1111%eth0')).toBe(false);
    expect(isForbiddenAddress('2606:4700:4700::1111%1')).toBe(false);
    expect(isForbiddenAddress('fe80::1%eth0')).toBe(true);
    expect(isForbiddenAddress('::ffff:10.0.0.1%eth0')).toBe(true);
  });

  it('text the socket\'s strict parser refuses is forbidden, even where the lenient URL parser would find an address in it', () => {
    // The WHATWG parser drops tabs and newlines anywhere, and trims spaces: these would read as public addresses.
    for (const text of ['2606:47\t00::1111', '2606:4700::1111\n', '2606:4700::\r1111', ' 2606:4700::1111', '8.8.8.8\t', '8.8.\n8.8', '[2606:4700::1111]']) {
      expect([text, isForbiddenAddress(text)]).toEqual([text, true]);
    }
  });
});

describe('CALLBACK_ALLOWED_HOSTS entries', () => {
  it('normalise to a host and, when given, a port; no port means any port', () => {
    expect(parseHostEntry('  Hooks.Example.COM ')).toStrictEqual({ host: 'hooks.example.com' });
    expect(parseHostEntry('hooks.example.com.:8443')).toStrictEqual({ host: 'hooks.example.com', port: 8443 });
    expect(parseHostEntry('[::1]')).toStrictEqual({ host: '[::1]' });
    expect(parseHostEntry('[0:0::1]:9000')).toStrictEqual({ host: '[::1]', port: 9000 });
    expect(parseHostEntry('FE80::1')).toStrictEqual({ host: '[fe80::1]' });
  });

  it('a port is 1 to 65535, written in at most five digits', () => {
    expect(parseHostEntry('h.example:1')).toStrictEqual({ host: 'h.example', port: 1 });
    expect(parseHostEntry('h.example:65535')).toStrictEqual({ host: 'h.example', port: 65_535 });
    expect(parseHostEntry('[::1]:65535')).toStrictEqual({ host: '[::1]', port: 65_535 });
    for (const entry of ['h.example:0', 'h.example:65536', 'h.example:99999', 'h.example:000080', 'h.example:', '[::1]:0', '[::1]:65536']) {
      expect([entry, parseHostEntry(entry)]).toEqual([entry, undefined]);
    }
  });

  it('are a host and nothing else: no scheme, userinfo, path, query, fragment or trailing text', () => {
    for (const entry of [
      'https://h.example',
      'user@h.example',
      'user:pw@h.example',
      'h.example/path',
      'h.example?x=1',
      'h.example#top',
      'h.example\\x',
      'h.example:80x',
      'h.example:x80',
      'h.example:80/',
      'h .example',
      ':8080',
      '[::1]:80/path',
      '[::1]x',
      'x[::1]',
      'x[::1]:80',
      '[::1]:abc',
    ]) {
      expect([entry, parseHostEntry(entry)]).toEqual([entry, undefined]);
    }
  });

  it('an internationalised name matches the host a URL names: letters are not case-folded into others (ß is not ss)', () => {
    expect(isAllowedHost(new URL('https://straße.example/'), parseAllowedHosts('straße.example'))).toBe(true);
    expect(isAllowedHost(new URL('https://strasse.example/'), parseAllowedHosts('straße.example'))).toBe(false);
    expect(isAllowedHost(new URL('https://straße.example/'), parseAllowedHosts('strasse.example'))).toBe(false);
  });

  it('a list refuses any entry that is not a host, naming the variable and what an entry must be', () => {
    expect(parseAllowedHosts(' a.example ,\n[::1]:9000\tB.example ')).toEqual(['a.example', '[::1]:9000', 'b.example']);
    let thrown: unknown;
    try {
      parseAllowedHosts('a.example https://b.example/');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidConfigurationError);
    expect((thrown as InvalidConfigurationError).issues).toEqual([
      { Path: 'CALLBACK_ALLOWED_HOSTS', Message: 'entries must be host or host:port (no scheme, path or credentials); entry 2 of 2 is not' },
    ]);
  });

  it('the port a URL connects to: its own, else 443 for https and 80 for http, and none for another scheme', () => {
    expect(effectivePort(new URL('https://h.example/'))).toBe(443);
    expect(effectivePort(new URL('http://h.example/'))).toBe(80);
    expect(effectivePort(new URL('https://h.example:8443/'))).toBe(8443);
    expect(effectivePort(new URL('ftp://h.example/'))).toBeUndefined();
    expect(effectivePort(new URL('wss://h.example/'))).toBeUndefined();
    // So a host:80 entry vouches for http on port 80, not for another scheme.
    expect(isAllowedHost(new URL('ftp://h.example/'), ['h.example:80'])).toBe(false);
  });
});

describe('what a callback URL may be', () => {
  const url = (text: string) => parseCallbackUrl(text)!;

  it('only an absolute URL parses; anything else is no URL at all', () => {
    expect(parseCallbackUrl('https://hooks.example/cb')?.href).toBe('https://hooks.example/cb');
    for (const text of ['', 'hooks.example/cb', '/cb', 'https://', 'http://[::1']) expect([text, parseCallbackUrl(text)]).toEqual([text, undefined]);
  });

  it('is reported by scheme and host only: a token in its path, query or userinfo never shows', () => {
    expect(reportUrl(url('https://u:p@hooks.example:8443/t/SECRET?k=SECRET#f'))).toBe('https://hooks.example:8443');
    expect(bareHostname(url('https://[2606:4700::1111]:8443/'))).toBe('2606:4700::1111');
    expect(bareHostname(url('https://hooks.example/'))).toBe('hooks.example');
  });

  it('must not carry credentials, a user name or a password alone, even for an allow-listed host', () => {
    const refusal = 'Callback URL must not contain credentials (userinfo)';
    for (const text of ['https://user:pw@hooks.example/', 'https://user@hooks.example/', 'https://:pw@hooks.example/']) {
      expect(checkCallbackUrl(url(text), ['hooks.example'], SECRET)).toStrictEqual({ allowListed: false, refusal });
    }
  });

  it('must use https; http only for an allow-listed host; any other scheme never', () => {
    expect(checkCallbackUrl(url('https://hooks.example/'), [], SECRET)).toStrictEqual({ allowListed: false });
    expect(checkCallbackUrl(url('http://hooks.example/'), ['hooks.example'], SECRET)).toStrictEqual({ allowListed: true });
    expect(checkCallbackUrl(url('http://hooks.example/'), [], SECRET)).toStrictEqual({
      allowListed: false,
      refusal: 'Callback URL must use https unless hooks.example is in CALLBACK_ALLOWED_HOSTS',
    });
    for (const scheme of ['ftp:', 'file:', 'ws:', 'wss:', 'gopher:']) {
      expect(checkCallbackUrl(url(`${scheme}//hooks.example/`), ['hooks.example'], SECRET)).toStrictEqual({
        allowListed: true,
        refusal: `Callback URL scheme ${scheme} is not supported; use https`,
      });
    }
  });

  it('needs a valid CALLBACK_SECRET when one is set, and is refused saying so after the scheme', () => {
    expect(checkCallbackUrl(url('https://hooks.example/'), [], undefined)).toStrictEqual({ allowListed: false });
    expect(checkCallbackUrl(url('https://hooks.example/'), [], 'whsec_')).toStrictEqual({
      allowListed: false,
      refusal: 'CALLBACK_SECRET: each secret must be "whsec_" followed by standard padded base64',
    });
    // The scheme is judged first.
    expect(checkCallbackUrl(url('ftp://hooks.example/'), [], 'whsec_').refusal).toBe('Callback URL scheme ftp: is not supported; use https');
  });

  it('is refused when any address its host resolves to is internal, naming the first, unless allow-listed', () => {
    const addresses = [{ address: '8.8.8.8' }, { address: '10.0.0.7' }, { address: '127.0.0.1' }];
    expect(addressRefusal('hooks.example', addresses, false)).toBe(
      'hooks.example resolves to 10.0.0.7, a private, loopback, link-local or otherwise internal address; add the host to CALLBACK_ALLOWED_HOSTS to allow it',
    );
    expect(addressRefusal('hooks.example', addresses, true)).toBeUndefined();
    expect(addressRefusal('hooks.example', [{ address: '8.8.8.8' }, { address: '2606:4700::1111' }], false)).toBeUndefined();
    expect(addressRefusal('hooks.example', [], false)).toBeUndefined();
  });
});
