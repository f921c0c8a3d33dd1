/**
 * Lambda's CPU share: CPU is allocated in proportion to memory, and at 1,769 MB a function has the equivalent of one
 * vCPU (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). A time measured on one whole CPU
 * is scaled to the configured memory's share; above one vCPU it is kept, since the handler classifies one image at
 * a time on one thread (docs/backfill.md, "What it costs").
 */

import { MB_PER_VCPU } from '../lib/limits.js';

export { MB_PER_VCPU };

/** vCPUs at `memoryMb` (0.072 at 128 MB, 1 at 1,769 MB, 5.79 at 10,240 MB). */
export const vcpuShare = (memoryMb: number) => memoryMb / MB_PER_VCPU;

/** The time per image at `memoryMb` for one measured on one full CPU. */
export function scaleToMemory(msOnOneCpu: number, memoryMb: number): number {
  return msOnOneCpu / Math.min(1, vcpuShare(memoryMb));
}
