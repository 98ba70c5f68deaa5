// A sandbox whose node namespace holds a hand-written DNAT rule set (no kscale
// renderer involved), for tests of the traffic generators themselves.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { createSandbox } from '../../src/dataplane/sandbox.js';
import type { Sandbox } from '../../src/dataplane/sandbox.js';
import type { FlowTarget } from '../../src/dataplane/traffic.js';

/** Service A 10.0.0.1:80 → 4 endpoints uniformly; Service B 10.0.0.2:81 → 70/30 over 2; both protocols. */
export function dnatRules(): string {
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KSCALE-TEST - [0:0]', '-A PREROUTING -j KSCALE-TEST'];
  for (const proto of ['udp', 'tcp']) {
    // iptables' statistic match, as kube-proxy writes it: 1/4, 1/3, 1/2, rest.
    ['0.25', '0.33333', '0.5', ''].forEach((p, i) => {
      lines.push(`-A KSCALE-TEST -d 10.0.0.1/32 -p ${proto} --dport 80${p ? ` -m statistic --mode random --probability ${p}` : ''} -j DNAT --to-destination 172.16.0.${i + 1}:8080`);
    });
    lines.push(`-A KSCALE-TEST -d 10.0.0.2/32 -p ${proto} --dport 81 -m statistic --mode random --probability 0.7 -j DNAT --to-destination 172.16.1.1:8080`);
    lines.push(`-A KSCALE-TEST -d 10.0.0.2/32 -p ${proto} --dport 81 -j DNAT --to-destination 172.16.1.2:8080`);
  }
  return lines.join('\n') + '\nCOMMIT\n';
}

export const A: FlowTarget = { service: 'test/a', ip: '10.0.0.1', port: 80, endpoints: ['172.16.0.1', '172.16.0.2', '172.16.0.3', '172.16.0.4'] };
export const B: FlowTarget = { service: 'test/b', ip: '10.0.0.2', port: 81, endpoints: ['172.16.1.1', '172.16.1.2'] };

export async function withDnatSandbox(f: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await createSandbox({ prefix: `kscale-${randomBytes(3).toString('hex')}`, endpointCidrs: ['172.16.0.0/12'] });
  try {
    const r = await sb.exec(sb.node, 'iptables-nft-restore', ['--noflush'], { input: dnatRules() });
    expect(r.code, r.stderr).toBe(0);
    await f(sb);
  } finally {
    await sb.destroy();
  }
}
