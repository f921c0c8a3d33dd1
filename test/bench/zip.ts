/**
 * Benchmark: our level-9 zip against `zip -9 -r -X -q` on the same files in the same run, paired runs.
 * Trees: the scenario's kept deps (numpy, colorgram.py, webcolors: what deps.zip holds) and the Node example's
 * node_modules. Reports size ratio (target <= 1.01) and wall-time ratio (target <= 1.0).
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { collectTree } from '../../src/archive/collect-tree.js';
import { writeZip } from '../../src/archive/zip-writer.js';
import { ensureScenario } from '../helpers/scenario.js';
import { GENERATED, ROOT, fmtMs, median, sh } from './util.js';

export interface ZipBench {
  readonly name: string;
  readonly files: number;
  readonly oursBytes: number;
  readonly zipBytes: number;
  readonly sizeRatio: number;
  readonly oursMs: number;
  readonly zipMs: number;
  readonly timeRatio: number;
  readonly line: string;
}

async function benchTree(name: string, parent: string, folders: readonly string[], runs: number): Promise<ZipBench> {
  const inputs = (await Promise.all(folders.map((f) => collectTree(join(parent, f))))).flatMap((list, i) =>
    list.map((entry) => ({ ...entry, path: `${folders[i]}/${entry.path}` })),
  );
  const ours = join(GENERATED, `bench-${name}-ours.zip`);
  const theirs = join(GENERATED, `bench-${name}-zip.zip`);
  const oursMs: number[] = [];
  const zipMs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
    let t = performance.now();
    await writeZip(inputs, ours);
    const a = performance.now() - t;
    t = performance.now();
    sh(`zip -9 -r -X -q -y "${theirs}" ${folders.map((f) => `"${f}"`).join(' ')}`, parent);
    const b = performance.now() - t;
    oursMs.push(a);
    zipMs.push(b);
    ratios.push(a / b);
  }
  sh(`unzip -tq "${ours}"`);
  const oursBytes = statSync(ours).size;
  const zipBytes = statSync(theirs).size;
  const files = inputs.filter((i) => i.kind === 'file').length;
  const timeRatio = median(ratios);
  const line =
    `zip ${name} (${files.toLocaleString('en-US')} files): ours ${(oursBytes / 1e6).toFixed(2)} MB ` +
    `in ${fmtMs(median(oursMs))}, zip -9 ${(zipBytes / 1e6).toFixed(2)} MB in ${fmtMs(median(zipMs))}: ` +
    `size ${(oursBytes / zipBytes).toFixed(4)}x, time ${timeRatio.toFixed(2)}x`;
  rmSync(ours, { force: true });
  rmSync(theirs, { force: true });
  return {
    name,
    files,
    oursBytes,
    zipBytes,
    sizeRatio: oursBytes / zipBytes,
    oursMs: median(oursMs),
    zipMs: median(zipMs),
    timeRatio,
    line,
  };
}

export async function runZipBench(runs = 3): Promise<ZipBench[]> {
  const scenario = await ensureScenario();
  const kept = [
    'numpy',
    'numpy-1.16.3.dist-info',
    'colorgram',
    'colorgram.py-1.2.0.dist-info',
    'webcolors.py',
    'webcolors-1.8.1.dist-info',
  ];
  const present = kept.filter((k) => {
    try {
      statSync(join(scenario.depsDir, k));
      return true;
    } catch {
      return false;
    }
  });
  const results = [
    await benchTree(
      'scenario-deps',
      scenario.depsDir,
      present.filter((k) => statSync(join(scenario.depsDir, k)).isDirectory()),
      runs,
    ),
  ];
  results.push(await benchTree('node-example', join(ROOT, 'fixtures', 'node-example'), ['node_modules'], runs));
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const r of await runZipBench()) console.log(r.line);
