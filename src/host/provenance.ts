// Host provenance for the results file: what machine, kernel, disk and tool
// versions produced the numbers. Gathered once per run (systeminformation takes
// a second or two), never on a hot path.
import si from 'systeminformation';
import { hostname } from 'node:os';
import { exec } from './exec.js';
import type { Capabilities } from './capabilities.js';
import type { HostProvenance } from '../results/types.js';

/** The block device and filesystem holding `dir` (findmnt resolves bind mounts and subvolumes). */
async function mountOf(dir: string): Promise<{ device: string; fsType: string }> {
  const r = await exec('findmnt', ['-n', '-o', 'SOURCE,FSTYPE', '--target', dir], { timeoutMs: 5_000 });
  const [device = 'unknown', fsType = 'unknown'] = r.stdout.trim().split(/\s+/);
  return { device, fsType };
}

/** Strip a partition suffix so /dev/vda1 or /dev/nvme0n1p2 maps to its disk. */
export function diskOfPartition(device: string): string {
  const name = device.replace(/^\/dev\//, '');
  if (/^nvme\d+n\d+p\d+$/.test(name) || /^mmcblk\d+p\d+$/.test(name)) return name.replace(/p\d+$/, '');
  return name.replace(/\d+$/, '');
}

export async function hostProvenance(dataDir: string, caps: Capabilities): Promise<HostProvenance> {
  const [cpu, mem, os, system, disks, mount] = await Promise.all([
    si.cpu(), si.mem(), si.osInfo(), si.system(), si.diskLayout().catch(() => []), mountOf(dataDir),
  ]);
  const diskName = diskOfPartition(mount.device);
  const disk = disks.find((d) => d.device.replace(/^\/dev\//, '') === diskName);
  const tools: Record<string, string> = {};
  for (const c of Object.values(caps)) if (c.available && c.version) tools[c.id] = c.version;
  return {
    hostname: hostname(),
    cpu: {
      manufacturer: cpu.manufacturer,
      brand: cpu.brand,
      cores: cpu.cores,
      physicalCores: cpu.physicalCores,
      speedGHz: cpu.speed,
      speedMaxGHz: cpu.speedMax,
    },
    memory: { totalBytes: mem.total },
    os: { platform: os.platform, distro: `${os.distro} ${os.release}`.trim(), release: os.release, kernel: os.kernel, arch: os.arch },
    virtualization: { virtual: system.virtual, host: system.virtualHost || system.model || '' },
    disk: { dataDir, device: mount.device, fsType: mount.fsType, model: disk?.name || disk?.vendor || 'unknown', type: disk?.type || 'unknown' },
    node: process.version,
    tools,
  };
}

export async function gitSha(cwd: string): Promise<string | null> {
  const r = await exec('git', ['-C', cwd, 'rev-parse', 'HEAD'], { timeoutMs: 5_000 });
  return r.code === 0 ? r.stdout.trim() : null;
}
