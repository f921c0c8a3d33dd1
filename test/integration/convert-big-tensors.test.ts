// Big weights are read from HDF5 and written to shards by 4 MiB slices into reused buffers (src/convert/read-tensor.ts,
// write-tfjs.ts): the values, the uint8 grid and the encoded bytes must be exactly what whole-tensor reads give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../src/convert/compare.js';
import { floatToHalf, halfToFloat, roundToHalf } from '../../src/convert/float16.js';
import { getDataset, h5Ready, openHdf5 } from '../../src/convert/h5-file.js';
import { quantizeUint8, uint8Grid } from '../../src/convert/quantize.js';
import { float32SlicesReused, readFloat32Into, readTensor } from '../../src/convert/read-tensor.js';
import type { WeightBinding } from '../../src/convert/types.js';
import { writeTfjsModel } from '../../src/convert/write-tfjs.js';

/** Shapes on each side of the slicing: several slices, a row wider than a slice (whole reads), a small vector. */
const CASES: { name: string; shape: number[] }[] = [
  { name: 'wide', shape: [1100, 1000] },
  { name: 'one_row_over_4mib', shape: [2, 1_048_580] },
  { name: 'small', shape: [300] },
];

async function writeH5(path: string): Promise<Map<string, Float32Array>> {
  const h5wasm = await h5Ready();
  const file = new h5wasm.File(path, 'w');
  const random = seededRandom(5);
  const values = new Map<string, Float32Array>();
  try {
    for (const { name, shape } of CASES) {
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 8 - 3);
      file.create_dataset({ name, data, shape, dtype: '<f' });
      values.set(name, data);
    }
  } finally {
    file.close();
  }
  return values;
}

test('slices into reused buffers give the whole-tensor values, grid and bytes (uint8, float16, float32)', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'lm-big-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const path = join(work, 'big.h5');
  const expected = await writeH5(path);
  const file = await openHdf5(path);
  t.after(() => file.close());
  const bindings: WeightBinding[] = CASES.map(({ name, shape }) => ({
    name: `layer/${name}`,
    shape,
    dataset: getDataset(file, name)!,
  }));
  for (const binding of bindings) {
    const want = expected.get(binding.name.split('/')[1])!;
    assert.deepEqual(readTensor(binding.dataset, path).values, want);
    const out = new Float32Array(want.length + 7);
    assert.deepEqual(readFloat32Into(binding.dataset, out, path), want, binding.name);
    let seen = 0;
    for (const slice of float32SlicesReused(binding.dataset, path)) {
      assert.ok(slice.byteLength <= Math.max(4_194_304, want.byteLength / binding.shape[0]), 'at most a slice');
      seen += slice.length;
    }
    assert.equal(seen, want.length);
  }
  for (const mode of ['uint8', 'float16', undefined] as const) {
    const dir = join(work, mode ?? 'float32');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    const source = { kerasVersion: '2.2.4', backend: 'tensorflow', modelConfig: {} };
    await writeTfjsModel(source, bindings, dir, mode, path);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    const shards = json.weightsManifest[0].paths as string[];
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', ...shards].sort());
    const bytes = Buffer.concat(await Promise.all(shards.map((name) => readFile(join(dir, name)))));
    let offset = 0;
    json.weightsManifest[0].weights.forEach((entry: { name: string; quantization?: object }) => {
      const values = expected.get(entry.name.split('/')[1])!;
      let want: Uint8Array;
      if (mode === 'uint8') {
        const encoded = quantizeUint8(values);
        assert.deepEqual(entry.quantization, encoded.quantization);
        want = encoded.bytes;
      } else if (mode === 'float16') {
        assert.deepEqual(entry.quantization, { dtype: 'float16' });
        want = new Uint8Array(floatToHalf(values).buffer);
      } else want = new Uint8Array(values.buffer);
      assert.ok(bytes.subarray(offset, offset + want.length).equals(want), `${mode} ${entry.name}`);
      offset += want.length;
    });
    assert.equal(offset, bytes.length);
  }
  // uint8 with the grids the search already computed (one read less) writes the same bytes
  const grids = new Map(bindings.map((b) => [b.name, uint8Grid(expected.get(b.name.split('/')[1])!)] as const));
  const known = join(work, 'uint8-known');
  await mkdir(known);
  const source = { kerasVersion: '2.2.4', backend: 'tensorflow', modelConfig: {} };
  await writeTfjsModel(source, bindings, known, 'uint8', path, grids);
  for (const name of await readdir(join(work, 'uint8')))
    assert.ok((await readFile(join(known, name))).equals(await readFile(join(work, 'uint8', name))), name);
});

test('roundToHalf is floatToHalf then halfToFloat, in place too', () => {
  const values = Float32Array.from([0, -0, 1, -1.5, 65504, 65520, 1e-8, 5.96e-8, 6.1e-5, Number.NaN, -Infinity, 0.1]);
  const want = halfToFloat(floatToHalf(values));
  assert.deepEqual(roundToHalf(values, new Float32Array(values.length)), want);
  const copy = values.slice();
  assert.deepEqual(roundToHalf(copy, copy), want);
});
