// Markdown: the short summary written next to results.json at the end of a
// run, and the full report.md `kscale report` writes.
import type { Measurement, RunResults } from '../results/types.js';
import { cell, fmt, hostLine, paramsText, runLine } from './common.js';
import type { Section, Table } from './sections.js';

function row(m: Measurement): string {
  const s = m.summary;
  const stats = s ? `${fmt(s.median)} | ${fmt(s.p99)} | ${s.n}` : '– | – | –';
  const status = m.status === 'ok' ? 'ok' : `${m.status}: ${(m.reason ?? '').replace(/\|/g, '\\|').split('\n')[0]}`;
  return `| ${m.suite} | ${m.name} | ${paramsText(m.params)} | ${m.unit} | ${stats} | ${status} |`;
}

export function renderSummaryMarkdown(r: RunResults): string {
  const h = r.host;
  const counts = { ok: 0, skipped: 0, failed: 0 };
  for (const m of r.measurements) counts[m.status]++;
  return [
    `# kscale run ${r.runId}`,
    '',
    `Profile **${r.profile}**, suites ${r.suites.join(', ')}, seed ${r.seed}, git ${r.gitSha?.slice(0, 12) ?? 'unknown'}.`,
    `Host: ${h.cpu.brand} (${h.cpu.cores} cores), ${(h.memory.totalBytes / 2 ** 30).toFixed(1)} GiB, ${h.os.distro}, kernel ${h.os.kernel}` +
      `${h.virtualization.virtual ? ` (virtual: ${h.virtualization.host || 'yes'})` : ''}; data disk ${h.disk.device} (${h.disk.fsType}).`,
    `Started ${r.startedAt}, ended ${r.endedAt}. Measurements: ${counts.ok} ok, ${counts.skipped} skipped, ${counts.failed} failed.`,
    '',
    '| suite | measurement | parameters | unit | median | p99 | n | status |',
    '|---|---|---|---|---|---|---|---|',
    ...r.measurements.map(row),
    '',
  ].join('\n');
}

function mdTable(t: Table): string[] {
  return [`| ${t.head.map(cell).join(' | ')} |`, `|${t.head.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

/**
 * The full report.md: provenance, then per area the charts (as SVG files under
 * charts/, written by writeReport), the numbers behind each, and what was not measured and why.
 */
export function renderReportMarkdown(r: RunResults, sections: Section[], others: Measurement[]): string {
  const counts = { ok: 0, skipped: 0, failed: 0 };
  for (const m of r.measurements) counts[m.status]++;
  const out = [
    `# kscale report — ${r.runId}`,
    '',
    `${runLine(r)}, suites ${r.suites.join(', ')}; ${r.startedAt} – ${r.endedAt}.`,
    `Host **${r.host.hostname}**: ${hostLine(r.host)}; data disk ${r.host.disk.device} (${r.host.disk.fsType}).`,
    `Measurements: ${counts.ok} ok, ${counts.skipped} skipped, ${counts.failed} failed. Every number was measured on this host in this run, except lines labelled guidance or upstream anchors.`,
    '',
  ];
  for (const s of sections) {
    out.push(`## ${s.title}`, '');
    if (s.charts.length === 0) out.push('_Nothing in this area was measured on this run; see below for why._', '');
    for (const c of s.charts) {
      out.push(`### ${c.title}`, '', `![${c.title}](charts/${c.id}.svg)`, '', `${c.measured} n = ${c.n}.`, '', ...mdTable(c.table), '');
    }
    for (const t of s.tables) out.push(`### ${t.caption}`, '', ...mdTable(t.table), '');
    if (s.notShown.length > 0) {
      out.push('### Not measured (skipped or failed)', '',
        ...mdTable({ head: ['measurement', 'parameters', 'status', 'reason'], rows: s.notShown.map((n) => [`${n.suite}/${n.name}`, n.params, n.status, n.reason]) }), '');
    }
  }
  if (others.length > 0) {
    out.push('## Other measurements', '', '| suite | measurement | parameters | unit | median | p99 | n | status |', '|---|---|---|---|---|---|---|---|', ...others.map(row), '');
  }
  return out.join('\n');
}
