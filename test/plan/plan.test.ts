import { describe, expect, it, vi, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResults } from '../../src/results/types.js';
import { validateProfile } from '../../src/plan/profile.js';
import type { ClusterProfile } from '../../src/plan/profile.js';
import { planCluster } from '../../src/plan/project.js';
import { formatPlan } from '../../src/plan/format.js';
import { planCommand } from '../../src/commands/plan.js';
import { InputError } from '../../src/errors.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'results');
const run = (f = 'full.json'): RunResults => JSON.parse(readFileSync(join(FIX, f), 'utf8')) as RunResults;
const PROFILE: ClusterProfile = { nodes: 500, pods: 15000, services: 2000, endpointsPerService: 10, serviceChurnPerSecond: 5, newConnectionsPerSecondPerNode: 2000, podBurst: 1000 };

describe('cluster profile validation', () => {
  it('accepts a complete profile', () => {
    expect(validateProfile({ ...PROFILE }, 'p.yaml')).toEqual(PROFILE);
  });
  it.each([
    [{ ...PROFILE, nodes: 0 }, /p\.yaml: nodes: must be ≥ 1, got 0/],
    [{ ...PROFILE, pods: 1.5 }, /p\.yaml: pods: expected a whole number, got 1\.5/],
    [{ ...PROFILE, services: '2000' }, /p\.yaml: services: expected a number .* got "2000"/],
    [{ ...PROFILE, endpointsPerService: 0 }, /endpointsPerService: must be > 0/],
    [{ ...PROFILE, serviceChurn: 3 }, /p\.yaml: serviceChurn: unknown field/],
    // Names every object has through its prototype are unknown fields too.
    [{ ...PROFILE, constructor: 1 }, /p\.yaml: constructor: unknown field/],
    [JSON.parse(`{"__proto__": 1, "nodes": 10}`) as object, /p\.yaml: __proto__: unknown field/],
    [(({ podBurst: _p, ...rest }) => rest)(PROFILE), /p\.yaml: podBurst: is required/],
    [[1, 2], /p\.yaml: expected a mapping/],
  ])('rejects %j naming the field and the reason', (doc, re) => {
    expect(() => validateProfile(doc, 'p.yaml')).toThrow(InputError);
    expect(() => validateProfile(doc, 'p.yaml')).toThrow(re);
  });
  it('says a value is too large without echoing a double that is no longer what the file wrote', () => {
    expect(() => validateProfile({ ...PROFILE, nodes: 2_000_000 }, 'p.yaml')).toThrow(/p\.yaml: nodes: too large: the supported maximum is 1000000, got 2000000$/);
    // 123456789012345678901 parses to 123456789012345680000: the message must not quote that.
    let message = '';
    try {
      validateProfile({ ...PROFILE, pods: Number('123456789012345678901') }, 'p.yaml');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('p.yaml: pods: too large: the supported maximum is 100000000');
    expect(() => validateProfile({ ...PROFILE, serviceChurnPerSecond: -1e20 }, 'p.yaml')).toThrow(/serviceChurnPerSecond: must be ≥ 0$/);
  });
  it('takes counts from a snapshot when the file leaves them out, the file winning where it states them', () => {
    const { nodes: _n, services: _s, ...rates } = PROFILE;
    const p = validateProfile(rates, 'p.yaml', { nodes: 3, services: 3, pods: 5, endpointsPerService: 1.67 });
    expect(p).toMatchObject({ nodes: 3, services: 3, pods: 15000, endpointsPerService: 10 });
  });
});

describe('planCluster', () => {
  const plan = planCluster(run(), PROFILE);
  const b = (name: string) => plan.backends.find((x) => x.backend === name)!;

  it('projects sync time from the measured fit and marks sizes inside the range as measured', () => {
    const nft = b('nftables');
    // nftables fixture: full load ≈ 0.012·S·(1+E) + 9 ms, so ≈ 273 ms at 2000 × 10.
    expect(nft.fullSync!.value).toBeGreaterThan(230);
    expect(nft.fullSync!.value).toBeLessThan(320);
    expect(nft.fullSync!.extrapolated).toBe(false);
    expect(nft.fullSync!.basis).toMatch(/100…5000 Services/);
    expect(nft.objects!.value).toBeGreaterThan(40_000);
  });
  it('marks a projection beyond the measured range as extrapolation', () => {
    const big = planCluster(run(), { ...PROFILE, services: 50_000 });
    const nft = big.backends.find((x) => x.backend === 'nftables')!;
    expect(nft.fullSync!.extrapolated).toBe(true);
    expect(nft.firstPacketP50!.extrapolated).toBe(true);
    expect(formatPlan(big)).toContain('[extrapolation]');
  });
  it('turns the first-packet slope into CPU cores at the stated connection rate', () => {
    const ipt = b('iptables-nft');
    // iptables-nft fixture slope ≈ 0.055 µs per Service at the random position → ≈ 110 µs at 2000 Services.
    expect(ipt.firstPacketP50!.value).toBeGreaterThan(80);
    expect(ipt.firstPacketP50!.value).toBeLessThan(150);
    expect(ipt.firstPacketCores!.value).toBeCloseTo((2000 * ipt.firstPacketP50!.value) / 1e6, 9);
    expect(b('nftables').firstPacketCores!.value).toBeLessThan(ipt.firstPacketCores!.value / 10);
  });
  it('lists backends that were not measured with the reason', () => {
    expect(b('ipvs').missing.join(' ')).toMatch(/ip_vs/);
    expect(b('ebpf').missing.join(' ')).toMatch(/BPF loader/);
  });
  it('projects the scheduler burst and etcd headroom against guidance', () => {
    expect(plan.scheduler && 'burst' in plan.scheduler).toBe(true);
    if (plan.scheduler && 'burst' in plan.scheduler) {
      expect(plan.scheduler.burst.value).toBeCloseTo(PROFILE.podBurst / plan.scheduler.podsPerSecond.value, 9);
      expect(plan.scheduler.burst.extrapolated).toBe(false);
    }
    expect(plan.etcd.fsyncHeadroom!.value).toBeCloseTo(10 / plan.etcd.fsyncP99!.value, 9);
    expect(plan.etcd.watchP99!.basis).toMatch(/500 watchers|100 watchers|1000 watchers/);
  });
  it('recommends the cheapest backend with the numbers behind it', () => {
    expect(plan.recommendation.backend).toBe('nftables');
    const text = plan.recommendation.lines.join('\n');
    expect(text).toMatch(/Recommended: nftables/);
    expect(text).toMatch(/iptables-nft: first packet \+\d+/);
  });
  it('says so when the run measured no backend', () => {
    const p = planCluster(run('partial.json'), PROFILE);
    expect(p.recommendation.backend).toBeNull();
    expect(p.backends.every((x) => x.missing.length > 0)).toBe(true);
    expect(p.scheduler).toEqual({ missing: 'scheduler throughput was not measured in this run' });
  });
});

describe('kscale plan', () => {
  afterEach(() => vi.restoreAllMocks());
  it('reads the profile file, projects from the run and prints JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-plan-'));
    writeFileSync(join(dir, 'results.json'), readFileSync(join(FIX, 'full.json')));
    writeFileSync(join(dir, 'profile.yaml'), Object.entries(PROFILE).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
    expect(await planCommand.run({ 'cluster-profile': join(dir, 'profile.yaml'), run: dir, json: true }, [])).toBe(0);
    expect((JSON.parse(out) as { recommendation: { backend: string } }).recommendation.backend).toBe('nftables');
  });
  it('rejects a bad profile as input (exit 2 via InputError)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-plan-'));
    writeFileSync(join(dir, 'profile.yaml'), 'nodes: -1\n');
    await expect(planCommand.run({ 'cluster-profile': join(dir, 'profile.yaml') }, [])).rejects.toThrow(/nodes: must be ≥ 1/);
    await expect(planCommand.run({ 'cluster-profile': join(dir, 'missing.yaml') }, [])).rejects.toThrow(InputError);
    writeFileSync(join(dir, 'huge.yaml'), 'nodes: 100000000000000000000\n');
    await expect(planCommand.run({ 'cluster-profile': join(dir, 'huge.yaml') }, [])).rejects.toThrow(/huge\.yaml: nodes: too large: the supported maximum is 1000000$/);
  });
});
