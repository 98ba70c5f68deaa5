// nftables-mode chain and set names. Unlike iptables mode (28-character
// limit, pure hashes), nft names can be 256 characters, so kube-proxy keeps
// the readable "ns/name/proto/port" and prefixes an 8-character hash of it:
//   service-ULMVA6XW-ns1/svc1/tcp/p80
//   endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80

import { sha256Base32 } from '../proxy/index.js';

/** knftables.NameLengthMax minus the longest prefix ("endpoint-" etc. fit in 16). */
const BASE_LENGTH_MAX = 256 - 16;

/** Hash-prefix a name and cut it to the length upstream allows (the cut never happens for valid k8s names). */
export function hashAndTruncate(name: string): string {
  const full = `${sha256Base32(name, 8)}-${name}`;
  return full.length > BASE_LENGTH_MAX ? `${full.slice(0, BASE_LENGTH_MAX - 3)}...` : full;
}

/** "HASH-ns/name/proto/portName"; portName may be '' (then the name ends in "/"). */
export function servicePortChainBase(namespace: string, name: string, protocolLower: string, portName: string): string {
  return hashAndTruncate(`${namespace}/${name}/${protocolLower}/${portName}`);
}

/**
 * "HASH-ns/name/proto/portName__ip/port". IPv6 colons are not allowed in
 * chain names, so upstream turns them into dots.
 */
export function endpointChainBase(
  namespace: string,
  name: string,
  protocolLower: string,
  portName: string,
  ip: string,
  port: number,
): string {
  const safeIP = ip.includes(':') ? ip.replaceAll(':', '.') : ip;
  return hashAndTruncate(`${namespace}/${name}/${protocolLower}/${portName}__${safeIP}/${port}`);
}

export const PREFIX = {
  cluster: 'service-',
  local: 'local-',
  external: 'external-',
  firewall: 'firewall-',
  endpoint: 'endpoint-',
  affinity: 'affinity-',
} as const;

/** Service and endpoint chains always contain "/"; kube-proxy's fixed chains never do. */
export function isServiceChainName(chain: string): boolean {
  return chain.includes('/');
}
