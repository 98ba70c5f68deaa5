import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaErrors, writeFileAtomic } from '../../src/results/write.js';
import { renderSummaryMarkdown } from '../../src/report/markdown.js';
import type { RunResults } from '../../src/results/types.js';

function sample(): RunResults {
  return {
    schemaVersion: 1, runId: '20261202-101500-abcdef', seed: 1, command: ['kscale', 'bench'], gitSha: null, profile: 'smoke',
    suites: ['fsync'], startedAt: '2026-12-02T10:15:00.000Z', endedAt: '2026-12-02T10:15:10.000Z',
    host: {
      hostname: 'h', cpu: { manufacturer: 'AMD', brand: 'EPYC', cores: 2, physicalCores: 1, speedGHz: 2, speedMaxGHz: 2 },
      memory: { totalBytes: 1 }, os: { platform: 'linux', distro: 'Debian 12', release: '12', kernel: '6.1', arch: 'x64' },
      virtualization: { virtual: true, host: 'kvm' }, disk: { dataDir: '/d', device: '/dev/vda1', fsType: 'ext4', model: 'x', type: 'HD' },
      node: 'v20', tools: {},
    },
    capabilities: [{ id: 'root', available: true, reason: 'uid 0' }],
    measurements: [
      { suite: 'fsync', name: 'wal-fdatasync', unit: 'ms', params: { tool: 'native' }, status: 'ok', samples: [1, 2],
        summary: { n: 2, median: 1.5, p50: 1.5, p90: 1.9, p99: 1.99, min: 1, max: 2, mean: 1.5, mad: 0.5 } },
      { suite: 'fsync', name: 'wal-fdatasync', unit: 'ms', params: { tool: 'fio' }, status: 'skipped', reason: 'fio not found' },
    ],
  };
}

describe('results schema', () => {
  it('accepts a well-formed document', () => {
    expect(schemaErrors(sample())).toEqual([]);
  });
  it('rejects a skipped measurement without a reason and an ok one without numbers', () => {
    const doc = sample();
    delete doc.measurements[1]!.reason;
    const { summary: _s, ...noSummary } = doc.measurements[0]!;
    doc.measurements[0] = noSummary;
    expect(schemaErrors(doc).length).toBeGreaterThanOrEqual(2);
  });
  it('rejects a wrong schemaVersion', () => {
    expect(schemaErrors({ ...sample(), schemaVersion: 2 }).join()).toMatch(/schemaVersion/);
  });
  it('writes atomically, leaving no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-test-'));
    writeFileAtomic(join(dir, 'r.json'), '{"a":1}');
    expect(readdirSync(dir)).toEqual(['r.json']);
    expect(readFileSync(join(dir, 'r.json'), 'utf8')).toBe('{"a":1}');
  });
  it('summarises measurements in Markdown with skip reasons', () => {
    const md = renderSummaryMarkdown(sample());
    expect(md).toContain('| fsync | wal-fdatasync | tool=native | ms | 1.50 | 1.99 | 2 | ok |');
    expect(md).toContain('skipped: fio not found');
  });
});
