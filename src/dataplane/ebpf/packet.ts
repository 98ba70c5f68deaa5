// Crafted Ethernet/IPv4/TCP|UDP frames for BPF_PROG_TEST_RUN and `bpftool prog
// run`, and the parser that checks what the program made of them (addresses,
// ports, and whether both checksums still verify). Pure.
import { formatIPv4, parseIPv4 } from '../../model/ip.js';

export type L4Proto = 'tcp' | 'udp';
export const IPPROTO: Record<L4Proto, number> = { tcp: 6, udp: 17 };

export interface FlowSpec {
  proto: L4Proto;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  /** Payload bytes after the L4 header. Default 16. */
  payloadBytes?: number;
}

const ETH_HLEN = 14;
const IP_HLEN = 20;
const TCP_HLEN = 20;
const UDP_HLEN = 8;

function ipv4(text: string): number {
  const v = parseIPv4(text);
  if (v === undefined) throw new Error(`not an IPv4 address: ${text}`);
  return v;
}

/** RFC 1071 ones' complement sum of 16-bit words, folded; `initial` carries a partial sum. */
export function onesComplementSum(buf: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length % 2 === 1) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function pseudoHeaderSum(saddr: number, daddr: number, proto: number, l4len: number): number {
  return (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + proto + l4len;
}

/** A frame from the client's MAC to the node's, as it arrives on the node's veth. */
export function craftPacket(f: FlowSpec): Buffer {
  const l4h = f.proto === 'tcp' ? TCP_HLEN : UDP_HLEN;
  const payload = f.payloadBytes ?? 16;
  const l4len = l4h + payload;
  const buf = Buffer.alloc(ETH_HLEN + IP_HLEN + l4len);
  // Ethernet: locally administered MACs, EtherType IPv4.
  Buffer.from([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]).copy(buf, 0);
  buf.writeUInt16BE(0x0800, 12);
  const ip = ETH_HLEN;
  buf[ip] = 0x45;
  buf.writeUInt16BE(IP_HLEN + l4len, ip + 2);
  buf.writeUInt16BE(0x1234, ip + 4);
  buf.writeUInt16BE(0x4000, ip + 6); // DF, no fragment offset
  buf[ip + 8] = 64;
  buf[ip + 9] = IPPROTO[f.proto];
  const saddr = ipv4(f.saddr);
  const daddr = ipv4(f.daddr);
  buf.writeUInt32BE(saddr, ip + 12);
  buf.writeUInt32BE(daddr, ip + 16);
  buf.writeUInt16BE(~onesComplementSum(buf.subarray(ip, ip + IP_HLEN)) & 0xffff, ip + 10);
  const l4 = ip + IP_HLEN;
  buf.writeUInt16BE(f.sport, l4);
  buf.writeUInt16BE(f.dport, l4 + 2);
  if (f.proto === 'tcp') {
    buf.writeUInt32BE(1, l4 + 4); // seq
    buf[l4 + 12] = (TCP_HLEN / 4) << 4;
    buf[l4 + 13] = 0x02; // SYN
    buf.writeUInt16BE(64240, l4 + 14);
  } else {
    buf.writeUInt16BE(l4len, l4 + 4);
  }
  for (let i = 0; i < payload; i++) buf[l4 + l4h + i] = i & 0xff;
  const csumAt = l4 + (f.proto === 'tcp' ? 16 : 6);
  let csum = ~onesComplementSum(buf.subarray(l4), pseudoHeaderSum(saddr, daddr, IPPROTO[f.proto], l4len)) & 0xffff;
  if (f.proto === 'udp' && csum === 0) csum = 0xffff;
  buf.writeUInt16BE(csum, csumAt);
  return buf;
}

export interface ParsedPacket {
  proto: L4Proto;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  /** The IPv4 header checksum verifies. */
  ipChecksumOk: boolean;
  /** The TCP/UDP checksum (over the pseudo-header) verifies; a UDP checksum of 0 (none) counts as ok. */
  l4ChecksumOk: boolean;
}

/** Parse a frame craftPacket could have produced; undefined when it is not IPv4 TCP/UDP. */
export function parsePacket(buf: Uint8Array): ParsedPacket | undefined {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < ETH_HLEN + IP_HLEN || b.readUInt16BE(12) !== 0x0800) return undefined;
  const ip = ETH_HLEN;
  const ihl = (b[ip]! & 0x0f) * 4;
  const total = b.readUInt16BE(ip + 2);
  const protoNum = b[ip + 9];
  const proto: L4Proto | undefined = protoNum === 6 ? 'tcp' : protoNum === 17 ? 'udp' : undefined;
  if (!proto || b.length < ip + total) return undefined;
  const saddr = b.readUInt32BE(ip + 12);
  const daddr = b.readUInt32BE(ip + 16);
  const l4 = ip + ihl;
  const l4len = total - ihl;
  const l4buf = b.subarray(l4, ip + total);
  const csum = b.readUInt16BE(l4 + (proto === 'tcp' ? 16 : 6));
  const l4ChecksumOk = (proto === 'udp' && csum === 0)
    || onesComplementSum(l4buf, pseudoHeaderSum(saddr, daddr, protoNum!, l4len)) === 0xffff;
  return {
    proto,
    saddr: formatIPv4(saddr),
    daddr: formatIPv4(daddr),
    sport: b.readUInt16BE(l4),
    dport: b.readUInt16BE(l4 + 2),
    ipChecksumOk: onesComplementSum(b.subarray(ip, ip + ihl)) === 0xffff,
    l4ChecksumOk,
  };
}
