// Resource limits: a too-low open-files limit and a full results disk each give
// one clear line and exit 1, never a stack trace or a partial results file.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = process.getuid?.() === 0;

describe('resource limits', () => {
  it('an open-files limit too low to start says so in one line', () => {
    const r = spawnSync('bash', ['-c', `ulimit -n 100; exec ${process.execPath} bin/kscale.js dataplane sync --services 10`], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('kscale: the open-files limit is 100; kscale needs at least 512 (raise it, e.g. "ulimit -n 4096")');
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
});
