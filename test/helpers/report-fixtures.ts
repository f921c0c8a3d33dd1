/**
 * A small project as literals, put through the real pure stages (stripLayers, pruneSafe with no fs, planBudget), for
 * the report tests: code, Node deps (nested, a layer-provided package, source maps, a .node, a versioned .so, a
 * .wasm, many tiny files), one layer and one model in S3.
 */
import { validateConfig } from '../../src/config/validate.js';
import { pruneSafe } from '../../src/measure/prune.js';
import { planBudget } from '../../src/plan/plan-budget.js';
import { stripLayers } from '../../src/plan/strip.js';
import { recordFor } from '../../src/runtimes/registry.js';
import type { FileEntry, PackageInfo, Scan } from '../../src/types.js';
import type { ReportInput } from '../../src/report/classify.js';

export interface FixturePackage {
  readonly name: string;
  readonly version: string;
  readonly path: string;
  /** Paths inside the package folder, with their bytes. */
  readonly files: Readonly<Record<string, number>>;
}

/** 120 tiny files: the case the tree merges into one "smaller files" box. */
const tinyName = (i: number) => `fp/f${String(i).padStart(3, '0')}.js`;
const tinyFiles = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [tinyName(i), 400]));

export const FIXTURE_PACKAGES: readonly FixturePackage[] = [
  {
    name: 'sharp',
    version: '0.33.5',
    path: 'node_modules/sharp',
    files: { 'package.json': 2_000, 'lib/index.js': 20_000, 'build/Release/sharp.node': 300_000, 'README.md': 5_000 },
  },
  {
    name: '@img/sharp-libvips-linux-x64',
    version: '1.0.4',
    path: 'node_modules/@img/sharp-libvips-linux-x64',
    files: { 'package.json': 1_000, 'lib/libvips-cpp.so.42': 7_000_000 },
  },
  {
    name: 'semver',
    version: '7.6.0',
    path: 'node_modules/sharp/node_modules/semver',
    files: { 'package.json': 500, 'index.js': 10_000 },
  },
  {
    name: 'lodash',
    version: '4.17.21',
    path: 'node_modules/lodash',
    files: {
      'package.json': 1_000,
      'lodash.js': 540_000,
      'lodash.js.map': 900_000,
      ...tinyFiles,
      'deep/a/side.js': 20_000,
      'deep/a/b/c/d/e/deep.js': 30_000,
    },
  },
  {
    name: '@tensorflow/tfjs-backend-wasm',
    version: '4.22.0',
    path: 'node_modules/@tensorflow/tfjs-backend-wasm',
    files: {
      'package.json': 1_500,
      'dist/tfjs-backend-wasm.wasm': 400_000,
      'dist/index.js': 200_000,
      'dist/index.js.map': 800_000,
    },
  },
  {
    name: 'aws-sdk',
    version: '2.1.0',
    path: 'node_modules/aws-sdk',
    files: { 'package.json': 1_000, 'lib/core.js': 3_000_000 },
  },
  {
    name: 'weird<name>',
    version: '1.0.0',
    path: 'node_modules/weird<name>',
    files: { 'package.json': 300, 'x<script>.js': 60_000 },
  },
];

export interface FixtureOptions {
  readonly plan?: 'auto' | 'bundle' | 'sideload-bundled' | 'sideload-s3';
  readonly packages?: readonly FixturePackage[];
  readonly depsZipBytes?: number | null;
}

/** The scan of the fixture project. */
export function fixtureScan(packages: readonly FixturePackage[] = FIXTURE_PACKAGES): Scan {
  const infos: PackageInfo[] = [];
  const entries: FileEntry[] = [];
  for (const pkg of packages) {
    let bytes = 0;
    for (const [inner, size] of Object.entries(pkg.files)) {
      entries.push({ path: `${pkg.path}/${inner}`, bytes: size, mode: 0o100644, link: null, owner: pkg.path });
      bytes += size;
    }
    const files = Object.keys(pkg.files).length;
    infos.push({ name: pkg.name, version: pkg.version, path: pkg.path, bytes, files, topLevel: [pkg.name] });
  }
  entries.push({ path: 'node_modules/.package-lock.json', bytes: 3_000, mode: 0o100644, link: null, owner: null });
  const link = '../semver/bin/semver.js';
  entries.push({ path: 'node_modules/.bin/semver', bytes: 0, mode: 0o120777, link, owner: null });
  const depsBytes = entries.reduce((t, e) => t + e.bytes, 0);
  return {
    code: {
      root: '/p/src',
      bytes: 1_200,
      files: 1,
      entries: [{ path: 'extra.js', bytes: 1_200, mode: 0o100644, link: null, owner: null }],
    },
    deps: {
      root: '/p',
      kind: 'node',
      bytes: depsBytes,
      files: entries.length - 1,
      packages: infos,
      unowned: { bytes: 3_000, files: 1, sample: ['node_modules/.package-lock.json'] },
      entries,
    },
    layers: [
      {
        name: 'sdk',
        source: 'zip',
        location: '/p/layers/sdk.zip',
        bytes: 2_000_000,
        zipBytes: 600_000,
        files: 40,
        provides: [{ name: 'aws-sdk', version: '2.1.0', kind: 'node', topLevel: ['aws-sdk'] }],
      },
    ],
    models: [
      {
        name: 'content',
        format: 'tfjs-layers',
        bytes: 2_550_000,
        memoryBytes: 10_000_000,
        location: 's3',
        quantization: 'uint8',
        files: [
          { path: '/p/models/content/model.json', bytes: 50_000 },
          { path: '/p/models/content/group1-shard1of1.bin', bytes: 2_500_000 },
        ],
      },
    ],
  };
}

/** Scan + strip + prune + plan, as runBudget() returns them (without fs). */
export function fixtureRun(options: FixtureOptions = {}): ReportInput {
  const scan = fixtureScan(options.packages);
  const raw = { function: { name: 'fn', runtime: 'nodejs24.x' }, plan: options.plan ?? 'auto' };
  const config = validateConfig(raw, '/p');
  const isSideload = options.plan !== undefined && options.plan !== 'auto' && options.plan !== 'bundle';
  const record = recordFor(config);
  const strip = stripLayers(scan, record.match);
  const prune = pruneSafe(strip.kept, 'node', null);
  const budget = planBudget({
    scan,
    config,
    strip,
    handlerBytes: 60_000,
    codeZipBytes: 20_000,
    prune: { mode: prune.mode, savedBytes: prune.savedBytes, rules: prune.rules },
    depsZipBytes: options.depsZipBytes === undefined ? (isSideload ? 4_000_000 : null) : options.depsZipBytes,
    bundleZipBytes: null,
    runtime: record,
  });
  return { budget, scan, strip, prune };
}
