import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isForbiddenAddress } from '../../lib/webhooks/address-policy';
import { isAllowedHost } from '../../lib/webhooks/allowed-hosts';

describe('isForbiddenAddress', () => {
  it.each([
    // IPv4 internal ranges
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.5', 'private 10/8'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.255', 'private 172.16/12'],
    ['192.168.1.1', 'private 192.168/16'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.100.100.200', 'CGNAT (Alibaba Cloud metadata)'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.255', 'CGNAT'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', '0.0.0.0/8'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    // IPv6
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fd00::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local with zone'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'deprecated site-local'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'discard'],
    // IPv4 carried in IPv6
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['::ffff:10.0.0.5', 'IPv4-mapped private'],
    ['::ffff:100.100.100.200', 'IPv4-mapped metadata'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped link-local, hex form'],
    ['::ffff:0:7f00:1', 'IPv4-translated loopback (RFC 6145)'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['::7f00:1', 'IPv4-compatible loopback, hex form'],
    ['::8.8.8.8', 'IPv4-compatible (deprecated) even for public'],
    ['::808:808', 'the same IPv4-compatible address, hex form'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::10.0.0.5', 'NAT64 of private'],
    ['64:ff9b:1::808:808', 'local-use NAT64 (RFC 8215)'],
    ['2002:7f00:1::', '6to4 of loopback'],
    ['2002:a9fe:a9fe::1', '6to4 of link-local'],
    ['2001::1', 'Teredo'],
    // Not an address, or not one we will guess at
    ['', 'empty'],
    ['localhost', 'a name'],
    ['example.com', 'a name'],
    ['1.2.3.4 ', 'trailing space'],
    ['127.1', 'short IPv4 form'],
    ['2130706433', 'integer IPv4 form'],
    ['0x7f.0.0.1', 'hex IPv4 form'],
    ['010.0.0.1', 'octal-looking IPv4 form'],
    ['256.1.1.1', 'out of range'],
    ['[::1]', 'bracketed'],
  ])('%s is forbidden (%s)', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each([
    ['8.8.8.8', 'public IPv4'],
    ['93.184.216.34', 'public IPv4'],
    ['47.100.1.1', 'Alibaba Cloud public IPv4'],
    ['100.63.255.255', 'just below CGNAT'],
    ['100.128.0.0', 'just above CGNAT'],
    ['172.15.255.255', 'just below 172.16/12'],
    ['172.32.0.0', 'just above 172.16/12'],
    ['11.0.0.1', 'just above 10/8'],
    ['2001:4860::8888', 'public IPv6'],
    ['2606:4700:4700::1111', 'public IPv6'],
    ['::ffff:8.8.8.8', 'IPv4-mapped public'],
    ['64:ff9b::808:808', 'NAT64 of public'],
    ['2002:808:808::1', '6to4 of public'],
  ])('%s is allowed (%s)', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(false);
  });

  it('agrees with a hand-written 10/8 check over random IPv4 addresses', () => {
    const inTen = (octets: number[]) => octets[0] === 10;
    fc.assert(
      fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), (octets) => {
        const ip = octets.join('.');
        if (inTen(octets)) expect(isForbiddenAddress(ip)).toBe(true);
        // Mapped into IPv6 the verdict must not change.
        expect(isForbiddenAddress(`::ffff:${ip}`)).toBe(isForbiddenAddress(ip));
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.nat(255), (b, c, d) => {
        expect(isForbiddenAddress(`10.${b}.${c}.${d}`)).toBe(true);
        expect(isForbiddenAddress(`11.${b}.${c}.${d}`)).toBe(false);
      }),
    );
  });

  it('agrees with hand-written CIDR checks for CGNAT and 172.16/12 over every 100.x and 172.x address', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.nat(255), (b, c, d) => {
        const cgnat = (b & 0xc0) === 64;
        const rfc1918b = (b & 0xf0) === 16;
        const cases: Array<[string, boolean]> = [[`100.${b}.${c}.${d}`, cgnat], [`172.${b}.${c}.${d}`, rfc1918b]];
        expect(cases.filter(([ip, forbidden]) => isForbiddenAddress(ip) !== forbidden)).toEqual([]);
      }),
      { numRuns: 2_000 },
    );
  });
});

// A hand-written reference, independent of ipaddr.js: the ranges DESIGN.md §7 names, as integers.
const V4_MAX = 2 ** 32 - 1;
const v4ToInt = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const intToV4 = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

interface Range<N> {
  name: string;
  first: N;
  last: N;
}

function v4Range(cidr: string, name: string): Range<number> {
  const [base, length] = cidr.split('/');
  const first = v4ToInt(base!);
  return { name, first, last: first + 2 ** (32 - Number(length)) - 1 };
}

