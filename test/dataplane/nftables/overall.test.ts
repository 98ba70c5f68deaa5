// Reproduces upstream's TestOverallNFTablesRules: six services covering
// ClusterIP, LoadBalancer with externalTrafficPolicy Local, NodePort,
// externalIPs, LoadBalancer with source ranges and ClientIP affinity, and a
// service without endpoints. Inputs are rewritten as our model objects; the
// expected rules are upstream's, stored verbatim under test/fixtures.
//
// Upstream compares knftables.Fake's Dump() (the state after the transaction)
// after sorting both sides; we apply our transaction to a ruleset model,
// dump it, and sort both sides the same way.

import { describe, expect, it } from 'vitest';

import { renderNftables } from '../../../src/dataplane/nftables/index.js';
import { TEST_NODE, overallModel } from '../helpers.js';
import { dumpAfter, fixture, normalize, UPSTREAM_OPTS } from './helpers.js';

describe('TestOverallNFTablesRules (upstream, v1.34 profile)', () => {
  const program = renderNftables(overallModel(), TEST_NODE, UPSTREAM_OPTS);

  it('leaves exactly the rules upstream expects', () => {
    const expected = fixture('v1.34/base-rules.nft') + fixture('v1.34/overall.nft');
    expect(normalize(dumpAfter(program))).toBe(normalize(expected));
  });

  it('is one transaction of one operation per line, as knftables writes it', () => {
    expect(program.lines[0]).toBe('add table ip kube-proxy { comment "rules for kube-proxy" ; }');
    expect(program.payload).toBe(`${program.lines.join('\n')}\n`);
    for (const line of program.lines) expect(line).toMatch(/^(add|flush|delete) (table|chain|rule|set|map|element) ip kube-proxy /);
  });

  it('resets base chains on the first sync and flushes every chain it creates', () => {
    // add+delete of each base chain precedes its real creation.
    const i = program.lines.indexOf('add chain ip kube-proxy filter-input');
    expect(program.lines[i + 1]).toBe('delete chain ip kube-proxy filter-input');
    expect(program.lines).toContain('add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }');
    const created = program.lines.filter((l) => l.startsWith('add chain ')).map((l) => l.split(' ')[4]);
    for (const name of new Set(created)) expect(program.lines).toContain(`flush chain ip kube-proxy ${name}`);
  });

  it('writes map elements after the chains they jump to', () => {
    const at = (l: string): number => program.lines.indexOf(l);
    const chain = at('add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80');
    const elem = at('add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }');
    expect(chain).toBeGreaterThan(0);
    expect(elem).toBeGreaterThan(chain);
  });

  it('counts what the transaction creates', () => {
    // 8 base + 8 fixed regular chains, 9 service/external, 1 firewall and 6 endpoint chains.
    expect(program.counts.chains).toBe(32);
    expect(program.counts.sets).toBe(3); // cluster-ips, nodeport-ips, one affinity set
    expect(program.counts.maps).toBe(5);
    expect(program.counts.setElements).toBe(7); // 6 cluster IPs + the node IP
    expect(program.counts.mapElements).toBe(17);
    expect(program.servicePorts).toBe(6);
    expect(program.endpointChains).toBe(6);
  });
});
