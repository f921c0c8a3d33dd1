/**
 * `budget --html` in a real browser: Debian's chromium (/usr/bin/chromium, apt package `chromium`) driven headless by
 * playwright-core, never a downloaded browser. The Node example's report (a real scan) loads with no console error
 * and no network request, draws one box per visible node, zooms on click and back through the breadcrumb, has no
 * horizontal scroll at 1366x768 and prints on at most two A4 pages. UPDATE_SCREENSHOT=1 rewrites
 * docs/report-screenshot.png from it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config/load.js';
import { NODE_EXAMPLE, REPO_ROOT } from '../../src/example/node-example.js';
import { runBudget } from '../../src/pipeline/budget.js';
import { budgetDelta } from '../../src/report/delta.js';
import { renderHtml } from '../../src/report/html.js';
import { VIEW_DEPTH } from '../../src/report/html-client.js';
import { largestFiles } from '../../src/report/largest-files.js';
import { buildReportTree, type ReportNode } from '../../src/report/tree.js';
import { FIXTURE_PACKAGES, fixtureRun } from '../helpers/report-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (CI installs it: apt-get install chromium)`;
const hasExample =
  existsSync(join(NODE_EXAMPLE, 'node_modules', '.package-lock.json')) &&
  existsSync(join(NODE_EXAMPLE, 'models', 'mobilenet_v2', 'model.json'));
const noExample = hasExample ? false : 'the Node example is not installed (npm run setup)';

let context: BrowserContext | null = null;
const work = mkdtempSync(join(tmpdir(), 'lambda-ml-report-html-'));

before(async () => {
  if (noBrowser) return;
  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
after(async () => {
  await context?.close();
  rmSync(work, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
}

async function open(html: string, name: string): Promise<Opened> {
  const file = join(work, name);
  writeFileSync(file, html);
  const page = await context!.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`file://${file}`);
  await page.waitForSelector('#treemap .node');
  return { page, errors, requests };
}

/** The ids the page must draw at a zoom: every node 1..VIEW_DEPTH levels below the focus (ids are child indexes). */
function visibleIds(tree: ReportNode, focusId: string): string[] {
  let focus = tree;
  for (const i of focusId.split('.').slice(1)) focus = focus.children![Number(i)];
  const ids: string[] = [];
  const walk = (node: ReportNode, id: string, depth: number) => {
    if (depth > 0) ids.push(id);
    if (depth < VIEW_DEPTH) node.children?.forEach((c, i) => walk(c, `${id}.${i}`, depth + 1));
  };
  walk(focus, focusId, 0);
  return ids.sort();
}

const drawnIds = (page: Page) =>
  page.$$eval('#treemap .node', (els) => els.map((el) => el.getAttribute('data-id')!).sort());
const crumbs = (page: Page) => page.$$eval('#crumbs .crumb', (els) => els.map((el) => el.getAttribute('data-id')));
const focusOf = (page: Page) => page.getAttribute('#treemap', 'data-focus');

