// IP address helpers shared by the model and the renderers.
//
// IPv4 addresses are handled as uint32 numbers: 0 … 0xffffffff, always
// non-negative (bit operations in JavaScript yield int32, so results are
// brought back with `>>> 0`). Numbers make "next address", range checks and
// CIDR membership single arithmetic operations, which matters when a
// generator or renderer walks hundreds of thousands of endpoints.
//
// Two parsing modes, because the two users differ:
// - strict (parseIPv4, parseCIDRv4): dotted-quad only, no leading zeros
//   ("010.0.0.1" is ambiguous — octal to some tools, decimal to Go's
//   ParseIPSloppy — so validation rejects it rather than guessing);
// - sloppy (parseIPv4Sloppy, normalizeIPv4, parseCIDRv4Sloppy): what
//   kube-proxy itself accepts through k8s.io/utils/net's ParseIPSloppy /
//   ParseCIDRSloppy (leading zeros read as decimal), with canonical output as
//   Go's net.IP / net.IPNet String() prints it. Renderers use these, so a
//   model that skipped validation still renders as kube-proxy would.
// IPv6 is only recognised, never converted: the renderers that matter here
// are IPv4-only and skip IPv6 objects.

import { isIPv6 as netIsIPv6 } from 'node:net';
import type { IPFamily } from './types.js';

/** An IPv4 CIDR. `base` is the network address with host bits cleared. */
export interface CIDRv4 {
  base: number;
  prefix: number;
}

/** A parsed CIDR together with its canonical text ("203.0.113.0/25"), for renderers that print it. */
export interface CanonicalCIDRv4 extends CIDRv4 {
  readonly text: string;
}

export const IPV4_MAX = 0xffffffff;

/**
 * The one dotted-quad parser: four decimal octets 0..255 of 1–3 digits;
 * `sloppy` also accepts leading zeros (read as decimal), as ParseIPSloppy does.
 * Hand-rolled: generators and renderers call it once per endpoint.
 */
function parseDotted(s: string, sloppy: boolean): number | undefined {
  const len = s.length;
  if (len < 7 || len > 15) return undefined;
  let result = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return undefined;
      result = result * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      continue;
    }
    if (c < 48 || c > 57) return undefined;
    if (!sloppy && digits > 0 && octet === 0) return undefined; // leading zero
    octet = octet * 10 + (c - 48);
    if (++digits > 3 || octet > 255) return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return result * 256 + octet;
}

/** Parses a dotted-quad IPv4 address to a uint32, or undefined when it is not one (leading zeros rejected). */
export function parseIPv4(s: string): number | undefined {
  return parseDotted(s, false);
}

export function isIPv4(s: string): boolean {
  return parseIPv4(s) !== undefined;
}

const OCTETS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
/**
 * A direct-mapped cache of "a.b.c." prefixes, indexed by the low 12 bits of
 * n >>> 8: a whole /12 (say 172.16.0.0/12 of pod IPs) fits without evictions,
 * and a lookup is two array reads, cheaper than hashing into a Map.
 */
const PREFIX_SLOTS = 4096;
const prefixTags = new Int32Array(PREFIX_SLOTS).fill(-1);
const prefixStrings: string[] = new Array<string>(PREFIX_SLOTS).fill('');

/**
 * Formats a uint32 as dotted-quad. Throws RangeError for anything that is not a uint32.
 * Generators format hundreds of thousands of addresses; caching the /24 prefix
 * makes each call one concatenation instead of seven, which is most of the
 * garbage (and so most of the time) a naive template string would cost.
 */
export function formatIPv4(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > IPV4_MAX) {
    throw new RangeError(`not an IPv4 address as uint32: ${n}`);
  }
  const hi = n >>> 8; // < 2^24, so it fits the Int32Array tags
  const slot = hi & (PREFIX_SLOTS - 1);
  let prefix: string;
  if (prefixTags[slot] === hi) {
    prefix = prefixStrings[slot] ?? '';
  } else {
    prefix = `${hi >>> 16}.${(hi >>> 8) & 255}.${hi & 255}.`;
    prefixTags[slot] = hi;
    prefixStrings[slot] = prefix;
  }
  return prefix + (OCTETS[n & 255] ?? '');
}

/** The netmask for a prefix length 0…32, as uint32. */
export function prefixMask(prefix: number): number {
  // `x << 32` is `x << 0` in JavaScript, so /0 needs its own case.
  return prefix === 0 ? 0 : (IPV4_MAX << (32 - prefix)) >>> 0;
}

function parsePrefix(s: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]?[0-9]?)$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

/**
 * Parses "a.b.c.d/n". Host bits may be set ("1.2.3.4/28"), as the API server
 * accepts them in loadBalancerSourceRanges; they are cleared in `base`.
 */
