// A small real run against an etcd kscale starts: puts, preload, watch, metrics,
// and a kill mid-run that must fail clearly and still clean up.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { probeCapabilities } from '../../src/host/capabilities.js';
import type { Capabilities } from '../../src/host/capabilities.js';
import { silentProgress } from '../../src/bench/progress.js';
import { runEtcdMeasurements } from '../../src/etcd/measure.js';
import { startEtcd } from '../../src/etcd/server.js';
import { connect } from '../../src/etcd/client.js';
import type { EtcdSizes } from '../../src/etcd/measure.js';
import type { Measurement } from '../../src/results/types.js';
import { etcdProcessesOf } from './helpers.js';

const parent = mkdtempSync(join(tmpdir(), 'kscale-etcd-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));
const caps: Capabilities = await probeCapabilities();
const hasEtcd = caps.etcd.available;
const TINY: EtcdSizes = { puts: 5, concurrency: [1], preloadPods: 50, watchers: [2], watchEvents: 3 };

const SIZES: EtcdSizes = { puts: 40, concurrency: [1, 16], preloadPods: 300, watchers: [1, 20], watchEvents: 10 };

async function run(sizes: EtcdSizes, extra: Partial<Parameters<typeof runEtcdMeasurements>[0]> = {}): Promise<{ ms: Measurement[]; prefix: string }> {
  const prefix = `kscale-${randomBytes(3).toString('hex')}`;
  const ms: Measurement[] = [];
  await runEtcdMeasurements({ sizes, caps, runId: prefix, prefix, dataDir: parent, seed: 7, progress: silentProgress(), record: (m) => ms.push(m), ...extra });
  return { ms, prefix };
}

describe.skipIf(!hasEtcd)('etcd measurements against a real etcd', () => {
  it('measures puts, a preloaded keyspace, watches with no lost events, and etcd\'s histograms', async () => {
    const { ms, prefix } = await run(SIZES);
    const failed = ms.filter((m) => m.status !== 'ok');
    expect(failed.map((m) => `${m.name}: ${m.reason}`)).toEqual([]);
    const puts = ms.filter((m) => m.name === 'put-latency');
    expect(puts.map((m) => [m.params.concurrency, m.params.preloaded])).toEqual([[1, false], [16, false], [1, true], [16, true]]);
    for (const m of puts) {
      expect(m.samples).toHaveLength(40);
      expect(m.summary?.min).toBeGreaterThan(0);
    }
    const watch = ms.filter((m) => m.name === 'watch-latency' && m.params.from === 'issue');
    expect(watch.map((m) => m.params.watchers)).toEqual([1, 20]);
    expect(watch[1]?.samples).toHaveLength(20 * 10);
    expect(watch[1]?.extra).toMatchObject({ lost: 0, duplicates: 0, expected: 200 });
    expect(typeof watch[1]?.extra?.clientCpuShare).toBe('number');
    // Arrival after issue, always; the ack may trail the event, so from-ack may be below zero but never below -from-issue.
    expect(Math.min(...(watch[1]?.samples ?? []))).toBeGreaterThan(0);
    const wal = ms.find((m) => m.name === 'wal-fsync-duration');
    // Every put is one raft entry, so at least one WAL fsync each (batched under concurrency).
    expect((wal?.extra?.count as number)).toBeGreaterThan(40);
    expect(wal?.histogram?.buckets.length).toBeGreaterThan(5);
    const db = ms.find((m) => m.name === 'db-size');
    // 300 preloaded + 160 put + 20 watched pods of ~2.5 KB: the db holds at least their bytes.
    expect(db?.summary?.median).toBeGreaterThan(480 * 2000);
    expect(etcdProcessesOf(prefix)).toEqual([]);
    expect(readdirSync(parent).filter((n) => n.startsWith(prefix))).toEqual([]);
  });

  it('fails clearly when etcd is killed mid-run, skips the rest with the reason, and still cleans up', async () => {
    let dataDir = '';
    const started = Date.now();
    const { ms, prefix } = await run({ ...SIZES, preloadPods: 0 }, {
      afterFirstPoint: (server) => {
        dataDir = server?.dataDir ?? '';
        process.kill(server?.pid ?? -1, 'SIGKILL');
      },
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(ms[0]).toMatchObject({ name: 'put-latency', status: 'ok' });
    const failed = ms.filter((m) => m.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]?.reason).toMatch(/etcd exited \(SIGKILL\)/);
    const rest = ms.slice(ms.indexOf(failed[failed.length - 1] as Measurement) + 1);
    expect(rest.length).toBeGreaterThan(0);
    for (const m of rest) expect(m).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^not run: etcd exited/) });
    expect(dataDir).not.toBe('');
    expect(existsSync(dataDir)).toBe(false);
    expect(etcdProcessesOf(prefix)).toEqual([]);
  });
});

describe('etcd measurements that cannot run', () => {
  it('etcd not installed: every planned measurement is skipped with the reason', async () => {
    const noEtcd: Capabilities = { ...caps, etcd: { id: 'etcd', available: false, reason: 'etcd not found (install package etcd-server)' } };
    const { ms } = await run(TINY, { caps: noEtcd });
    // put-latency + put-throughput, ×2 keyspaces; two watch measurements; three metrics.
    expect(ms).toHaveLength(4 + 2 + 3);
    for (const m of ms) expect(m).toMatchObject({ suite: 'etcd', status: 'skipped', reason: 'etcd not found (install package etcd-server)' });
  });

  it.skipIf(!hasEtcd)('etcd cannot start: every planned measurement fails with why', async () => {
    const file = join(parent, 'a-file');
    writeFileSync(file, '');
    const { ms } = await run(TINY, { dataDir: file });
    expect(ms).toHaveLength(9);
    for (const m of ms) expect(m).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^etcd did not start: cannot create etcd data dir .*ENOTDIR/) });
  });
});

describe.skipIf(!hasEtcd)('an external etcd (--etcd-endpoints)', () => {
  it('writes only under /kscale/<runid>/, deletes it afterwards, and does not preload', async () => {
    const theirs = await startEtcd({ prefix: `kscale-${randomBytes(3).toString('hex')}`, parentDir: parent });
    const target = { endpoint: 'external' as const, urls: [theirs.clientUrl], keyPrefix: '' };
    const c = connect(target);
    try {
      await c.put('/registry/pods/default/theirs').value('keep me');
      const seen = new Set<string>();
      const spy = await c.watch().prefix('/').create();
      spy.on('put', (kv) => seen.add(kv.key.toString()));
      const { ms, prefix } = await run(TINY, { external: { urls: [theirs.clientUrl] } });
      await spy.cancel();
      expect(ms.filter((m) => m.status === 'failed').map((m) => m.reason)).toEqual([]);
      expect(ms.filter((m) => m.status === 'skipped').map((m) => m.params.preloaded)).toEqual([true, true]);
      expect(ms.every((m) => m.params.endpoint === 'external')).toBe(true);
      expect(seen.size).toBeGreaterThan(5);
      for (const k of seen) expect(k.startsWith(`/kscale/${prefix}/registry/pods/`)).toBe(true);
      expect(await c.getAll().prefix('/kscale/').keys()).toEqual([]);
      expect(await c.get('/registry/pods/default/theirs').string()).toBe('keep me');
    } finally {
      c.close();
      await theirs.stop();
    }
  });
});
