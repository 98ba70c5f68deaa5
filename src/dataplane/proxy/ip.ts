// Minimal IPv4 address and CIDR handling with the same leniency as
// k8s.io/utils/net's "Sloppy" parsers (leading zeros read as decimal), and the
// same canonical output as Go's net.IP / net.IPNet String().

/** An IPv4 CIDR, already masked to its network address. */
export interface Cidr4 {
  /** Canonical text, as Go's (*net.IPNet).String() prints it, e.g. "203.0.113.0/25". */
  readonly text: string;
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
}

/** Parse a dotted-quad IPv4 address (leading zeros allowed); null when invalid. */
export function parseIPv4(text: string): number | null {
  // Hand-rolled: this runs once per endpoint, and split/regex dominated render time.
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return null;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return null;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return value * 256 + octet;
}

/** True when `text` is an IPv4 address already in canonical form (no leading zeros). */
function isCanonicalIPv4(text: string): boolean {
  let digits = 0;
  let dots = 0;
  let lead0 = false;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return false;
      dots++;
      digits = 0;
      octet = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && lead0) return false;
      if (digits === 0) lead0 = c === 48;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return false;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

/** Format an unsigned 32-bit integer as dotted-quad. */
export function formatIPv4(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** Canonical form of an IPv4 address, or null if it is not one. */
export function normalizeIPv4(text: string): string | null {
  if (isCanonicalIPv4(text)) return text;
  const v = parseIPv4(text);
  return v === null ? null : formatIPv4(v);
}

/** True when `text` looks like an IPv6 address (contains a colon). */
export function looksIPv6(text: string): boolean {
  return text.includes(':');
}

function maskFor(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parse "a.b.c.d/n" after trimming whitespace, masking host bits; null when invalid or not IPv4. */
export function parseCidr4(raw: string): Cidr4 | null {
  const text = raw.trim();
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const addr = parseIPv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (addr === null || !/^[0-9]{1,2}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > 32) return null;
  const network = (addr & maskFor(prefix)) >>> 0;
  return { text: `${formatIPv4(network)}/${prefix}`, network, prefix };
}

/** Whether an IPv4 address (as text) lies inside the CIDR. */
export function cidrContains(cidr: Cidr4, ip: string): boolean {
  const v = parseIPv4(ip);
  if (v === null) return false;
  return ((v & maskFor(cidr.prefix)) >>> 0) === cidr.network;
}
