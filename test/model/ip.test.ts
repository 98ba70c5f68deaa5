import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  cidrFamilyOf,
  cidrSize,
  formatCIDRv4,
  formatIPv4,
  ipFamilyOf,
  isIPv6,
  parseCIDRv4,
  parseIPv4,
  prefixMask,
  specialIPReason,
} from '../../src/model/ip.js';

describe('IPv4 helpers', () => {
  it('parses and formats dotted quads as uint32', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('10.0.0.1')).toBe(0x0a000001);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(formatIPv4(0xffffffff)).toBe('255.255.255.255');
    expect(formatIPv4(0xac100001)).toBe('172.16.0.1');
    for (const s of ['1.2.3.4', '192.168.0.2', '172.31.255.254', '8.8.8.8']) expect(formatIPv4(parseIPv4(s) ?? -1)).toBe(s);
  });

  it('rejects anything that is not a plain dotted quad', () => {
    for (const s of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1..3.4', 'a.b.c.d', '1.2.3.-4', '::1', '1.2.3.4/32']) {
      expect(parseIPv4(s), s).toBeUndefined();
    }
    expect(() => formatIPv4(-1)).toThrow(RangeError);
    expect(() => formatIPv4(2 ** 32)).toThrow(RangeError);
    expect(() => formatIPv4(1.5)).toThrow(RangeError);
  });

  it('parses CIDRs, clearing host bits like the API server tolerates', () => {
    expect(parseCIDRv4('10.0.0.0/8')).toEqual({ base: 0x0a000000, prefix: 8 });
    expect(formatCIDRv4(parseCIDRv4('1.2.3.4/28') ?? { base: 0, prefix: 0 })).toBe('1.2.3.0/28');
    expect(parseCIDRv4('0.0.0.0/0')).toEqual({ base: 0, prefix: 0 });
    for (const s of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0/8', '10.0.0.0/-1']) {
      expect(parseCIDRv4(s), s).toBeUndefined();
    }
  });

  it('tests membership, including /0 and /32', () => {
    const c = parseCIDRv4('172.16.0.0/12');
    if (!c) throw new Error('parse');
    expect(cidrContains(c, parseIPv4('172.31.255.255') ?? 0)).toBe(true);
    expect(cidrContains(c, parseIPv4('172.32.0.0') ?? 0)).toBe(false);
    expect(cidrContains({ base: 0, prefix: 0 }, 0xffffffff)).toBe(true);
    expect(cidrContains({ base: 0x01020304, prefix: 32 }, 0x01020304)).toBe(true);
    expect(cidrContains({ base: 0x01020304, prefix: 32 }, 0x01020305)).toBe(false);
    expect(prefixMask(0)).toBe(0);
    expect(prefixMask(32)).toBe(0xffffffff);
    expect(prefixMask(12)).toBe(0xfff00000);
    expect(cidrSize(c)).toBe(2 ** 20);
  });

  it('recognises IPv6 without converting it', () => {
    expect(isIPv6('fd00::1')).toBe(true);
    expect(isIPv6('fe80::1%eth0')).toBe(false);
    expect(ipFamilyOf('fd00:10:96::5')).toBe('IPv6');
    expect(ipFamilyOf('10.96.0.1')).toBe('IPv4');
    expect(ipFamilyOf('nope')).toBeUndefined();
    expect(cidrFamilyOf('fd00::/64')).toBe('IPv6');
    expect(cidrFamilyOf('fd00::/129')).toBeUndefined();
    expect(cidrFamilyOf('10.0.0.0/8')).toBe('IPv4');
  });
});

describe('special addresses (the API server refuses them for endpoints and external IPs)', () => {
  it.each([
    ['0.0.0.0', /unspecified/], ['127.0.0.1', /loopback/], ['127.255.0.9', /loopback/], ['169.254.1.1', /link-local range/], ['224.0.0.251', /link-local multicast/],
    ['::', /unspecified/], ['::1', /loopback/], ['fe80::1', /link-local range/], ['febf:ffff::1', /link-local range/], ['ff02::1', /link-local multicast/],
  ])('%s', (ip, why) => {
    expect(specialIPReason(ip)).toMatch(why);
  });
  it.each(['10.0.0.1', '128.0.0.1', '169.253.255.255', '224.0.1.1', '198.18.0.1', '2001:db8::1', 'fec0::1', 'ff05::1', '::2', '::ffff:10.0.0.1'])('%s is an ordinary address', (ip) => {
    expect(specialIPReason(ip)).toBeUndefined();
  });
});
