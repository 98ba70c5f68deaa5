import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderIptables } from '../../../src/dataplane/iptables/render.js';
import { FAKE_MARK, TEST_NODE, overallModel } from '../helpers.js';
import { normalise } from './normalise.js';

const fixture = readFileSync(new URL('../../fixtures/iptables/overall-iptables-rules.expected.txt', import.meta.url), 'utf8');

describe('TestOverallIPTablesRules (upstream)', () => {
  const program = renderIptables(overallModel(), TEST_NODE, { masqueradeMark: FAKE_MARK });

  it('produces exactly the upstream payload, modulo upstream’s own order normalisation', () => {
    // Upstream compares after sorting too: its service loop runs in Go map order.
    expect(normalise(program.payload)).toBe(normalise(fixture));
  });

  it('is already in normalised order within every chain', () => {
    // normalise() only regroups by chain and sorts KUBE-SERVICES/KUBE-NODEPORTS by
    // service; that the fixture equals its own normalisation shows it is canonical.
    expect(normalise(fixture)).toBe(fixture);
  });

  it('counts rules as upstream’s rule-count metric does (one per "-A" line)', () => {
    const natRules = program.nat.filter((l) => l.startsWith('-A ')).length;
    const filterRules = program.filter.filter((l) => l.startsWith('-A ')).length;
    expect(program.counts.nat.rules).toBe(natRules);
    expect(program.counts.filter.rules).toBe(filterRules);
    expect(program.counts.nat.chains).toBe(program.nat.filter((l) => l.startsWith(':')).length);
    expect(program.largeClusterMode).toBe(false);
  });

  it('writes the real, un-normalised order kube-proxy emits', () => {
    // Chain declarations come first, in creation order: the fixed chains, then
    // per-service chains as each service is processed.
    expect(program.filter.slice(0, 7)).toEqual([
      '*filter',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-EXTERNAL-SERVICES - [0:0]',
      ':KUBE-FORWARD - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-PROXY-FIREWALL - [0:0]',
      ':KUBE-FIREWALL - [0:0]',
    ]);
    expect(program.nat.slice(0, 9)).toEqual([
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      // ns1/svc1 (ClusterIP): SVC then its SEP.
      ':KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]',
      ':KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]',
      // ns2/svc2 (LB, ETP Local, no local endpoints): EXT, SVC, SEP; no SVL.
      ':KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]',
      ':KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]',
    ]);
    // Postrouting and mark rules are written before any service rule.
    const firstRule = program.nat.findIndex((l) => l.startsWith('-A '));
    expect(program.nat.slice(firstRule, firstRule + 4)).toEqual([
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    ]);
    // The NodePort dispatch is the last nat rule; KUBE-FORWARD rules are the last filter rules.
    expect(program.nat.at(-2)).toContain('must be the last rule in this chain');
    expect(program.filter.slice(-4, -1).every((l) => l.startsWith('-A KUBE-FORWARD'))).toBe(true);
    expect(program.payload.startsWith('*filter\n')).toBe(true);
    expect(program.payload.endsWith('COMMIT\n')).toBe(true);
  });
});
