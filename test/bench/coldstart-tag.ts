/**
 * Cold start, process start -> first tag written (issue 15), each against the previous release (PREV_COMMIT: tsc's
 * handler files + unbundled node_modules, zip sideload) packaging the same project, paired runs in one session:
 *
 * - coldstart-starter: the starter (`lambda-ml init`, bundle plan, prune trace). Target <= 0.6x.
 * - coldstart-sideload-s3: the heavy project (plan sideload-s3, deps > 80 MB after the bundle), S3 paced at 50 MiB/s.
 *   Target <= 0.7x. Also this version with `"sideload": { "format": "zip" }`, which splits the gain between the
 *   handler bundle and the archive format.
 *
 * Each run is a Lambda-like child: function.zip unpacked by `unzip` into a task root, a fresh /tmp, Lambda's
 * environment (lambdaEnv of `invoke --local`) and its runner (dist/invoke/runner.js) on the runtime's Node, S3 =
 * s3rver on loopback behind a pacing proxy. The clock starts just before the fork and stops when the proxy has sent
 * the answer to the function's first PUT ?tagging; the tags are then read back from s3rver and checked.
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectTaggingCommand, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { s3PutEventFor } from '../../src/invoke/events.js';
import { lambdaEnv, nodeRuntimeOf } from '../../src/invoke/local-invoke.js';
import { resolveNode } from '../../src/invoke/node-binary.js';
import type { RunnerReport } from '../../src/invoke/runner.js';
import { localS3Env } from '../../src/invoke/s3-local.js';
import { stageToEndpoint } from '../../src/invoke/stage-local.js';
import type { Manifest } from '../../src/types.js';
import {
  ensureHeavy,
  ensurePrevRelease,
  HEAVY_EXTRAS,
  ensureStarter,
  packageWith,
  PREV_COMMIT,
  type BenchProject,
  type Packaged,
} from './coldstart-projects.js';
import { startThrottledS3, type ThrottledS3 } from './throttle-proxy.js';
import { BIN, median, ROOT } from './util.js';

const MiB = 1024 * 1024;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const say = (line: string) => process.stderr.write(`${line}\n`);

/** A packaged version ready to start: its manifest and its unpacked task root. */
interface Ready {
  readonly label: string;
  readonly manifest: Manifest;
  readonly outDir: string;
  readonly taskRoot: string;
  readonly packageMs: number | null;
}

/** One cold start. */
export interface ColdRun {
  readonly firstTagMs: number;
  /** CPU time (user + system) of the function process, start to exit (it exits right after answering). */
  readonly cpuMs: number;
  readonly importMs: number;
  readonly invokeMs: number;
  readonly maxRssBytes: number;
  readonly tags: Record<string, string>;
  readonly coldStart: Record<string, unknown> | null;
}

function unpack(packaged: Packaged, work: string): Ready {
  const manifest = JSON.parse(readFileSync(join(packaged.outDir, 'manifest.json'), 'utf8')) as Manifest;
  const taskRoot = join(work, `task-${packaged.label}`);
  execFileSync('unzip', ['-q', join(packaged.outDir, manifest.artifacts.function.file), '-d', taskRoot]);
  return { label: packaged.label, manifest, outDir: packaged.outDir, taskRoot, packageMs: packaged.packageMs };
}

let runs = 0;

/**
 * Preloaded into the function process (a data: URL, so the child needs no loader): at exit it writes its own CPU
 * time, which a loaded machine stretches far less than wall time.
 */
const RUSAGE_PRELOAD =
  'data:text/javascript,' +
  encodeURIComponent(
    "import { writeFileSync } from 'node:fs'; process.on('exit', () => { const u = process.resourceUsage(); " +
      'writeFileSync(process.env.LAMBDA_ML_BENCH_RUSAGE, JSON.stringify({ cpuUs: u.userCPUTime + u.systemCPUTime }));' +
      ' });',
  );

