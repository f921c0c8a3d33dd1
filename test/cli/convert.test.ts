/**
 * `lambda-ml convert` and `package` with an .h5 model, as real processes, on the real Keras files in
 * ../shared/fixtures.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { copyStarterProject } from '../helpers/bad-input-project.js';
import { hasAnsi, runBin, runCli } from '../helpers/cli.js';
import { assertOneLineError, cleanStderr, exampleProject, tempDir } from '../helpers/cli-procs.js';

const H5 = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/keras-h5');
const skip = existsSync(H5)
  ? false
  : `the real Keras files are not at ${H5} (the shared fixtures folder sits next to the repo)`;
const LENET = join(H5, 'tensorspace_combined_keras_model.h5');
const LENET_SEQ = join(H5, 'tensorspace_combined_keras_seq_model.h5');
const WEIGHTS_ONLY = join(H5, 'tensorspace_separated_weights.h5');

test(
  'convert IN OUT: exit 0, a TF.js layers model in OUT; human output names layers, parameters and bytes',
  { skip },
  async (t) => {
    const dir = await tempDir(t, 'lambda-ml-convert-');
    const result = await runBin(['convert', LENET, 'lenet'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!hasAnsi(result.stdout));
    assert.match(result.stdout, /^✓ converted keras-h5 \(Keras 2\.1\.6\) to lenet\/: 10 layers, 44,426 parameters$/m);
    assert.match(result.stdout, /^ {2}weights 174 KiB -> 174 KiB$/m);
    const model = JSON.parse(await readFile(join(dir, 'lenet', 'model.json'), 'utf8'));
    assert.equal(model.format, 'layers-model');
    assert.ok(model.modelTopology);
    for (const path of model.weightsManifest.flatMap((group: { paths: string[] }) => group.paths))
      assert.ok(existsSync(join(dir, 'lenet', path)), path);
  },
);

test('convert --quantize uint8 --json: one document, the weights 75% smaller', { skip }, async (t) => {
  const dir = await tempDir(t, 'lambda-ml-convert-');
  const plain = JSON.parse((await runBin(['convert', LENET_SEQ, 'plain', '--json'], { cwd: dir })).stdout);
  const result = await runBin(['convert', LENET_SEQ, 'small', '--quantize', 'uint8', '--json'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(result.stdout, `${JSON.stringify(body, null, 2)}\n`, 'stdout is the one JSON document');
  assert.equal(body.ok, true);
  assert.equal(body.quantize, 'uint8');
  assert.equal(body.bytesBefore, plain.bytesAfter);
  assert.ok(body.bytesAfter < body.bytesBefore, `${body.bytesAfter} < ${body.bytesBefore}`);
  assert.ok(body.bytesAfter <= Math.ceil(body.bytesBefore / 4) + 64, 'about a quarter of float32');
  assert.ok(body.maxAbsDiff > 0 && body.maxAbsDiff < 0.05, `max difference ${body.maxAbsDiff}`);
  assert.equal(body.outDir, join(dir, 'small'));
  const model = JSON.parse(await readFile(join(dir, 'small', 'model.json'), 'utf8'));
  assert.ok(
    model.weightsManifest[0].weights.every(
      (w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'uint8',
    ),
  );
});

test(
  'bad inputs exit 2 with one line and write nothing: weights-only, not HDF5, --quantize int4, missing file',
  { skip },
  async (t) => {
    const dir = await tempDir(t, 'lambda-ml-convert-');
    const cases: [string[], RegExp][] = [
      [['convert', WEIGHTS_ONLY, 'a'], /weights only \(no model_config\)/],
      [['convert', 'notes.h5', 'b'], /not an HDF5 file/],
      [['convert', LENET, 'c', '--quantize', 'int4'], /--quantize must be auto, uint8 or float16 \(got "int4"\)/],
      [['convert', 'missing.h5', 'd'], /missing\.h5 not found/],
    ];
    await writeFile(join(dir, 'notes.h5'), 'just text, not a model\n');
    for (const [args, pattern] of cases) {
      const result = await runBin(args, { cwd: dir });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assertOneLineError(result.stderr, pattern);
      assert.ok(!existsSync(join(dir, args[2])), `${args[2]}/ was not created`);
    }
    // under --json the error is the document on stdout
    const json = await runBin(['convert', WEIGHTS_ONLY, 'e', '--json'], { cwd: dir });
    assert.equal(json.code, 2);
    assert.equal(JSON.parse(json.stdout).error.exitCode, 2);
    assert.equal(cleanStderr(json.stderr), '');
  },
);

test(
  'package with an .h5 model path converts it on the fly: the staged model is a TF.js model.json',
  { skip },
  async (t) => {
    const project = await exampleProject(t, (config) => {
      config.backend = 'wasm'; // TF.js output: backend auto would export ONNX (docs/config.md)
      config.models = [
        {
          name: 'digits',
          path: LENET,
          s3: 's3://lambda-ml-demo-models/digits/',
          labels: 'labels.json',
          input: { width: 28, height: 28, range: [0, 1] },
          topK: 3,
          tag: 'digit',
        },
      ];
    });
    await writeFile(join(project, 'labels.json'), JSON.stringify(Array.from({ length: 10 }, (_, i) => String(i))));
    const result = await runBin(['package', '--out', 'out', '--json'], { cwd: project });
    assert.equal(result.code, 0, result.stderr);
    const { manifest } = JSON.parse(result.stdout);
    const [staged] = manifest.artifacts.models;
    assert.equal(staged.name, 'digits');
    assert.deepEqual(staged.files.map((f: { name: string }) => f.name).sort(), ['group1-shard1of1.bin', 'model.json']);
    const runtimeModel = manifest.runtime.models[0];
    assert.equal(runtimeModel.format, 'tfjs-layers');
    assert.deepEqual(runtimeModel.input, { width: 28, height: 28, range: [0, 1] });
    const out = join(project, 'out', staged.dir);
    const model = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    assert.equal(model.format, 'layers-model');
    assert.deepEqual(model.weightsManifest[0].paths, ['group1-shard1of1.bin']);
    for (const file of staged.files) {
      const data = await readFile(join(out, file.name));
      assert.equal(data.length, file.bytes);
      assert.equal(createHash('sha256').update(data).digest('hex'), file.sha256);
    }
  },
);

/** `convert models/m out --quantize uint8 --json` in a copy of the bad-input starter project (models/m: 224x224x3). */
async function quantizeRun(project: string, extra: readonly string[], cwd = project) {
  const out = join(project, `out-${Math.random().toString(36).slice(2)}`);
  const result = await runCli(
    [
      'convert',
      relative(cwd, join(project, 'models', 'm')),
      relative(cwd, out),
      '--quantize',
      'uint8',
      '--json',
      ...extra,
    ],
    { cwd },
  );
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const body = JSON.parse(result.stdout);
  return {
    maxAbsDiff: body.quantization.maxAbsDiff as number,
    input: body.quantization.normalisation,
    from: body.quantization.normalisationFrom as string,
  };
}

