// The eBPF dataplane against the real kernel (root): the object loads, maps
// fill and read back equal to the rendered entries, BPF_PROG_TEST_RUN DNATs a
// crafted packet to a backend of its Service with valid checksums and passes a
// miss unchanged, replies are reverse-translated, incremental changes keep the
// kernel equal to the program, a real UDP datagram from the client namespace
// reaches a backend DNATed and its answer comes back from the VIP — and nothing
// of ours is left in the kernel afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ebpfBackend, loadedObjectOf } from '../../../src/dataplane/ebpf/backend.js';
import type { EbpfLoadable } from '../../../src/dataplane/ebpf/backend.js';
import { BPFFS_ROOT, bpffsMounts, mountBpffs, sweepLeftoverBpffs } from '../../../src/dataplane/ebpf/bpffs.js';
import { CFG_HASH_SELECT, CFG_NO_CONNTRACK, LB_MAPS, LB_OBJECT_PATH, LB_PROGS, loadLb } from '../../../src/dataplane/ebpf/loader.js';
import { craftPacket, parsePacket } from '../../../src/dataplane/ebpf/packet.js';
import { backendOf, entriesOf, renderImages } from '../../../src/dataplane/ebpf/program.js';
import type { EbpfProgram } from '../../../src/dataplane/ebpf/program.js';
import { bpftoolProgRun, progTestRun, TC_ACT_OK } from '../../../src/dataplane/ebpf/testrun.js';
import { DELTAS } from '../../../src/dataplane/delta.js';
import { ENDPOINT_CIDR, sandboxNode } from '../../../src/dataplane/measure-sync.js';
import { ADDR, createSandbox } from '../../../src/dataplane/sandbox.js';
import type { Sandbox } from '../../../src/dataplane/sandbox.js';
import { OWNER_DIR } from '../../../src/host/owner.js';
import { formatIPv4 } from '../../../src/model/ip.js';
import { generateCluster } from '../../../src/model/index.js';
import type { ClusterModel } from '../../../src/model/types.js';
import { bpfAddon } from '../../../src/native/bpf.js';

const root = process.getuid?.() === 0;
const runnable = root && existsSync(LB_OBJECT_PATH) && existsSync('build/Release/kscale.node');
const prefix = `kscale-${randomBytes(3).toString('hex')}`;

function bpftoolList(kind: 'prog' | 'map'): { id: number; name?: string }[] {
  const r = spawnSync('bpftool', ['-j', kind, 'list'], { encoding: 'utf8' });
  return JSON.parse(r.stdout || '[]') as { id: number; name?: string }[];
}
const bpftoolIds = (kind: 'prog' | 'map'): number[] => bpftoolList(kind).map((x) => x.id);
/** BPF programs and maps alive now that this test file did not find at its start and that carry our names. */
function oursLeft(hostProgs: number[], hostMaps: number[]): string[] {
  const fresh = (kind: 'prog' | 'map', known: number[]): string[] =>
    bpftoolList(kind).filter((x) => !known.includes(x.id) && (x.name ?? '').startsWith('kscale')).map((x) => `${kind} ${x.id} ${x.name}`);
  return [...fresh('prog', hostProgs), ...fresh('map', hostMaps)];
}

/** The backends (ip:port) the program gives frontend i, by reading its slots. */
function backendsOf(p: EbpfProgram, i: number): string[] {
  return entriesOf(p, i).filter((e) => e.backendSlot > 0).map((e) => {
    const b = backendOf(p, e.backendId);
    return `${formatIPv4(b.address)}:${b.port}`;
  });
}