/** PDF pages, counted from the page objects chromium writes. */
const pdfPages = (pdf: Buffer) => (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;

test(
  'the Node example: loads offline, draws every visible node, zooms and returns, fits 1366 px, prints on 2 pages',
  {
    skip: noBrowser || noExample,
    timeout: 180_000,
  },
  async (t) => {
    assert.equal(VIEW_DEPTH, 3);
    const config = await loadConfig(NODE_EXAMPLE, join(NODE_EXAMPLE, 'lambda-ml.config.json'));
    const run = await runBudget(config);
    const tree = buildReportTree(run);
    const html = renderHtml({ budget: run.budget, tree, files: largestFiles(run, 20), name: config.function.name });
    const bytes = Buffer.byteLength(html);
    t.diagnostic(`Node example: ${run.scan.deps.files} deps files -> HTML report of ${bytes} bytes`);
    assert.ok(bytes <= 1_048_576, `the HTML is ${bytes} bytes, over 1 MiB`);

    const { page, errors, requests } = await open(html, 'node-example.html');
    assert.deepEqual(errors, []);
    assert.ok(
      requests.every((url) => url.startsWith('file:') || url.startsWith('data:')),
      requests.join('\n'),
    );
    assert.equal(requests.length, 1, 'only the file itself');
    const scrollWidth = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    assert.ok(scrollWidth <= 1366, `no horizontal scroll at 1366x768 (scrollWidth ${scrollWidth})`);

    assert.deepEqual(await drawnIds(page), visibleIds(tree, 'r'));
    assert.deepEqual(await crumbs(page), ['r']);

    // Hover a package: name, version, share of the limit. In the example every dependency is one the handler bundle
    // brings itself (TF.js, sharp), so its packages sit under "in the handler", not function.zip.
    assert.equal(tree.children![0].name, 'function.zip');
    const at = tree.children!.findIndex((a) => a.children?.some((c) => c.kind === 'package'));
    assert.ok(at >= 0, 'some artifact holds packages');
    const box = tree.children![at];
    const id = `r.${at}`;
    const pkg = box.children!.findIndex((c) => c.kind === 'package');
    await page.hover(`#treemap .node[data-id="${id}.${pkg}"]`, { position: { x: 6, y: 6 } });
    const tip = await page.textContent('#tip');
    assert.ok(await page.isVisible('#tip'));
    assert.ok(tip!.includes(box.children![pkg].name) && tip!.includes(`version ${box.children![pkg].version}`), tip!);
    if (box.fate === 'layer') {
      assert.match(tip!, /provided elsewhere \(a layer or the handler\).*not shipped: counts against no limit/);
      assert.match(tip!, /provided by the handler/);
    } else assert.match(tip!, /\d+\.\d% of the unzipped limit \(250 MiB\)/);

    // Click the artifact's label strip: zoom in; then a package; then back through the breadcrumb.
    await page.click(`#treemap .node[data-id="${id}"]`, { position: { x: 4, y: 4 } });
    assert.equal(await focusOf(page), id);
    assert.deepEqual(await crumbs(page), ['r', id]);
    assert.deepEqual(await drawnIds(page), visibleIds(tree, id));
    await page.click(`#treemap .node[data-id="${id}.${pkg}"]`, { position: { x: 4, y: 4 } });
    assert.deepEqual(await crumbs(page), ['r', id, `${id}.${pkg}`]);
    assert.deepEqual(await drawnIds(page), visibleIds(tree, `${id}.${pkg}`));
    await page.keyboard.press('Escape');
    assert.deepEqual(await crumbs(page), ['r', id], 'Escape zooms out one level');
    await page.click('#crumbs button[data-id="r"]');
    assert.deepEqual(await crumbs(page), ['r']);
    assert.deepEqual(await drawnIds(page), visibleIds(tree, 'r'));
    assert.deepEqual(errors, []);

    const isUpdate = process.env.UPDATE_SCREENSHOT === '1';
    const shot = isUpdate ? join(REPO_ROOT, 'docs', 'report-screenshot.png') : join(work, 'report.png');
    const treemapBottom = 'Math.ceil(document.getElementById("treemap").getBoundingClientRect().bottom + scrollY + 12)';
    const bottom = (await page.evaluate(treemapBottom)) as number;
    await page.screenshot({ path: shot, fullPage: true, clip: { x: 0, y: 0, width: 1366, height: bottom } });
    assert.ok(statSync(shot).size > 10_000);

    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const pages = pdfPages(pdf);
    t.diagnostic(`printed on ${pages} A4 pages`);
    assert.ok(pages >= 1 && pages <= 2, `the printout has ${pages} pages`);
    await page.close();
  },
);

test(
  'a report with a delta: changed packages outlined, hostile names stay text',
  {
    skip: noBrowser,
    timeout: 60_000,
  },
  async () => {
    const hostile = {
      name: '<img src=x onerror=window.pwned=1>',
      version: '1.0.0',
      path: 'node_modules/evil',
      files: { 'package.json': 200, '"><svg onload=window.pwned=2>.js': 900_000 },
    };
    const baseRun = fixtureRun();
    const headPackages = [...FIXTURE_PACKAGES.filter((p) => p.name !== 'semver'), hostile].map((p) =>
      p.name === 'sharp' ? { ...p, files: { ...p.files, 'lib/new.js': 80_000 } } : p,
    );
    const headRun = fixtureRun({ packages: headPackages });
    const delta = budgetDelta(baseRun.budget, headRun.budget);
    const tree = buildReportTree(headRun);
    const files = largestFiles(headRun, 10);
    const html = renderHtml({ budget: headRun.budget, tree, delta, files, name: '</title><b>fn</b>' });
    assert.doesNotMatch(html, /<img src=x/);
    const { page, errors, requests } = await open(html, 'delta.html');
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')),
      [],
    );
    assert.equal(await page.evaluate('typeof window.pwned'), 'undefined', 'no injected handler ran');
    assert.equal(await page.title(), 'lambda-ml budget · </title><b>fn</b>');
    const changed = await page.$$eval('#treemap .node.changed', (els) => els.map((el) => el.getAttribute('data-id')!));
    const names = changed.map((id) => {
      let node = tree;
      for (const i of id.split('.').slice(1)) node = node.children![Number(i)];
      return node.package;
    });
    assert.deepEqual([...new Set(names)].sort(), ['<img src=x onerror=window.pwned=1>', 'sharp']);
    assert.match((await page.textContent('#delta')) ?? '', /Packages: 1 added, 1 removed, 1 grown/);
    assert.ok((await page.textContent('#largest'))!.includes('node_modules/evil/"><svg onload=window.pwned=2>.js'));
    await page.close();
  },
);
