// Opens a flowkeeper HTML report (audit today; verify and analyze reports use the same
// checker) in headless Debian Chromium through playwright-core, and fails (exit 1) when:
//   - the page logs a console error or throws (pageerror), or a request fails;
//   - the page requests anything but the report file itself (reports are self-contained);
//   - the filter control does not leave exactly the rows of the chosen value visible;
//   - with --sort, clicking a sortable column header does not order the rows by that column
//     (each header twice: both directions, as its aria-sort says).
// Every value of the filter is chosen in turn: a <select> through its options, or clickable
// elements (buttons, links) through their `data-filter` attribute. A screenshot of the whole
// page is saved at the end. Exit 0 when all of it holds. See `--help`.

import { pathToFileURL } from "node:url";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";

const USAGE = `usage: scripts/browser-check REPORT.html --screenshot OUT.png [options]

  --filter SELECTOR   the filter control: a <select>, or clickable elements carrying
                      data-filter="VALUE" (default: #status-filter)
  --rows SELECTOR     the rows the filter shows and hides (default: tr[data-status])
  --attr NAME         the rows' attribute holding their value (default: data-status)
  --all VALUE         the filter value that shows every row (default: all)
  --sort SELECTOR     sortable column headers (e.g. "#incidents th[data-sort]"): each is
                      clicked twice and the rows must then be ordered by that column's
                      cells' data-value (numbers when the header has data-sort="num"; a
                      value that is not one fails), in the direction its aria-sort attribute
                      names, and the two clicks must give both directions; a column whose
                      rows all hold the same value is reported as not checked
  --timeout-ms N      deadline for the whole check (default: 60000)

Chromium: $CHROMIUM, else /usr/bin/chromium (Debian package chromium; scripts/ensure-browser).`;

function parseArgs(argv) {
  const opts = {
    filter: "#status-filter",
    rows: "tr[data-status]",
    attr: "data-status",
    all: "all",
    timeoutMs: 60000,
    report: null,
    screenshot: null,
    sort: null,
  };
  const flags = { "--filter": "filter", "--rows": "rows", "--attr": "attr", "--all": "all",
    "--timeout-ms": "timeoutMs", "--screenshot": "screenshot", "--sort": "sort" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else if (flags[a]) {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      opts[flags[a]] = argv[++i];
    } else if (a.startsWith("-")) {
      usage(`unknown option ${a}`);
    } else if (opts.report === null) {
      opts.report = a;
    } else {
      usage(`unexpected argument ${a}`);
    }
  }
  if (opts.report === null) usage("name the report file");
  if (opts.screenshot === null) usage("--screenshot OUT.png is required");
  opts.timeoutMs = Number(opts.timeoutMs);
  if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs <= 0) usage("--timeout-ms takes a positive integer");
  return opts;
}

function usage(message) {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(1);
}

function fail(message) {
  console.error(`browser-check: error: ${message}`);
  process.exit(1);
}

async function loadPlaywright() {
  try {
    return await import("playwright-core");
  } catch (e) {
    fail(`playwright-core is not installed (${e.code || e.message}); run scripts/ensure-browser`);
  }
}

/// [value, visible] of every row, in document order.
async function rowStates(page, opts) {
  return page.$$eval(
    opts.rows,
    (els, attr) => els.map((e) => [e.getAttribute(attr), e.checkVisibility()]),
    opts.attr,
  );
}

/// The filter's values and a function that chooses one.
async function filterControl(page, opts) {
  const controls = page.locator(opts.filter);
  const n = await controls.count();
  if (n === 0) fail(`no filter control matches ${opts.filter}`);
  const tag = await controls.first().evaluate((e) => e.tagName.toLowerCase());
  if (tag === "select") {
    const select = controls.first();
    const values = await select.evaluate((e) => Array.from(e.options, (o) => o.value));
    return {
      values,
      choose: async (v) => {
        await select.click();
        await select.selectOption(v);
      },
    };
  }
  const values = [];
  for (let i = 0; i < n; i++) {
    const v = await controls.nth(i).getAttribute("data-filter");
    if (v === null) fail(`filter element ${i + 1} of ${opts.filter} has no data-filter attribute`);
    values.push(v);
  }
  return {
    values,
    choose: async (v) => controls.nth(values.indexOf(v)).click(),
  };
}

