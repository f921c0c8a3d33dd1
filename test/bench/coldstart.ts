/**
 * `npm run bench coldstart [item...]`: cold-start benchmarks, each against today's way in the same run. A registry:
 * a new measurement is one more entry of COLDSTART_ITEMS (a name and a function returning its lines).
 *
 * - bundle-load: process start -> the handler's modules loaded (and sharp, which both load), for the bundle
 *   (dist/handler-bundle/index.mjs, minified and not) against the same sources unbundled (tsc's dist/handler/*.js,
 *   their packages resolved from node_modules by name), paired runs in fresh processes.
 * - function-size: the starter's bundle plan (the node example, prune trace), unzipped function.zip with the bundled
 *   handler against today's layout (tsc's handler files + the deps traced from the handler's four packages).
 * - coldstart-starter, coldstart-sideload-s3 (coldstart-tag.ts): process start -> first tag written against the
 *   previous release packaging the same project; coldstart-resnet50 (coldstart-resnet50.ts): the seed's model class
 *   through `invoke --local`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { pruneTrace } from '../../src/measure/trace.js';
import { runPackage } from '../../src/pipeline/package.js';
import { stripLayers } from '../../src/plan/strip.js';
import { HANDLER_PACKAGES, HANDLER_BUNDLE_DIR, readBundleInfo } from '../../src/runtimes/node-handler.js';
import { recordFor } from '../../src/runtimes/registry.js';
import { scanProject } from '../../src/scan/scan-project.js';
import { sideloadArchive, sideloadExtract, sideloadPython } from './sideload.js';
import { coldstartSideloadS3, coldstartStarter } from './coldstart-tag.js';
import { coldstartResNet50 } from './coldstart-resnet50.js';
import { median, ROOT } from './util.js';

/** One cold-start measurement: its name (`npm run bench coldstart <name>` runs only it) and its result lines. */
export interface ColdstartItem {
  readonly name: string;
  readonly run: () => Promise<string[]>;
}

