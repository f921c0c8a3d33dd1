/**
 * Benchmark `npm run bench onnx` (also printed by `npm run bench handler`): TF.js wasm (the handler's backend today)
 * against ONNX Runtime at 1 and 2 threads, on the nsfwjs MobileNetV2 and the ResNet50-shaped Keras model, both
 * converted by the project's own converter and exporter. Each backend runs in its own child (onnx-worker.ts) on the
 * same input tensor (the baboon photo through the handler's preprocessing), so cold start, JIT and memory are its own:
 * cold start split into require, backend init, model load (session create) and first predict; warm p50/p95; peak RSS
 * and the RSS growth of load + first predict (for ONNX Runtime: the weights plus the session's arena, which `budget`
 * needs). Checks that outputs agree and prints the issue 13 targets as met or missed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertKeras } from '../../src/convert/convert-keras.js';
import { baboonPhoto, nsfwjsLabels, unpackNsfwjsModel } from '../../src/example/nsfwjs-model.js';
import { decodeImage, toModelInput, type Sharp } from '../../src/handler/image.js';
import type { ConvertReport } from '../../src/convert/types.js';
import {
  convertToOnnx,
  encodeModel,
  exportModel,
  loadForExport,
  type OnnxConvertReport,
} from '../../src/onnx/index.js';
import { writeResNet50H5 } from '../helpers/resnet50.js';
import type { WorkerJob, WorkerResult } from './onnx-worker.js';
import { GENERATED, ROOT, fmtMs, median } from './util.js';

/** Output agreement between backends (issue 13: within 1e-4, same top-1). */
export const AGREE = 1e-4;
/** Issue 13's targets on this machine. */
export const TARGETS = { resnetT1: 0.2, resnetT2: 0.1, mobilenetT2Ms: 10 } as const;

const RESNET_DIR = join(GENERATED, 'bench-resnet50');

const pct = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (value: number) => (value < 100 ? `${value.toFixed(1)} ms` : fmtMs(value));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const load = () => loadavg()[0].toFixed(1);

interface BenchModel {
  readonly name: string;
  readonly size: number;
  readonly runs: number;
  readonly tfjsDir: string;
  readonly onnxFile: string;
  readonly params: number;
  readonly labels: readonly string[] | null;
}

const BACKENDS = [
  { key: 'wasm', label: 'TF.js wasm', backend: 'wasm', threads: 1 },
  { key: 'ort1', label: 'ONNX Runtime 1 thread', backend: 'onnx', threads: 1 },
  { key: 'ort2', label: 'ONNX Runtime 2 threads', backend: 'onnx', threads: 2 },
  // Not the handler's setting: 'all' adds the NCHWc layout rewrites, which keep a second, reordered copy of the
  // convolution weights; 'extended' is measured beside it for its memory and speed.
  { key: 'ort1x', label: 'ONNX Runtime 1 thread, optimization extended', backend: 'onnx', threads: 1 },
] as const;
type BackendKey = (typeof BACKENDS)[number]['key'];

/** One backend on one model, as measured, with the figures derived from it. */
export interface BackendFigures {
  readonly raw: WorkerResult;
  readonly loadAtStart: number; // 1-minute load average when the child started
  readonly coldMs: number; // require + init + load + first predict
  readonly p50: number;
  readonly p95: number;
  readonly cpuP50: number;
  /** RSS growth of model load + first predict at its peak; for ONNX Runtime minus the float32 weights = `arena`. */
  readonly loadFirstPeakGrowth: number;
  /** RSS growth of model load + first predict once settled (after the first predict). */
  readonly loadFirstGrowth: number;
  readonly arena: number;
}

/** Everything one run measured, for docs/performance.md. */
export interface OnnxBenchResult {
  readonly lines: string[];
  readonly models: Record<string, Record<BackendKey, BackendFigures>>;
  readonly targetsMet: boolean;
}

function runWorker(job: WorkerJob): WorkerResult {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test', 'bench', 'onnx-worker.ts'), JSON.stringify(job)],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
  );
  return JSON.parse(out.trim().split('\n').pop() as string) as WorkerResult;
}

