#!/usr/bin/env node
// The browser test of the site `bisslog docs` generates: it opens the site
// in headless Chromium (Debian's `chromium`, driven by playwright-core) and
// walks system page -> first service -> first use case, failing on any
// console error, page error, failed load, or diagram drawn at zero size,
// and saving a full-page screenshot of each page.
//
//   node scripts/browser-test.mjs <site directory> <screenshots directory>
//
// The contract with the site generator:
//   - the system page is `index.html` at the root of the site;
//   - links to service pages have the class `service-link`;
//   - links to use-case pages have the class `use-case-link`;
//   - diagrams are inline `<svg class="diagram">` elements; the system page
//     has at least one (the system map).
//
// CHROMIUM overrides the browser (default /usr/bin/chromium). Exit status:
// 0 when every check passes, 1 when one fails (each failure is listed), 2
// for bad arguments or a browser that cannot start.

import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const TIMEOUT_MS = 15_000;

function usage(message) {
  console.error(`browser-test: ${message}`);
  console.error("usage: node scripts/browser-test.mjs <site directory> <screenshots directory>");
  process.exit(2);
}

const [siteArg, shotsArg] = process.argv.slice(2);
if (!siteArg || !shotsArg) usage("two arguments are needed");
const site = path.resolve(siteArg);
const shots = path.resolve(shotsArg);
const index = path.join(site, "index.html");
if (!existsSync(index)) usage(`${index} does not exist: is ${site} a generated site?`);
mkdirSync(shots, { recursive: true });

const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  usage(`no browser at ${executablePath} (apt-get install chromium, or set CHROMIUM)`);
}

/** Every problem found, as `page: what`. */
const failures = [];
/** The page being checked, for the error listeners. */
let current = "system page";

function fail(what) {
  failures.push(`${current}: ${what}`);
}

/** Fails for each `svg.diagram` of the page drawn at zero width or height;
 * returns how many diagrams the page has. */
async function checkDiagrams(page) {
  const diagrams = await page.$$eval("svg.diagram", (svgs) =>
    svgs.map((svg, i) => {
      // The box the drawing gets: the bounding box less borders and
      // padding, so a bordered diagram drawn at zero size still fails.
      const box = svg.getBoundingClientRect();
      const style = getComputedStyle(svg);
      const px = (property) => parseFloat(style.getPropertyValue(property)) || 0;
      const width =
        box.width - px("border-left-width") - px("border-right-width") -
        px("padding-left") - px("padding-right");
      const height =
        box.height - px("border-top-width") - px("border-bottom-width") -
        px("padding-top") - px("padding-bottom");
      const name =
        svg.id || svg.getAttribute("aria-label") || svg.querySelector("title")?.textContent || "";
      return { i, name: name.trim(), width, height };
    }),
  );
  for (const d of diagrams) {
    if (!(d.width > 0 && d.height > 0)) {
      const name = d.name ? ` (${d.name})` : "";
      fail(`svg.diagram #${d.i + 1}${name} has a zero-size bounding box (${d.width}x${d.height})`);
    }
  }
  return diagrams.length;
}

/** Checks the page, saves its screenshot as `<name>.png`. */
async function visit(page, name) {
  const count = await checkDiagrams(page);
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  ${current}: ${page.url()} - ${count} diagram(s), screenshot ${file}`);
  return count;
}

/** Clicks the first `a.<cls>` and waits for the page it opens. */
async function follow(page, cls) {
  const link = page.locator(`a.${cls}`).first();
  if ((await page.locator(`a.${cls}`).count()) === 0) {
    fail(`no a.${cls} to follow`);
    return false;
  }
  const before = page.url();
  await link.click();
  await page.waitForLoadState("load");
  if (page.url() === before) {
    fail(`following a.${cls} stayed on ${before}`);
    return false;
  }
  return true;
}

let browser;
try {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: TIMEOUT_MS,
    // As root (CI containers) Chromium refuses to start with its sandbox.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
} catch (error) {
  console.error(`browser-test: ${executablePath} did not start: ${error.message}`);
  process.exit(2);
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on("console", (message) => {
    if (message.type() === "error") {
      const where = message.location()?.url ? ` at ${message.location().url}` : "";
      fail(`console error: ${message.text()}${where}`);
    }
  });
  page.on("pageerror", (error) => fail(`page error: ${error.message}`));
  page.on("requestfailed", (request) =>
    fail(`failed to load ${request.url()}: ${request.failure()?.errorText ?? "unknown error"}`),
  );

  console.log(`browser-test: ${site} in ${executablePath}`);
  await page.goto(pathToFileURL(index).href, { waitUntil: "load" });
  if ((await visit(page, "system")) === 0) fail("no svg.diagram (the system map)");
  current = "service page";
  if (await follow(page, "service-link")) {
    await visit(page, "service");
    current = "use-case page";
    if (await follow(page, "use-case-link")) await visit(page, "use-case");
  }
} catch (error) {
  fail(`the browser test broke: ${error.message}`);
} finally {
  await browser.close();
}

if (failures.length > 0) {
  console.error(`browser-test: FAILED, ${failures.length} problem(s) in ${site}:`);
  for (const failure of failures) console.error(`  - ${failure}`);
  process.exit(1);
}
console.log("browser-test: passed");
