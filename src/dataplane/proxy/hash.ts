// Chain-name hashes as kube-proxy computes them: sha256 over a string, encoded
// with RFC 4648 base32 (standard alphabet, upper case), truncated. Chain names
// must fit the kernel's 28-character limit, hence the truncation upstream.

import { hash as oneShotHash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));

/**
 * Base32-encode `bytes` (standard alphabet, no padding) and return the first
 * `chars` characters.
 */
export function base32Prefix(bytes: Uint8Array, chars: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length && out.length < chars; i++) {
    buffer = ((buffer << 8) | (bytes[i] ?? 0)) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (out.length < chars && bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

const nibble = (c: number): number => (c <= 57 ? c - 48 : c - 87);

/**
 * The first 16 base32 characters of a digest given as lower-case hex.
 * Five hex digits are 20 bits, i.e. exactly four base32 characters.
 */
function base32From16Hex(hex: string): string {
  const out: number[] = new Array<number>(16);
  let k = 0;
  for (let g = 0; g < 20; g += 5) {
    const v =
      (nibble(hex.charCodeAt(g)) << 16) |
      (nibble(hex.charCodeAt(g + 1)) << 12) |
      (nibble(hex.charCodeAt(g + 2)) << 8) |
      (nibble(hex.charCodeAt(g + 3)) << 4) |
      nibble(hex.charCodeAt(g + 4));
    out[k++] = CODES[(v >>> 15) & 31] ?? 0;
    out[k++] = CODES[(v >>> 10) & 31] ?? 0;
    out[k++] = CODES[(v >>> 5) & 31] ?? 0;
    out[k++] = CODES[v & 31] ?? 0;
  }
  return String.fromCharCode(...out);
}

/**
 * First `chars` base32 characters of sha256(`input`). The 16-character case
 * (every kube-proxy iptables chain) takes a fast path: a hex digest is several
 * times cheaper to get out of node:crypto than a Buffer.
 */
export function sha256Base32(input: string, chars = 16): string {
  if (chars <= 16) {
    const s = base32From16Hex(oneShotHash('sha256', input, 'hex'));
    return chars === 16 ? s : s.slice(0, chars);
  }
  return base32Prefix(oneShotHash('sha256', input, 'buffer'), chars);
}

/**
 * kube-proxy's portProtoHash: the 16-character hash shared by a service port's
 * KUBE-SVC-, KUBE-SVL-, KUBE-EXT- and KUBE-FW- chains.
 * `protocolLower` is the lower-case protocol ("tcp", "udp", "sctp").
 */
export function portProtoHash(servicePortName: string, protocolLower: string): string {
  return sha256Base32(servicePortName + protocolLower);
}

/**
 * The 16-character hash of a KUBE-SEP- chain: sha256 over service port name,
 * lower-case protocol and the endpoint's "ip:port" string, concatenated.
 */
export function endpointHash(servicePortName: string, protocolLower: string, endpoint: string): string {
  return sha256Base32(servicePortName + protocolLower + endpoint);
}

/**
 * Kept for callers that timed cold renders: there is no global hash memo any
 * more (a Map lookup cost about as much as hashing). Endpoint chain hashes are
 * cached per EndpointInfo instead, so they live exactly as long as a ProxyState.
 */
export function clearHashCache(): void {
  // Nothing to clear.
}