/// Clicks every header matching `opts.sort` twice and checks, after each click, that the rows
/// are ordered by that column in the direction its aria-sort names. Returns problems found.
async function checkSort(page, opts) {
  const problems = [];
  const heads = page.locator(opts.sort);
  const n = await heads.count();
  if (n === 0) return [`no sortable header matches ${opts.sort}`];
  let reordered = false;
  let before = await page.$$eval(opts.rows, (els) => els.map((e) => e.outerHTML));
  for (let i = 0; i < n; i++) {
    const head = heads.nth(i);
    const name = (await head.innerText()).replace(/[\u25B2\u25BC]/g, "").trim();
    const numeric = (await head.getAttribute("data-sort")) === "num";
    const col = await head.evaluate((e) => e.cellIndex);
    const dirs = [];
    for (let click = 0; click < 2; click++) {
      await head.click();
      const dir = await head.getAttribute("aria-sort");
      dirs.push(dir);
      const state = await page.$$eval(opts.rows, (els, c) => els.map((e) => [e.outerHTML,
        e.cells[c] ? e.cells[c].getAttribute("data-value") : null]), col);
      if (state.length !== before.length) {
        problems.push(`sort ${JSON.stringify(name)}: ${state.length} rows after the click, ${before.length} before`);
      }
      if (state.some(([h], k) => h !== before[k])) reordered = true;
      before = state.map(([h]) => h);
      const values = state.map(([, v]) => v);
      if (dir !== "ascending" && dir !== "descending") {
        problems.push(`sort ${JSON.stringify(name)}: aria-sort is ${JSON.stringify(dir)} after a click`);
        continue;
      }
      if (values.some((v) => v === null)) {
        problems.push(`sort ${JSON.stringify(name)}: a row has no data-value in column ${col + 1}`);
        continue;
      }
      if (numeric && values.some((v) => v === "" || Number.isNaN(Number(v)))) {
        problems.push(`sort ${JSON.stringify(name)}: a data-value in this numeric column is not a number`);
        continue;
      }
      if (new Set(values).size < 2) {
        // Any order is "in order": nothing to learn from this column.
        if (click === 0) console.error(`sort ${JSON.stringify(name)}: not checked, every row has the same value`);
        continue;
      }
      const cmp = (a, b) => numeric ? Number(a) - Number(b) : (a < b ? -1 : a > b ? 1 : 0);
      const sign = dir === "ascending" ? 1 : -1;
      const bad = values.findIndex((v, k) => k > 0 && cmp(values[k - 1], v) * sign > 0);
      if (bad > 0) {
        problems.push(`sort ${JSON.stringify(name)} ${dir}: row ${bad} (${values[bad - 1]}) comes before row ${bad + 1} (${values[bad]})`);
      } else {
        console.error(`sort ${JSON.stringify(name)} ${dir}: ${values.length} rows in order`);
      }
    }
    if (dirs[0] === dirs[1]) problems.push(`sort ${JSON.stringify(name)}: two clicks both left aria-sort ${JSON.stringify(dirs[0])}`);
  }
  if (before.length > 1 && !reordered) problems.push("no header click changed the order of the rows");
  return problems;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const report = resolve(opts.report);
  if (!existsSync(report) || !statSync(report).isFile()) fail(`${opts.report}: no such file`);
  const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
  if (!existsSync(chromium)) fail(`${chromium} is missing; run scripts/ensure-browser (Debian package chromium)`);
  const watchdog = setTimeout(() => fail(`not done within ${opts.timeoutMs} ms`), opts.timeoutMs);
  watchdog.unref();

  const { chromium: launcher } = await loadPlaywright();
  const problems = [];
  const browser = await launcher.launch({
    executablePath: chromium,
    headless: true,
    timeout: opts.timeoutMs,
    // As root in a sandbox, on a machine with no network beyond loopback.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-default-apps", "--disable-extensions"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(opts.timeoutMs);
    const url = pathToFileURL(report).href;
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("request", (r) => {
      if (r.url() !== url && !r.url().startsWith("data:")) problems.push(`request to ${r.url()} (the report must be self-contained)`);
    });
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}: ${r.failure()?.errorText}`));

    await page.goto(url, { waitUntil: "load" });
    const initial = await rowStates(page, opts);
    if (initial.length === 0) problems.push(`no rows match ${opts.rows}`);
    const { values, choose } = await filterControl(page, opts);
    const distinct = new Set(initial.map(([v]) => v));
    let hidSome = false;
    for (const value of values) {
      await choose(value);
      const rows = await rowStates(page, opts);
      const visible = rows.filter(([, shown]) => shown).length;
      const wrong = rows.filter(([v, shown]) => shown !== (value === opts.all || v === value));
      const expected = value === opts.all ? rows.length : rows.filter(([v]) => v === value).length;
      console.error(`filter ${JSON.stringify(value)}: ${visible} of ${rows.length} rows visible (expected ${expected})`);
      if (wrong.length > 0) {
        problems.push(`filter ${JSON.stringify(value)}: ${wrong.length} rows have the wrong visibility, e.g. a ${JSON.stringify(wrong[0][0])} row is ${wrong[0][1] ? "shown" : "hidden"}`);
      }
      if (visible < rows.length) hidSome = true;
    }
    if (!values.includes(opts.all)) problems.push(`the filter has no ${JSON.stringify(opts.all)} value`);
    if (distinct.size > 1 && !hidSome) problems.push("no filter value hid any row");
    if (values.includes(opts.all)) await choose(opts.all);
    if (opts.sort !== null) problems.push(...await checkSort(page, opts));
    await page.screenshot({ path: opts.screenshot, fullPage: true });
    console.error(`screenshot: ${opts.screenshot}`);
  } finally {
    await browser.close();
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`browser-check: error: ${p}`);
    process.exit(1);
  }
  console.error(`browser-check: ${opts.report}: no console or page errors, no requests, filter ${opts.sort === null ? "works" : "and sort work"}`);
}

main().catch((e) => fail(e.stack || String(e)));
