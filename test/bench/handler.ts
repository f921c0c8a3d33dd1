/**
 * Benchmark: the handler's cold start and warm latency for MobileNetV2 (nsfwjs layers model) on wasm vs cpu, each in
 * a fresh process; and the extraction of the scenario's deps.zip by the handler's extractor against `unzip -q` on the
 * same zip into empty folders, paired runs in the same session.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadConfig } from '../../src/config/load.js';
import { ensureExampleModel } from '../../src/example/node-example.js';
import { extractZip } from '../../src/handler/zip-extract.js';
import { runPackage } from '../../src/pipeline/package.js';
import { ensureScenario } from '../helpers/scenario.js';
import { GENERATED, ROOT, fmtMs, median, sh } from './util.js';

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

export async function runHandlerBench(): Promise<{ lines: string[] }> {
  const lines: string[] = [];
  const modelDir = join(GENERATED, 'bench-model', 'mobilenet_v2');
  await ensureExampleModel(modelDir);
  for (const [backend, runs] of [
    ['wasm', 30],
    ['cpu', 5],
  ] as const) {
    const out = execFileSync(
      'node',
      ['--import', 'tsx', join(ROOT, 'test', 'bench', 'handler-worker.ts'), backend, modelDir, String(runs)],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const r = JSON.parse(out.trim().split('\n').pop() as string) as {
      backend: string;
      requireMs: number;
      backendMs: number;
      loadMs: number;
      firstMs: number;
      warm: number[];
      top: { label: string; score: number };
    };
    lines.push(
      `handler ${r.backend}: cold start require ${fmtMs(r.requireMs)} + backend ${fmtMs(r.backendMs)} + model ` +
        `load ${fmtMs(r.loadMs)} + first predict ${fmtMs(r.firstMs)}; warm predict p50 ${fmtMs(pct(r.warm, 50))}, ` +
        `p95 ${fmtMs(pct(r.warm, 95))} (${r.warm.length} runs; baboon -> ${r.top.label} ${r.top.score.toFixed(3)})`,
    );
  }
  // Extraction: the scenario's deps.zip (65 MB unzipped, ~400 files), as package writes it.
  const scenario = await ensureScenario();
  const out = join(scenario.dir, '.lambda-ml');
  if (!existsSync(join(out, 'deps.zip'))) await runPackage(await loadConfig(scenario.dir), { out });
  const zipPath = join(out, 'deps.zip');
  const zip = await readFile(zipPath);
  const ours: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < 5; i++) {
    const a = await mkdtemp(join(tmpdir(), 'lambda-ml-bench-x-'));
    const b = await mkdtemp(join(tmpdir(), 'lambda-ml-bench-u-'));
    let t = performance.now();
    await extractZip(await readFile(zipPath), join(a, 'deps'));
    const ta = performance.now() - t;
    t = performance.now();
    sh(`unzip -q -o "${zipPath}" -d "${join(b, 'deps')}"`);
    const tb = performance.now() - t;
    ours.push(ta);
    theirs.push(tb);
    ratios.push(ta / tb);
    if (i === 0) sh(`diff -r "${join(a, 'deps')}" "${join(b, 'deps')}"`);
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
  lines.push(
    `extract scenario deps.zip (${(zip.length / 1e6).toFixed(1)} MB zipped): ` +
      `ours ${fmtMs(median(ours))} vs unzip -q ${fmtMs(median(theirs))} ` +
      `= ${median(ratios).toFixed(2)}x unzip (target <= 1.0; outputs identical by diff -r)`,
  );
  return { lines };
}

if (import.meta.url === `file://${process.argv[1]}`)
  for (const line of (await runHandlerBench()).lines) console.log(line);
