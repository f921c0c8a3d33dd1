/**
 * coldstart-resnet50 (issue 15, "the seed's sizes"): a model of the source scenario's class (ResNet50-shaped Keras 2
 * .h5, 25.6 M parameters, ~103 MB, test/helpers/resnet50.ts), converted to TF.js float32 by `lambda-ml convert`,
 * added to the starter project as its one model (in S3, the default), packaged, and run through
 * `lambda-ml invoke --local --s3-local --image <photo> --repeat N --json`: the first invocation is the cold start
 * (model fetch from the local S3, load, first predict), the rest are warm per-image times (S3 get, decode, predict,
 * colours, tag write). Peak RSS is the function process's maxRSS. Target: peak RSS <= 1.5x the float32 weights
 * + 300 MB. Run for each backend the handler has (wasm; onnx when `package` can build it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import type { Manifest } from '../../src/types.js';
import { writeResNet50H5 } from '../helpers/resnet50.js';
import { COLDSTART_DIR, ensureStarter, packageWith, type BenchProject } from './coldstart-projects.js';
import { BIN, GENERATED, ROOT } from './util.js';

const MiB = 1024 * 1024;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const say = (line: string) => process.stderr.write(`${line}\n`);
const RESNET = join(COLDSTART_DIR, 'resnet50');
const REPEAT = 16;

const pct = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

/** The .h5 (the ONNX bench's copy when it has one: same helper, same seed), converted once to TF.js float32. */
async function prepareModel(): Promise<{ tfjs: string; labels: string; convertMs: number | null; h5Bytes: number }> {
  mkdirSync(RESNET, { recursive: true });
  const h5 = join(RESNET, 'resnet50-shaped.h5');
  const tfjs = join(RESNET, 'tfjs');
  const labels = join(RESNET, 'labels.json');
  if (!existsSync(h5)) {
    const shared = join(GENERATED, 'bench-resnet50', 'resnet50-shaped.h5');
    const tmp = `${h5}.tmp-${process.pid}`;
    if (existsSync(shared)) copyFileSync(shared, tmp);
    else {
      say(`coldstart-resnet50: writing ${h5}`);
      await writeResNet50H5(tmp);
    }
    renameSync(tmp, h5);
  }
  let convertMs: number | null = null;
  if (!existsSync(join(tfjs, 'model.json'))) {
    const tmp = `${tfjs}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    const t0 = performance.now();
    execFileSync(process.execPath, [BIN, 'convert', h5, tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    convertMs = performance.now() - t0;
    renameSync(tmp, tfjs);
  }
  if (!existsSync(labels)) {
    writeFileSync(`${labels}.tmp`, JSON.stringify(Array.from({ length: 1000 }, (_, i) => `class-${i}`)) + '\n');
    renameSync(`${labels}.tmp`, labels);
  }
  return { tfjs, labels, convertMs, h5Bytes: statSync(h5).size };
}

/** The starter's config with the ResNet50 as its one model, for `backend`. */
function resnetProject(starter: BenchProject, model: { tfjs: string; labels: string }, backend: string): BenchProject {
  const base = JSON.parse(readFileSync(join(starter.dir, 'lambda-ml.config.json'), 'utf8'));
  const bucket = (base.models[0].s3 as string).split('/')[2];
  const config = {
    ...base,
    backend,
    models: [
      {
        name: 'resnet50',
        path: model.tfjs,
        s3: `s3://${bucket}/resnet50/`,
        labels: model.labels,
        input: { width: 224, height: 224, range: [0, 1] },
        topK: 1,
        tag: 'resnet50',
      },
    ],
  };
  const file = join(starter.dir, `resnet50-${backend}.config.json`);
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return { name: `resnet50-${backend}`, dir: starter.dir, configs: { current: file, previous: file } };
}

interface InvokeJson {
  readonly ok: boolean;
  readonly node: { version: string };
  readonly importMs: number;
  readonly invocations: readonly { ms: number; ok: boolean; maxRssBytes: number; error?: { message: string } }[];
  readonly logs: readonly Record<string, unknown>[];
}

