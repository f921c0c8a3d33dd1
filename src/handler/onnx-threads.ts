/**
 * PURE: how many threads ONNX Runtime runs a model on in Lambda: the vCPUs the function's memory buys, min(6,
 * ceil(memory MB / 1,769)) (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). A share of a
 * vCPU still gets one thread; above 1,769 MB a second thread has a core of its own for part of the time.
 */
import { MAX_VCPUS, MB_PER_VCPU } from '../lib/limits.js';

/** Lambda's whole vCPUs (rounded up) for `memoryMb`: 1 at 128–1,769 MB, 2 at 1,770–3,538 MB, ... 6 at 10,240 MB. */
export function lambdaVcpus(memoryMb: number): number {
  if (!Number.isFinite(memoryMb) || memoryMb <= 0) return 1;
  return Math.min(MAX_VCPUS, Math.max(1, Math.ceil(memoryMb / MB_PER_VCPU)));
}

/** ONNX Runtime's intra-op threads for the function: its vCPUs, from AWS_LAMBDA_FUNCTION_MEMORY_SIZE (unset: 1). */
export function onnxThreads(env: NodeJS.ProcessEnv): number {
  return lambdaVcpus(Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? MB_PER_VCPU));
}
