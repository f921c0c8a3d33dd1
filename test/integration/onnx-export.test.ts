// The ONNX export, row by row (test/cases/onnx-layers.json, plus one row per Keras major built from convert's
// activation table): each model is written as a real Keras file, converted to TF.js (convertKeras) and to ONNX
// (convertToOnnx), and ONNX Runtime must agree with TF.js within 1e-4 on seeded inputs. The written .onnx is decoded
// with the ONNX schema and checked (inputs, outputs, initializers, node counts). Refused rows: one error, nothing
// written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { convertKeras, fileModelHandler } from '../../src/convert/index.js';
import { ACTIVATIONS, LAYER_CLASSES } from '../../src/convert/layer-classes.js';
import { registerCustomLayers } from '../../src/handler/custom-layers.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { convertToOnnx, decodeModel, loadOrt, ONNX_LAYER_CLASSES } from '../../src/onnx/index.js';
import {
  functional,
  sequential,
  SpecBuilder,
  type Built,
  type InputDef,
  type LayerDef,
} from '../helpers/keras-specs.js';
import { writeKerasSpec, type SpecFormat, type SpecWeight } from '../helpers/keras-writer.js';

tf.env().set('PROD', true);
await tf.setBackend('cpu');
registerCustomLayers(tf);
const ort = loadOrt();

type JsonWeight = [string, number[], number?, number?] | { name: string; shape: number[]; int: number };
interface JsonLayer extends Omit<LayerDef, 'weights' | 'layers' | 'in'> {
  readonly in?: string[];
  readonly weights?: JsonWeight[];
  readonly layers?: JsonLayer[];
}
interface Row {
  readonly id: string;
  readonly covers: string[];
  readonly formats?: SpecFormat[];
  readonly inputs: InputDef[];
  readonly layers: JsonLayer[];
  readonly outputs?: string[];
  readonly sequential?: boolean;
  readonly via?: 'tfjs';
  readonly ops?: Record<string, number>;
  readonly refused?: string;
  readonly details?: string[];
}

const CASES = new URL('../cases/onnx-layers.json', import.meta.url);
const ROWS = (JSON.parse(readFileSync(CASES, 'utf8')) as { rows: Row[] }).rows;
const EXT: Record<SpecFormat, string> = { 'keras2-h5': 'k2.h5', 'keras3-keras': 'keras', 'keras3-h5': 'k3.h5' };
const TOLERANCE = 1e-4;

function layerDef(b: SpecBuilder, def: JsonLayer): LayerDef {
  const weight = (w: JsonWeight): SpecWeight =>
    Array.isArray(w) ? b.w(w[0], w[1], w[2], w[3]) : { name: w.name, shape: w.shape, values: Int32Array.of(w.int) };
  return { ...def, weights: def.weights?.map(weight), layers: def.layers?.map((inner) => layerDef(b, inner)) };
}

