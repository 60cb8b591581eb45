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

  it('agrees with hand-written CIDR checks for CGNAT and 172.16/12', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), (a, b, c, d) => {
        const ip = `${a}.${b}.${c}.${d}`;
        const cgnat = a === 100 && (b & 0xc0) === 64;
        const rfc1918b = a === 172 && (b & 0xf0) === 16;
        if (cgnat || rfc1918b) expect(isForbiddenAddress(ip)).toBe(true);
        if ((a === 100 || a === 172) && !cgnat && !rfc1918b) expect(isForbiddenAddress(ip)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });
});

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