const argmax = (values: readonly number[]) => values.reduce((best, v, i) => (v > values[best] ? i : best), 0);
const maxAbsDiff = (a: readonly number[], b: readonly number[]) => {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
};

/** The ResNet50-shaped .h5, generated once (atomically) into fixtures/generated/bench-resnet50. */
async function ensureResNet50H5(): Promise<string> {
  const h5 = join(RESNET_DIR, 'resnet50-shaped.h5');
  if (existsSync(h5)) return h5;
  await mkdir(RESNET_DIR, { recursive: true });
  const tmp = `${h5}.tmp-${process.pid}`;
  await writeResNet50H5(tmp);
  await rename(tmp, h5);
  return h5;
}

const mtime = async (path: string) => (await stat(path).catch(() => null))?.mtimeMs ?? -1;

/**
 * The ResNet50 converted to TF.js (convertKeras) and ONNX (convertToOnnx): cached beside the .h5 with their reports,
 * redone when older than the .h5 or than any file of src/onnx (the ONNX check runs ResNet50 on TF.js's cpu backend:
 * about 10 s on a quiet machine).
 */
async function convertResNet50(
  h5: string,
  tfjsDir: string,
  onnxFile: string,
): Promise<{ tfjs: ConvertReport; onnx: OnnxConvertReport; ms: { tfjs: number; onnx: number } | null }> {
  const reportFile = join(RESNET_DIR, 'reports.json');
  const srcOnnx = join(ROOT, 'src', 'onnx');
  const newest = Math.max(
    await mtime(h5),
    ...(await Promise.all((await readdir(srcOnnx)).map((name) => mtime(join(srcOnnx, name))))),
  );
  const done = Math.min(await mtime(reportFile), await mtime(join(tfjsDir, 'model.json')), await mtime(onnxFile));
  if (done > newest)
    return {
      ...(JSON.parse(await readFile(reportFile, 'utf8')) as { tfjs: ConvertReport; onnx: OnnxConvertReport }),
      ms: null,
    };
  let started = performance.now();
  const tfjs = await convertKeras(h5, tfjsDir);
  const tfjsMs = performance.now() - started;
  started = performance.now();
  const onnx = await convertToOnnx(h5, onnxFile);
  const onnxMs = performance.now() - started;
  await writeFile(`${reportFile}.tmp`, JSON.stringify({ tfjs, onnx }));
  await rename(`${reportFile}.tmp`, reportFile);
  return { tfjs, onnx, ms: { tfjs: tfjsMs, onnx: onnxMs } };
}

