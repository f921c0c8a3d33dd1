/**
 * What `budget` assumes of the onnx backend: the session's memory (src/plan/memory.ts) covers what `npm run bench
 * onnx` measured on both models, and the cost estimate uses onnx's time per model (src/cost/timing.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESTIMATE_MS, imageTime, MODEL_MS_BY_BACKEND } from '../../src/cost/timing.js';
import { MiB } from '../../src/lib/limits.js';
import { onnxMemoryBytes } from '../../src/plan/memory.js';
import { tfjsBackendOf } from '../../src/pipeline/model-backends.js';

// npm run bench onnx (2026-12-01): float32 weights and the RSS growth of session create + first run beyond them;
// loading the library adds ~10 MiB more (require('onnxruntime-node') in a fresh Node).
const MEASURED = [
  { model: 'nsfwjs MobileNetV2', weights: 10_500_000, arena: 59_236_076 },
  { model: 'ResNet50-shaped', weights: 102_500_000, arena: 198_644_320 },
];
const LIBRARY = 10 * MiB;

for (const row of MEASURED) {
  test(`onnx memory covers the measured ${row.model} session, within 15%`, () => {
    const measured = row.weights + row.arena + LIBRARY;
    const estimate = onnxMemoryBytes(row.weights);
    assert.ok(estimate >= measured, `${estimate} < ${measured}`);
    assert.ok(estimate <= measured * 1.15, `${estimate} is more than 15% over ${measured}`);
  });
}

test("the cost estimate takes each model's backend; all on wasm reads as before", () => {
  const wasm = imageTime({ memoryMb: 1769, models: 2 });
  assert.equal(wasm.msOnOneCpu, ESTIMATE_MS.perRecord + 2 * ESTIMATE_MS.perModel);
  assert.match(wasm.label, /for 2 model\(s\), scaled/);
  const onnx = imageTime({ memoryMb: 1769, models: 2, backends: ['onnx', 'onnx'] });
  assert.equal(onnx.msOnOneCpu, ESTIMATE_MS.perRecord + 2 * MODEL_MS_BY_BACKEND.onnx);
  assert.match(onnx.label, /for 2 model\(s\) on onnx, /);
  const mixed = imageTime({ memoryMb: 1769, models: 2, backends: ['onnx', 'wasm'] });
  assert.equal(mixed.msOnOneCpu, ESTIMATE_MS.perRecord + MODEL_MS_BY_BACKEND.onnx + MODEL_MS_BY_BACKEND.wasm);
  assert.match(mixed.label, / on onnx\/wasm, /);
  assert.ok(
    MODEL_MS_BY_BACKEND.onnx < MODEL_MS_BY_BACKEND.wasm / 5,
    'measured 0.091x wasm at one thread (quiet machine)',
  );
});

test('the TF.js backend of the models on TF.js: the one named, else wasm', () => {
  const model = (backend: 'auto' | 'onnx' | 'cpu' | null) => ({ backend });
  assert.equal(tfjsBackendOf({ backend: 'auto', models: [model(null)] }), 'wasm');
  assert.equal(tfjsBackendOf({ backend: 'onnx', models: [model('cpu')] }), 'cpu');
  assert.equal(tfjsBackendOf({ backend: 'tensorflow', models: [model('onnx')] }), 'tensorflow');
});
