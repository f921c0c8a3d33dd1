/**
 * Child of the onnx bench (onnx.ts): one backend on one model in a fresh process, so cold start, JIT and memory are
 * its own. argv[2] is a JSON `WorkerJob`; prints one JSON `WorkerResult` line. Each backend runs through the handler's
 * own modules (backend.ts + models.ts for TF.js, onnx-session.ts for ONNX Runtime), and only the chosen backend's
 * packages are loaded (TF.js in the ONNX Runtime child would count in its RSS).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the parent asks for. */
export interface WorkerJob {
  readonly backend: 'wasm' | 'onnx';
  readonly threads: number; // ONNX Runtime intraOpNumThreads (1 for wasm: it has no threads under Node)
  /** ONNX Runtime: a graph optimization level other than the handler's ('all'), created here with its other options. */
  readonly optimization?: 'extended';
  readonly model: string; // TF.js layers folder (wasm) or .onnx file
  readonly input: string; // float32 [1, size, size, 3] NHWC, raw little-endian
  readonly size: number;
  readonly runs: number;
  readonly warmUp: number;
  readonly root: string; // the project, whose node_modules the backend comes from
}

/** What one child measured. Times in ms, memory in bytes. */
export interface WorkerResult {
  readonly requireMs: number; // loading the backend's package (TF.js + its wasm backend, or onnxruntime-node's .so)
  readonly initMs: number; // tf.setBackend('wasm'); ONNX Runtime initialises in session create
  readonly loadMs: number; // model load: TF.js model.json + shards, or InferenceSession.create
  readonly firstMs: number;
  readonly warm: readonly number[];
  readonly warmCpu: readonly number[]; // process CPU time per warm image (all threads)
  readonly rssBeforeLoad: number;
  readonly rssAfterLoad: number;
  readonly rssAfterFirst: number;
  readonly peakLoadFirst: number; // VmHWM over model load + first predict (reset just before)
  readonly peakRss: number; // VmHWM of the whole process
  readonly peakReset: boolean; // false: clear_refs refused, so peakLoadFirst is the process's peak so far
  readonly scores: readonly number[];
}

const status = () => readFileSync('/proc/self/status', 'utf8');
const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status())?.[1] ?? NaN) * 1024;
/** Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0). */
const resetPeak = () => {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
};

const job = JSON.parse(process.argv[2]) as WorkerJob;
const buf = readFileSync(job.input);
const input = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const shape = [1, job.size, job.size, 3];
let t = performance.now();

let predict: () => Promise<Float32Array>;
let requireMs: number;
let initMs: number;
let loadMs: number;
let rssBeforeLoad: number;
let peakBefore: number;
let peakReset: boolean;
if (job.backend === 'wasm') {
  const { requireFrom } = await import('../../src/handler/require-from.js');
  const req = requireFrom([join(job.root, 'node_modules')]);
  const { selectBackend } = await import('../../src/handler/backend.js'); // loads @tensorflow/tfjs-backend-wasm
  const tf = req<import('../../src/handler/backend.js').Tf>('@tensorflow/tfjs');
  requireMs = performance.now() - t;
  const choice = await selectBackend(tf, req, 'wasm');
  if (choice.active !== 'wasm') throw new Error(`wasm did not initialise: ${choice.warnings.join('; ')}`);
  initMs = choice.ms;
  const { loadModelFromDir } = await import('../../src/handler/models.js');
  const spec = { name: 'bench', format: 'tfjs-layers', input: { width: job.size, height: job.size, range: [0, 1] } };
  rssBeforeLoad = kb('VmRSS');
  peakBefore = kb('VmHWM');
  peakReset = resetPeak();
  t = performance.now();
  const model = await loadModelFromDir(tf, spec as never, job.model);
  loadMs = performance.now() - t;
  predict = async () => {
    const out = tf.tidy(() => model.predict!(tf.tensor4d(input, shape as [number, number, number, number])));
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
} else {
  // The handler's own session code (src/handler/onnx-session.ts): its options, its output copy.
  const { createOnnxModel, loadOnnxRuntime } = await import('../../src/handler/onnx-session.js');
  const ort = await loadOnnxRuntime();
  requireMs = performance.now() - t;
  initMs = 0; // ONNX Runtime creates its environment and thread pool in the first session create
  rssBeforeLoad = kb('VmRSS');
  peakBefore = kb('VmHWM');
  peakReset = resetPeak();
  t = performance.now();
  if (job.optimization) {
    const session = await ort.InferenceSession.create(job.model, {
      intraOpNumThreads: job.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: job.optimization,
    });
    loadMs = performance.now() - t;
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, shape) };
    predict = async () => (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
  } else {
    const session = await createOnnxModel(ort, job.model, job.threads);
    loadMs = performance.now() - t;
    predict = () => session.run(input, shape);
  }
}
const rssAfterLoad = kb('VmRSS');
t = performance.now();
const first = await predict();
const firstMs = performance.now() - t;
const rssAfterFirst = kb('VmRSS');
const peakLoadFirst = kb('VmHWM');
for (let i = 0; i < job.warmUp; i++) await predict();
const warm: number[] = [];
const warmCpu: number[] = [];
for (let i = 0; i < job.runs; i++) {
  const cpu = process.cpuUsage();
  t = performance.now();
  await predict();
  warm.push(performance.now() - t);
  const used = process.cpuUsage(cpu);
  warmCpu.push((used.user + used.system) / 1000);
}
const result: WorkerResult = {
  requireMs,
  initMs,
  loadMs,
  firstMs,
  warm,
  warmCpu,
  rssBeforeLoad,
  rssAfterLoad,
  rssAfterFirst,
  peakLoadFirst,
  peakRss: Math.max(peakBefore, kb('VmHWM')),
  peakReset,
  scores: Array.from(first),
};
console.log(JSON.stringify(result));
