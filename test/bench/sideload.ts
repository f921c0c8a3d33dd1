/**
 * Cold-start items of the sideload archive (issue 15), each against today's way in the same run:
 *
 * - sideload-archive: deps.tar.br (ours: brotli 9, window 24) against our level-9 deps.zip of the same tree, for the
 *   Node example's deps (safe prune, what a sideload plan shipped before the handler bundle) and the generated
 *   scenario's kept deps (numpy, colorgram.py, webcolors: ~81 MB). Target: tar.br <= 0.55x the zip.
 * - sideload-extract: a cold start's extraction of those archives in fresh processes (ensureDeps on the compiled
 *   handler): tar.br streamed, zip held in memory, against `unzip -q` of the same zip; wall time and peak RSS.
 *   Target: peak RSS <= 256 MiB for the ~80 MB tree.
 * - sideload-python: the Python bootstrap's formats on the scenario tree: deps.zip (ours) against a tar.xz written
 *   and read by the stdlib (tarfile + lzma), extracted by python3, plus the download at 50 MiB/s.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveEntry } from '../../src/archive/archive-entry.js';
import { writeArchive, type ArchiveResult } from '../../src/archive/archive.js';
import { loadConfig } from '../../src/config/load.js';
import { entriesToInputs } from '../../src/measure/archive-entries.js';
import { pruneSafe } from '../../src/measure/prune.js';
import { scanProject } from '../../src/scan/scan-project.js';
import { ensureScenario } from '../helpers/scenario.js';
import { median, ROOT } from './util.js';

const EXAMPLE = join(ROOT, 'fixtures', 'node-example');
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const MiB = 1024 * 1024;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/**
 * The child's own peak RSS, as source: VmHWM of /proc/self/status. Not resourceUsage().maxRSS: Linux carries
 * ru_maxrss over fork and exec, so a child of this (big) process would report at least the parent's size.
 */
const PEAK_RSS =
  "Number(/VmHWM:\\s+(\\d+)/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'))[1]) * 1024";

interface Tree {
  readonly name: string;
  readonly entries: readonly ArchiveEntry[];
}

interface Built {
  readonly tree: Tree;
  readonly dir: string;
  readonly tarBr: ArchiveResult & { readonly ms: number };
  readonly zip: ArchiveResult & { readonly ms: number };
}

/** The Node example's deps after the safe prune (every package: what deps.zip held before the handler bundle). */
async function nodeExampleTree(): Promise<Tree | null> {
  if (!existsSync(join(EXAMPLE, 'node_modules'))) return null;
  const config = await loadConfig(EXAMPLE);
  const scan = await scanProject(config);
  const root = scan.deps.root as string;
  const kept = pruneSafe(scan.deps.entries, 'node', root).kept;
  return { name: 'node-example', entries: entriesToInputs(root, kept) };
}

/** The generated scenario's kept deps (numpy, colorgram.py, webcolors with their dist-info). */
async function scenarioTree(): Promise<Tree> {
  const scenario = await ensureScenario();
  const wanted = /^(numpy|colorgram|webcolors)/;
  const scan = await scanProject(await loadConfig(scenario.dir, scenario.configPath));
  const root = scan.deps.root as string;
  const entries = scan.deps.entries.filter((e) => wanted.test(e.path));
  return { name: 'scenario', entries: entriesToInputs(root, entries) };
}

async function build(tree: Tree): Promise<Built> {
  const dir = mkdtempSync(join(tmpdir(), `lambda-ml-bench-sideload-${tree.name}-`));
  let t0 = performance.now();
  const zip = await writeArchive(tree.entries, join(dir, 'deps.zip'), 'zip');
  const zipMs = performance.now() - t0;
  t0 = performance.now();
  const tarBr = await writeArchive(tree.entries, join(dir, 'deps.tar.br'), 'tar.br');
  const tarMs = performance.now() - t0;
  return { tree, dir, zip: { ...zip, ms: zipMs }, tarBr: { ...tarBr, ms: tarMs } };
}

