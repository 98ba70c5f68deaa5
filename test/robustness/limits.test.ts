// Resource limits: a too-low open-files limit and a full results disk each give
// one clear line and exit 1, never a stack trace or a partial results file.
// Disk full, exit 1 either way: when results.json itself does not fit, the run
// directory is removed; when it fits but summary.md does not, the complete
// results.json is kept (the measurements are not thrown away) and the message
// names both files.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaErrors } from '../../src/results/write.js';

const root = process.getuid?.() === 0;

describe('resource limits', () => {
  it('an open-files limit too low to start says so in one line', () => {
    const r = spawnSync('bash', ['-c', `ulimit -n 100; exec ${process.execPath} bin/kscale.js dataplane sync --services 10`], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('kscale: the open-files limit is 100; kscale needs at least 512 (raise it, e.g. "ulimit -n 4096")');
  });

  it('a bench run under prlimit --nofile=64 exits 1 with that line and writes nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kscale-nofile-')), 'runs');
    const r = spawnSync('prlimit', ['--nofile=64', process.execPath, 'bin/kscale.js', 'bench', '--profile', 'smoke', '--suites', 'calibration', '--out', out], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('kscale: the open-files limit is 64; kscale needs at least 512 (raise it, e.g. "ulimit -n 4096")');
    expect(existsSync(out)).toBe(false);
  });

  it.skipIf(!root)('a full results disk fails the run clearly and leaves no run directory', () => {
    const mnt = mkdtempSync(join(tmpdir(), 'kscale-full-'));
    mkdirSync(mnt, { recursive: true });
    // A 4 KiB tmpfs in a private mount namespace: the host's mounts are not touched.
    const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=4k tmpfs ${mnt} && ${process.execPath} bin/kscale.js bench --profile smoke --suites calibration --out ${mnt}; c=$?; ls -A ${mnt}; exit $c`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/kscale bench: results not written to .*results\.json: ENOSPC/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout.trim()).toBe(''); // nothing left inside the full disk
    expect(readdirSync(mnt)).toEqual([]); // and the host's view of the directory is untouched
  });

  it.skipIf(!root)('a 64 KiB results disk: exit 1 naming the file and ENOSPC, and every results.json left is complete and valid', () => {
    const mnt = mkdtempSync(join(tmpdir(), 'kscale-full64-'));
    const copy = mkdtempSync(join(tmpdir(), 'kscale-full64-copy-'));
    // render's results (~58 KB) fit in 64 KiB or nearly: whichever file hits ENOSPC, the run must say so and leave nothing partial.
    const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs ${mnt} && ${process.execPath} bin/kscale.js bench --profile smoke --suites calibration,render --out ${mnt}; c=$?; cp -a ${mnt}/. ${copy}/; exit $c`], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(1);
    // One message, whatever progress lines (a log's `kscale: [k/n] …`) came before it.
    const lines = r.stderr.trim().split('\n').filter((l) => !/^kscale: \[\d+\/\d+\] /.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kscale bench: (results not written to \S+\/results\.json|results written to \S+\/results\.json, but the summary not to \S+\/summary\.md): ENOSPC/);
    expect(readdirSync(mnt)).toEqual([]); // the host's view of the mount point is untouched
    const files = readdirSync(copy, { recursive: true, encoding: 'utf8' });
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const f of files.filter((x) => x.endsWith('results.json'))) {
      const doc: unknown = JSON.parse(readFileSync(join(copy, f), 'utf8'));
      expect(schemaErrors(doc)).toEqual([]);
    }
  });
});
