// Without root: nothing kernel-facing can run, and the run says so measurement
// by measurement (skipped, with the reason) instead of failing or dropping them.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaErrors } from '../../src/results/write.js';
import { BACKENDS } from '../../src/dataplane/backends.js';

const root = process.getuid?.() === 0;
const haveRunuser = spawnSync('runuser', ['--help']).status === 0;

describe.skipIf(!root || !haveRunuser)('as an unprivileged user (runuser -u nobody)', () => {
  it('bench runs what it can, marks kernel measurements skipped with the reason, and exits 0', () => {
    const out = mkdtempSync(join(tmpdir(), 'kscale-nonroot-'));
    chmodSync(out, 0o777);
    const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, 'bin/kscale.js', 'bench', '--profile', 'smoke', '--suites', 'fsync,sync', '--out', out, '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const { resultsPath } = JSON.parse(r.stdout) as { resultsPath: string };
    const doc = JSON.parse(readFileSync(resultsPath, 'utf8')) as { measurements: { suite: string; status: string; reason?: string; params: Record<string, unknown> }[] };
    expect(schemaErrors(doc)).toEqual([]);
    const sync = doc.measurements.filter((m) => m.suite === 'sync');
    // Every backend is accounted for, none silently dropped.
    expect(new Set(sync.map((m) => m.params.backend))).toEqual(new Set(BACKENDS.map((b) => b.name)));
    for (const m of sync) {
      expect(m.status).toBe('skipped');
      expect(m.reason).toMatch(/root|CAP_BPF|CAP_NET_ADMIN/);
    }
    // The disk probe needs no privilege and still measured.
    expect(doc.measurements.find((m) => m.suite === 'fsync' && m.params.tool === 'native')?.status).toBe('ok');
  });

  it('dataplane sync --backends nftables exits 3 naming the missing capability', () => {
    const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, 'bin/kscale.js', 'dataplane', 'sync', '--backends', 'nftables', '--services', '10'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/nftables \(needs root/);
  });
});
