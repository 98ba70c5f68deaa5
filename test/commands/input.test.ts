// Malformed input files end to end through the built CLI (dist/), as a fuzzing
// pass fed them to `kscale rules --from`, `schedule --cluster/--pod` and `plan`:
// each is one clear line on stderr naming what and why, exit 2, nothing on stdout.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tmpFile } from '../inputs.js';

const kscale = (args: string[], input?: string) =>
  spawnSync(process.execPath, ['bin/kscale.js', ...args], { encoding: 'utf8', timeout: 120_000, ...(input === undefined ? {} : { input }) });


const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  clusterIP: 10.96.0.5\n';
const NODE = 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}\n';
const POD = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers: [{name: c, resources: {requests: {cpu: 100m}}}]\n';

function expectBadInput(r: ReturnType<typeof kscale>, message: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/Maximum call stack|\n\s+at /);
}

describe('malformed input files: one line, exit 2, no output', () => {
  it('1. externalTrafficPolicy on a ClusterIP Service (the API server rejects it)', () => {
    const file = tmpFile('etp.yaml', `${SERVICE}  externalTrafficPolicy: Local\n  ports: [{port: 80}]\n`);
    expectBadInput(kscale(['rules', '--backend', 'iptables', '--from', file]),
      /^kscale rules: .*etp\.yaml doc 1: Service shop\/web: spec\.externalTrafficPolicy: may only be set for externally-accessible Services/);
  });

  it('2. an integer beyond 2^53 - 1 is out of range, not "expected an integer"', () => {
    const file = tmpFile('big.yaml', `${SERVICE}  ports: [{port: 99999999999999999999}]\n`);
    expectBadInput(kscale(['rules', '--backend', 'nftables', '--from', file]), /spec\.ports\[0\]\.port: out of range: too large to be read exactly/);
    const pod = tmpFile('pod.json', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { priority: 1, containers: [{ name: 'c' }] } }).replace('"priority":1', '"priority":99999999999999999999'));
    expectBadInput(kscale(['schedule', '--cluster', tmpFile('n.yaml', NODE), '--pod', pod, '--explain']), /spec\.priority: out of range/);
  });

  it('3. YAML merge keys are read (the merged protocol counts)', () => {
    // The second port takes its protocol from the merge: without merge keys it would be TCP.
    const file = tmpFile('merge.yaml', `${SERVICE}  ports:\n  - &dns {name: dns, port: 53, protocol: UDP}\n  - <<: *dns\n    name: dns-alt\n    port: 5353\n`);
    const r = kscale(['rules', '--backend', 'iptables', '--from', file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('"shop/web:dns-alt has no endpoints" -m udp -p udp -d 10.96.0.5 --dport 5353');
  });

  it('4. 100,000 nested arrays: "nesting deeper than 256 levels", in rules, schedule and plan', () => {
    const reason = /line 1, column 257: nesting deeper than 256 levels \(lists and mappings within one another\)$/m;
    expectBadInput(kscale(['rules', '--backend', 'iptables', '--from', tmpFile('deep.json', '['.repeat(100_000) + ']'.repeat(100_000))]), reason);
    expectBadInput(kscale(['schedule', '--cluster', tmpFile('deep.yaml', '['.repeat(100_000))]), reason);
    expectBadInput(kscale(['plan', '--cluster-profile', tmpFile('profile.yaml', '['.repeat(100_000))]), reason);
  });

  it('5. UTF-16 with a byte-order mark is decoded, as kubectl does', () => {
    const utf16 = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
    const r = kscale(['rules', '--backend', 'iptables', '--from', tmpFile('svc.yaml', utf16(`${SERVICE}  ports: [{port: 80}]\n`))]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('"shop/web has no endpoints"');
    const plan = kscale(['plan', '--cluster-profile', tmpFile('p.yaml', utf16('nodes: 0\n'))]);
    expectBadInput(plan, /p\.yaml: nodes: must be ≥ 1, got 0/);
  });

  it('6. a key given twice: an error naming the key and the file, in JSON and YAML', () => {
    const json = tmpFile('dup.json', '{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"clusterIP":"10.96.0.5","clusterIP":"10.96.0.6","ports":[{"port":80}]}}');
    expectBadInput(kscale(['rules', '--backend', 'iptables', '--from', json]), /dup\.json line 1, column 93: duplicate key "clusterIP" in spec: a field given twice is rejected/);
    const yaml = tmpFile('dup.yaml', `${NODE}---\n${POD.replace('name: p,', 'name: p, name: q,')}`);
    expectBadInput(kscale(['schedule', '--cluster', yaml]), /dup\.yaml line 8, column \d+: duplicate key "name"/);
  });

  it('7. standard input named twice is refused before anything is read', () => {
    expectBadInput(kscale(['schedule', '--cluster', '-', '--pod', '-', '--explain'], NODE + '---\n' + POD),
      /^kscale schedule: --pod: "-" \(standard input\) is already read by --cluster -; give one of them as a file$/m);
    expectBadInput(kscale(['rules', '--backend', 'iptables', '--from', '-', '--from', '-'], `${SERVICE}  ports: [{port: 80}]\n`),
      /^kscale rules: -: standard input is named twice; it can be read only once$/m);
    // Once is fine.
    const ok = kscale(['schedule', '--cluster', '-', '--pod', tmpFile('pod.yaml', POD), '--explain'], NODE);
    expect(ok.status, ok.stderr).toBe(0);
  });
});