const FORBIDDEN_V4 = [
  v4Range('0.0.0.0/8', '"this" network'),
  v4Range('10.0.0.0/8', 'private 10/8'),
  v4Range('100.64.0.0/10', 'CGNAT (holds the metadata service)'),
  v4Range('127.0.0.0/8', 'loopback'),
  v4Range('169.254.0.0/16', 'link-local'),
  v4Range('172.16.0.0/12', 'private 172.16/12'),
  v4Range('192.168.0.0/16', 'private 192.168/16'),
  v4Range('224.0.0.0/4', 'multicast'),
  v4Range('240.0.0.0/4', 'reserved and broadcast'),
];

/** The reference verdict; exact for the listed ranges and for the 256 addresses either side of each. */
const forbiddenV4 = (n: number) => FORBIDDEN_V4.some((r) => n >= r.first && n <= r.last);

/** First and last address of every range, and the address just outside each end: [ip, forbidden, why]. */
const V4_BOUNDARIES: Array<[string, boolean, string]> = FORBIDDEN_V4.flatMap((r) => {
  const points: Array<[number, string]> = [
    [r.first - 1, `just below ${r.name}`],
    [r.first, `first of ${r.name}`],
    [r.last, `last of ${r.name}`],
    [r.last + 1, `just above ${r.name}`],
  ];
  return points.filter(([n]) => n >= 0 && n <= V4_MAX).map(([n, why]): [string, boolean, string] => [intToV4(n), forbiddenV4(n), why]);
});

/** The IPv6 spellings of an IPv4 address that must get its verdict. */
function v4InV6(ip: string): string[] {
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
  return [`::ffff:${ip}`, `::ffff:0:${ip}`, `64:ff9b::${ip}`, `2002:${hex(a, b)}:${hex(c, d)}::1`];
}

