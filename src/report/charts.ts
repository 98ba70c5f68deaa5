// vega-lite spec → vega → SVG text, in Node, with no network and no canvas:
// vega's headless View renders the scenegraph to an SVG string directly.
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

/** The SVG of one chart. Data must be inline (`data.values`): the loader is never asked to fetch. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = compile(spec).spec;
  const view = new View(parse(vega), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
