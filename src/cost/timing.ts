/**
 * The time per image the cost model uses: the warm p50 of `invoke --local --repeat` (measured on one CPU) scaled to
 * the memory's vCPU share, or, when nothing was measured, an estimate labelled as such (docs/backfill.md).
 */
import type { ModelBackend } from '../types.js';
import { scaleToMemory, vcpuShare } from './vcpu.js';

/**
 * The estimate when nothing was measured, per image on one full CPU: 60 ms per model (MobileNetV2 at 224×224 on the
 * wasm backend: warm predict p50 59 ms, docs/performance.md "The handler") plus 100 ms for the rest of a record
 * (download, decode and resize, colours, four S3 requests; a rough figure).
 */
export const ESTIMATE_MS = { perModel: 60, perRecord: 100 } as const;

/**
 * Per model by backend, on one CPU. onnx: MobileNetV2 on ONNX Runtime at 1 thread ran at 0.091x wasm's warm p50 in
 * the same `npm run bench onnx` run on a quiet machine (10.5 ms against 116 ms; ResNet50-shaped 0.218x; 0.135x under
 * load), so 60 ms x 0.091, rounded up. cpu: TF.js's plain JS backend, ~15x wasm (../shared/fixtures/MANIFEST.md:
 * 1,570–1,920 ms against 88–152 ms). tensorflow: not measured here (tfjs-node cannot ship), wasm's figure.
 */
export const MODEL_MS_BY_BACKEND: Readonly<Record<ModelBackend, number>> = {
  wasm: ESTIMATE_MS.perModel,
  onnx: 6,
  cpu: ESTIMATE_MS.perModel * 15,
  tensorflow: ESTIMATE_MS.perModel,
};

export interface ImageTime {
  readonly ms: number; // per image at the configured memory
  readonly msOnOneCpu: number;
  readonly estimated: boolean;
  readonly label: string;
}

/** The time per image for `memoryMb`: from a warm p50 measured on one CPU, else the estimate. */
export function imageTime(options: {
  readonly memoryMb: number;
  readonly models: number;
  readonly measured?: { readonly p50Ms: number } | null;
  /** Each model's backend (budget's choice); absent: every model on wasm. */
  readonly backends?: readonly (ModelBackend | undefined)[];
}): ImageTime {
  const share = Math.min(1, vcpuShare(options.memoryMb));
  const shareText = `${share.toFixed(2)} vCPU at ${options.memoryMb} MB`;
  if (options.measured) {
    const one = options.measured.p50Ms;
    const label = `measured: warm p50 ${one.toFixed(0)} ms on 1 CPU, scaled to ${shareText}`;
    return { ms: scaleToMemory(one, options.memoryMb), msOnOneCpu: one, estimated: false, label };
  }
  const count = Math.max(1, options.models);
  const backends = Array.from({ length: count }, (_, i) => options.backends?.[i] ?? 'wasm');
  const one = ESTIMATE_MS.perRecord + backends.reduce((t, b) => t + MODEL_MS_BY_BACKEND[b], 0);
  const on = backends.every((b) => b === 'wasm') ? '' : ` on ${[...new Set(backends)].join('/')}`;
  const label =
    `estimated: ${one} ms on 1 CPU for ${options.models} model(s)${on}, scaled to ${shareText}; ` +
    'run invoke --local --repeat to measure';
  return { ms: scaleToMemory(one, options.memoryMb), msOnOneCpu: one, estimated: true, label };
}
