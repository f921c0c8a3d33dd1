/**
 * Benchmark: the deflate cache (src/archive/deflate-cache.ts) on what every `budget` and `package` zips again, the
 * handler and its native packages (the bundle, sharp with libvips, ONNX Runtime for linux-x64: about 66 MiB).
 * In the same run: our level-9 zip without the cache, with a cold cache (deflating and storing), with a warm one
 * (copying), and `zip -9 -r -X -q` on the same files; then `lambda-ml budget` on a starter-shaped project with a
 * cold and a warm cache. Every zip is checked to be byte-identical (ours) and with `unzip -tq`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectTree } from '../../src/archive/collect-tree.js';
import { measureZip, writeZip } from '../../src/archive/zip-writer.js';
import { starterProject } from '../helpers/bad-input-project.js';
import { BIN, fmtMs, median, ROOT, sh } from './util.js';

const TREES = [
  ['node_modules', '@img'],
  ['node_modules', 'onnxruntime-node/bin/napi-v6/linux/x64'],
  ['dist', 'handler-bundle'],
] as const;

export async function runDeflateCacheBench(runs = 3): Promise<string[]> {
  const work = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-deflate-'));
  try {
    const inputs = (
      await Promise.all(
        TREES.map(async ([base, folder]) =>
          (await collectTree(join(ROOT, base, folder))).map((e) => ({ ...e, path: `${base}/${folder}/${e.path}` })),
        ),
      )
    ).flat();
    const bytes = inputs.reduce((t, e) => t + (e.bytes ?? 0), 0);
    const times: Record<'plain' | 'cold' | 'warm' | 'zip', number[]> = { plain: [], cold: [], warm: [], zip: [] };
    let sha = '';
    for (let i = 0; i < runs; i++) {
      const cacheDir = join(work, `cache-${i}`);
      const out = (name: string) => join(work, `${name}-${i}.zip`);
      for (const mode of ['plain', 'cold', 'warm'] as const) {
        const t = performance.now();
        const zip = await writeZip(inputs, out(mode), mode === 'plain' ? {} : { cacheDir });
        times[mode].push(performance.now() - t);
        if (sha && zip.sha256 !== sha) throw new Error(`${mode}: not the same bytes`);
        sha = zip.sha256;
        sh(`unzip -tq "${out(mode)}"`);
      }
      const t = performance.now();
      sh(`zip -9 -r -X -q -y "${out('zip')}" ${TREES.map(([b, f]) => `"${b}/${f}"`).join(' ')}`, ROOT);
      times.zip.push(performance.now() - t);
    }
    const ours = statSync(join(work, 'warm-0.zip')).size;
    const theirs = statSync(join(work, 'zip-0.zip')).size;
    const zipMs = median(times.zip);
    const lines = [
      `deflate cache, handler + natives (${inputs.length} entries, ${(bytes / 1e6).toFixed(1)} MB): ` +
        `zip -9 ${(theirs / 1e6).toFixed(2)} MB in ${fmtMs(zipMs)}; ours ${(ours / 1e6).toFixed(2)} MB ` +
        (['plain', 'cold', 'warm'] as const)
          .map((m) => `${m} ${fmtMs(median(times[m]))} (${(median(times[m]) / zipMs).toFixed(2)}x)`)
          .join(', '),
    ];
    const t = performance.now();
    await measureZip(inputs, { cacheDir: join(work, 'cache-0') });
    lines.push(
      `deflate cache, measuring the same zip warm (size and sha256, nothing written): ${fmtMs(performance.now() - t)}`,
    );

    // budget end to end on the starter-shaped project (the bad-input table's), cold then warm cache.
    const project = await starterProject();
    const budget = (cache: string) => {
      const t0 = performance.now();
      sh(`LAMBDA_ML_CACHE="${cache}" node "${BIN}" budget --json > /dev/null`, project);
      return performance.now() - t0;
    };
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      const cache = join(work, `budget-cache-${i}`);
      cold.push(budget(cache));
      warm.push(budget(cache));
    }
    lines.push(
      `budget on the starter: cold cache ${fmtMs(median(cold))}, warm ${fmtMs(median(warm))} ` +
        `(${(median(warm) / median(cold)).toFixed(2)}x)`,
    );
    return lines;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await runDeflateCacheBench()) console.log(line);