describe('isForbiddenAddress at every range boundary', () => {
  it('has the boundaries the rule is about', () => {
    const table = Object.fromEntries(V4_BOUNDARIES.map(([ip, forbidden]) => [ip, forbidden]));
    expect(table).toMatchObject({
      '172.15.255.255': false,
      '172.16.0.0': true,
      '172.31.255.255': true,
      '172.32.0.0': false,
      '100.63.255.255': false,
      '100.64.0.0': true,
      '100.127.255.255': true,
      '100.128.0.0': false,
      '9.255.255.255': false,
      '11.0.0.0': false,
      '169.253.255.255': false,
      '169.255.0.0': false,
      '223.255.255.255': false,
      '255.255.255.255': true,
    });
  });

  it.each(V4_BOUNDARIES)('%s → forbidden %s (%s), in IPv4 and every IPv6 form that carries it', (ip, forbidden) => {
    const verdicts = [ip, ...v4InV6(ip)].map((form) => ({ form, forbidden: isForbiddenAddress(form) }));
    expect(verdicts.filter((v) => v.forbidden !== forbidden)).toEqual([]);
  });

  it.each([
    // ::/8 (IANA-reserved, IPv4-compatible) and the discard prefix after it
    ['::', true, 'unspecified'],
    ['::1', true, 'loopback'],
    ['::2', true, 'just above loopback, still ::/8'],
    ['ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true, 'last of ::/8'],
    ['100::', true, 'first of discard 100::/64'],
    ['100::ffff:ffff:ffff:ffff', true, 'last of discard 100::/64'],
    ['100:0:0:1::', false, 'just above discard 100::/64'],
    // unique-local fc00::/7
    ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false, 'just below unique-local'],
    ['fc00::', true, 'first of unique-local'],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true, 'last of unique-local'],
    ['fe00::', false, 'just above unique-local'],
    // link-local fe80::/10, then site-local fec0::/10 and multicast ff00::/8
    ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false, 'just below link-local'],
    ['fe80::', true, 'first of link-local'],
    ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true, 'last of link-local'],
    ['fec0::', true, 'just above link-local: deprecated site-local'],
    ['feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true, 'last of site-local'],
    ['ff00::', true, 'first of multicast'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true, 'last of multicast'],
    // IPv4-mapped ::ffff:0:0/96 and translated ::ffff:0:0:0/96 sit inside ::/8
    ['::fffe:ffff:ffff', true, 'just below IPv4-mapped, ::/8'],
    ['::ffff:1:0:0', true, 'just above IPv4-mapped, ::/8'],
    ['::1:0:0:0', true, 'just above IPv4-translated, ::/8'],
    // well-known NAT64 64:ff9b::/96: an island of ::/8 judged by the address it carries
    ['64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff', true, 'just below NAT64, ::/8'],
    ['64:ff9b::808:808', false, 'NAT64 of a public address'],
    ['64:ff9b::1:0:0', true, 'just above NAT64, ::/8'],
    ['64:ff9b:1::', true, 'first of local-use NAT64'],
    // 6to4 2002::/16
    ['2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false, 'just below 6to4'],
    ['2002:808:808::', false, '6to4 of a public address'],
    ['2003::', false, 'just above 6to4'],
  ] satisfies Array<[string, boolean, string]>)('%s → forbidden %s (%s)', (ip, forbidden, _why) => {
    expect(isForbiddenAddress(ip)).toBe(forbidden);
  });

  it('agrees with the reference inside every IPv4 range and near both ends of each, every run', () => {
    fc.assert(
      fc.property(fc.nat(V4_MAX), fc.nat(255), (seed, step) => {
        const samples = FORBIDDEN_V4.flatMap((r) => [r.first + (seed % (r.last - r.first + 1)), r.first - 1 - step, r.last + 1 + step]).filter(
          (n) => n >= 0 && n <= V4_MAX,
        );
        const wrong = samples
          .map((n) => ({ ip: intToV4(n), expected: forbiddenV4(n) }))
          .filter(({ ip, expected }) => [ip, ...v4InV6(ip)].some((form) => isForbiddenAddress(form) !== expected));
        expect(wrong).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the reference inside every IPv6 range and near both ends of each, every run', () => {
    const v6Range = (cidr: string, name: string): Range<bigint> => {
      const [base, length] = cidr.split('/');
      const first = v6ToBigInt(base!);
      return { name, first, last: first + (1n << BigInt(128 - Number(length))) - 1n };
    };
    const reference = [v6Range('::/8', 'IANA-reserved'), v6Range('100::/64', 'discard'), v6Range('fc00::/7', 'unique-local'), v6Range('fe80::/10', 'link-local'), v6Range('fec0::/10', 'site-local'), v6Range('ff00::/8', 'multicast')];
    // ::/8 holds islands judged by the IPv4 they carry (mapped, NAT64), so it is not sampled inside;
    // its upper end is, as the addresses just below 100::/64.
    const sampled = reference.slice(1);
    const forbidden = (n: bigint) => reference.some((r) => n >= r.first && n <= r.last);
    const MAX = (1n << 128n) - 1n;
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.bigInt({ min: 0n, max: 0xffffn }), (seed, step) => {
        const samples = sampled
          .flatMap((r) => [r.first + (seed % (r.last - r.first + 1n)), r.first - 1n - step, r.last + 1n + step])
          .filter((n) => n >= 0n && n <= MAX);
        const wrong = samples.map((n) => ({ ip: bigIntToV6(n), expected: forbidden(n) })).filter(({ ip, expected }) => isForbiddenAddress(ip) !== expected);
        expect(wrong).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

function v6ToBigInt(ip: string): bigint {
  const [head, tail = ''] = ip.split('::');
  const groups = (text: string) => (text === '' ? [] : text.split(':'));
  const left = groups(head!);
  const right = groups(tail);
  const all = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return all.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function bigIntToV6(n: bigint): string {
  return Array.from({ length: 8 }, (_, i) => ((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16)).join(':');
}

describe('isAllowedHost', () => {
  const url = (u: string) => new URL(u);

  it('matches a bare host on any port, case-insensitively', () => {
    expect(isAllowedHost(url('https://Hooks.Example.com/x'), ['hooks.example.COM'])).toBe(true);
    expect(isAllowedHost(url('http://hooks.example.com:8080/x'), ['hooks.example.com'])).toBe(true);
    expect(isAllowedHost(url('https://evil.example.com/'), ['hooks.example.com'])).toBe(false);
    expect(isAllowedHost(url('https://hooks.example.com.evil.test/'), ['hooks.example.com'])).toBe(false);
  });

  it('matches host:port only on that port, counting default ports', () => {
    expect(isAllowedHost(url('https://h.example:8443/'), ['h.example:8443'])).toBe(true);
    expect(isAllowedHost(url('https://h.example/'), ['h.example:8443'])).toBe(false);
    expect(isAllowedHost(url('https://h.example/'), ['h.example:443'])).toBe(true);
    expect(isAllowedHost(url('http://h.example/'), ['h.example:443'])).toBe(false);
    expect(isAllowedHost(url('http://h.example/'), ['h.example:80'])).toBe(true);
  });

  it('handles IP literals, IPv6 brackets and trailing dots', () => {
    expect(isAllowedHost(url('http://127.0.0.1:9000/'), ['127.0.0.1'])).toBe(true);
    expect(isAllowedHost(url('http://[::1]:9000/'), ['[::1]:9000'])).toBe(true);
    expect(isAllowedHost(url('http://[::1]:9000/'), ['::1'])).toBe(true);
    expect(isAllowedHost(url('http://[::1]:9001/'), ['[::1]:9000'])).toBe(false);
    expect(isAllowedHost(url('https://hooks.example.com./'), ['hooks.example.com'])).toBe(true);
    expect(isAllowedHost(url('https://hooks.example.com/'), ['hooks.example.com.'])).toBe(true);
  });

  it('ignores malformed entries and an empty list', () => {
    expect(isAllowedHost(url('https://hooks.example.com/'), [])).toBe(false);
    expect(isAllowedHost(url('https://hooks.example.com/'), ['https://hooks.example.com', 'hooks.example.com:abc', ''])).toBe(
      false,
    );
  });
});
