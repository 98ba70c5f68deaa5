// Property (root, real kernel): for any seeded realistic cluster — NodePorts,
// LoadBalancers with source ranges, session affinity, Local traffic policies,
// terminating endpoints — the rules kscale renders are accepted by the real
// tools and the kernel then holds exactly what the model says.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { createSandbox } from '../../src/dataplane/sandbox.js';
import { ENDPOINT_CIDR, sandboxNode } from '../../src/dataplane/measure-sync.js';
import { iptablesLegacyBackend, iptablesNftBackend } from '../../src/dataplane/iptables/backend.js';
import { nftablesBackend } from '../../src/dataplane/nftables/backend.js';
import type { DataplaneBackend } from '../../src/dataplane/backend.js';
import { generateCluster } from '../../src/model/index.js';

const root = process.getuid?.() === 0;
const backends = [iptablesNftBackend, iptablesLegacyBackend, nftablesBackend] as DataplaneBackend<unknown>[];

describe.skipIf(!root)('rendered rules are accepted by the kernel and read back as rendered (root)', () => {
  it.each(backends.map((b) => [b.name, b] as const))('%s', async (_name, backend) => {
    const sb = await createSandbox({ prefix: `kscale-${randomBytes(3).toString('hex')}`, endpointCidrs: [ENDPOINT_CIDR] });
    try {
      const node = sandboxNode(sb);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 0, max: 6 }),
          fc.double({ min: 0, max: 0.5, noNaN: true }),
          fc.double({ min: 0, max: 0.4, noNaN: true }),
          async (seed, services, endpointsPerService, nodePort, loadBalancer) => {
            const model = generateCluster({ services, endpointsPerService, layout: 'realistic', seed, typeMix: { NodePort: nodePort, LoadBalancer: loadBalancer }, nodeName: node.nodeName });
            const program = backend.render(model, node);
            await backend.load(sb, program);
            const v = await backend.verify(sb, program);
            await backend.flush(sb);
            expect(v.mismatches).toEqual([]);
          },
        ),
        { numRuns: 12 },
      );
    } finally {
      await sb.destroy();
    }
  }, 120_000);
});