function buildRow(row: Row, seed: number): Built {
  const b = new SpecBuilder(seed);
  const layers = row.layers.map((def) => layerDef(b, def));
  return row.sequential ? sequential(row.inputs[0], layers) : functional(row.inputs, layers, row.outputs);
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-onnx-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A TF.js layers folder (what TF.js's model.save writes) of a spec: Dropout and friends kept. */
async function writeTfjsFolder(built: Built, dir: string): Promise<tf.LayersModel> {
  const model = await tf.models.modelFromJSON({ modelTopology: built.spec.config } as tf.io.ModelJSON);
  for (const [path, weights] of Object.entries(built.spec.weights)) {
    const layer = model.getLayer(path);
    layer.setWeights(weights.map((w) => tf.tensor(w.values as Float32Array, [...w.shape])));
  }
  await mkdir(dir, { recursive: true });
  await model.save({
    async save(artifacts) {
      await writeFile(join(dir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      const manifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const json = { format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: manifest };
      await writeFile(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  return model;
}

/** ONNX Runtime and TF.js on the same seeded inputs (batch 2): every output within 1e-4 (relative above 1). */
async function compare(onnxFile: string, model: tf.LayersModel, built: Built, seed: number, label: string) {
  const session = await ort.InferenceSession.create(onnxFile, { intraOpNumThreads: 1 });
  try {
    const random = new SpecBuilder(seed + 1000);
    const values = built.inputs.map((input) => random.values(input));
    const feeds = Object.fromEntries(
      session.inputNames.map((name, i) => [name, new ort.Tensor('float32', values[i], [2, ...built.inputs[i].shape])]),
    );
    const results = await session.run(feeds);
    const tensors = values.map((v, i) => tf.tensor(v, [2, ...built.inputs[i].shape]));
    const want = [model.predict(tensors.length === 1 ? tensors[0] : tensors)].flat() as tf.Tensor[];
    assert.equal(session.outputNames.length, want.length, `${label}: outputs`);
    session.outputNames.forEach((name, i) => {
      const got = results[name];
      assert.deepEqual([...got.dims], want[i].shape, `${label}: output ${name} shape`);
      const data = want[i].dataSync();
      const onnx = got.data as Float32Array;
      let worst = 0;
      data.forEach((v, j) => (worst = Math.max(worst, Math.abs(onnx[j] - v) / Math.max(1, Math.abs(v)))));
      assert.ok(worst <= TOLERANCE, `${label}: output ${name} differs from TF.js by ${worst}`);
    });
    tf.dispose([...tensors, ...want]);
  } finally {
    await session.release();
  }
}

/** The written file, decoded with the schema, matches the report; node counts as the row says. */
async function checkFile(onnxFile: string, report: Awaited<ReturnType<typeof convertToOnnx>>, row: Row) {
  const bytes = await readFile(onnxFile);
  assert.equal(bytes.length, report.bytes);
  const model = decodeModel(bytes);
  assert.equal(model.ir_version, 8);
  assert.deepEqual(model.opset_import, [{ domain: '', version: 17 }]);
  const graph = model.graph;
  assert.deepEqual(
    graph.input.map((v: any) => v.name),
    report.inputs.map((v) => v.name),
  );
  assert.deepEqual(
    graph.output.map((v: any) => v.name),
    report.outputs.map((v) => v.name),
  );
  for (const [value, want] of graph.input.map((v: any, i: number) => [v, report.inputs[i].shape])) {
    const dims = value.type.tensor_type.shape.dim.map((d: any) => d.dim_value ?? null);
    assert.deepEqual(dims, want, `input ${value.name} dims (NHWC kept)`);
  }
  const initializers = graph.initializer ?? []; // an empty repeated field is not in the decoded object
  assert.equal(initializers.length, report.initializers);
  for (const tensor of initializers) {
    const count = (tensor.dims ?? []).reduce((a: number, b: number) => a * b, 1);
    assert.equal(tensor.raw_data?.length ?? 0, count * (tensor.data_type === 7 ? 8 : 4), `${tensor.name} raw_data`);
  }
  assert.equal(graph.node.length, report.nodes);
  const ops: Record<string, number> = {};
  for (const node of graph.node) ops[node.op_type] = (ops[node.op_type] ?? 0) + 1;
  assert.deepEqual(ops, report.ops);
  for (const [op, count] of Object.entries(row.ops ?? {})) assert.equal(ops[op] ?? 0, count, `${row.id}: ${op} nodes`);
}

async function runRow(row: Row, seed: number): Promise<void> {
  const built = buildRow(row, seed);
  const formats = row.via === 'tfjs' ? (['tfjs'] as const) : (row.formats ?? ['keras2-h5']);
  for (const format of formats) {
    await withDir(async (dir) => {
      const onnxFile = join(dir, 'model.onnx');
      let source: string;
      let model: tf.LayersModel;
      if (format === 'tfjs') {
        source = join(dir, 'tfjs');
        model = await writeTfjsFolder(built, source);
      } else {
        source = join(dir, `model.${EXT[format]}`);
        await writeKerasSpec(source, format, built.spec);
        if (row.refused) {
          await writeFile(onnxFile, 'the previous output');
          const error = await convertToOnnx(source, onnxFile, `model.${EXT[format]}`).catch((e: unknown) => e);
          assert.ok(error instanceof LambdaMlError, `${row.id}: expected a LambdaMlError, got ${String(error)}`);
          assert.match(error.message, new RegExp(row.refused));
          assert.equal(error.details.length, row.details?.length ?? 0, error.details.join('\n'));
          error.details.forEach((line, i) => assert.match(line, new RegExp(row.details![i])));
          assert.equal(await readFile(onnxFile, 'utf8'), 'the previous output', 'OUT left as it was');
          const names = await readdir(dir);
          assert.deepEqual(
            names.filter((name) => name.includes('.tmp-')),
            [],
            'no temp file left',
          );
          return;
        }
        await convertKeras(source, join(dir, 'tfjs'));
        model = await tf.loadLayersModel(fileModelHandler(join(dir, 'tfjs')));
      }
      try {
        const report = await convertToOnnx(source, onnxFile);
        assert.ok(report.maxAbsDiff <= TOLERANCE, `${row.id} ${format}: the converter's own check`);
        await checkFile(onnxFile, report, row);
        await compare(onnxFile, model, built, seed, `${row.id} ${format}`);
      } finally {
        model.dispose();
      }
    });
  }
}

let seed = 500;
for (const row of ROWS) {
  const rowSeed = seed++;
  test(`onnx ${row.id}: ${(row.via ? [row.via] : (row.formats ?? ['keras2-h5'])).join(', ')}`, () =>
    runRow(row, rowSeed));
}

/** One row per Keras major: every activation convert takes, as a Dense activation and as an Activation layer. */
function activationRow(major: 2 | 3): Row {
  const names = ACTIVATIONS.filter((a) => a.status !== 'refused' && (a.keras === '2+3' || a.keras === String(major)))
    .map((a) => a.name)
    .filter((name, i, all) => all.indexOf(name) === i);
  const layers: JsonLayer[] = names.flatMap((name) => [
    {
      cls: 'Dense',
      name: `d_${name}`,
      config: { units: 3, activation: name, use_bias: true },
      weights: [
        ['kernel', [4, 3], -1, 1],
        ['bias', [3]],
      ],
      in: ['x'],
    },
    { cls: 'Activation', name: `a_${name}`, config: { activation: name }, in: ['x'] },
  ]);
  const all = layers.map((layer) => layer.name);
  layers.push({ cls: 'Concatenate', name: 'all', config: { axis: -1 }, in: all });
  // Keras 3's hard_silu and hard_swish (as Dense activations and as layers) become HardSwish, hard_sigmoid HardSigmoid
  const ops = major === 3 ? { HardSwish: 4, HardSigmoid: 2, Clip: 2 } : undefined;
  return {
    id: `activations-keras${major}`,
    covers: ['Activation'],
    formats: [major === 2 ? 'keras2-h5' : 'keras3-keras'],
    inputs: [{ name: 'x', shape: [4], range: [-4, 4] }],
    layers,
    ops,
  };
}

for (const major of [2, 3] as const) {
  const rowSeed = seed++;
  test(`onnx activations of Keras ${major} (convert's activation table)`, () => runRow(activationRow(major), rowSeed));
}

test('every class of the ONNX table is covered by a row; rows name real classes', () => {
  const covered = new Set(ROWS.flatMap((row) => row.covers));
  covered.add('Activation');
  const missing = ONNX_LAYER_CLASSES.map((entry) => entry.className).filter((name) => !covered.has(name));
  assert.deepEqual(missing, [], `classes without a row in test/cases/onnx-layers.json`);
  const known = new Set([...ONNX_LAYER_CLASSES, ...LAYER_CLASSES].map((entry) => entry.className));
  const unknown = [...covered].filter((name) => !known.has(name));
  assert.deepEqual(unknown, [], 'covers names that are in neither table');
});
