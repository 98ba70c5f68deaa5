// `writeReport(runDir)`: results.json → report.md + charts/*.svg + a
// self-contained report.html, written next to the results.
import { join } from 'node:path';
import { writeFileAtomic } from '../results/write.js';
import type { RunResults } from '../results/types.js';
import { renderSvg } from './charts.js';
import { renderHtml } from './html.js';
import { loadRun } from './load.js';
import { renderReportMarkdown } from './markdown.js';
import { buildSections, otherMeasurements } from './sections.js';
import type { Section } from './sections.js';

export interface RenderedReport {
  markdown: string;
  html: string;
  /** chart id → SVG text */
  svgs: Map<string, string>;
  sections: Section[];
}

/**
 * vega numbers its clip paths and gradients per view ("clip1"…), so two inline
 * SVGs in one page would share ids and clip each other. Give each chart its own.
 */
export function scopeSvgIds(svg: string, scope: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${scope}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${scope}-${id})`)
    .replace(/(xlink:)?href="#([^"]+)"/g, (_m, x: string | undefined, id: string) => `${x ?? ''}href="#${scope}-${id}"`);
}

/** Pure apart from vega's rendering: everything the two report files contain. */
export async function renderReport(r: RunResults): Promise<RenderedReport> {
  const sections = buildSections(r);
  const others = otherMeasurements(r);
  const svgs = new Map<string, string>();
  for (const c of sections.flatMap((s) => s.charts)) svgs.set(c.id, scopeSvgIds(await renderSvg(c.spec), c.id));
  return { markdown: renderReportMarkdown(r, sections, others), html: renderHtml(r, sections, svgs, others), svgs, sections };
}

/** Write report.md, charts/<id>.svg and report.html into the run directory; returns their paths. */
export async function writeReport(runDir?: string): Promise<{ md: string; html: string }> {
  const run = loadRun(runDir);
  const rendered = await renderReport(run.results);
  for (const [id, svg] of rendered.svgs) writeFileAtomic(join(run.runDir, 'charts', `${id}.svg`), svg);
  const md = join(run.runDir, 'report.md');
  const html = join(run.runDir, 'report.html');
  writeFileAtomic(md, rendered.markdown);
  writeFileAtomic(html, rendered.html);
  return { md, html };
}
