// `kscale etcd`'s inputs: every bad combination is an InputError (exit 2) naming the flag.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { etcdCommand, etcdLine } from '../../src/commands/etcd.js';
import { loadTls, parseEndpoints } from '../../src/etcd/client.js';

const dir = mkdtempSync(join(tmpdir(), 'kscale-etcd-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kscale etcd options', () => {
  it('normalises endpoints and insists on a port and on TLS files for https', () => {
    expect(parseEndpoints('10.0.0.1:2379, http://e2:2379', false)).toEqual(['http://10.0.0.1:2379', 'http://e2:2379']);
    expect(parseEndpoints('10.0.0.1:2379', true)).toEqual(['https://10.0.0.1:2379']);
    expect(() => parseEndpoints('10.0.0.1', false)).toThrow(/give the port/);
    expect(() => parseEndpoints('https://e:2379', false)).toThrow(/--etcd-cacert/);
    expect(() => parseEndpoints('unix:///x:1', false)).toThrow(/scheme must be http or https/);
    expect(() => parseEndpoints(' , ', false)).toThrow(InputError);
  });

  it('reads TLS files, and names the flag when one is missing or unreadable', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'CA');
    expect(loadTls({})).toBeUndefined();
    expect(loadTls({ cacert: ca })?.ca.toString()).toBe('CA');
    expect(() => loadTls({ cert: ca, key: ca })).toThrow(/--etcd-cacert: required/);
    expect(() => loadTls({ cacert: ca, cert: ca })).toThrow(/--etcd-key/);
    expect(() => loadTls({ cacert: join(dir, 'nope.pem') })).toThrow(/--etcd-cacert: cannot read .*ENOENT/);
  });

  it('rejects bad combinations before touching anything', async () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'CA');
    await expect(etcdCommand.run({ profile: 'huge' }, [])).rejects.toThrow(/--profile: unknown profile "huge"/);
    await expect(etcdCommand.run({ 'etcd-cacert': ca }, [])).rejects.toThrow(/TLS files go with --etcd-endpoints/);
    await expect(etcdCommand.run({ 'etcd-endpoints': 'e:2379', 'etcd-data-dir': dir }, [])).rejects.toThrow(/--etcd-data-dir: only for the etcd kscale starts/);
    await expect(etcdCommand.run({ seed: '-1' }, [])).rejects.toThrow(InputError);
    await expect(etcdCommand.run({ 'etcd-data-dir': ca }, [])).rejects.toThrow(/--etcd-data-dir: .*(EEXIST|ENOTDIR|not a directory)/);
  });

  it('prints one line per measurement with its status or numbers', () => {
    expect(etcdLine({ suite: 'etcd', name: 'put-latency', unit: 'ms', params: { op: 'put', concurrency: 16, preloaded: true, keyspacePods: 150000 }, status: 'failed', reason: 'etcd exited (SIGKILL)' }))
      .toMatch(/^put-latency +c=16 preloaded 150000 +failed: etcd exited \(SIGKILL\)$/);
  });
});