/** Exports the nsfwjs MobileNetV2 (timed, as the earlier bench did) and converts the ResNet50 to TF.js and ONNX. */
async function prepareModels(work: string, lines: string[]): Promise<BenchModel[]> {
  const nsfw = await unpackNsfwjsModel(join(GENERATED, 'bench-model', 'nsfwjs_mobilenet_v2'));
  const nsfwOnnx = join(work, 'nsfw.onnx');
  let started = performance.now();
  const nsfwReport = await convertToOnnx(nsfw.dir, nsfwOnnx);
  const convertMs = performance.now() - started;
  const loaded = await loadForExport(nsfw.dir, nsfw.dir);
  const exportTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    started = performance.now();
    encodeModel(exportModel(loaded.model, nsfw.dir).message);
    exportTimes.push(performance.now() - started);
  }
  loaded.model.dispose();
  lines.push(
    `onnx export (nsfwjs MobileNetV2, ${nsfwReport.params.toLocaleString('en-US')} params): ` +
      `convert ${fmtMs(convertMs)} (load + export + ONNX Runtime check + write), export + encode alone ` +
      `${ms(median(exportTimes))}; ${mb(nsfwReport.bytes)} .onnx (TF.js uint8 shards ${mb(nsfw.bytes)}), ` +
      `${nsfwReport.nodes} nodes, check difference ${nsfwReport.maxAbsDiff.toExponential(1)}`,
  );

  const h5 = await ensureResNet50H5();
  const tfjsDir = join(RESNET_DIR, 'tfjs');
  const onnxFile = join(RESNET_DIR, 'resnet50-shaped.onnx');
  const converted = await convertResNet50(h5, tfjsDir, onnxFile);
  const { tfjs, onnx } = converted;
  lines.push(
    `onnx export (ResNet50-shaped Keras 2 .h5, ${mb((await stat(h5)).size)}, ` +
      `${onnx.params.toLocaleString('en-US')} params): ` +
      (converted.ms
        ? `convert to TF.js ${fmtMs(converted.ms.tfjs)}, to ONNX ${fmtMs(converted.ms.onnx)} `
        : 'conversions cached (newer than the .h5 and src/onnx) ') +
      `(${mb(tfjs.bytesAfter)} shards; ${mb(onnx.bytes)} .onnx, ${onnx.nodes} nodes: ` +
      `${Object.entries(onnx.ops)
        .map(([op, n]) => `${n} ${op}`)
        .join(', ')}; check difference ${onnx.maxAbsDiff.toExponential(1)})`,
  );
  return [
    {
      name: 'MobileNetV2 (nsfwjs)',
      size: 224,
      runs: 30,
      tfjsDir: nsfw.dir,
      onnxFile: nsfwOnnx,
      params: nsfwReport.params,
      labels: nsfwjsLabels(),
    },
    { name: 'ResNet50-shaped', size: 224, runs: 12, tfjsDir, onnxFile, params: onnx.params, labels: null },
  ];
}

/** The ResNet50 through `package` + `invoke --local --s3-local` (the built CLI and handler bundle, dist/). */
async function invokeResNet50(work: string, tfjsDir: string, lines: string[]): Promise<void> {
  const NODE_EXAMPLE = join(ROOT, 'fixtures', 'node-example');
  const base = JSON.parse(await readFile(join(NODE_EXAMPLE, 'lambda-ml.config.json'), 'utf8'));
  // memoryMb decides ONNX Runtime's threads (min(6, ceil(MB / 1,769)), src/handler/onnx-threads.ts)
  const cases = [
    { label: 'wasm', backend: 'wasm', memoryMb: 3538 },
    { label: 'onnx 1 thread (1769 MB)', backend: 'onnx', memoryMb: 1769 },
    { label: 'onnx 2 threads (3538 MB)', backend: 'onnx', memoryMb: 3538 },
  ];
  const photo = join(work, 'baboon.png');
  await writeFile(photo, baboonPhoto());
  const figures: Record<string, { first: number; warm: number; infer: number; peak: number }> = {};
  for (const c of cases) {
    const dir = join(work, `invoke-${c.backend}-${c.memoryMb}`);
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'bench-resnet50', version: '1.0.0' }));
    const config = {
      ...base,
      deps: 'node_modules',
      function: { ...base.function, memoryMb: c.memoryMb },
      models: [
        {
          name: 'resnet',
          path: tfjsDir,
          s3: 's3://lambda-ml-demo-models/resnet/',
          input: { width: 224, height: 224, range: [0, 1] },
          topK: 1,
          tag: 'resnet',
          backend: c.backend,
        },
      ],
    };
    await writeFile(join(dir, 'lambda-ml.config.json'), JSON.stringify(config, null, 2));
    const cli = (args: string[]) =>
      execFileSync(process.execPath, [join(ROOT, 'bin', 'lambda-ml'), ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', TMPDIR: work },
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 1 << 28,
      });
    cli(['package', '--out', 'out', '--json']);
    const body = JSON.parse(
      cli(['invoke', '--local', '--s3-local', '--image', photo, '--repeat', '11', '--out', 'out', '--json']),
    ) as {
      coldStart: { backend: string; onnxThreads?: number; modelLoad: Record<string, number> };
      invocations: {
        ms: number;
        maxRssBytes: number;
        result: {
          results: {
            predictions: Record<string, { label: string; score: number }[]>;
            timings: { infer: Record<string, number> };
          }[];
        };
      }[];
    };
    const runs = body.invocations;
    const top = runs[0].result.results[0].predictions.resnet[0];
    const infer = runs.slice(1).map((r) => r.result.results[0].timings.infer.resnet);
    figures[c.label] = {
      first: runs[0].ms,
      warm: median(runs.slice(1).map((r) => r.ms)),
      infer: median(infer),
      peak: Math.max(...runs.map((r) => r.maxRssBytes)),
    };
    const f = figures[c.label];
    const wasm = figures.wasm;
    lines.push(
      `onnx invoke --local ResNet50-shaped ${c.label}: backend ${body.coldStart.backend}` +
        (body.coldStart.onnxThreads ? ` (intraOpNumThreads ${body.coldStart.onnxThreads})` : '') +
        `; first image ${fmtMs(f.first)} (model load ${fmtMs(body.coldStart.modelLoad.resnet)}, infer ` +
        `${fmtMs(runs[0].result.results[0].timings.infer.resnet)}); warm invocation p50 ${fmtMs(f.warm)}, ` +
        `infer p50 ${fmtMs(f.infer)} (${infer.length} warm)` +
        (c.backend === 'wasm' ? '' : ` = ${(f.infer / wasm.infer).toFixed(3)}x wasm`) +
        `; peak RSS ${mb(f.peak)}; tag ${top.label} ${top.score.toFixed(4)}; load ${load()}`,
    );
  }
}

