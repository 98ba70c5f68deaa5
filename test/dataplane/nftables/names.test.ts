// Chain and set names: hash prefixes as upstream computes them (pinned by
// upstream's fixtures), IPv6 escaping, and the cut of over-long names.

import { describe, expect, it } from 'vitest';

import { endpointChainBase, hashAndTruncate, servicePortChainBase } from '../../../src/dataplane/nftables/index.js';
import { sha256Base32 } from '../../../src/dataplane/proxy/index.js';

describe('nftables names', () => {
  it('matches the names upstream pins', () => {
    expect(servicePortChainBase('ns1', 'svc1', 'tcp', 'p80')).toBe('ULMVA6XW-ns1/svc1/tcp/p80');
    expect(endpointChainBase('ns1', 'svc1', 'tcp', 'p80', '10.180.0.1', 80)).toBe('5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  });

  it('turns IPv6 colons into dots', () => {
    expect(endpointChainBase('ns', 's', 'udp', 'dns', 'fd00:10::1', 53)).toMatch(/^[A-Z2-7]{8}-ns\/s\/udp\/dns__fd00.10..1\/53$/);
  });

  it('cuts names longer than 240 characters to 237 plus "..."', () => {
    const long = `${'a'.repeat(63)}/${'b'.repeat(63)}/tcp/${'c'.repeat(63)}__${'f'.repeat(50)}/65535`;
    const out = hashAndTruncate(long);
    expect(out).toHaveLength(240);
    expect(out.endsWith('...')).toBe(true);
    expect(out.slice(0, 9)).toBe(`${sha256Base32(long, 8)}-`);
  });
});
