// Syntax and reference check of rendered transactions by the real `nft`, in
// dry-run mode (`nft -c`), inside a network namespace this test creates and
// always deletes. Nothing is ever run in the host namespace. Skips when not
// root or when nft/ip are missing.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  renderNftables,
  renderNftablesIncremental,
  renderStaleChainCleanup,
} from '../../../src/dataplane/nftables/index.js';
import { generateCluster } from '../../../src/model/index.js';
import { TEST_NODE, overallModel } from '../helpers.js';
import { UPSTREAM_OPTS } from './helpers.js';

const NFT = '/usr/sbin/nft';
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find((p) => existsSync(p));

function skipReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root to create a network namespace';
  if (!existsSync(NFT)) return `${NFT} not installed`;
  if (IP === undefined) return 'ip(8) not installed';
  return null;
}

const reason = skipReason();
if (reason !== null) console.warn(`skipping nft -c checks: ${reason}`);

describe.skipIf(reason !== null)('nft -c accepts the rendered transactions (in a private netns)', () => {
  const ns = `kscale-nftcheck-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'kscale-nftcheck-'));
  const ip = IP ?? 'ip';

  beforeAll(() => {
    execFileSync(ip, ['netns', 'add', ns]);
  });
  afterAll(() => {
    try {
      execFileSync(ip, ['netns', 'del', ns]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Dry-run `payload` against the (empty) ruleset of our namespace; returns nft's stderr on failure. */
  function check(name: string, payload: string): string {
    const file = join(dir, `${name}.nft`);
    writeFileSync(file, payload);
    try {
      execFileSync(ip, ['netns', 'exec', ns, NFT, '-c', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      return '';
    } catch (err) {
      const e = err as { stderr?: Buffer };
      return e.stderr?.toString() ?? String(err);
    }
  }

  it('really checks: a dangling jump is refused', () => {
    const bad = 'add table ip kube-proxy\nadd chain ip kube-proxy a\nadd rule ip kube-proxy a jump nosuchchain\n';
    expect(check('broken', bad)).toMatch(/Error/);
  });

  it('full sync of the upstream overall model, both profiles', () => {
    expect(check('overall-v134', renderNftables(overallModel(), TEST_NODE, UPSTREAM_OPTS).payload)).toBe('');
    expect(check('overall-v133', renderNftables(overallModel(), TEST_NODE, { ...UPSTREAM_OPTS, profile: 'v1.33' }).payload)).toBe('');
  });

  it('full sync with NodePorts on all addresses and the real mark', () => {
    const m = generateCluster({ services: 200, endpointsPerService: 3, seed: 11, layout: 'realistic' });
    expect(check('realistic-all', renderNftables(m, { ...TEST_NODE, nodeName: 'node1' }, { nodePortAddresses: 'all' }).payload)).toBe('');
  });

  it('full, then partial, then stale-chain cleanup, as one batch', () => {
    // -c cannot keep state between runs, so the three transactions go in one file.
    const node = { ...TEST_NODE, nodeName: 'node1' };
    const a = generateCluster({ services: 200, endpointsPerService: 3, seed: 5, layout: 'realistic' });
    const b = { services: a.services.filter((_, i) => i % 4 !== 0), endpointSlices: a.endpointSlices.map((s, i) => (i % 3 === 0 ? { ...s, endpoints: s.endpoints.slice(1) } : s)) };
    const full = renderNftables(a, node, UPSTREAM_OPTS);
    const incr = renderNftablesIncremental(a, b, node, UPSTREAM_OPTS);
    const cleanup = renderStaleChainCleanup(incr.staleChains);
    expect(incr.staleChains.length).toBeGreaterThan(0);
    expect(check('sequence', full.payload + incr.program.payload + cleanup.payload)).toBe('');
  });
});
