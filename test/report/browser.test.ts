// report.html in a real browser (Debian's chromium, driven by playwright-core):
// every chart is present, is an SVG with visible marks, and the page fetched nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { writeReport } from '../../src/report/index.js';
import { buildSections } from '../../src/report/sections.js';
import type { RunResults } from '../../src/results/types.js';

const CHROMIUM = '/usr/bin/chromium';
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'results');

interface ChartProbe {
  id: string;
  width: number;
  height: number;
  marks: number;
  text: string;
}

describe.skipIf(!existsSync(CHROMIUM))('report.html in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each(['full.json', 'partial.json'])('%s: every chart is present and drawn, and nothing is fetched', async (name) => {
    const dir = mkdtempSync(join(tmpdir(), 'kscale-html-'));
    const text = readFileSync(join(FIXTURES, name), 'utf8');
    writeFileSync(join(dir, 'results.json'), text);
    const { html } = await writeReport(dir);
    const expected = buildSections(JSON.parse(text) as RunResults).flatMap((s) => s.charts.map((c) => c.id));
    expect(expected.length).toBeGreaterThan(0);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (req) => { if (!req.url().startsWith('file:')) requests.push(req.url()); });
    await page.goto(pathToFileURL(html).href);
    const charts = await page.$$eval('figure.chart', (figs) => figs.map((f): ChartProbe => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      // vega draws data as paths inside mark groups (symbols, lines, rules, text…).
      const marks = svg ? [...svg.querySelectorAll('g.mark-symbol path, g.mark-line path, g.mark-rule line, g.mark-rect path')]
        .filter((el) => { const b = (el as SVGGraphicsElement).getBBox(); return b.width > 0 || b.height > 0; }).length : 0;
      return { id: f.getAttribute('data-chart') ?? '', width: box?.width ?? 0, height: box?.height ?? 0, marks, text: svg?.textContent ?? '' };
    }));
    expect(charts.map((c) => c.id)).toEqual(expected);
    for (const c of charts) {
      expect(c.width, c.id).toBeGreaterThan(200);
      expect(c.height, c.id).toBeGreaterThan(150);
      expect(c.marks, c.id).toBeGreaterThan(0);
      expect(c.text, c.id).toContain('host:');
      expect(c.text, c.id).toMatch(/n = [1-9]/);
    }
    if (process.env.KSCALE_REPORT_SCREENSHOT) await page.screenshot({ path: `${process.env.KSCALE_REPORT_SCREENSHOT}-${name}.png`, fullPage: true });
    expect(requests).toEqual([]);
    await page.close();
  });
});