/** One cold-start extraction in a fresh Node on the compiled handler: { ms, rss } (rss: peak, bytes). */
function extractOurs(built: Built, format: 'tar.br' | 'zip'): { ms: number; rss: number } {
  const a = format === 'zip' ? built.zip : built.tarBr;
  const file = format === 'zip' ? 'deps.zip' : 'deps.tar.br';
  const config = {
    format,
    archive: file,
    zip: format === 'zip' ? file : null,
    s3: null,
    sha256: a.sha256,
    zipBytes: format === 'zip' ? a.bytes : null,
    archiveBytes: a.bytes,
    unzippedBytes: a.unpackedBytes,
    files: a.files,
    diskBytes: a.diskBytes,
    entries: a.entries,
  };
  const tmp = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-extract-'));
  const script =
    `const { ensureDeps } = await import(${JSON.stringify(join(ROOT, 'dist', 'handler', 'sideload.js'))});` +
    `const t0 = performance.now();` +
    `await ensureDeps({ config: ${JSON.stringify(config)}, taskRoot: ${JSON.stringify(built.dir)}, ` +
    `tmpDir: ${JSON.stringify(tmp)} });` +
    `console.log(JSON.stringify({ ms: performance.now() - t0, rss: ${PEAK_RSS} }));`;
  try {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop() as string);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `unzip -q` of the same zip into an empty folder, under /usr/bin/time (peak RSS on its stderr): { ms, rss }. */
function extractUnzip(built: Built): { ms: number; rss: number } {
  const dest = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-unzip-'));
  try {
    const t0 = performance.now();
    const args = ['-f', '%M', 'unzip', '-q', '-o', join(built.dir, 'deps.zip'), '-d', dest];
    const result = spawnSync('/usr/bin/time', args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - t0;
    if (result.status !== 0) throw new Error(`unzip exited ${result.status}: ${result.stderr.slice(0, 300)}`);
    return { ms, rss: Number(result.stderr.trim().split('\n').pop()) * 1024 };
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

/** A fresh Node importing the compiled sideload module and doing nothing: the floor under both RSS figures. */
function baselineRss(): number {
  const script =
    `await import(${JSON.stringify(join(ROOT, 'dist', 'handler', 'sideload.js'))});` +
    `await import(${JSON.stringify(join(ROOT, 'dist', 'handler', 'tar-extract.js'))});` +
    `console.log(${PEAK_RSS});`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
}

let cached: Promise<Built[]> | null = null;
/** Both trees built once per bench run (brotli at quality 9 is the slow part). */
function builtTrees(): Promise<Built[]> {
  cached ??= (async () => {
    const trees = [await nodeExampleTree(), await scenarioTree()].filter((t): t is Tree => t !== null);
    const out: Built[] = [];
    for (const tree of trees) out.push(await build(tree));
    process.once('exit', () => out.forEach((b) => rmSync(b.dir, { recursive: true, force: true })));
    return out;
  })();
  return cached;
}

/** tar.br against the level-9 zip of the same trees. */
export async function sideloadArchive(): Promise<string[]> {
  const lines: string[] = [];
  for (const b of await builtTrees()) {
    const ratio = b.tarBr.bytes / b.zip.bytes;
    lines.push(
      `sideload-archive ${b.tree.name} (${b.tarBr.files.toLocaleString('en-US')} entries, ` +
        `${MB(b.tarBr.unpackedBytes)} unpacked, ${MB(b.tarBr.diskBytes)} on disk): ` +
        `deps.tar.br ${MB(b.tarBr.bytes)} in ${s(b.tarBr.ms)}, ` +
        `deps.zip (level 9) ${MB(b.zip.bytes)} in ${s(b.zip.ms)}: ` +
        `size ${ratio.toFixed(3)}x (target <= 0.55${ratio <= 0.55 ? ', met' : ', MISSED'}), ` +
        `write time ${(b.tarBr.ms / b.zip.ms).toFixed(1)}x`,
    );
  }
  return lines;
}

/** Extraction in fresh processes: tar.br (streamed) and zip (ours, in memory) against unzip, 3 paired runs. */
export async function sideloadExtract(): Promise<string[]> {
  if (!existsSync(join(ROOT, 'dist', 'handler', 'tar-extract.js')))
    return ['sideload-extract: skipped (run `npm run build` first)'];
  const lines: string[] = [];
  const floor = baselineRss();
  for (const b of await builtTrees()) {
    const runs = 3;
    const r = {
      tar: [] as { ms: number; rss: number }[],
      zip: [] as { ms: number; rss: number }[],
      unzip: [] as { ms: number; rss: number }[],
    };
    for (let i = 0; i < runs; i++) {
      r.unzip.push(extractUnzip(b));
      r.tar.push(extractOurs(b, 'tar.br'));
      r.zip.push(extractOurs(b, 'zip'));
    }
    const ms = (xs: { ms: number }[]) => median(xs.map((x) => x.ms));
    const rss = (xs: { rss: number }[]) => Math.max(...xs.map((x) => x.rss));
    const ratios = r.tar.map((x, i) => x.ms / r.unzip[i].ms);
    const tarRss = rss(r.tar);
    lines.push(
      `sideload-extract ${b.tree.name} (${MB(b.tarBr.unpackedBytes)}, median of ${runs} paired runs): ` +
        `tar.br streamed ${s(ms(r.tar))}, peak RSS ${(tarRss / MiB).toFixed(0)} MiB ` +
        `(target <= 256${tarRss <= 256 * MiB ? ', met' : ', MISSED'}); ` +
        `zip in memory (ours) ${s(ms(r.zip))}, ${(rss(r.zip) / MiB).toFixed(0)} MiB; ` +
        `unzip -q ${s(ms(r.unzip))}, ${(rss(r.unzip) / MiB).toFixed(0)} MiB; ` +
        `tar.br/unzip time ${median(ratios).toFixed(2)}x; a Node doing nothing: ${(floor / MiB).toFixed(0)} MiB`,
    );
  }
  return lines;
}

/** Python: deps.zip (ours) against a stdlib tar.xz of the scenario tree, extracted by python3. */
export async function sideloadPython(): Promise<string[]> {
  const b = (await builtTrees()).find((x) => x.tree.name === 'scenario');
  if (!b) return ['sideload-python: skipped (no scenario tree)'];
  const list = join(b.dir, 'files.txt');
  const scenario = await ensureScenario();
  const root = scenario.depsDir;
  const names = b.tree.entries.map((e) => e.path);
  const py = (code: string) => execFileSync('python3', ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const xz = join(b.dir, 'deps.tar.xz');
  writeFileSync(list, names.join('\n'));
  const t0 = performance.now();
  py(
    `import tarfile\nwith tarfile.open(${JSON.stringify(xz)}, "w:xz") as t:\n` +
      `  for n in open(${JSON.stringify(list)}).read().split("\\n"): t.add(${JSON.stringify(root)} + "/" + n, n)`,
  );
  const xzWriteMs = performance.now() - t0;
  const extract = (code: (dest: string) => string) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const dest = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-py-'));
      try {
        const timed = `t = time.perf_counter()\n${code(dest)}\nprint((time.perf_counter() - t) * 1000)`;
        const out = py(`import time, zipfile, tarfile\n${timed}`);
        times.push(Number(out.trim()));
      } finally {
        rmSync(dest, { recursive: true, force: true });
      }
    }
    return median(times);
  };
  const zipCode = (dest: string) =>
    `zipfile.ZipFile(${JSON.stringify(join(b.dir, 'deps.zip'))}).extractall(${JSON.stringify(dest)})`;
  const xzCode = (dest: string) => `tarfile.open(${JSON.stringify(xz)}, "r:xz").extractall(${JSON.stringify(dest)})`;
  const zipMs = extract(zipCode);
  const xzMs = extract(xzCode);
  const xzBytes = statSync(xz).size;
  const download = (bytes: number) => (bytes / (50 * MiB)) * 1000; // the bootstrap downloads to /tmp, then extracts
  const zipTotal = download(b.zip.bytes) + zipMs;
  const xzTotal = download(xzBytes) + xzMs;
  return [
    `sideload-python scenario (${MB(b.zip.unpackedBytes)}): deps.zip ${MB(b.zip.bytes)}, extract ${s(zipMs)}, ` +
      `+ download at 50 MiB/s ${s(download(b.zip.bytes))} = ${s(zipTotal)}; tar.xz (stdlib lzma) ${MB(xzBytes)} ` +
      `(written in ${s(xzWriteMs)}), extract ${s(xzMs)} + download ${s(download(xzBytes))} = ${s(xzTotal)}: ` +
      `tar.xz/zip end to end ${(xzTotal / zipTotal).toFixed(2)}x -> keep ${xzTotal < zipTotal ? 'tar.xz' : 'zip'}`,
  ];
}