/** Puts a fresh copy of the photo in the trigger bucket, starts the function on its event, waits for the answer. */
export async function coldStart(ready: Ready, s3: ThrottledS3, node: string, timeoutS?: number): Promise<ColdRun> {
  const { manifest } = ready;
  const bucket = manifest.trigger?.bucket ?? 'local';
  const key = `${manifest.trigger?.prefix ?? ''}run-${++runs}-${ready.label}.png`;
  const photo = baboonPhoto();
  await s3.s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: photo }));
  const region = manifest.region ?? 'us-east-1';
  const event = s3PutEventFor(bucket, [{ key, size: photo.length }], region);
  const tmp = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-cs-tmp-'));
  const rusage = `${tmp}.rusage.json`;
  const env = {
    ...lambdaEnv(manifest, ready.taskRoot, tmp, localS3Env(process.env, s3.endpoint), s3.endpoint),
    LAMBDA_ML_BENCH_RUSAGE: rusage,
  };
  const tagsBefore = s3.tagWrites.length;
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  try {
    const t0 = performance.now();
    const child = fork(join(ROOT, 'dist', 'invoke', 'runner.js'), [], {
      cwd: ready.taskRoot,
      env,
      execPath: node,
      execArgv: [
        '--import',
        RUSAGE_PRELOAD,
        `--max-old-space-size=${manifest.function.memoryMb}`,
        '--max-semi-space-size=16',
      ],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('{')) logs.push(JSON.parse(line));
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    const report = await new Promise<RunnerReport>((done, fail) => {
      child.on('message', (m: { ok: boolean; report?: RunnerReport; error?: { message: string } }) =>
        m.ok && m.report ? done(m.report) : fail(new Error(`handler failed to load: ${m.error?.message}`)),
      );
      child.on('exit', (code, signal) => fail(new Error(`function exited (${signal ?? code}): ${stderr.slice(-500)}`)));
      child.send({ event, repeat: 1, timeoutMs: (timeoutS ?? manifest.function.timeoutS) * 1000 });
    });
    await exited;
    const invocation = report.invocations[0];
    if (!invocation?.ok) throw new Error(`the invocation failed: ${invocation?.error?.message ?? 'no answer'}`);
    const tagAt = s3.tagWrites.slice(tagsBefore)[0];
    if (tagAt === undefined) throw new Error(`${ready.label}: no tag was written (${JSON.stringify(logs.at(-1))})`);
    const { TagSet } = await s3.s3.client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    const tags = Object.fromEntries((TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    const model = manifest.artifacts.models[0]?.name ?? 'safety';
    if (!Object.keys(tags).some((k) => k.endsWith(model)))
      throw new Error(`${ready.label}: no ${model} tag on ${key}: ${JSON.stringify(tags)}`);
    const record = logs.find((l) => l.msg === 'lambda-ml record');
    const cpuMs = (JSON.parse(readFileSync(rusage, 'utf8')) as { cpuUs: number }).cpuUs / 1000;
    say(
      `  ${ready.label}: first tag ${s(tagAt - t0)}, cpu ${s(cpuMs)} (import ${s(report.importMs)}, ` +
        `invocation ${s(invocation.ms)})`,
    );
    return {
      firstTagMs: tagAt - t0,
      cpuMs,
      importMs: report.importMs,
      invokeMs: invocation.ms,
      maxRssBytes: invocation.maxRssBytes,
      tags,
      coldStart: (record?.coldStart as Record<string, unknown> | undefined) ?? null,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(rusage, { force: true });
  }
}

interface Compared {
  /** rounds[i][k]: round i's cold start of variant k (null: it failed). */
  readonly rounds: (ColdRun | null)[][];
  /** Cold starts that did not tag the photo, by label: the handler's error message. */
  readonly failures: Map<string, string[]>;
}

/**
 * One unmeasured start of each variant (page cache, s3rver), then `pairs` rounds running each in turn. A start that
 * fails is counted with its message (a Lambda would retry it, which a first-tag time cannot show); ratios are over
 * the rounds where both tagged.
 */
async function compare(
  variants: readonly Ready[],
  s3: ThrottledS3,
  node: string,
  pairs: number,
  timeoutS?: number,
): Promise<Compared> {
  const result: Compared = { rounds: [], failures: new Map() };
  const attempt = async (r: Ready): Promise<ColdRun | null> => {
    try {
      return await coldStart(r, s3, node, timeoutS);
    } catch (error) {
      const message = (error as Error).message;
      say(`  ${r.label}: FAILED: ${message}`);
      result.failures.set(r.label, [...(result.failures.get(r.label) ?? []), message]);
      return null;
    }
  };
  for (const r of variants) await attempt(r);
  result.failures.clear(); // the warm-up's failures are reported by the measured runs if they recur
  for (let i = 0; i < pairs; i++) {
    const round: (ColdRun | null)[] = [];
    for (const r of variants) round.push(await attempt(r));
    result.rounds.push(round);
  }
  return result;
}

/** Variant k's successful runs. */
const runsOf = (r: Compared, k: number) => r.rounds.flatMap((round) => (round[k] ? [round[k]] : []));

/** "label: k of n cold starts failed (first: message)" for each label that failed, or []. */
function failureLines(r: Compared, pairs: number): string[] {
  return [...r.failures].map(
    ([label, messages]) => `  ${label}: ${messages.length} of ${pairs} cold starts failed (first: ${messages[0]})`,
  );
}

async function stageAll(readies: readonly Ready[], s3: ThrottledS3): Promise<void> {
  for (const r of readies) {
    const bucket = r.manifest.trigger?.bucket ?? 'local';
    await s3.s3.client.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => {});
    await stageToEndpoint(s3.s3.client, r.manifest, r.outDir);
  }
}

const medianOf = (runs: readonly ColdRun[], pick: (r: ColdRun) => number) => median(runs.map(pick));
const verdict = (ratio: number, target: number) =>
  Number.isNaN(ratio)
    ? 'not measured'
    : ratio <= target
      ? 'met'
      : `missed by ${(ratio - target).toFixed(2)}x (${((ratio / target - 1) * 100).toFixed(0)}%)`;

function describe(r: Ready): string {
  const fn = r.manifest.artifacts.function;
  const deps = r.manifest.artifacts.deps;
  const extra = deps ? `, ${deps.file} ${MB(deps.bytes)} in S3` : '';
  return `function.zip ${MB(fn.unzippedBytes)} unzipped${extra}`;
}

/** Median of a number in the cold-start log line (`path` into coldStart; a record object picks its first value). */
function logged(runs: readonly ColdRun[], path: string): number | null {
  const values = runs.flatMap((r) => {
    let v: unknown = r.coldStart;
    for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : null;
    if (v && typeof v === 'object') v = Object.values(v)[0];
    return typeof v === 'number' ? [v] : [];
  });
  return values.length ? median(values) : null;
}

/** Import, first invocation, peak RSS, and the handler's own cold-start steps (those its log has). */
function breakdown(runs: readonly ColdRun[]): string {
  if (runs.length === 0) return 'no cold start tagged the photo';
  const rss = Math.max(...runs.map((r) => r.maxRssBytes));
  const steps = ['requireDeps', 'fetch', 'extract', 'backendInit', 'modelFetch', 'modelLoad', 'init']
    .map((key) => [key, logged(runs, key)] as const)
    .filter(([, v]) => v !== null)
    .map(([key, v]) => `${key} ${s(v as number)}`);
  return (
    `import ${s(medianOf(runs, (r) => r.importMs))}, first invocation ${s(medianOf(runs, (r) => r.invokeMs))} ` +
    `(log: ${steps.join(', ')}), peak RSS ${(rss / MiB).toFixed(0)} MiB`
  );
}

/** The runtime's Node, as `invoke --local` picks it (this node, else the cached one for the runtime's major). */
async function nodeFor(manifest: Manifest): Promise<{ path: string; version: string }> {
  return resolveNode({ runtime: nodeRuntimeOf(manifest), env: process.env });
}

function prepare(project: BenchProject, prevBin: string, work: string, extraCurrent: Record<string, string> = {}) {
  const current = packageWith('current', BIN, project, project.configs.current, say);
  const previous = packageWith(`prev-${PREV_COMMIT}`, prevBin, project, project.configs.previous, say);
  const extras = Object.entries(extraCurrent).map(([label, config]) => packageWith(label, BIN, project, config, say));
  return {
    current: unpack(current, work),
    previous: unpack(previous, work),
    extras: extras.map((e) => unpack(e, work)),
  };
}

function skipReason(): string | null {
  if (!existsSync(join(ROOT, 'dist', 'invoke', 'runner.js'))) return 'run `npm run build` first';
  return null;
}

/** "wall A vs B; ratio Rx; cpu A vs B, Rx": medians of the pairs (the ratio is the median of paired ratios). */
function figures(r: Compared, a: number, b: number): { line: string; ratio: number } {
  const both = r.rounds.filter((round) => round[a] && round[b]) as ColdRun[][];
  if (both.length === 0) return { line: 'no round where both tagged the photo', ratio: Number.NaN };
  const ratios = both.map((round) => round[a].firstTagMs / round[b].firstTagMs);
  const ratio = median(ratios);
  const wall = (k: number) => s(medianOf(runsOf(r, k), (x) => x.firstTagMs));
  const cpu = (k: number) => s(medianOf(runsOf(r, k), (x) => x.cpuMs));
  const cpuRatio = median(both.map((round) => round[a].cpuMs / round[b].cpuMs));
  const line =
    `${wall(a)} vs ${wall(b)}, ratio ${ratio.toFixed(2)}x (pairs ${ratios.map((x) => x.toFixed(2)).join(' ')}); ` +
    `function process CPU ${cpu(a)} vs ${cpu(b)}, ${cpuRatio.toFixed(2)}x`;
  return { line, ratio };
}

/** A config beside the project's current one with `extra` on top (a variant of the same project). */
function variantConfig(project: BenchProject, name: string, extra: Record<string, unknown>): string {
  const file = join(project.dir, `${name}.config.json`);
  const base = JSON.parse(readFileSync(project.configs.current, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...base, ...extra }, null, 2) + '\n');
  return file;
}

/** (a): the starter, bundle plan, on wasm (the target) and on the ONNX backend. */
export async function coldstartStarter(): Promise<string[]> {
  const why = skipReason();
  if (why) return [`coldstart-starter: skipped (${why})`];
  const project = ensureStarter(say);
  const prevBin = ensurePrevRelease(say);
  const work = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-cs-'));
  const s3 = await startThrottledS3(null);
  try {
    const onnxConfig = variantConfig(project, 'current-onnx', { backend: 'onnx' });
    const { current, previous, extras } = prepare(project, prevBin, work, { 'current-onnx': onnxConfig });
    const [onnx] = extras;
    const node = await nodeFor(current.manifest);
    await stageAll([current, previous, onnx], s3);
    const pairs = 7;
    const r = await compare([current, previous, onnx], s3, node.path, pairs);
    const f = figures(r, 0, 1);
    return [
      `coldstart-starter: process start -> first tag written, starter (lambda-ml init, plan ` +
        `${current.manifest.plan}, wasm), Node ${node.version}, S3 = s3rver on loopback, medians of ${pairs} ` +
        `paired runs: bundled handler vs previous release ${PREV_COMMIT} (tsc files + node_modules): ${f.line}; ` +
        `target <= 0.6x: ${verdict(f.ratio, 0.6)}`,
      `  the same on "backend": "onnx" vs the previous release: ${figures(r, 2, 1).line}`,
      `  current: ${describe(current)}; ${breakdown(runsOf(r, 0))}`,
      `  current, onnx: ${describe(onnx)}; ${breakdown(runsOf(r, 2))}`,
      `  previous: ${describe(previous)}; ${breakdown(runsOf(r, 1))}`,
      ...failureLines(r, pairs),
    ];
  } finally {
    await s3.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The deadline (b) invokes with: Lambda's maximum, as a user shipping 100+ MB of deps would set. At the starter's 60 s
 * this loaded machine turns slow starts into timeouts (the previous release's zip extraction took 41 s here), and the
 * download's early give-up fired before download.ts waited for a second of evidence; `COLDSTART_TIMEOUT_S=60` measures
 * that.
 */
const HEAVY_TIMEOUT_S = Number(process.env.COLDSTART_TIMEOUT_S ?? 900);

/** (b): the heavy project, sideload-s3, S3 paced at 50 MiB/s; also this version's zip sideload. */
export async function coldstartSideloadS3(): Promise<string[]> {
  const why = skipReason();
  if (why) return [`coldstart-sideload-s3: skipped (${why})`];
  const project = ensureHeavy(say);
  const prevBin = ensurePrevRelease(say);
  const work = mkdtempSync(join(tmpdir(), 'lambda-ml-bench-cs-'));
  const s3 = await startThrottledS3(50 * MiB);
  try {
    const zipConfig = variantConfig(project, 'current-zip', { sideload: { format: 'zip' } });
    const { current, previous, extras } = prepare(project, prevBin, work, { 'current-zip': zipConfig });
    const [currentZip] = extras;
    const node = await nodeFor(current.manifest);
    await stageAll([current, previous, currentZip], s3);
    const pairs = 3;
    const r = await compare([current, previous, currentZip], s3, node.path, pairs, HEAVY_TIMEOUT_S);
    const f = figures(r, 0, 1);
    const deps = current.manifest.artifacts.deps;
    const added = Object.keys(HEAVY_EXTRAS).join(', ');
    return [
      `coldstart-sideload-s3: process start -> first tag written, heavy project (starter + ${added}; plan ` +
        `${current.manifest.plan}, ${MB(deps?.unzippedBytes ?? 0)} of deps beside the bundle), S3 paced at 50 MiB/s, ` +
        `Node ${node.version}, invoked with a ${HEAVY_TIMEOUT_S} s deadline, medians of ${pairs} paired runs: ` +
        `bundled handler + ${deps?.file} vs previous release ` +
        `${PREV_COMMIT} (tsc files, node_modules in deps.zip): ${f.line}; target <= 0.7x: ${verdict(f.ratio, 0.7)}`,
      `  this version, deps.tar.br vs "sideload": { "format": "zip" }: ${figures(r, 0, 2).line}`,
      `  current: ${describe(current)}; ${breakdown(runsOf(r, 0))}`,
      `  current, zip: ${describe(currentZip)}; ${breakdown(runsOf(r, 2))}`,
      `  previous: ${describe(previous)}; ${breakdown(runsOf(r, 1))}`,
      ...failureLines(r, pairs),
    ];
  } finally {
    await s3.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
