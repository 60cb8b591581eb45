/**
 * SSRF guard for the result callback (DESIGN.md §7): which resolved addresses a callback may
 * connect to, and which hosts the operator has vouched for.
 *
 * The policy is deny-by-default: an address is allowed only when `ipaddr.js` classifies it as
 * plain `unicast`. Everything it names otherwise is refused — IPv4 `unspecified` (0.0.0.0/8),
 * `broadcast`, `multicast`, `linkLocal` (169.254/16, where cloud metadata lives), `loopback`,
 * `carrierGradeNat` (100.64/10, which holds Alibaba Cloud's metadata service 100.100.100.200),
 * `private` (RFC 1918), `reserved`, `as112`, `amt`; IPv6 `unspecified`, `loopback`,
 * `linkLocal`, `uniqueLocal` (fc00::/7), `multicast`, `deprecatedSiteLocal`, `discard`,
 * `benchmarking`, `reserved`, `orchid*`, `teredo` (its embedded addresses are obfuscated and
 * relayed; no real receiver needs it), and the rest.
 *
 * IPv6 forms that carry an IPv4 address are judged by that address: `ipv4Mapped`
 * (::ffff:a.b.c.d), `rfc6145` (::ffff:0:a.b.c.d), `rfc6052` well-known NAT64 64:ff9b::/96 and
 * `6to4` (2002:AABB:CCDD::/48).
 *
 * Added by hand (ipaddr.js calls these `unicast` or does not split them out):
 *  - ::/8 besides :: and ::1 — IANA-reserved, holds the deprecated IPv4-compatible ::a.b.c.d;
 *  - 64:ff9b:1::/48 (RFC 8215 local-use NAT64), which ipaddr folds into `rfc6052` but whose
 *    embedding is site-defined, so it is refused outright;
 *  - IPv4 text that is not plain dotted decimal (`0x7f.1`, `010.0.0.1`, `2130706433`): other
 *    parsers may read it differently, so it is refused rather than guessed;
 *  - IPv6 text written `::a.b.c.d` is judged as the IPv4-compatible address it is (see below).
 * Anything unparseable is forbidden.
 */
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

const NAT64_LOCAL_USE = ipaddr.IPv6.parse('64:ff9b:1::');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parse('64:ff9b::');
const IANA_RESERVED_V6 = ipaddr.IPv6.parse('::');

function isForbiddenV4(address: ipaddr.IPv4): boolean {
  return address.range() !== 'unicast';
}

function embeddedV4(parts: readonly number[], highIndex: number): ipaddr.IPv4 {
  const high = parts[highIndex] ?? 0;
  const low = parts[highIndex + 1] ?? 0;
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function isForbiddenV6(address: ipaddr.IPv6): boolean {
  const range = address.range();
  switch (range) {
    case 'unicast':
      return address.match(IANA_RESERVED_V6, 8);
    case 'ipv4Mapped':
    case 'rfc6145':
      return isForbiddenV4(embeddedV4(address.parts, 6));
    case 'rfc6052':
      // Stryker disable next-line LogicalOperator: ipaddr's rfc6052 is exactly 64:ff9b::/96 plus 64:ff9b:1::/48, so an address here is in one of the two, and `local && !wellKnown` is `local || !wellKnown`
      if (address.match(NAT64_LOCAL_USE, 48) || !address.match(NAT64_WELL_KNOWN, 96)) return true;
      return isForbiddenV4(embeddedV4(address.parts, 6));
    case '6to4':
      return isForbiddenV4(embeddedV4(address.parts, 1));
    default:
      return true;
  }
}

/**
 * True when a callback must not connect to `ip` (a literal IPv4 or IPv6 address, as DNS
 * returns it; an IPv6 zone suffix like `%eth0` is tolerated). Unparseable input is forbidden.
 *
 * Text is first validated with Node's own (strict, inet_pton-like) parser, the one the socket
 * will use, and IPv6 is re-serialised by the WHATWG URL parser before `ipaddr.js` sees it:
 * ipaddr.js reads the deprecated `::a.b.c.d` (IPv4-compatible) as `::ffff:a.b.c.d`
 * (IPv4-mapped), so `::8.8.8.8` and `::808:808` — the same address — would get different
 * verdicts. The serialiser emits hex only, which ipaddr.js reads faithfully.
 */
export function isForbiddenAddress(ip: string): boolean {
  try {
    if (isIPv4(ip)) {
      // Stryker disable next-line ConditionalExpression,BooleanLiteral: defence in depth; node:net's isIPv4 accepts dotted decimal without leading zeros only, exactly what isValidFourPartDecimal accepts, so this line never returns today
      if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) return true;
      return isForbiddenV4(ipaddr.IPv4.parse(ip));
    }
    const zone = ip.indexOf('%');
    const bare = zone === -1 ? ip : ip.slice(0, zone);
    if (!isIPv6(bare)) return true;
    const canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
    return isForbiddenV6(ipaddr.IPv6.parse(canonical));
  }
  // Stryker disable next-line BlockStatement: defence in depth; text node:net's parsers accept is always accepted by URL and ipaddr.js, so nothing above throws today
  catch {
    // Stryker disable next-line BooleanLiteral: unreachable today, as the catch above
    return true;
  }
}
