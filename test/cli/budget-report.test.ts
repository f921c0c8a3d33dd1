/**
 * `budget --html / --files / --base` and the soft budget (`warnAtPercent`), through main(argv, fakeIo) on a copy of
 * the bad-input table's starter project (a real TF.js model, two small packages): docs/report.md, docs/budget.md.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { copyStarterProject } from '../helpers/bad-input-project.js';
import { runCli } from '../helpers/cli.js';
import { makeElf } from '../helpers/elf.js';
import { ensureScenario } from '../helpers/scenario.js';

const scratch = mkdtempSync(join(tmpdir(), 'budget-report-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let projects = 0;
/** A fresh starter project; `config` is merged (top level) into its config. */
async function project(config: Record<string, unknown> = {}): Promise<string> {
  const dir = join(scratch, `p${++projects}`);
  await copyStarterProject(dir);
  const file = join(dir, 'lambda-ml.config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...config }, null, 2));
  return dir;
}

function write(dir: string, rel: string, content: string | Buffer): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), content);
}

/** The dependency the "pull request" adds: a package with a native addon (a real ELF header) and a .wasm file. */
const ADDED = {
  'node_modules/fast-thing/package.json': JSON.stringify({ name: 'fast-thing', version: '3.1.4', main: 'index.js' }),
  'node_modules/fast-thing/index.js': `module.exports = require('./build/Release/fast.node');\n${'// x\n'.repeat(500)}`,
  'node_modules/fast-thing/build/Release/fast.node': Buffer.concat([makeElf(), Buffer.alloc(40_000, 7)]),
  'node_modules/fast-thing/dist/fast.wasm': Buffer.concat([
    Buffer.from('\0asm\x01\0\0\0', 'latin1'),
    Buffer.alloc(20_000, 3),
  ]),
} as const;
const ADDED_BYTES = Object.values(ADDED).reduce((sum, v) => sum + Buffer.byteLength(v), 0);