async function measure(backend: string, starter: BenchProject, model: { tfjs: string; labels: string }, work: string) {
  const project = resnetProject(starter, model, backend);
  let packaged;
  try {
    packaged = packageWith('current', BIN, project, project.configs.current, say);
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message);
    return { line: `coldstart-resnet50 ${backend}: package failed: ${stderr.trim().split('\n')[0]}`, ok: null };
  }
  const manifest = JSON.parse(readFileSync(join(packaged.outDir, 'manifest.json'), 'utf8')) as Manifest;
  const weights = manifest.artifacts.models[0].files
    .filter((f) => f.name.endsWith('.bin') || f.name.endsWith('.onnx'))
    .reduce((t, f) => t + f.bytes, 0);
  const photo = join(work, 'baboon.png');
  writeFileSync(photo, baboonPhoto());
  const args = ['invoke', '--local', '--s3-local', '--image', photo, '--repeat', String(REPEAT), '--out'];
  const result = spawnSync(process.execPath, [BIN, ...args, packaged.outDir, '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (!result.stdout) return { line: `coldstart-resnet50 ${backend}: invoke failed: ${result.stderr}`, ok: null };
  const out = JSON.parse(result.stdout) as InvokeJson;
  const failed = out.invocations.find((i) => !i.ok);
  if (!out.ok || failed)
    return { line: `coldstart-resnet50 ${backend}: invocation failed: ${failed?.error?.message}`, ok: null };
  const [cold, ...warm] = out.invocations;
  const records = out.logs.filter((l) => l.msg === 'lambda-ml record');
  const coldStart = (records[0]?.coldStart ?? {}) as Record<string, Record<string, number> | number>;
  const timings = (records[0]?.timings ?? {}) as { infer?: Record<string, number> };
  const fetchMs = (coldStart.modelFetch as Record<string, number> | undefined)?.resnet50;
  const loadMs = (coldStart.modelLoad as Record<string, number> | undefined)?.resnet50;
  const firstPredict = timings.infer?.resnet50;
  const peak = Math.max(...out.invocations.map((i) => i.maxRssBytes));
  const limit = 1.5 * weights + 300e6;
  const met = peak <= limit;
  const warmMs = warm.map((w) => w.ms);
  const line =
    `coldstart-resnet50 ${backend}: ResNet50-shaped (${MB(weights)} float32 weights in S3), plan ${manifest.plan}, ` +
    `Node ${out.node.version}, invoke --local --s3-local: cold start ${s(out.importMs + cold.ms)} (import ` +
    `${s(out.importMs)}, backend ${s(Number(coldStart.backendInit ?? NaN))}, model fetch ${s(fetchMs ?? NaN)}, ` +
    `load ${s(loadMs ?? NaN)}, first predict ${s(firstPredict ?? NaN)}); warm per image p50 ${s(pct(warmMs, 50))}, ` +
    `p95 ${s(pct(warmMs, 95))} (${warm.length} runs); peak RSS ${(peak / MiB).toFixed(0)} MiB = ` +
    `${(peak / limit).toFixed(2)}x the target 1.5 x weights + 300 MB = ${(limit / MiB).toFixed(0)} MiB: ` +
    `${met ? 'met' : `missed by ${((peak - limit) / MiB).toFixed(0)} MiB`}`;
  return { line, ok: met };
}

export async function coldstartResNet50(): Promise<string[]> {
  if (!existsSync(join(ROOT, 'dist', 'invoke', 'runner.js'))) return ['coldstart-resnet50: skipped (npm run build)'];
  const starter = ensureStarter(say);
  const model = await prepareModel();
  const work = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-resnet-'));
  const lines: string[] = [];
  if (model.convertMs !== null)
    lines.push(`coldstart-resnet50: lambda-ml convert of the ${MB(model.h5Bytes)} .h5 took ${s(model.convertMs)}`);
  try {
    for (const backend of ['wasm', 'onnx']) lines.push((await measure(backend, starter, model, work)).line);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return lines;
}
