/**
 * The "starter" project of the bad-input table (test/cli/bad-inputs.test.ts): a small valid lambda-ml project on
 * which `budget` exits 0. Built once per run in the OS temp dir; each row gets its own copy (copyStarterProject).
 * models/m is a real TF.js layers model (Conv2D, GlobalAveragePooling2D, Dense(3, softmax)) written by TF.js itself.
 */
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The starter's config, as written to lambda-ml.config.json (rows deep-merge their "config" into it). */
export const STARTER_CONFIG = {
  function: { name: 'bad-inputs', runtime: 'nodejs24.x', memoryMb: 2048, ephemeralStorageMb: 512 },
  region: 'eu-west-1',
  deps: 'node_modules',
  models: [
    {
      name: 'm',
      path: 'models/m',
      s3: 's3://bad-inputs-models/m/',
      labels: 'models/m/labels.json',
      input: { width: 224, height: 224 },
    },
  ],
  artifacts: { bucket: 'bad-inputs-artifacts' },
  trigger: { bucket: 'bad-inputs-assets', prefix: 'images/' },
  prune: 'safe',
} as const;

/** The labels of models/m, one per output unit of its Dense layer. */
export const STARTER_LABELS = ['a', 'b', 'c'] as const;

/** Two tiny fake packages (one scoped), enough for the deps scan to find packages. */
const FAKE_PACKAGES: Record<string, string> = {
  'node_modules/tiny-a/package.json': JSON.stringify({ name: 'tiny-a', version: '1.0.0', main: 'index.js' }),
  'node_modules/tiny-a/index.js': 'export const a = 1;\n',
  'node_modules/@bad-inputs/tiny-b/package.json': JSON.stringify({
    name: '@bad-inputs/tiny-b',
    version: '2.1.0',
    main: 'index.js',
  }),
  'node_modules/@bad-inputs/tiny-b/index.js': 'module.exports = { b: 2 };\n',
  'node_modules/@bad-inputs/tiny-b/README.md': '# tiny-b\n',
};

let building: Promise<string> | undefined;

/** The starter project's folder (built on first call, then reused for the whole process). */
export function starterProject(): Promise<string> {
  building ??= buildStarterProject();
  return building;
}

/** A fresh copy of the starter project at `dest` (which must not exist). */
export async function copyStarterProject(dest: string): Promise<void> {
  await cp(await starterProject(), dest, { recursive: true, verbatimSymlinks: true });
}

async function buildStarterProject(): Promise<string> {
  // Not "lambda-ml-…": the table checks that the CLI leaves no lambda-ml-* entries in the temp dir.
  const dir = join(await mkdtemp(join(tmpdir(), 'bad-inputs-starter-')), 'project');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'lambda-ml.config.json'), JSON.stringify(STARTER_CONFIG, null, 2) + '\n');
  for (const [path, text] of Object.entries(FAKE_PACKAGES)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  await writeTinyModel(join(dir, 'models', 'm'));
  await writeFile(join(dir, 'models', 'm', 'labels.json'), JSON.stringify(STARTER_LABELS) + '\n');
  return dir;
}

/** Writes a seeded TF.js layers model (model.json + one weight shard) through a custom IOHandler. */
export async function writeTinyModel(dir: string): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  tf.env().set('PROD', true); // no "install tfjs-node" banner in the test output
  await mkdir(dir, { recursive: true });
  const seed = (n: number) => tf.initializers.glorotUniform({ seed: n });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [224, 224, 3],
        filters: 4,
        kernelSize: 3,
        strides: 2,
        activation: 'relu',
        kernelInitializer: seed(1),
      }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: STARTER_LABELS.length, activation: 'softmax', kernelInitializer: seed(2) }),
    ],
  });
  const shard = 'group1-shard1of1.bin';
  await model.save({
    async save(artifacts) {
      const data = artifacts.weightData as ArrayBuffer;
      await writeFile(join(dir, shard), Buffer.from(data));
      const json = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(dir, 'model.json'), JSON.stringify(json));
      const info = { dateSaved: new Date(), modelTopologyType: 'JSON' as const, weightDataBytes: data.byteLength };
      return { modelArtifactsInfo: info };
    },
  });
  model.dispose();
}
