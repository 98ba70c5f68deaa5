// The self-contained report.html: inline CSS, inline SVG charts, no script and
// no external reference, so it opens from a CI artifact or an e-mail offline.
import type { RunResults } from '../results/types.js';
import { fmt, hostLine, paramsText, runLine, shortReason } from './common.js';
import type { Chart, Section, Table } from './sections.js';
import type { Measurement } from '../results/types.js';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function tableHtml(t: Table, cls = ''): string {
  const head = `<tr>${t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const rows = t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead>${head}</thead><tbody>\n${rows}\n</tbody></table>`;
}

function chartHtml(c: Chart, svg: string): string {
  return `<figure class="chart" id="chart-${c.id}" data-chart="${c.id}">
${svg}
<figcaption><strong>${escapeHtml(c.title)}.</strong> ${escapeHtml(c.measured)} n = ${c.n}.</figcaption>
<details><summary>numbers</summary>${tableHtml(c.table)}</details>
</figure>`;
}

function sectionHtml(s: Section, svgs: ReadonlyMap<string, string>): string {
  const parts = [`<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2>`];
  for (const c of s.charts) parts.push(chartHtml(c, svgs.get(c.id) ?? ''));
  if (s.charts.length === 0) parts.push('<p class="none">Nothing in this area was measured on this run; see below for why.</p>');
  for (const t of s.tables) parts.push(`<h3>${escapeHtml(t.caption)}</h3>`, tableHtml(t.table));
  if (s.notShown.length > 0) {
    parts.push('<h3>Not measured (skipped or failed)</h3>',
      tableHtml({ head: ['measurement', 'parameters', 'status', 'reason'], rows: s.notShown.map((n) => [`${n.suite}/${n.name}`, n.params, n.status, n.reason]) }, 'notshown'));
  }
  parts.push('</section>');
  return parts.join('\n');
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:36px}h3{font-size:14px;margin:18px 0 6px}
.prov{color:#444;font-size:13px}figure.chart{margin:16px 0;overflow-x:auto}figure.chart svg{max-width:100%;height:auto}
figcaption{font-size:12px;color:#444;max-width:900px}table{border-collapse:collapse;font-size:12px;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}th{background:#f6f6f6}
table.notshown td:nth-child(3){font-weight:600}p.none{color:#666;font-style:italic}details summary{cursor:pointer;font-size:12px;color:#555}`;

export function renderHtml(r: RunResults, sections: Section[], svgs: ReadonlyMap<string, string>, others: Measurement[]): string {
  const counts = { ok: 0, skipped: 0, failed: 0 };
  for (const m of r.measurements) counts[m.status]++;
  const h = r.host;
  const toc = sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join(' · ');
  const otherHtml = others.length === 0 ? '' : `<section id="other"><h2>Other measurements</h2>${tableHtml({
    head: ['suite', 'measurement', 'parameters', 'unit', 'median', 'p99', 'n', 'status'],
    rows: others.map((m) => [m.suite, m.name, paramsText(m.params), m.unit, fmt(m.summary?.median), fmt(m.summary?.p99), String(m.summary?.n ?? '–'),
      m.status === 'ok' ? 'ok' : `${m.status}: ${shortReason(m.reason)}`]),
  })}</section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kscale report ${escapeHtml(r.runId)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body>
<h1>kscale report</h1>
<p class="prov">${escapeHtml(runLine(r))}, suites ${escapeHtml(r.suites.join(', '))}; ${escapeHtml(r.startedAt)} – ${escapeHtml(r.endedAt)}.<br>
Host <strong>${escapeHtml(h.hostname)}</strong>: ${escapeHtml(hostLine(h))}; data disk ${escapeHtml(`${h.disk.device} (${h.disk.fsType}, ${h.disk.type || 'unknown type'})`)}; Node ${escapeHtml(h.node)}.<br>
Measurements: ${counts.ok} ok, ${counts.skipped} skipped, ${counts.failed} failed. Every number here was measured on this host in this run, except lines labelled as guidance or upstream anchors.</p>
<nav>${toc}</nav>
${sections.map((s) => sectionHtml(s, svgs)).join('\n')}
${otherHtml}
</body></html>
`;
}
