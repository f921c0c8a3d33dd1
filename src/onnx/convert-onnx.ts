/** `convert IN OUT.onnx`: a Keras file or TF.js layers folder to one ONNX file, checked, written atomically. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { cleanStaleTemps } from '../lib/atomic-dir.js';
import { fsError } from '../lib/errors.js';
import { checkExport } from './check-export.js';
import { exportModel, IR_VERSION, OPSET } from './export-model.js';
import { loadForExport } from './load-model.js';
import { encodeModel } from './onnx-proto.js';

/** What `convertToOnnx` wrote. Sizes are integer bytes. */
export interface OnnxConvertReport {
  readonly format: 'onnx';
  readonly source: 'keras-h5' | 'keras-v3' | 'tfjs-layers';
  readonly kerasVersion: string | undefined;
  readonly outFile: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly opset: number;
  readonly irVersion: number;
  readonly nodes: number;
  /** Node count by ONNX op type. */
  readonly ops: Readonly<Record<string, number>>;
  readonly initializers: number;
  readonly params: number;
  readonly inputs: readonly { name: string; shape: (number | null)[] }[];
  readonly outputs: readonly { name: string; shape: (number | null)[] }[];
  /** ONNX Runtime against TF.js on a seeded input (check-export.ts). */
  readonly maxAbsDiff: number;
  readonly notes: readonly string[];
}

/** Converts `inPath` to the ONNX file `outFile` (both absolute); `label` is how errors name the input. */
export async function convertToOnnx(inPath: string, outFile: string, label = inPath): Promise<OnnxConvertReport> {
  const out = resolve(outFile);
  const loaded = await loadForExport(inPath, label);
  try {
    const exported = exportModel(loaded.model, label);
    const bytes = encodeModel(exported.message);
    const names = { inputs: exported.inputs.map((v) => v.name), outputs: exported.outputs.map((v) => v.name) };
    const check = await checkExport(loaded.model, bytes, names, label);
    await writeAtomically(out, bytes);
    const ops: Record<string, number> = {};
    for (const node of exported.message.graph.node) ops[node.op_type] = (ops[node.op_type] ?? 0) + 1;
    const { affine, pads, hard } = exported.folds;
    const notes = [
      ...loaded.notes,
      ...(affine > 0 ? [`${affine} Mul/Add of BatchNormalization folded into the convolution before`] : []),
      ...(pads > 0 ? [`${pads} ZeroPadding2D folded into the next convolution's pads`] : []),
      ...(hard > 0 ? [`${hard} relu6(x + 3) / 6 chains as HardSigmoid/HardSwish`] : []),
    ];
    return {
      format: 'onnx',
      source: loaded.source,
      kerasVersion: loaded.kerasVersion,
      outFile: out,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      opset: OPSET,
      irVersion: IR_VERSION,
      nodes: exported.message.graph.node.length,
      ops,
      initializers: exported.message.graph.initializer.length,
      params: loaded.model.countParams(),
      inputs: exported.inputs,
      outputs: exported.outputs,
      maxAbsDiff: check.maxAbsDiff,
      notes,
    };
  } finally {
    loaded.model.dispose();
  }
}

/** Writes beside the target and renames over it, so OUT is the old file or the whole new one, never a part. */
async function writeAtomically(out: string, bytes: Uint8Array): Promise<void> {
  const parent = dirname(out);
  const created = await mkdir(parent, { recursive: true }).catch((error) => {
    throw fsError(error, parent, 'create');
  });
  await cleanStaleTemps(out); // temp files of killed runs (lib/atomic-dir.ts names them the same way)
  const temp = join(parent, `.${basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temp, bytes);
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { force: true });
    if (created) await rm(created, { recursive: true, force: true });
    const errno = error as NodeJS.ErrnoException;
    const hint = errno.code === 'ENOSPC' ? 'free disk space, or write OUT on another disk' : undefined;
    throw errno.code === 'EISDIR'
      ? fsError(error, out, 'write', 'OUT.onnx is a folder: give a file path')
      : fsError(error, out, 'write', hint);
  }
}
