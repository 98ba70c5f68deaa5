// The sandbox, for real (root): namespaces with the run's prefix, packets from
// the client reach the backend namespace through the node, everything goes on
// destroy, and a sweep removes a dead run's namespaces but not a live run's.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createSandbox, listNetns, sweepLeftoverNetns } from '../../src/dataplane/sandbox.js';
import { claimPrefix, OWNER_DIR } from '../../src/host/owner.js';

const root = process.getuid?.() === 0;
const prefix = (): string => `kscale-${randomBytes(3).toString('hex')}`;

/** A one-datagram UDP echo in `server`, a send + wait for the echo in `client`; true when the echo came back. */
function udpRoundTrip(serverNs: string, clientNs: string, ip: string, port: number): boolean {
  const server = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>{s.send(m,r.port,r.address,()=>process.exit(0))});s.bind(${port},'0.0.0.0');setTimeout(()=>process.exit(3),5000)`;
  const client = `const s=require('dgram').createSocket('udp4');s.on('message',()=>process.exit(0));const go=()=>s.send('x',${port},'${ip}');setInterval(go,100);go();setTimeout(()=>process.exit(4),4000)`;
  const srv = spawnSync('sh', ['-c', `ip netns exec ${serverNs} node -e "${server}" & sleep 0.3; ip netns exec ${clientNs} node -e "${client}"; c=$?; wait; exit $c`], { encoding: 'utf8', timeout: 10_000 });
  return srv.status === 0;
}

describe.skipIf(!root)('sandbox (root)', () => {
  it('creates prefixed namespaces, forwards client → node → backend for any endpoint address, and destroys them', async () => {
    const p = prefix();
    const sb = await createSandbox({ prefix: p, endpointCidrs: ['172.16.0.0/12'] });
    try {
      const mine = listNetns().filter((n) => n.startsWith(p));
      expect(mine.sort()).toEqual([`${p}-backend`, `${p}-client`, `${p}-node`]);
      // No rules in the node namespace: plain forwarding to an endpoint address the backend owns via its local route.
      expect(udpRoundTrip(sb.backend.name, sb.client.name, '172.16.3.7', 8080)).toBe(true);
      // The host namespace gained no interface of ours.
      expect(spawnSync('ip', ['-br', 'link'], { encoding: 'utf8' }).stdout).not.toMatch(/\b(c0|n0|n1|b0)@/);
    } finally {
      await sb.destroy();
    }
    expect(listNetns().filter((n) => n.startsWith(p))).toEqual([]);
  });

  it('a sweep removes namespaces of a dead run and keeps those of a live one', async () => {
    const dead = prefix();
    const live = prefix();
    for (const n of [`${dead}-node`, `${live}-node`]) expect(spawnSync('ip', ['netns', 'add', n]).status).toBe(0);
    // The dead run's owner file names a pid that cannot be running.
    mkdirSync(OWNER_DIR, { recursive: true });
    writeFileSync(join(OWNER_DIR, `${dead}.owner`), '999999999 1\n');
    const release = claimPrefix(live);
    try {
      const removed = await sweepLeftoverNetns();
      expect(removed).toContain(`${dead}-node`);
      expect(listNetns()).toContain(`${live}-node`);
      expect(listNetns()).not.toContain(`${dead}-node`);
    } finally {
      release();
      spawnSync('ip', ['netns', 'delete', `${live}-node`]);
    }
  });
});