test('convert --quantize --config: calibration uses the input of the config model at IN; flags win', async (t) => {
  const project = join(await tempDir(t, 'lambda-ml-convert-config-'), 'project');
  await copyStarterProject(project);
  const configFile = join(project, 'lambda-ml.config.json');
  const setInput = async (input: object) => {
    const config = JSON.parse(await readFile(configFile, 'utf8'));
    config.models[0].input = input;
    await writeFile(configFile, JSON.stringify(config));
  };
  const plain = await quantizeRun(project, []);
  assert.equal(plain.from, 'defaults');
  assert.deepEqual(plain.input, {
    width: 224,
    height: 224,
    range: [0, 1],
    channels: 'rgb',
    mean: [0, 0, 0],
    std: [1, 1, 1],
  });
  const stats = { width: 224, height: 224, range: [-1, 1], mean: [0.2, -0.1, 0.3], std: [0.5, 0.25, 2] };
  await setInput(stats);
  // from a sub-folder: IN against the cwd, the config's paths against its own folder
  await mkdir(join(project, 'sub'));
  const fromConfig = await quantizeRun(project, ['--config', '../lambda-ml.config.json'], join(project, 'sub'));
  assert.equal(fromConfig.from, 'models[0] "m" of ../lambda-ml.config.json');
  assert.deepEqual(fromConfig.input, { ...stats, channels: 'rgb' });
  // what the calibration used: the same flags without the config give the same drift; the defaults another
  const flags = ['--range', '-1,1', '--mean', '0.2,-0.1,0.3', '--std', '0.5,0.25,2'];
  const sameByFlags = await quantizeRun(project, flags);
  assert.equal(sameByFlags.from, 'flags');
  assert.equal(sameByFlags.maxAbsDiff, fromConfig.maxAbsDiff);
  assert.notEqual(plain.maxAbsDiff, fromConfig.maxAbsDiff);
  // a different mean in the config changes it
  await setInput({ ...stats, mean: [0.6, 0.6, 0.6] });
  const otherMean = await quantizeRun(project, ['--config', 'lambda-ml.config.json']);
  assert.deepEqual(otherMean.input.mean, [0.6, 0.6, 0.6]);
  assert.notEqual(otherMean.maxAbsDiff, fromConfig.maxAbsDiff);
  // a flag wins over the config, key by key
  const overridden = await quantizeRun(project, ['--config', 'lambda-ml.config.json', '--mean', '0.2,-0.1,0.3']);
  assert.equal(overridden.from, 'models[0] "m" of lambda-ml.config.json, --mean from the command line');
  assert.deepEqual(overridden.input, { ...stats, channels: 'rgb' });
  assert.equal(overridden.maxAbsDiff, fromConfig.maxAbsDiff);
});
