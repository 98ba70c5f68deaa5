// `kscale rules` through its command object, with arguments parsed exactly as
// src/cli.ts parses them (node:util parseArgs, strict).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jsonPieces, parseTypeMix, renderRules, rulesCommand } from '../../src/commands/rules.js';
import { generateCluster } from '../../src/model/synthetic.js';
import { InputError } from '../../src/errors.js';

const FIXTURE = new URL('../fixtures/manifests/kubectl-get-svc-eps.yaml', import.meta.url).pathname;

async function rules(...args: string[]): Promise<{ code: number; out: string }> {
  const { values, positionals } = parseArgs({ args, options: rulesCommand.options, allowPositionals: false, strict: true });
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    const code = await rulesCommand.run(values, positionals);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('kscale rules', () => {
  it('prints the iptables-restore payload for a synthetic cluster', async () => {
    const r = await rules('--backend', 'iptables', '--services', '5', '--endpoints', '2', '--layout', 'kube-proxy-scale');
    expect(r.code).toBe(0);
    expect(r.out.startsWith('*filter\n')).toBe(true);
    expect(r.out).toContain('-A KUBE-SERVICES -m comment --comment "namespace/svc0:8080 cluster IP" -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-');
    expect(r.out.endsWith('COMMIT\n')).toBe(true);
  });

  it('prints the nftables transaction', async () => {
    const r = await rules('--backend', 'nftables', '--services', '3', '--endpoints', '1', '--seed', '9');
    expect(r.out.split('\n')[0]).toMatch(/^add table ip kube-proxy/);
  });

  it('prints the four labelled IPVS parts', async () => {
    const r = await rules('--backend', 'ipvs', '--services', '3', '--endpoints', '2', '--type', 'NodePort', '--node-ip', '192.168.7.7');
    for (const h of ['# kube-ipvs0 addresses', '# ipsets', '# iptables', '# IPVS virtual and real servers']) expect(r.out).toContain(h);
    expect(r.out).toMatch(/-A -t 192\.168\.7\.7:3\d{4} -s rr/);
  });

  it('prints the eBPF map entries as JSON', async () => {
    const r = await rules('--backend', 'ebpf', '--services', '4', '--endpoints', '3', '--layout', 'kube-proxy-scale');
    const doc = JSON.parse(r.out) as { services: unknown[]; backends: unknown[]; revNat: unknown[] };
    expect(doc.services).toHaveLength(4 * 4);
    expect(doc.revNat).toHaveLength(4);
    expect(doc.services[0]).toEqual({ key: { address: '10.0.0.1', dport: 80, backend_slot: 0, proto: 0, scope: 0 }, value: { count: 3, affinity_timeout: 0, rev_nat_index: 1, flags: [] } });
  });

  it('renders real manifests with --from, and --json gives backend, counts and program', async () => {
    const r = await rules('--backend', 'iptables', '--from', FIXTURE, '--json', '--node-name', 'node-a', '--cluster-cidr', '10.244.0.0/16');
    const doc = JSON.parse(r.out) as { backend: string; counts: { rules: number; bytes: number }; program: string };
    expect(doc.backend).toBe('iptables');
    expect(doc.counts.rules).toBeGreaterThan(0);
    expect(doc.counts.bytes).toBe(Buffer.byteLength(doc.program));
    expect(doc.program).toContain('! -s 10.244.0.0/16 -j KUBE-MARK-MASQ');
  });

  it('writes text in the renderer\'s pieces: the same bytes as the whole program, and --json the same document as JSON.stringify', async () => {
    const node = { nodeName: 'kscale-test-node', nodeIP: '10.0.0.2', clusterCIDR: '10.244.0.0/16', masqueradeBit: 14 };
    const model = generateCluster({ services: 300, endpointsPerService: 3, seed: 4, layout: 'realistic', nodeName: 'kscale-test-node' });
    for (const backend of ['iptables', 'nftables', 'ipvs'] as const) {
      const out = renderRules(backend, model, node);
      const text = (out.text ?? []).join('');
      expect(out.text?.length, backend).toBeGreaterThan(backend === 'ipvs' ? 0 : 1);
      expect(out.counts.bytes).toBe(Buffer.byteLength(text));
      expect([...jsonPieces(out)].join('')).toBe(`${JSON.stringify({ backend, counts: out.counts, program: text })}\n`);
    }
    const r = await rules('--backend', 'nftables', '--services', '300', '--endpoints', '3', '--seed', '4', '--node-name', 'kscale-test-node', '--node-ip', '10.0.0.2', '--cluster-cidr', '10.244.0.0/16');
    expect(r.out).toBe((renderRules('nftables', model, node).text ?? []).join(''));
  });

  it('gives the same model to every backend', () => {
    const model = { services: [], endpointSlices: [] };
    const node = { nodeName: 'n', nodeIP: '192.168.0.2', clusterCIDR: '', masqueradeBit: 14 };
    expect(renderRules('ebpf', model, node).counts).toEqual({ frontends: 0, serviceEntries: 0, backends: 0, revNat: 0 });
    expect(renderRules('ipvs', model, node).counts.virtualServers).toBe(0);
  });

  describe('bad input is an InputError naming what is wrong (exit 2), and nothing is printed', () => {
    const bad = (args: string[], subject: RegExp): void => {
      it(`${args.join(' ')}`, async () => {
        let printed = '';
        const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
          printed += String(c);
          return true;
        });
        try {
          const err = await rules(...args).then(() => null, (e: unknown) => e);
          expect(err).toBeInstanceOf(InputError);
          expect((err as Error).message).toMatch(subject);
        } finally {
          spy.mockRestore();
        }
        expect(printed).toBe('');
      });
    };
    bad(['--services', '1', '--endpoints', '1'], /--backend: required/);
    bad(['--backend', 'pf', '--services', '1', '--endpoints', '1'], /--backend: unknown value "pf"/);
    bad(['--backend', 'iptables'], /--from FILE… or both --services N and --endpoints E/);
    bad(['--backend', 'iptables', '--services', '1', '--endpoints', '1', '--from', FIXTURE], /--services: cannot be combined with --from/);
    bad(['--backend', 'iptables', '--services', '1', '--endpoints', '1', '--node-ip', '10.0.0.300'], /--node-ip/);
    bad(['--backend', 'iptables', '--services', '1', '--endpoints', '1', '--cluster-cidr', '10.0.0.0/40'], /--cluster-cidr/);
    bad(['--backend', 'iptables', '--services', '1', '--endpoints', '1', '--type-mix', 'NodePort=2'], /--type-mix/);
    bad(['--backend', 'iptables', '--services', '1', '--endpoints', '1', '--layout', 'flat'], /--layout: unknown layout/);
    // 100,000 Services do not fit kube-proxy-scale's port numbering.
    bad(['--backend', 'iptables', '--services', '100000', '--endpoints', '1', '--layout', 'kube-proxy-scale'], /at most \d+ Services fit/);
    bad(['--backend', 'iptables', '--from', '/nonexistent/kscale.yaml'], /\/nonexistent\/kscale\.yaml: cannot read/);
  });

  it('names file and object for a bad manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-rules-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  clusterIP: 10.0.0.999\n  ports: [{port: 80}]\n',
    );
    const err = await rules('--backend', 'nftables', '--from', file).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/bad\.yaml/);
    expect((err as Error).message).toMatch(/default\/web/);
  });

  it('parses type mixes', () => {
    expect(parseTypeMix('NodePort=0.1, LoadBalancer=0.05')).toEqual({ NodePort: 0.1, LoadBalancer: 0.05 });
    expect(() => parseTypeMix('NodePort=0.7,LoadBalancer=0.6')).toThrow(/more than 1/);
    expect(() => parseTypeMix('Headless=0.1')).toThrow(InputError);
  });
});
