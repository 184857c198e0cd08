// Opens a goperf SVG in headless Chromium and times: load until the script is ready, and a zoom (click on
// the widest frame below the root) until the next frame is painted. Prints JSON.
// usage: node bench/flamegraph/browser_open_zoom.mjs FILE.svg   (playwright-core from tests/browser)
import { pathToFileURL } from "node:url";
import { launch } from "../../tests/browser/flamegraph_check.mjs";

const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const t0 = Date.now();
await page.goto(pathToFileURL(process.argv[2]).href);
await page.waitForFunction(() => window.flamegraph !== undefined, null, { timeout: 60000 });
const open_ms = Date.now() - t0;
const r = await page.evaluate(() => new Promise((resolve) => {
  const n = D.n.length;
  let best = 1;
  for (let i = 1; i < n; i++) if (D.d[i] === 2 && D.v[i] > D.v[best]) best = i;
  const t = performance.now();
  window.flamegraph.zoom(best);
  requestAnimationFrame(() => setTimeout(() => resolve({ zoom_ms: performance.now() - t, frames: n }), 0));
}));
await browser.close();
console.log(JSON.stringify({ open_ms, ...r }));