test('--html writes one self-contained file: no network URL, under 1 MB, nothing else left beside it', async () => {
  const dir = await project();
  const out = join(scratch, 'html-out');
  mkdirSync(out);
  const result = await runCli(['budget', '--html', join(out, 'report.html')], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(readdirSync(out), ['report.html'], 'no temp file left');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(statSync(join(out, 'report.html')).size < 1_000_000);
  const urls = [...html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]);
  assert.deepEqual(
    urls.filter((u) => /^(?:https?:)?\/\//i.test(u)),
    [],
    'no src/href leaves the file',
  );
  assert.match(html, /<script>[\s\S]*d3/, 'd3-hierarchy inlined');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.match(html, /id="report-data"/);
  assert.ok(html.includes('tiny-a'), 'the packages are in the tree');
  // A relative --html resolves against the cwd (the project), like --markdown.
  const rel = await runCli(['budget', '--quiet', '--html', 'r.html'], { cwd: dir });
  assert.equal(rel.code, 0, rel.stderr);
  assert.ok(statSync(join(dir, 'r.html')).isFile());
});

test('--json --files 5: five files, biggest first, with package, artifact and limit; binaries always', async () => {
  const dir = await project();
  for (const [rel, content] of Object.entries(ADDED)) write(dir, rel, content);
  const result = await runCli(['budget', '--json', '--files', '5'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const doc = JSON.parse(result.stdout);
  assert.equal(doc.files.length, 5);
  const sizes = doc.files.map((f: { bytes: number }) => f.bytes);
  assert.deepEqual(
    sizes,
    [...sizes].sort((a, b) => b - a),
  );
  assert.deepEqual(doc.files[0], {
    path: 'node_modules/fast-thing/build/Release/fast.node',
    bytes: Buffer.byteLength(ADDED['node_modules/fast-thing/build/Release/fast.node']),
    package: 'fast-thing@3.1.4',
    artifact: 'function.zip',
    limit: 'unzipped',
  });
  assert.ok(
    doc.files.some((f: { package: string | null }) => f.package === null),
    'model files have no package',
  );
  assert.equal(doc.warnAtPercent, 90);
  assert.deepEqual(
    doc.binaries.map((b: { path: string; kind: string }) => [b.kind, b.path]),
    [
      ['native', 'node_modules/fast-thing/build/Release/fast.node'],
      ['wasm', 'node_modules/fast-thing/dist/fast.wasm'],
    ],
  );
  const plain = await project();
  const none = JSON.parse((await runCli(['budget', '--json'], { cwd: plain })).stdout);
  assert.equal(none.files, undefined, 'no --files: no files field');
  assert.deepEqual(none.binaries, []);
  // The same rows in the human report and the markdown.
  const human = await runCli(['budget', '--files', '5'], { cwd: dir });
  const addon = String.raw`node_modules/fast-thing/build/Release/fast\.node`;
  assert.match(human.stdout, new RegExp(String.raw`^Largest files \(5\)\n {3}[\d.]+ KiB {2}${addon}$`, 'm'));
  assert.match(human.stdout, /Largest files[\s\S]*\n\nNext: lambda-ml package\n$/, 'Next: stays last');
  const md = await runCli(['budget', '--markdown', '--files', '5'], { cwd: dir });
  const row = String.raw`\| [\d.]+ KiB \| \`${addon}\` \| \`fast-thing@3\.1\.4\` \| function\.zip \|`;
  assert.match(md.stdout, new RegExp(row));
});

test('--base: the starter before and after adding a dependency, two real budgets: the delta names it', async () => {
  const dir = await project();
  const baseFile = join(scratch, 'base.json');
  const before = await runCli(['budget', '--json'], { cwd: dir });
  assert.equal(before.code, 0, before.stderr);
  writeFileSync(baseFile, before.stdout);
  for (const [rel, content] of Object.entries(ADDED)) write(dir, rel, content);

  const result = await runCli(['budget', '--json', '--base', baseFile], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const { delta } = JSON.parse(result.stdout);
  const added = delta.packages.find((p: { name: string }) => p.name === 'fast-thing');
  assert.deepEqual(added, {
    name: 'fast-thing',
    status: 'added',
    base: null,
    head: ADDED_BYTES,
    bytes: ADDED_BYTES,
    percent: null,
    baseVersions: [],
    headVersions: ['3.1.4'],
    providedBy: { base: null, head: null },
  });
  assert.equal(delta.packages[0].name, 'fast-thing', 'changed packages first');
  assert.deepEqual(delta.counts, { added: 1, removed: 0, grown: 0, shrunk: 0, unchanged: 2 });
  assert.deepEqual(delta.flags, [
    {
      kind: 'native',
      name: 'node_modules/fast-thing/build/Release/fast.node',
      bytes: Buffer.byteLength(ADDED['node_modules/fast-thing/build/Release/fast.node']),
      package: 'fast-thing@3.1.4',
    },
    {
      kind: 'wasm',
      name: 'node_modules/fast-thing/dist/fast.wasm',
      bytes: Buffer.byteLength(ADDED['node_modules/fast-thing/dist/fast.wasm']),
      package: 'fast-thing@3.1.4',
    },
  ]);
  const unzipped = delta.checks.find((c: { limit: string }) => c.limit === 'unzipped');
  assert.equal(unzipped.status, 'grown');
  assert.ok(unzipped.bytes >= ADDED_BYTES - 1000, `unzipped grew by ${unzipped.bytes}`);
  const deps = delta.components.find((c: { id: string }) => c.id === 'deps');
  assert.equal(deps.bytes, ADDED_BYTES, 'deps after prune grew by the package (nothing of it is pruned)');
  assert.deepEqual(delta.notes, []);

  const human = await runCli(['budget', '--base', baseFile], { cwd: dir });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^Changes against the base$/m);
  assert.match(human.stdout, /^ {4}\+ fast-thing +\+[\d.]+ KiB {2}3\.1\.4$/m);
  assert.match(human.stdout, /^ {2}! new native binary \(fast-thing@3\.1\.4, [\d.]+ KiB\)$/m);
  const md = await runCli(['budget', '--markdown', '--base', baseFile], { cwd: dir });
  assert.match(md.stdout, /\| `fast-thing` \| 3\.1\.4 \| – \| [\d.]+ KiB \| \+[\d.]+ KiB \(new\) \|/);
  assert.match(md.stdout, /⚠️ .*`node_modules\/fast-thing\/dist\/fast\.wasm`/);

  // The head's own JSON as the base: nothing changed, nothing flagged.
  const headFile = join(scratch, 'head.json');
  writeFileSync(headFile, result.stdout);
  const same = JSON.parse((await runCli(['budget', '--json', '--base', headFile], { cwd: dir })).stdout).delta;
  assert.deepEqual(same.flags, []);
  assert.equal(same.counts.unchanged, 3);

  // --html with --base outlines the changed package.
  const html = join(scratch, 'delta.html');
  assert.equal((await runCli(['budget', '--quiet', '--base', baseFile, '--html', html], { cwd: dir })).code, 0);
  assert.match(readFileSync(html, 'utf8'), /"changed":\{"fast-thing":"added \+[\d.]+ KiB"\}/);
});

/** The starter's unzipped bytes, as budget measures them. */
async function unzippedUsed(): Promise<number> {
  const doc = JSON.parse((await runCli(['budget', '--json'], { cwd: await project() })).stdout);
  return doc.checks.find((c: { limit: string }) => c.limit === 'unzipped').used;
}

test('warnAtPercent: above it budget warns, exit 0; over the limit exit 1; a higher soft budget is quiet', async () => {
  const used = await unzippedUsed();
  const near = await project({ limits: { unzippedBytes: Math.ceil(used / 0.95) } });
  const warned = await runCli(['budget'], { cwd: near });
  assert.equal(warned.code, 0, warned.stderr);
  const lead = String.raw`[\d.]+ [KM]iB unzipped of [\d.]+ [KM]iB \(95\.0%\), `;
  const soft = String.raw`above the soft budget \(warnAtPercent 90%\)`;
  const line = new RegExp(String.raw`^ {2}! ${lead}[\d.]+ [KM]iB headroom: ${soft}$`, 'm');
  assert.match(warned.stdout.replace(/\n {4}(?=\S)/g, ' '), line, 'one warning (wrapped at 80 columns)');
  assert.match(warned.stdout, /^ {2}unzipped +█{19}░ .* 95% {2}near$/m);
  const json = JSON.parse((await runCli(['budget', '--json'], { cwd: near })).stdout);
  assert.equal(json.fits, true);
  assert.equal(json.warnAtPercent, 90);
  assert.deepEqual(json.warnings, [], "budget.warnings stay the plan's: JSON readers have warnAtPercent and checks");
  const check = json.checks.find((c: { limit: string }) => c.limit === 'unzipped');
  assert.ok(check.ok && check.used / check.max > 0.9);
  const quiet = await runCli(['budget', '--quiet'], { cwd: near });
  assert.deepEqual(quiet, { code: 0, stdout: '', stderr: '' }, '--quiet prints nothing when it fits');
  const md = await runCli(['budget', '--markdown'], { cwd: near });
  assert.match(md.stdout, new RegExp(String.raw`^## lambda-ml budget: bad-inputs ✅ fits\n\n\*\*${lead}`));
  assert.match(md.stdout, /^\| unzipped \| .* \| near \|$/m);

  const relaxed = await project({ limits: { unzippedBytes: Math.ceil(used / 0.95) }, warnAtPercent: 97.5 });
  const calm = await runCli(['budget'], { cwd: relaxed });
  assert.equal(calm.code, 0);
  assert.ok(!calm.stdout.includes('soft budget'), calm.stdout);
  assert.match(calm.stdout, /^ {2}unzipped +█{19}░ .* 95% {2}ok$/m);
  assert.equal(JSON.parse((await runCli(['budget', '--json'], { cwd: relaxed })).stdout).warnAtPercent, 97.5);

  const over = await project({ limits: { unzippedBytes: Math.floor(used / 2) } }); // the handler alone is over
  const failed = await runCli(['budget'], { cwd: over });
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /✗ does not fit/);
});

const CHROMIUM = '/usr/bin/chromium';
const noBrowser = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (CI installs it: apt-get install chromium)`;

test(
  'the reports budget --html writes for the starter and the seed scenario open in chromium and zoom',
  {
    skip: noBrowser,
    timeout: 180_000,
  },
  async (t) => {
    const { chromium } = await import('playwright-core');
    const starter = await project();
    const scenario = await ensureScenario({ scale: 0.01 });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      for (const [name, cwd] of [
        ['starter', starter],
        ['scenario', scenario.dir],
      ] as const) {
        const file = join(scratch, `${name}.html`);
        const result = await runCli(['budget', '--quiet', '--files', '10', '--html', file], { cwd });
        assert.equal(result.code, 0, result.stderr);
        t.diagnostic(`${name}: HTML report of ${statSync(file).size} bytes`);
        const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
        const errors: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(`file://${file}`);
        await page.waitForSelector('#treemap .node');
        const drawn = () => page.$$eval('#treemap .node', (els) => els.length);
        const crumbs = () => page.$$eval('#crumbs .crumb', (els) => els.map((el) => el.getAttribute('data-id')));
        const atRoot = await drawn();
        assert.ok(atRoot > 0, `${name}: boxes drawn`);
        assert.deepEqual(await crumbs(), ['r']);
        await page.click('#treemap .node[data-id="r.0"]', { position: { x: 4, y: 4 } });
        assert.deepEqual(await crumbs(), ['r', 'r.0'], `${name}: a click zooms in`);
        await page.click('#crumbs button[data-id="r"]');
        assert.deepEqual(await crumbs(), ['r'], `${name}: the breadcrumb zooms out`);
        assert.equal(await drawn(), atRoot);
        assert.deepEqual(errors, [], `${name}: no console error`);
        assert.deepEqual(requests, [`file://${file}`], `${name}: no request but the file itself`);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  },
);