/** Run a server script in one namespace and a client script in another; the client's last stdout line, parsed. */
function serverAndClient(dirName: string, serverNs: string, server: string, clientNs: string, client: string): Record<string, string> {
  const dir = join('/tmp', dirName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'server.js'), server);
  writeFileSync(join(dir, 'client.js'), client);
  try {
    const r = spawnSync('sh', ['-c', `ip netns exec ${serverNs} node ${dir}/server.js & ip netns exec ${clientNs} node ${dir}/client.js; c=$?; wait; exit $c`], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, string>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!runnable)('eBPF dataplane (root, real kernel)', () => {
  let sandbox: Sandbox;
  let model: ClusterModel;
  let loaded: EbpfLoadable;
  let program: EbpfProgram;
  const hostProgs = root ? bpftoolIds('prog') : [];
  const hostMaps = root ? bpftoolIds('map') : [];

  beforeAll(async () => {
    sandbox = await createSandbox({ prefix, label: 'ebpf', endpointCidrs: [ENDPOINT_CIDR] });
    model = generateCluster({ services: 200, endpointsPerService: 3, layout: 'kube-proxy-scale', seed: 7 });
    loaded = ebpfBackend.render(model, sandboxNode(sandbox));
    program = loaded.program;
    await ebpfBackend.load(sandbox, loaded);
  });

  afterAll(async () => {
    await ebpfBackend.flush(sandbox);
    await sandbox?.destroy();
    for (let t = 0; t < 100 && oursLeft(hostProgs, hostMaps).length > 0; t++) await new Promise((r) => setTimeout(r, 50));
    expect(oursLeft(hostProgs, hostMaps)).toEqual([]);
    expect(bpffsMounts().filter((m) => m.includes(prefix))).toEqual([]);
  });

  it('loads, fills and reads back exactly the rendered entries, with both programs attached', async () => {
    const v = await ebpfBackend.verify(sandbox, loaded);
    expect(v.mismatches).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.counts.mapEntries).toBe(ebpfBackend.counts(loaded).mapEntries);
    const lb = loadedObjectOf(sandbox)!;
    // Pinned in the run's own bpffs, not /sys/fs/bpf.
    expect(lb.bpffs.dir.startsWith(BPFFS_ROOT)).toBe(true);
    expect(bpffsMounts()).toContain(lb.bpffs.dir);
    expect(existsSync(join(lb.bpffs.dir, LB_PROGS.dnat))).toBe(true);
  });

  it('DNATs a packet to a VIP to a backend of that Service with valid checksums, and passes a miss unchanged', () => {
    const lb = loadedObjectOf(sandbox)!;
    const i = 123;
    const front = entriesOf(program, i)[0]!;
    const want = backendsOf(program, i);
    for (const proto of ['udp', 'tcp'] as const) {
      const pkt = craftPacket({ proto, saddr: ADDR.client, daddr: formatIPv4(front.address), sport: 41000, dport: front.dport });
      const r = progTestRun(lb.object.prog(LB_PROGS.dnat).fd, pkt, 1);
      expect(r.retval).toBe(TC_ACT_OK);
      expect(r.out).toMatchObject({ proto, saddr: ADDR.client, sport: 41000, ipChecksumOk: true, l4ChecksumOk: true });
      expect(want).toContain(`${r.out!.daddr}:${r.out!.dport}`);
    }
    const miss = craftPacket({ proto: 'udp', saddr: ADDR.client, daddr: '10.99.0.1', sport: 41000, dport: 80 });
    const m = progTestRun(lb.object.prog(LB_PROGS.dnat).fd, miss, 1);
    expect(m.retval).toBe(TC_ACT_OK);
    expect(m.data.equals(miss)).toBe(true);
  });

  it('an established flow keeps its backend, and the reply is translated back to the VIP', () => {
    const lb = loadedObjectOf(sandbox)!;
    const front = entriesOf(program, 7)[0]!;
    const vip = formatIPv4(front.address);
    const pkt = craftPacket({ proto: 'udp', saddr: ADDR.client, daddr: vip, sport: 42000, dport: front.dport });
    const first = progTestRun(lb.object.prog(LB_PROGS.dnat).fd, pkt, 1).out!;
    for (let k = 0; k < 20; k++) {
      expect(progTestRun(lb.object.prog(LB_PROGS.dnat).fd, pkt, 1).out).toMatchObject({ daddr: first.daddr, dport: first.dport });
    }
    const reply = craftPacket({ proto: 'udp', saddr: first.daddr, daddr: ADDR.client, sport: first.dport, dport: 42000 });
    const back = progTestRun(lb.object.prog(LB_PROGS.rnat).fd, reply, 1).out;
    expect(back).toMatchObject({ saddr: vip, sport: front.dport, daddr: ADDR.client, dport: 42000, ipChecksumOk: true, l4ChecksumOk: true });
    // A packet from a backend that no flow went to is left alone.
    const stray = craftPacket({ proto: 'udp', saddr: first.daddr, daddr: ADDR.client, sport: first.dport, dport: 9 });
    expect(parsePacket(progTestRun(lb.object.prog(LB_PROGS.rnat).fd, stray, 1).data)?.saddr).toBe(first.daddr);
  });

  it('selection: random spreads new flows over the backends; the 5-tuple hash is stable per flow', () => {
    const lb = loadedObjectOf(sandbox)!;
    const fd = lb.object.prog(LB_PROGS.dnat).fd;
    const front = entriesOf(program, 11)[0]!;
    const frame = (sport: number): Buffer => craftPacket({ proto: 'udp', saddr: ADDR.client, daddr: formatIPv4(front.address), sport, dport: front.dport });
    const dest = (sport: number): string => {
      const o = progTestRun(fd, frame(sport), 1).out!;
      return `${o.daddr}:${o.dport}`;
    };
    try {
      lb.setConfig(CFG_NO_CONNTRACK);
      const random = new Set(Array.from({ length: 60 }, () => dest(50000)));
      expect(random.size).toBe(backendsOf(program, 11).length);
      lb.setConfig(CFG_NO_CONNTRACK | CFG_HASH_SELECT);
      for (const sport of [50001, 50002, 50003]) expect(new Set(Array.from({ length: 10 }, () => dest(sport))).size).toBe(1);
      expect(new Set(Array.from({ length: 60 }, (_, k) => dest(51000 + k))).size).toBeGreaterThan(1);
    } finally {
      lb.setConfig(0);
    }
  });

  it('bpftool prog run on the pinned program agrees on the return code', async () => {
    const lb = loadedObjectOf(sandbox)!;
    const front = entriesOf(program, 3)[0]!;
    const pkt = craftPacket({ proto: 'udp', saddr: ADDR.client, daddr: formatIPv4(front.address), sport: 43000, dport: front.dport });
    const r = await bpftoolProgRun(join(lb.bpffs.dir, LB_PROGS.dnat), pkt, 10, prefix);
    expect(r.retval).toBe(TC_ACT_OK);
    expect(r.durationNs).toBeGreaterThan(0);
  });

  it('incremental changes (add, change endpoint, delete) keep the kernel equal to the program', async () => {
    let current = model;
    let p = loaded;
    for (const kind of ['add-service', 'change-endpoint', 'delete-service'] as const) {
      const delta = DELTAS[kind](current);
      const next = ebpfBackend.render(delta.after, sandboxNode(sandbox));
      const t = await ebpfBackend.update(sandbox, p, next, delta, 'partial');
      expect(t.payloadBytes).toBeGreaterThan(0);
      const v = await ebpfBackend.verify(sandbox, next);
      expect(v.mismatches, kind).toEqual([]);
      p = next;
      current = delta.after;
    }
    loaded = p;
    program = p.program;
    model = current;
  });

  it('a real UDP datagram from the client namespace reaches a backend DNATed and the answer comes from the VIP', () => {
    const i = 42;
    const front = entriesOf(program, i)[0]!;
    const vip = formatIPv4(front.address);
    const backends = backendsOf(program, i);
    // One socket per endpoint address of the Service (the backend namespace owns them via a local route), echoing which one got it.
    const server = `const d=require('dgram');for(const a of ${JSON.stringify(backends)}){const [ip,port]=a.split(':');const s=d.createSocket('udp4');s.on('message',(m,r)=>s.send(a,r.port,r.address,()=>setTimeout(()=>process.exit(0),50)));s.bind(+port,ip)}setTimeout(()=>process.exit(3),8000)`;
    const client = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>{console.log(JSON.stringify({got:String(m),from:r.address+':'+r.port}));process.exit(0)});const go=()=>s.send('x',${front.dport},'${vip}');setInterval(go,200);setTimeout(go,300);setTimeout(()=>process.exit(4),6000)`;
    const answer = serverAndClient(`${prefix}-udp`, sandbox.backend.name, server, sandbox.client.name, client);
    expect(backends).toContain(answer.got);
    expect(answer.from).toBe(`${vip}:${front.dport}`);
  });

  it('a real TCP connection to the VIP is established through the DNAT and the reverse NAT, and answered by a backend', () => {
    const i = 77;
    const front = entriesOf(program, i)[0]!;
    const vip = formatIPv4(front.address);
    const backends = backendsOf(program, i);
    const server = `const n=require('net');for(const a of ${JSON.stringify(backends)}){const [ip,port]=a.split(':');n.createServer((c)=>{c.end(a);setTimeout(()=>process.exit(0),50)}).listen(+port,ip)}setTimeout(()=>process.exit(3),8000)`;
    const client = `const go=()=>{const c=require('net').connect(${front.dport},'${vip}');let got='';c.on('data',(d)=>got+=d);c.on('end',()=>{console.log(JSON.stringify({got,remote:c.remoteAddress+':'+c.remotePort}));process.exit(0)});c.on('error',()=>setTimeout(go,200))};setTimeout(go,300);setTimeout(()=>process.exit(4),6000)`;
    const answer = serverAndClient(`${prefix}-tcp`, sandbox.backend.name, server, sandbox.client.name, client);
    expect(backends).toContain(answer.got);
    expect(answer.remote).toBe(`${vip}:${front.dport}`);
  });

  it('a flush empties and detaches everything; the host gains no BPF program or map', async () => {
    const lb = loadedObjectOf(sandbox)!;
    const ids = [...lb.object.progs.values()].map((p) => p.id);
    const dir = lb.bpffs.dir;
    await ebpfBackend.flush(sandbox);
    expect(loadedObjectOf(sandbox)).toBeUndefined();
    expect(bpffsMounts()).not.toContain(dir);
    expect(existsSync(dir)).toBe(false);
    // The kernel frees programs and maps after an RCU grace period: wait for it, with a deadline.
    const ours = (): string[] => oursLeft(hostProgs, hostMaps);
    for (let t = 0; t < 100 && ours().length > 0; t++) await new Promise((r) => setTimeout(r, 50));
    const progsNow = bpftoolIds('prog');
    for (const id of ids) expect(progsNow).not.toContain(id);
    expect(ours()).toEqual([]);
    // Loadable again after a flush (what a sync benchmark does between repeats).
    await ebpfBackend.load(sandbox, loaded);
    expect((await ebpfBackend.verify(sandbox, loaded)).ok).toBe(true);
  });
});

describe.skipIf(!runnable)('eBPF loader details (root)', () => {
  it('fills by batch and by single elements to the same contents, and reports the method', async () => {
    const model = generateCluster({ services: 100, endpointsPerService: 2, layout: 'kube-proxy-scale', seed: 1 });
    const p = ebpfBackend.render(model, { nodeName: 'node1', nodeIP: ADDR.nodeClientSide, clusterCIDR: ENDPOINT_CIDR, masqueradeBit: 14 }).program;
    // The backend map one entry short of the model's two backends.
    const lb = await loadLb({ prefix, label: 'fill', maxEntries: { [LB_MAPS.services]: 1024, [LB_MAPS.backends]: 1 } });
    try {
      const all = renderImages(p);
      // The kernel's E2BIG for a map too small comes back as a NativeError naming the map.
      expect(() => lb.fill(all, 'batch')).toThrow(/kscale_lb4_backends.*E2BIG/);
      lb.clear('auto');
      const images = all.filter((i) => i.map !== LB_MAPS.backends);
      const batch = lb.fill(images, 'auto');
      expect(batch.method).toBe('batch');
      expect(batch.entries).toBe(p.maps.counts.serviceEntries + p.maps.counts.revNat);
      expect(batch.syscallMs).toBeLessThanOrEqual(batch.addonMs);
      const cleared = lb.clear('auto');
      expect(cleared.entries).toBe(batch.entries);
      const fd = lb.object.map(LB_MAPS.services).fd;
      expect(bpfAddon().bpfMapCount(fd, 12)).toBe(0);
      const single = lb.fill(images, 'single');
      expect(single.method).toBe('single');
      expect(bpfAddon().bpfMapCount(fd, 12)).toBe(p.maps.counts.serviceEntries);
    } finally {
      await lb.close();
    }
  });

  it('a verifier or load failure names the object; a missing map name is refused before load', () => {
    expect(() => bpfAddon().bpfObjectLoad(LB_OBJECT_PATH, { no_such_map: 1 })).not.toThrow();
    expect(bpfAddon().bpfObjectLoad(LB_OBJECT_PATH, { no_such_map: 1 })).toBe(-2);
    expect(bpfAddon().bpfLastLog()).toContain('no_such_map');
  });

  it('a sweep unmounts the bpffs of a dead run and keeps a live one', async () => {
    const dead = `kscale-${randomBytes(3).toString('hex')}`;
    const live = await mountBpffs(prefix, 'live');
    mkdirSync(OWNER_DIR, { recursive: true });
    const deadFs = await mountBpffs(dead, 'x');
    // Simulate the dead run: its owner file names a pid that cannot be running.
    writeFileSync(join(OWNER_DIR, `${dead}.owner`), '999999999 1\n');
    try {
      const removed = await sweepLeftoverBpffs();
      expect(removed).toContain(`${dead}-x`);
      expect(bpffsMounts()).not.toContain(deadFs.dir);
      expect(bpffsMounts()).toContain(live.dir);
    } finally {
      await deadFs.release();
      await live.release();
      spawnSync('rm', ['-f', join(OWNER_DIR, `${dead}.owner`)]);
    }
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(prefix);
  });
});