export async function runOnnxBench(): Promise<OnnxBenchResult> {
  const lines: string[] = [];
  const work = await mkdtemp(join(tmpdir(), 'lambda-ml-bench-onnx-'));
  const sharp = createRequire(join(ROOT, 'package.json'))('sharp') as Sharp;
  const models: OnnxBenchResult['models'] = {};
  const verdicts: boolean[] = [];
  try {
    const benchModels = await prepareModels(work, lines);
    lines.push(`onnx bench machine: load average ${load()} (1 min) before the backend children`);
    for (const model of benchModels) {
      const input = await toModelInput(await decodeImage(sharp, baboonPhoto()), model.size, model.size, [0, 1]);
      const inputFile = join(work, `input-${model.size}.f32`);
      await writeFile(inputFile, input);
      const figures = {} as Record<BackendKey, BackendFigures>;
      for (const b of BACKENDS) {
        const loadAtStart = loadavg()[0];
        const raw = runWorker({
          backend: b.backend,
          threads: b.threads,
          ...(b.key === 'ort1x' ? { optimization: 'extended' as const } : {}),
          model: b.backend === 'wasm' ? model.tfjsDir : model.onnxFile,
          input: inputFile,
          size: model.size,
          runs: model.runs,
          warmUp: 2,
          root: ROOT,
        });
        const loadFirstPeakGrowth = raw.peakLoadFirst - raw.rssBeforeLoad;
        figures[b.key] = {
          raw,
          loadAtStart,
          coldMs: raw.requireMs + raw.initMs + raw.loadMs + raw.firstMs,
          p50: pct(raw.warm, 50),
          p95: pct(raw.warm, 95),
          cpuP50: median(raw.warmCpu),
          loadFirstPeakGrowth,
          loadFirstGrowth: raw.rssAfterFirst - raw.rssBeforeLoad,
          arena: loadFirstPeakGrowth - model.params * 4,
        };
      }
      models[model.name] = figures;
      const wasm = figures.wasm;
      for (const b of BACKENDS) {
        const f = figures[b.key];
        const r = f.raw;
        const top = argmax(r.scores);
        const memory =
          b.backend === 'onnx'
            ? `session create + first run RSS growth peak ${mb(f.loadFirstPeakGrowth)} (settled ` +
              `${mb(f.loadFirstGrowth)}) = float32 weights ${mb(model.params * 4)} + arena ${f.arena} bytes ` +
              `(${mb(f.arena)})`
            : `model load + first predict RSS growth peak ${mb(f.loadFirstPeakGrowth)} (settled ` +
              `${mb(f.loadFirstGrowth)})`;
        lines.push(
          `onnx ${model.name} ${b.label}: cold start ${ms(f.coldMs)} = require ${ms(r.requireMs)} + ` +
            `backend init ${ms(r.initMs)} + ${b.backend === 'onnx' ? 'session create' : 'model load'} ` +
            `${ms(r.loadMs)} + first predict ${ms(r.firstMs)}` +
            (b.key === 'wasm' ? '' : ` (${(f.coldMs / wasm.coldMs).toFixed(2)}x wasm)`) +
            `; warm p50 ${ms(f.p50)} p95 ${ms(f.p95)} (${r.warm.length} runs, CPU ${ms(f.cpuP50)}/image)` +
            (b.key === 'wasm' ? '' : ` = ${(f.p50 / wasm.p50).toFixed(3)}x wasm`) +
            `; peak RSS ${mb(r.peakRss)}; ${memory}${r.peakReset ? '' : ' (VmHWM not resettable: upper bound)'}; ` +
            `top-1 ${model.labels?.[top] ?? `class ${top}`} ${r.scores[top].toFixed(4)}; ` +
            `load ${f.loadAtStart.toFixed(1)}`,
        );
      }
      const pairs: [BackendKey, BackendKey][] = [
        ['ort1', 'wasm'],
        ['ort2', 'wasm'],
        ['ort2', 'ort1'],
        ['ort1x', 'ort1'],
      ];
      const diffs = pairs.map(([a, b]) => maxAbsDiff(figures[a].raw.scores, figures[b].raw.scores));
      const sameTop = BACKENDS.every((b) => argmax(figures[b.key].raw.scores) === argmax(wasm.raw.scores));
      const agree = sameTop && diffs.every((d) => d <= AGREE);
      verdicts.push(agree);
      lines.push(
        `onnx ${model.name} outputs: max abs diff ` +
          pairs.map(([a, b], i) => `${a} vs ${b} ${diffs[i].toExponential(1)}`).join(', ') +
          `; top-1 ${sameTop ? 'same' : 'DIFFERENT'} on all (target <= ${AGREE}: ${agree ? 'met' : 'MISSED'})`,
      );
    }
    lines.push(`onnx bench machine: load average ${load()} (1 min) after the backend children`);

    const check = (what: string, value: number, limit: number, unit: 'x' | 'ms') => {
      const met = value <= limit;
      verdicts.push(met);
      const show = (v: number) => (unit === 'x' ? `${v.toFixed(3)}x` : ms(v));
      const by = met
        ? 'met'
        : `MISSED by ${unit === 'x' ? `${((value / limit - 1) * 100).toFixed(0)}%` : ms(value - limit)}`;
      return `${what} ${show(value)} (target <= ${show(limit)}: ${by})`;
    };
    const [mobile, resnet] = benchModels.map((m) => models[m.name]);
    lines.push(
      'onnx targets: ' +
        [
          check('ResNet50 warm 1 thread', resnet.ort1.p50 / resnet.wasm.p50, TARGETS.resnetT1, 'x'),
          check('2 threads', resnet.ort2.p50 / resnet.wasm.p50, TARGETS.resnetT2, 'x'),
          check('MobileNetV2 2 threads', mobile.ort2.p50, TARGETS.mobilenetT2Ms, 'ms'),
          ...benchModels.flatMap((m) =>
            (['ort1', 'ort2'] as const).map((k) =>
              check(`${m.name} cold ${k}/wasm`, models[m.name][k].coldMs / models[m.name].wasm.coldMs, 1, 'x'),
            ),
          ),
        ].join('; '),
    );
    // ONNX_BENCH_INVOKE=0 leaves out the end-to-end part (two packages with ONNX conversion + three invokes)
    if (process.env.ONNX_BENCH_INVOKE !== '0') await invokeResNet50(work, benchModels[1].tfjsDir, lines);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { lines, models, targetsMet: verdicts.every(Boolean) };
}
