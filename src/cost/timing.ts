/**
 * The time per image the cost model uses: the warm p50 of `invoke --local --repeat` (measured on one CPU) scaled to
 * the memory's vCPU share, or, when nothing was measured, an estimate labelled as such (docs/backfill.md).
 */
import { scaleToMemory, vcpuShare } from './vcpu.js';

/**
 * The estimate when nothing was measured, per image on one full CPU: 60 ms per model (MobileNetV2 at 224×224 on the
 * wasm backend: warm predict p50 59 ms, docs/performance.md "The handler") plus 100 ms for the rest of a record
 * (download, decode and resize, colours, four S3 requests; a rough figure).
 */
export const ESTIMATE_MS = { perModel: 60, perRecord: 100 } as const;

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
}): ImageTime {
  const share = Math.min(1, vcpuShare(options.memoryMb));
  const shareText = `${share.toFixed(2)} vCPU at ${options.memoryMb} MB`;
  if (options.measured) {
    const one = options.measured.p50Ms;
    const label = `measured: warm p50 ${one.toFixed(0)} ms on 1 CPU, scaled to ${shareText}`;
    return { ms: scaleToMemory(one, options.memoryMb), msOnOneCpu: one, estimated: false, label };
  }
  const one = ESTIMATE_MS.perRecord + ESTIMATE_MS.perModel * Math.max(1, options.models);
  const label =
    `estimated: ${one} ms on 1 CPU for ${options.models} model(s), scaled to ${shareText}; ` +
    'run invoke --local --repeat to measure';
  return { ms: scaleToMemory(one, options.memoryMb), msOnOneCpu: one, estimated: true, label };
}
