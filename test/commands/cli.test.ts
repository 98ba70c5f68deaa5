// End to end through the built CLI (dist/, built by the pretest set-up), as a user runs it.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaErrors } from '../../src/results/write.js';
import { MAX_MESSAGE_CHARS, oneLine } from '../../src/cli.js';

const kscale = (...args: string[]) => spawnSync(process.execPath, ['bin/kscale.js', ...args], { encoding: 'utf8', timeout: 120_000 });

describe('error lines', () => {
  it('escape control characters from the input and stop at MAX_MESSAGE_CHARS', () => {
    expect(oneLine('Service a\nb/x: bad \u001b[31mred\t')).toBe('Service a\\nb/x: bad \\u001b[31mred\\t');
    const long = oneLine(`name ${'x'.repeat(5_000_000)}`);
    expect(long.length).toBeLessThan(MAX_MESSAGE_CHARS + 40);
    expect(long).toMatch(/… \(4998005 more characters\)$/);
  });
});

describe('kscale CLI', () => {
  it('bench --profile smoke writes a schema-valid results.json with provenance and a summary', () => {
    const out = mkdtempSync(join(tmpdir(), 'kscale-cli-'));
    const r = kscale('bench', '--profile', 'smoke', '--suites', 'fsync', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    const { resultsPath, summaryPath } = JSON.parse(r.stdout) as { resultsPath: string; summaryPath: string };
    const doc = JSON.parse(readFileSync(resultsPath, 'utf8')) as { host: { cpu: { cores: number } }; measurements: { status: string; name: string }[] };
    expect(schemaErrors(doc)).toEqual([]);
    expect(doc.host.cpu.cores).toBeGreaterThan(0);
    expect(doc.measurements.find((m) => m.name === 'wal-fdatasync')).toBeDefined();
    expect(readFileSync(summaryPath, 'utf8')).toMatch(/^# kscale run /);
  });
  it.each([
    [['bench', '--profile', 'nope'], /--profile: unknown profile "nope"/],
    [['bench', '--suites', 'fsync,bogus'], /--suites: unknown value "bogus"/],
    [['bench', '--seed=-3'], /--seed: "-3" is not an integer/],
    [['bench', '--frobnicate'], /Unknown option '--frobnicate'.*kscale bench --help/],
    [['schedule', '--nodes'], /--nodes <value>' argument missing/],
    [['rules', '--services', '-1'], /--services: "-1" starts with "-": negative values are not accepted/],
    [['nosuchcommand'], /unknown command "nosuchcommand"/],
    [['dataplane', 'sync', '--proto', 'tcp'], /--proto: applies to dataplane connect, not sync/],
    [['dataplane', 'connect', '--repeats', '2'], /--repeats: applies to dataplane sync, not connect/],
    [['etcd', '--seed', '1e3'], /--seed: "1e3" is not an integer ≥ 0/],
    [['dataplane', 'frob'], /^kscale dataplane: subcommand: unknown or missing "frob"/],
    [['rules', '--backend', 'nftables', '--services', '3', '--endpoints', '1', '--type', 'NodePort,ClusterIP'], /--type: takes one Service type, got NodePort, ClusterIP/],
  ])('bad input %j exits 2 with one clear line', (args, message) => {
    const r = kscale(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
  it('no command at all: the command list on stderr (stdout stays empty) and exit 2; --help: stdout and 0', () => {
    const none = kscale();
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/usage: kscale <command>/);
    const help = kscale('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: kscale <command>/);
  });
  it('rules --from a directory with no Services prints the base rules and warns on stderr', () => {
    const empty = mkdtempSync(join(tmpdir(), 'kscale-empty-'));
    const r = kscale('rules', '--backend', 'nftables', '--from', empty);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^add table ip kube-proxy/);
    expect(r.stderr).toBe('kscale rules: warning: --from held no Services; printing the base rules alone\n');
  });
  it('a reader that stops early (| head) ends the command quietly with 0, not an EPIPE stack trace', () => {
    // The shell reports kscale's own status; head reads one line and closes the pipe while kscale is still writing.
    const r = spawnSync('bash', ['-c', 'node bin/kscale.js rules --backend nftables --services 3000 --endpoints 10 | head -n 1; echo "kscale=${PIPESTATUS[0]}" >&2'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout).toBe('add table ip kube-proxy { comment "rules for kube-proxy" ; }\n');
    expect(r.stderr).toMatch(/kscale=0\s*$/);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });
  it('doctor --json reports ip_vs with a reason, and --require of a missing one exits 3', () => {
    const r = kscale('doctor', '--json');
    expect(r.status).toBe(0);
    const caps = JSON.parse(r.stdout) as { id: string; available: boolean; reason: string }[];
    const ipvs = caps.find((c) => c.id === 'ip_vs');
    expect(ipvs?.reason.length).toBeGreaterThan(0);
    const kernelHasIpvs = ipvs?.available === true;
    const req = kscale('doctor', '--require', 'ip_vs');
    expect(req.status).toBe(kernelHasIpvs ? 0 : 3);
  });
});