const EXAMPLE = join(ROOT, 'fixtures', 'node-example');
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** ms from process start (performance.timeOrigin) until `entry` and sharp are imported, in a fresh Node. */
function loadMs(entry: string, cwd: string): number {
  const script =
    `await import(${JSON.stringify(entry)}); await import('sharp'); ` +
    `console.log(JSON.stringify({ ms: performance.now() }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    env: { PATH: process.env.PATH, NODE_OPTIONS: '' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return (JSON.parse(out.trim().split('\n').pop() as string) as { ms: number }).ms;
}

/** The bundle against tsc's files of the same sources; minified and plain bundles, same run, alternating. */
async function bundleLoad(): Promise<string[]> {
  const unbundled = join(ROOT, 'dist', 'handler', 'index.js');
  if (!existsSync(unbundled) || !existsSync(join(HANDLER_BUNDLE_DIR, 'index.mjs')))
    return ['bundle-load: skipped (run `npm run build` first)'];
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-bundle-'));
  try {
    const plain = join(dir, 'plain');
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-handler.mjs'), '--out', plain, '--no-minify'], {
      stdio: 'ignore',
    });
    const minified = join(HANDLER_BUNDLE_DIR, 'index.mjs');
    // The plain bundle is outside the repo: sharp resolves through a task-root-like node_modules beside it.
    execFileSync('ln', ['-s', join(ROOT, 'node_modules'), join(dir, 'node_modules')]);
    const runs = 15;
    const times = { minified: [] as number[], plain: [] as number[], unbundled: [] as number[] };
    const ratios = { minified: [] as number[], plain: [] as number[] };
    for (let i = 0; i < 2; i++) loadMs(unbundled, ROOT); // warm the page cache for every file first
    for (let i = 0; i < runs; i++) {
      const u = loadMs(unbundled, ROOT);
      const m = loadMs(minified, HANDLER_BUNDLE_DIR);
      const p = loadMs(join(plain, 'index.mjs'), dir);
      times.unbundled.push(u);
      times.minified.push(m);
      times.plain.push(p);
      ratios.minified.push(m / u);
      ratios.plain.push(p / u);
    }
    const size = (file: string) => statSync(file).size;
    const info = readBundleInfo();
    return [
      `bundle-load: process start -> handler modules + sharp loaded, median of ${runs} paired runs: ` +
        `bundle (minified, ${MB(size(minified))}) ${median(times.minified).toFixed(0)} ms, ` +
        `bundle (plain, ${MB(size(join(plain, 'index.mjs')))}) ${median(times.plain).toFixed(0)} ms, ` +
        `unbundled (tsc files + node_modules) ${median(times.unbundled).toFixed(0)} ms; ` +
        `ratio minified/unbundled ${median(ratios.minified).toFixed(2)}x, plain/unbundled ` +
        `${median(ratios.plain).toFixed(2)}x (bundle.json: minified=${info.minified})`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes of tsc's handler files as today's package shipped them (lambda-ml/*.js + index.mjs + package.json). */
function tscHandlerBytes(): number {
  const dir = join(ROOT, 'dist', 'handler');
  const js = readdirSync(dir).filter((f) => f.endsWith('.js'));
  const stub = "export { handler } from './lambda-ml/index.js';\n".length + '{ "type": "module" }\n'.length;
  return js.reduce((t, f) => t + statSync(join(dir, f)).size, stub);
}

/** The starter's bundle plan: function.zip unzipped with the bundle, against today's traced layout. */
async function functionSize(): Promise<string[]> {
  if (!existsSync(join(EXAMPLE, 'node_modules', 'sharp'))) return ['function-size: skipped (npm run setup)'];
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-size-'));
  try {
    const config = { ...(await loadConfig(EXAMPLE)), prune: 'trace' as const };
    const run = await runPackage(config, { out: join(dir, 'out') });
    const fn = run.manifest.artifacts.function;
    const natives = run.budget.components.code.bytes; // bundle files + sharp for the CPU (no code of the user's)
    const bundle = readBundleInfo().files.reduce((t, f) => t + f.bytes, 0);
    // Today: the deps traced from the handler's four packages (nothing stripped for the handler) + tsc's files.
    const scan = await scanProject(config);
    const strip = stripLayers(scan, recordFor(config).match);
    const traced = await pruneTrace(scan.deps.root as string, strip.kept, HANDLER_PACKAGES);
    const tracedDeps = traced.kept.filter((e) => e.link === null).reduce((t, e) => t + e.bytes, 0);
    const today = tracedDeps + tscHandlerBytes();
    return [
      `function-size: starter bundle plan (node example, prune trace), function.zip unzipped: bundled handler ` +
        `${MB(fn.unzippedBytes)} (${fn.unzippedBytes} B; bundle + wasm + licences ${MB(bundle)}, sharp for linux-x64 ` +
        `${MB(natives - bundle)}; ${MB(fn.bytes)} zipped) vs today ${MB(today)} (traced deps ${MB(tracedDeps)} + ` +
        `tsc handler files); ratio ${(fn.unzippedBytes / today).toFixed(2)}x; target <= 20 MB: ` +
        `${fn.unzippedBytes <= 20_000_000 ? 'met' : `missed by ${MB(fn.unzippedBytes - 20_000_000)}`}`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const COLDSTART_ITEMS: ColdstartItem[] = [
  { name: 'bundle-load', run: bundleLoad },
  { name: 'function-size', run: functionSize },
  // deps.tar.br against deps.zip (test/bench/sideload.ts): bytes, extraction time and peak RSS, Python's formats.
  { name: 'sideload-archive', run: sideloadArchive },
  { name: 'sideload-extract', run: sideloadExtract },
  { name: 'sideload-python', run: sideloadPython },
  // Process start -> first tag written against the previous release (test/bench/coldstart-tag.ts), and the
  // ResNet50-class model through `invoke --local` (test/bench/coldstart-resnet50.ts).
  { name: 'coldstart-starter', run: coldstartStarter },
  { name: 'coldstart-sideload-s3', run: coldstartSideloadS3 },
  { name: 'coldstart-resnet50', run: coldstartResNet50 },
];

/** Runs the items named in `names` (all when none is), in registry order. */
export async function runColdstartBench(names: readonly string[] = []): Promise<{ lines: string[] }> {
  const known = new Set(COLDSTART_ITEMS.map((i) => i.name));
  const picked = names.filter((n) => known.has(n));
  const lines: string[] = [];
  for (const item of COLDSTART_ITEMS)
    if (picked.length === 0 || picked.includes(item.name)) lines.push(...(await item.run()));
  return { lines };
}
