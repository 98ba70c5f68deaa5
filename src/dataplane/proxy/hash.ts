// Chain-name hashes as kube-proxy computes them: sha256 over a string, encoded
// with RFC 4648 base32 (standard alphabet, upper case), truncated. Chain names
// must fit the kernel's 28-character limit, hence the truncation upstream.

import { hash as oneShotHash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * Base32-encode `bytes` (standard alphabet, no padding) and return the first
 * `chars` characters. Encoding only what is needed keeps hot loops cheap.
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

// A bounded memo: benchmarks re-render the same model many times, and hashing
// dominates render time at 50k services. Cleared wholesale when full so memory
// stays bounded without LRU bookkeeping.
const CACHE_LIMIT = 1 << 21;
const cache = new Map<string, string>();

/**
 * First `chars` base32 characters of sha256(`input`), memoised.
 * kube-proxy's iptables and nftables chain names are both built on this.
 */
export function sha256Base32(input: string, chars = 16): string {
  const key = chars === 16 ? input : `${chars}\u0000${input}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const digest = oneShotHash('sha256', input, 'buffer');
  const value = base32Prefix(digest, chars);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/** Drop memoised hashes (for timing a cold render). */
export function clearHashCache(): void {
  cache.clear();
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