export function parseCIDRv4(s: string): CIDRv4 | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIPv4(s.slice(0, slash));
  const prefix = parsePrefix(s.slice(slash + 1), 32);
  if (addr === undefined || prefix === undefined) return undefined;
  return { base: (addr & prefixMask(prefix)) >>> 0, prefix };
}

/** Canonical text of a CIDR ("10.0.0.0/8"). */
export function formatCIDRv4(c: CIDRv4): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function cidrContains(c: CIDRv4, ip: number): boolean {
  return ((ip ^ c.base) & prefixMask(c.prefix)) === 0;
}

/** Number of addresses in the CIDR, network and broadcast included. */
export function cidrSize(c: CIDRv4): number {
  return 2 ** (32 - c.prefix);
}

/** True for a plain IPv6 address; zone suffixes ("fe80::1%eth0") are not valid in Kubernetes objects. */
export function isIPv6(s: string): boolean {
  return !s.includes('%') && netIsIPv6(s);
}

/** The family of an address, or undefined when it is neither. */
export function ipFamilyOf(s: string): IPFamily | undefined {
  if (isIPv4(s)) return 'IPv4';
  if (isIPv6(s)) return 'IPv6';
  return undefined;
}

export function isIP(s: string): boolean {
  return ipFamilyOf(s) !== undefined;
}

/** The family of a CIDR ("10.0.0.0/8", "fd00::/64"), or undefined when it is not one. */
export function cidrFamilyOf(s: string): IPFamily | undefined {
  if (parseCIDRv4(s) !== undefined) return 'IPv4';
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  if (isIPv6(s.slice(0, slash)) && parsePrefix(s.slice(slash + 1), 128) !== undefined) return 'IPv6';
  return undefined;
}

/**
 * Go's ParseIPSloppy for IPv4: like parseIPv4, but an octet may carry leading
 * zeros, read as decimal ("010.001.2.3" is 10.1.2.3).
 */
export function parseIPv4Sloppy(s: string): number | undefined {
  return parseDotted(s, true);
}

/** Canonical text of a (sloppily written) IPv4 address, or undefined when it is not one. */
export function normalizeIPv4(s: string): string | undefined {
  // Already canonical is the common case and needs no new string.
  if (parseIPv4(s) !== undefined) return s;
  const v = parseIPv4Sloppy(s);
  return v === undefined ? undefined : formatIPv4(v);
}

/** Cheap pre-filter: an address with a colon is IPv6 (or garbage) and never IPv4. */
export function looksIPv6(s: string): boolean {
  return s.includes(':');
}

/**
 * ParseCIDRSloppy for IPv4 after trimming whitespace (kube-proxy trims
 * loadBalancerSourceRanges): host bits cleared, canonical text attached.
 */
export function parseCIDRv4Sloppy(raw: string): CanonicalCIDRv4 | undefined {
  const s = raw.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIPv4Sloppy(s.slice(0, slash));
  const prefixText = s.slice(slash + 1);
  if (addr === undefined || !/^[0-9]{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  const base = (addr & prefixMask(prefix)) >>> 0;
  return { base, prefix, text: `${formatIPv4(base)}/${prefix}` };
}

/** Whether the address written as text (sloppy syntax accepted) lies inside the CIDR; false when it is not IPv4. */
export function cidrContainsText(c: CIDRv4, ip: string): boolean {
  const v = parseIPv4Sloppy(ip);
  return v !== undefined && cidrContains(c, v);
}

/**
 * Why an address may not be an endpoint or external IP, as the API server's
 * ValidateNonSpecialIP says (unspecified, loopback, link-local unicast,
 * link-local multicast), or undefined when it may. Only valid IPs are judged.
 */
export function specialIPReason(s: string): string | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) {
    if (v4 === 0) return 'may not be unspecified (0.0.0.0)';
    if (v4 >>> 24 === 127) return 'may not be in the loopback range (127.0.0.0/8)';
    if (v4 >>> 16 === 0xa9fe) return 'may not be in the link-local range (169.254.0.0/16)';
    if (v4 >>> 8 === 0xe00000) return 'may not be in the link-local multicast range (224.0.0.0/24)';
    return undefined;
  }
  if (!isIPv6(s)) return undefined;
  const groups = ipv6Groups(s);
  if (groups.every((g) => g === 0)) return 'may not be unspecified (::)';
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return 'may not be in the loopback range (::1/128)';
  const first = groups[0] as number;
  if ((first & 0xffc0) === 0xfe80) return 'may not be in the link-local range (fe80::/10)';
  if ((first & 0xff0f) === 0xff02) return 'may not be in the link-local multicast range (ff02::/16)';
  return undefined;
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail counts as two). */
function ipv6Groups(s: string): number[] {
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  const v4 = tail.includes('.') ? parseIPv4(tail) : undefined;
  const head = v4 === undefined ? s : `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  const [left = '', right] = head.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  return right === undefined ? l : [...l, ...Array<number>(8 - l.length - r.length).fill(0), ...r];
}
