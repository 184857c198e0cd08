// Drives a goperf SVG flame graph in headless Chromium (Debian's /usr/bin/chromium) the way a person would:
// hover, click to zoom, reset, Ctrl-F search, reload with the URL's state. Prints what it saw as JSON for
// tests/integration/test_report.py to check, and keeps a screenshot.
//
// usage: node flamegraph_check.mjs FILE.svg FRAME_INDEX SEARCH_REGEX SCREENSHOT.png
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

async function rectInfo(page, i) {
  return page.evaluate((i) => {
    const r = document.getElementById("frames").getElementsByTagName("rect")[i];
    const b = r.getBoundingClientRect();
    return { width: +r.getAttribute("width"), cx: b.x + b.width / 2, cy: b.y + b.height / 2,
             display: r.style.display };
  }, i);
}

async function state(page) {
  return page.evaluate(() => {
    const rects = [...document.getElementById("frames").getElementsByTagName("rect")];
    return {
      painted: rects.filter((r) => r.getAttribute("fill") === "rgb(230,0,230)").length,
      hidden: rects.filter((r) => r.style.display === "none").length,
      matched: document.getElementById("matched").textContent,
      hash: location.hash,
      tip_visible: document.getElementById("tip").getAttribute("visibility"),
      tip: [0, 1, 2].map((j) => document.getElementById("tip" + j).textContent),
    };
  });
}

async function main() {
  const [svg, indexText, regex, screenshot] = process.argv.slice(2);
  const target = Number(indexText);
  const url = pathToFileURL(svg).href;
  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const out = {};
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.flamegraph !== undefined);
    const before = await rectInfo(page, target);
    out.initial_width = before.width;

    await page.mouse.move(before.cx, before.cy);
    let s = await state(page);
    out.tip_visible = s.tip_visible;
    out.tip = s.tip;

    await page.mouse.click(before.cx, before.cy);
    const zoomed = await rectInfo(page, target);
    s = await state(page);
    out.zoomed_width = zoomed.width;
    out.zoomed_hash = s.hash;
    out.hidden_after_zoom = s.hidden;

    await page.click("#unzoom");
    out.reset_width = (await rectInfo(page, target)).width;
    out.reset_hash = (await state(page)).hash;

    page.once("dialog", (d) => d.accept(regex));
    await page.keyboard.press("Control+f");
    await page.waitForFunction(() => document.getElementById("matched").textContent.startsWith("Matched"));
    s = await state(page);
    out.painted = s.painted;
    out.matched = s.matched;
    out.search_hash = s.hash;

    // The screenshot shows the search result with a tooltip up.
    await page.mouse.move(before.cx, before.cy);
    // (fullPage screenshots of an SVG document never finish in Chromium: size the viewport instead.)
    const h = await page.evaluate(() => +document.documentElement.getAttribute("height"));
    await page.setViewportSize({ width: 1280, height: Math.min(Math.max(h, 200), 4000) });
    await page.mouse.move(before.cx, before.cy);
    await page.screenshot({ path: screenshot });

    await page.goto("about:blank");  // else only the fragment changes and the document is not reloaded
    await page.goto(url + "#zoom=" + target + "&search=" + encodeURIComponent(regex));
    await page.waitForFunction(() => window.flamegraph !== undefined);
    out.restored_zoom_width = (await rectInfo(page, target)).width;
    out.restored_painted = (await state(page)).painted;
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
