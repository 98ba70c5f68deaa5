// The embedded etcd's lifecycle, for real: start on free loopback ports, stop,
// nothing left behind; start failures carry etcd's own words; the sweep removes
// a dead run's etcd and never a live run's or a stranger's process.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/host/cleanup.js';
import { claimPrefix } from '../../src/host/owner.js';
import { condenseEtcdLog, EtcdStartError, etcdArgs, freeLoopbackPorts, kscaleEtcdDataDir, startEtcd, sweepLeftoverEtcd } from '../../src/etcd/server.js';
import { etcdProcessesOf } from './helpers.js';

const parent = mkdtempSync(join(tmpdir(), 'kscale-etcd-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));
const newPrefix = (): string => `kscale-${randomBytes(3).toString('hex')}`;
const hasEtcd = await new Promise<boolean>((ok) => {
  const c = spawn('etcd', ['--version'], { stdio: 'ignore' });
  c.on('error', () => ok(false));
  c.on('exit', (code) => ok(code === 0));
});
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

describe('etcd command line and logs (pure)', () => {
  it('builds a single-member loopback cluster on the given ports and data dir', () => {
    const args = etcdArgs({ name: 'kscale-abc123-etcd', dataDir: '/d/kscale-abc123-etcd', clientPort: 1111, peerPort: 2222 });
    expect(args).toContain('--listen-client-urls=http://127.0.0.1:1111');
    expect(args).toContain('--initial-cluster=kscale-abc123-etcd=http://127.0.0.1:2222');
    expect(args).toContain('--data-dir=/d/kscale-abc123-etcd');
    expect(args.some((a) => a.includes('0.0.0.0'))).toBe(false);
  });

  it('condenses zap JSON lines to level, message and error', () => {
    const log = [
      '{"level":"info","msg":"starting"}',
      'not json at all',
      '{"level":"fatal","ts":"x","msg":"discovery failed","error":"listen tcp 127.0.0.1:1: bind: address already in use"}',
    ].join('\n');
    expect(condenseEtcdLog(log, 2)).toBe('fatal discovery failed: listen tcp 127.0.0.1:1: bind: address already in use');
    expect(condenseEtcdLog('{"level":"info","msg":"a"}\nplain\n', 2)).toBe('info a | plain');
  });

  it('finds a Go panic behind its goroutine dump', () => {
    const log = ['{"level":"info","msg":"ok"}', 'panic: write /d/member/snap/db: no space left on device', '', 'goroutine 1 [running]:', 'go.etcd.io/bbolt.(*Tx).Commit(...)', '\t/build/tx.go:1'].join('\n');
    expect(condenseEtcdLog(log, 3)).toBe('panic: write /d/member/snap/db: no space left on device');
  });

  it('recognises only etcd processes on a kscale data dir', () => {
    expect(kscaleEtcdDataDir(['/usr/bin/etcd', '--name=x', '--data-dir=/r/kscale-0a1b2c-etcd'])).toBe('/r/kscale-0a1b2c-etcd');
    expect(kscaleEtcdDataDir(['etcd', '--data-dir', '/r/kscale-0a1b2c-etcd-2'])).toBe('/r/kscale-0a1b2c-etcd-2');
    expect(kscaleEtcdDataDir(['/usr/bin/etcd', '--data-dir=/var/lib/etcd'])).toBeUndefined();
    expect(kscaleEtcdDataDir(['/bin/sleep', '--data-dir=/r/kscale-0a1b2c-etcd'])).toBeUndefined();
    expect(kscaleEtcdDataDir(['/usr/bin/etcd', '--data-dir=/r/kscale-0a1b2c-etcd/../../etc'])).toBeUndefined();
  });
});

describe.skipIf(!hasEtcd)('embedded etcd lifecycle', () => {
  it('starts healthy on loopback, and stop leaves no process, data dir or record', async () => {
    const prefix = newPrefix();
    const s = await startEtcd({ prefix, parentDir: parent });
    expect(s.clientUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.dataDir).toBe(join(parent, `${prefix}-etcd`));
    expect(existsSync(join(s.dataDir, 'member'))).toBe(true);
    const health = (await (await fetch(`${s.clientUrl}/health`)).json()) as { health: string };
    expect(health.health).toBe('true');
    expect(s.cpuMs()).toBeGreaterThanOrEqual(0);
    expect(etcdProcessesOf(prefix)).toEqual([s.pid]);
    await s.stop();
    expect(alive(s.pid)).toBe(false);
    expect(existsSync(s.dataDir)).toBe(false);
    expect(etcdProcessesOf(prefix)).toEqual([]);
    expect(readdirSync(parent).filter((n) => n.startsWith(prefix))).toEqual([]);
    await s.stop(); // idempotent
  });

  it('is stopped and removed by the run-wide cleanup (what exit and Ctrl-C run)', async () => {
    const prefix = newPrefix();
    const s = await startEtcd({ prefix, parentDir: parent });
    await runCleanup();
    expect(alive(s.pid)).toBe(false);
    expect(existsSync(s.dataDir)).toBe(false);
  });

  it('a taken port: with one attempt, fails with etcd\'s words; with retries, picks other ports', async () => {
    const taken: Server = await new Promise((ok) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => ok(srv));
    });
    try {
      const port = (taken.address() as AddressInfo).port;
      const [peer] = (await freeLoopbackPorts(1)) as [number];
      const prefix = newPrefix();
      const err = await startEtcd({ prefix, parentDir: parent, ports: { client: port, peer }, portAttempts: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EtcdStartError);
      expect((err as Error).message).toMatch(/address already in use/);
      expect(readdirSync(parent).filter((n) => n.startsWith(prefix))).toEqual([]);
      const s = await startEtcd({ prefix, parentDir: parent, ports: { client: port, peer } });
      expect(s.clientUrl).not.toContain(`:${port}`);
      await s.stop();
    } finally {
      taken.close();
    }
  });

  it('an unusable data dir fails with the reason and creates nothing', async () => {
    const file = join(parent, 'not-a-dir');
    writeFileSync(file, '');
    await expect(startEtcd({ prefix: newPrefix(), parentDir: file })).rejects.toThrow(/cannot create etcd data dir .*ENOTDIR/);
  });

  it('a missing binary is a start error naming the package', async () => {
    const prefix = newPrefix();
    await expect(startEtcd({ prefix, parentDir: parent, binary: '/nonexistent/etcd' })).rejects.toThrow(/not found \(install package etcd-server\)/);
    expect(readdirSync(parent).filter((n) => n.startsWith(prefix))).toEqual([]);
  });

  it('the sweep removes a dead run\'s etcd and data dir, and leaves a live run\'s and a stranger\'s alone', async () => {
    const live = await startEtcd({ prefix: newPrefix(), parentDir: parent });
    // A "dead run": an etcd on a kscale data dir whose prefix no process owns.
    const dead = newPrefix();
    const deadDir = join(parent, `${dead}-etcd`);
    const [c, p] = (await freeLoopbackPorts(2)) as [number, number];
    // Started through a shell that exits at once, so it is reparented like the etcd of a killed run.
    const orphanPid = await new Promise<number>((ok) => {
      const sh = spawn('sh', ['-c', 'etcd "$@" >/dev/null 2>&1 & echo $!', 'sh', ...etcdArgs({ name: `${dead}-etcd`, dataDir: deadDir, clientPort: c, peerPort: p })]);
      let out = '';
      sh.stdout.on('data', (b: Buffer) => (out += b.toString()));
      sh.on('exit', () => ok(Number(out.trim())));
    });
    const orphan = { pid: orphanPid };
    // A stranger whose command line merely mentions a dead prefix.
    const stranger = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', '--', `--data-dir=${join(parent, `${newPrefix()}-etcd`)}`], { stdio: 'ignore' });
    // A leftover data dir of another dead run, with no process.
    const staleDir = join(parent, `${newPrefix()}-etcd`);
    writeFileSync(join(parent, 'keep-me'), '');
    mkdirSync(join(staleDir, 'member'), { recursive: true });
    for (let i = 0; i < 50 && !existsSync(join(deadDir, 'member')); i++) await new Promise((r) => setTimeout(r, 100));
    try {
      const removed = await sweepLeftoverEtcd([parent]);
      expect(removed).toContain(`etcd process ${orphan.pid}`);
      expect(removed).toContain(`data dir ${deadDir}`);
      expect(removed).toContain(`data dir ${staleDir}`);
      expect(alive(orphan.pid ?? -1)).toBe(false);
      expect(existsSync(deadDir)).toBe(false);
      expect(live.running()).toBe(true);
      expect(existsSync(live.dataDir)).toBe(true);
      expect(alive(stranger.pid ?? -1)).toBe(true);
      expect(existsSync(join(parent, 'keep-me'))).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
      if (orphan.pid && alive(orphan.pid)) process.kill(orphan.pid, 'SIGKILL');
      await live.stop();
    }
  });

  it('a claimed prefix is live for the sweep even without an etcd record', async () => {
    const prefix = newPrefix();
    const release = claimPrefix(prefix);
    const dir = join(parent, `${prefix}-etcd`);
    mkdirSync(dir);
    try {
      expect(await sweepLeftoverEtcd([parent])).not.toContain(`data dir ${dir}`);
      expect(existsSync(dir)).toBe(true);
    } finally {
      release();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
