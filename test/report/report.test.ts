import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaErrors } from '../../src/results/write.js';
import type { RunResults } from '../../src/results/types.js';
import { buildSections, histogramCurve, percentileCurve } from '../../src/report/sections.js';
import { renderReport, scopeSvgIds, writeReport } from '../../src/report/index.js';
import { timeFactor } from '../../src/report/common.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'results');
export const fixture = (name: string): RunResults => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as RunResults;

describe('report fixtures', () => {
  it.each(['full.json', 'partial.json'])('%s validates against the results schema', (name) => {
    expect(schemaErrors(fixture(name))).toEqual([]);
  });
});

describe('report sections', () => {
  it('builds one chart per measured area, each naming what, where and n', () => {
    const r = fixture('full.json');
    const charts = buildSections(r).flatMap((s) => s.charts);
    expect(charts.map((c) => c.id)).toEqual(['render-time', 'sync-full', 'sync-incremental', 'datapath-new-connection', 'ebpf-ns-per-packet',
      'scheduler-throughput', 'etcd-fsync', 'etcd-put', 'etcd-watch']);
    for (const c of charts) {
      const title = c.spec.title as { subtitle: string[] };
      expect(title.subtitle.join(' ')).toContain('EPYC 7B13');
      expect(title.subtitle.join(' ')).toMatch(/n = [1-9]\d* samples/);
      expect(c.n).toBeGreaterThan(0);
      expect(c.table.rows.length).toBeGreaterThan(0);
    }
  });
  it('lists skipped backends with their reason and draws no chart for an area with nothing measured', () => {
    const sections = buildSections(fixture('partial.json'));
    expect(sections.map((s) => s.id)).toEqual(['sync', 'etcd']);
    const sync = sections[0]!;
    expect(sync.charts).toEqual([]);
    expect(sync.notShown.map((n) => n.params)).toContain('backend=ipvs, services=100, endpoints=10');
    expect(sync.notShown.every((n) => n.reason.includes('CAP_NET_ADMIN'))).toBe(true);
    expect(sections[1]!.charts.map((c) => c.id)).toEqual(['etcd-fsync']);
  });
  it('keeps skipped measurements of charted areas in the not-measured table', () => {
    const sync = buildSections(fixture('full.json')).find((s) => s.id === 'sync')!;
    const ipvs = sync.notShown.filter((n) => n.params.startsWith('backend=ipvs'));
    expect(ipvs).toHaveLength(6);
    expect(ipvs[0]!.reason).toMatch(/ip_vs/);
  });
  it('draws fitted lines only over the Services range that was measured', () => {
    const chart = buildSections(fixture('full.json')).flatMap((s) => s.charts).find((c) => c.id === 'datapath-new-connection')!;
    const values = (chart.spec.data as { values: { kind: string; services: number }[] }).values;
    const fitted = values.filter((v) => v.kind.startsWith('fit'));
    expect(fitted.length).toBeGreaterThan(0);
    expect(Math.min(...fitted.map((v) => v.services))).toBe(100);
    expect(Math.max(...fitted.map((v) => v.services))).toBe(5000);
  });
});

describe('report helpers', () => {
  it('percentile and histogram curves are monotone and end at the maximum', () => {
    const c = percentileCurve([5, 1, 3, 2, 4]);
    expect(c.at(-1)).toEqual({ q: 100, value: 5 });
    for (let i = 1; i < c.length; i++) expect(c[i]!.value).toBeGreaterThanOrEqual(c[i - 1]!.value);
    expect(histogramCurve([{ le: 2, count: 1 }, { le: 1, count: 3 }])).toEqual([{ q: 75, value: 1 }, { q: 100, value: 2 }]);
  });
  it('converts time units by their leading unit', () => {
    expect(timeFactor('ns', 'µs')).toBeCloseTo(1e-3);
    expect(timeFactor('µs/service', 'ns')).toBeCloseTo(1e3);
    expect(timeFactor('pods/s', 'ms')).toBeUndefined();
  });
  it('scopes SVG ids so inline charts do not share clip paths', () => {
    expect(scopeSvgIds('<clipPath id="clip1"/><g clip-path="url(#clip1)"/>', 'a')).toBe('<clipPath id="a-clip1"/><g clip-path="url(#a-clip1)"/>');
  });
});

describe('writeReport', () => {
  it('writes report.md, report.html and one SVG per chart into the run directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-report-'));
    writeFileSync(join(dir, 'results.json'), readFileSync(join(FIXTURES, 'full.json')));
    const out = await writeReport(dir);
    expect(out).toEqual({ md: join(dir, 'report.md'), html: join(dir, 'report.html') });
    expect(readdirSync(join(dir, 'charts')).sort()).toHaveLength(9);
    const md = readFileSync(out.md, 'utf8');
    expect(md).toContain('![Full sync time vs Services, per backend](charts/sync-full.svg)');
    expect(md).toContain('| sync/full-load | backend=ipvs, services=100, endpoints=1 | skipped |');
    const html = readFileSync(out.html, 'utf8');
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/);
    expect(existsSync(join(dir, 'charts', 'etcd-fsync.svg'))).toBe(true);
  });
  it('renders the guidance line into the fsync SVG', async () => {
    const rendered = await renderReport(fixture('partial.json'));
    expect(rendered.svgs.get('etcd-fsync')).toContain('etcd guidance: WAL fsync p99 &lt; 10 ms');
  });
});
