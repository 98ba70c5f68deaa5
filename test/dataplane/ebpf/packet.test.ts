// Crafted frames verify, a flipped byte breaks the right checksum, and the
// bpftool output parser reads the line bpftool prints.
import { describe, expect, it } from 'vitest';
import { craftPacket, parsePacket } from '../../../src/dataplane/ebpf/packet.js';
import { parseBpftoolRun } from '../../../src/dataplane/ebpf/testrun.js';

describe('crafted packets', () => {
  for (const proto of ['udp', 'tcp'] as const) {
    it(`a ${proto} frame parses back with valid checksums`, () => {
      const pkt = craftPacket({ proto, saddr: '198.18.0.1', daddr: '172.30.0.7', sport: 40001, dport: 8080, payloadBytes: 7 });
      expect(parsePacket(pkt)).toEqual({ proto, saddr: '198.18.0.1', daddr: '172.30.0.7', sport: 40001, dport: 8080, ipChecksumOk: true, l4ChecksumOk: true });
    });
  }

  it('a changed destination address breaks both checksums, a changed port only the L4 one', () => {
    const pkt = craftPacket({ proto: 'udp', saddr: '198.18.0.1', daddr: '172.30.0.7', sport: 40001, dport: 8080 });
    const addr = Buffer.from(pkt);
    addr[14 + 19] = 8;
    expect(parsePacket(addr)).toMatchObject({ daddr: '172.30.0.8', ipChecksumOk: false, l4ChecksumOk: false });
    const port = Buffer.from(pkt);
    port.writeUInt16BE(8081, 14 + 20 + 2);
    expect(parsePacket(port)).toMatchObject({ dport: 8081, ipChecksumOk: true, l4ChecksumOk: false });
  });

  it('non-IPv4 frames are not parsed', () => {
    const pkt = craftPacket({ proto: 'udp', saddr: '198.18.0.1', daddr: '172.30.0.7', sport: 1, dport: 2 });
    pkt.writeUInt16BE(0x86dd, 12);
    expect(parsePacket(pkt)).toBeUndefined();
  });
});

describe('bpftool prog run output', () => {
  it('reads the return value and the average duration', () => {
    expect(parseBpftoolRun('Return value: 2, duration (average): 53ns\n')).toEqual({ retval: 2, durationNs: 53 });
    expect(parseBpftoolRun('Error: failed to run program')).toBeUndefined();
  });
});
