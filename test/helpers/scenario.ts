/**
 * The product's source scenario as a generated fixture: a Python Lambda whose `pip install -t deps`
 * folder is 415 MB (tensorflow 1.8.0, Keras 2.2.4, Pillow 5.4.1, boto3 1.9.137 and their deps, plus
 * numpy 1.16.3, colorgram.py 1.2.0 and webcolors 1.8.1 = 81 MB), a 230 MB layer zip providing
 * everything but those three, two 159 MB Keras models and 1 MB of code. Sizes are DECIMAL and exact.
 *
 * `scale` multiplies every byte target (0.01 makes a 4 MB tree for fast tests) and adds config `limits`
 * scaled the same way. Only the unzipped and direct-zip limits scale: /tmp (ephemeralStorageMb) and memory
 * are configured in MB and stay as given, so a scaled scenario exercises those checks trivially.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Rng, WORDS, makeBinaryPool, makeElfHeader, makeRng, makeTextPool, poolSlices } from './content.js';

/** Bump when the generated output changes: cached scenarios with another version are rebuilt. */
export const SCENARIO_GENERATOR_VERSION = 3;

/** Knobs of the generated scenario; all optional. */
export interface ScenarioOptions {
  readonly models?: number; // default 2 (category, color); 3 adds style
  readonly layer?: boolean; // default true
  readonly ephemeralStorageMb?: number; // default 512
  readonly scale?: number; // default 1; multiplies every byte total, keeping proportions
  readonly seed?: string; // default 'lambda-ml'
}

/** A generated scenario: absolute paths and the byte/file totals actually written. */
export interface Scenario {
  readonly dir: string;
  readonly configPath: string;
  readonly depsDir: string;
  readonly layerZip: string | null;
  readonly modelPaths: readonly string[];
  readonly codeDir: string;
  readonly expected: {
    depsBytes: number; // every file under deps/
    depsFiles: number;
    keptBytes: number; // numpy + colorgram.py + webcolors, incl. dist-info, bin scripts and __pycache__
    layerBytes: number; // sum of the zip's uncompressed entry sizes
    layerFiles: number; // file entries (not folders) in the zip
    modelBytes: number; // all model files together
    codeBytes: number;
  };
}

/** Byte targets at scale 1 (decimal MB). */
export const SCENARIO_BYTES = {
  deps: 415_000_000,
  kept: 81_000_000,
  layer: 230_000_000,
  model: 159_000_000,
  code: 1_000_000,
} as const;

const MODEL_NAMES = ['category', 'color', 'style'] as const;
/**
 * The tree is installed for the config's runtime (python3.11): the article's Python 3.6 builds would not import there,
 * and the native audit refuses them (CPython's extension tag must be the runtime's).
 */
const PY_VERSION = '3.11';
const PY_TAG = 'cpython-311';
const EXT_SUFFIX = `.${PY_TAG}-x86_64-linux-gnu.so`;
const LAYER_SO_FACTOR = 0.6; // the layer was built from stripped shared objects

type Kind = 'py' | 'so' | 'lib' | 'h' | 'json' | 'bin';
/** [folder (each `{w}` becomes a seeded word), kind, file count, bytes] at scale 1. */
type Part = readonly [string, Kind, number, number];
/** [path, kind, bytes]; the group's `absorb` file takes whatever makes the group total exact. */
type Named = readonly [string, Kind, number];
interface Dist {
  readonly name: string; // as pip spells the dist-info folder
  readonly version: string;
  readonly top: readonly string[];
  readonly requires?: readonly string[];
  readonly kept?: boolean; // numpy, colorgram.py, webcolors: not in the layer
  readonly pycache?: boolean;
  readonly scripts?: readonly string[];
  readonly absorb?: string;
  readonly files?: readonly Named[];
  readonly parts?: readonly Part[];
}

const DISTS: readonly Dist[] = [
  {
    name: 'tensorflow',
    version: '1.8.0',
    top: ['tensorflow'],
    absorb: 'tensorflow/python/_pywrap_tensorflow_internal.so',
    requires: [
      'absl-py (>=0.1.6)',
      'astor (>=0.6.0)',
      'gast (>=0.2.0)',
      'grpcio (>=1.8.6)',
      'numpy (>=1.13.3)',
      'protobuf (>=3.4.0)',
      'six (>=1.10.0)',
      'tensorboard (<1.9.0,>=1.8.0)',
      'termcolor (>=1.1.0)',
      'wheel (>=0.26)',
    ],
    scripts: ['freeze_graph', 'saved_model_cli', 'toco', 'toco_from_protos'],
    files: [
      ['tensorflow/__init__.py', 'py', 2_400],
      ['tensorflow/libtensorflow_framework.so', 'lib', 12_000_000],
      ['tensorflow/python/_pywrap_tensorflow_internal.so', 'lib', 0],
    ],
    parts: [
      ['tensorflow/contrib/{w}/python/ops', 'so', 24, 28_000_000],
      ['tensorflow/python/{w}', 'py', 900, 14_000_000],
      ['tensorflow/contrib/{w}/python/{w}', 'py', 1100, 9_000_000],
      ['tensorflow/core/{w}', 'py', 120, 1_200_000],
      ['tensorflow/include/tensorflow/core/{w}', 'h', 600, 4_000_000],
      ['tensorflow/include/unsupported/Eigen/{w}', 'h', 300, 2_500_000],
      ['tensorflow/tools/{w}', 'py', 60, 500_000],
    ],
  },
  {
    name: 'scipy',
    version: '1.2.1',
    top: ['scipy'],
    requires: ['numpy (>=1.8.2)'],
    parts: [
      ['scipy/{w}', 'so', 60, 20_000_000],
      ['scipy/{w}', 'py', 500, 7_000_000],
      ['scipy/{w}/tests', 'py', 150, 2_500_000],
    ],
  },
  {
    name: 'botocore',
    version: '1.12.137',
    top: ['botocore'],
    requires: [
      'jmespath (<1.0.0,>=0.7.1)',
      'docutils (>=0.10)',
      'python-dateutil (<3.0.0,>=2.1)',
      'urllib3 (<1.25,>=1.20)',
    ],
    files: [['botocore/cacert.pem', 'h', 250_000]],
    parts: [
      ['botocore/data/{w}/2016-11-15', 'json', 700, 15_500_000],
      ['botocore', 'py', 70, 1_600_000],
      ['botocore/vendored/requests', 'py', 40, 400_000],
    ],
  },
  {
    name: 'h5py',
    version: '2.9.0',
    top: ['h5py'],
    requires: ['numpy (>=1.7)', 'six'],
    parts: [
      ['h5py', 'so', 20, 5_000_000],
      ['h5py/.libs', 'lib', 3, 2_500_000],
      ['h5py', 'py', 30, 400_000],
      ['h5py/tests/{w}', 'py', 40, 300_000],
    ],
  },
  {
    name: 'grpcio',
    version: '1.20.1',
    top: ['grpc'],
    requires: ['six (>=1.5.2)'],
    files: [[`grpc/_cython/cygrpc${EXT_SUFFIX}`, 'so', 5_400_000]],
    parts: [['grpc/{w}', 'py', 60, 500_000]],
  },
  {
    name: 'tensorboard',
    version: '1.8.0',
    top: ['tensorboard'],
    scripts: ['tensorboard'],
    requires: [
      'bleach (==1.5.0)',
      'html5lib (==0.9999999)',
      'markdown (>=2.6.8)',
      'numpy (>=1.12.0)',
      'protobuf (>=3.4.0)',
      'six (>=1.10.0)',
      'werkzeug (>=0.11.10)',
      'wheel (>=0.26)',
    ],
    files: [['tensorboard/webfiles.zip', 'bin', 3_000_000]],
    parts: [['tensorboard/plugins/{w}', 'py', 120, 1_600_000]],
  },
  {
    name: 'Pillow',
    version: '5.4.1',
    top: ['PIL'],
    files: [[`PIL/_imaging${EXT_SUFFIX}`, 'so', 2_600_000]],
    parts: [
      ['PIL', 'py', 80, 1_300_000],
      ['PIL/.libs', 'lib', 8, 3_500_000],
    ],
  },
  {
    name: 'protobuf',
    version: '3.7.1',
    top: ['google'],
    requires: ['six (>=1.9)', 'setuptools'],
    files: [
      [`protobuf-3.7.1-py${PY_VERSION}-nspkg.pth`, 'h', 540],
      [`google/protobuf/pyext/_message${EXT_SUFFIX}`, 'so', 1_100_000],
    ],
    parts: [['google/protobuf/{w}', 'py', 90, 1_800_000]],
  },
  {
    name: 'docutils',
    version: '0.14',
    top: ['docutils'],
    scripts: ['rst2html.py', 'rst2latex.py'],
    parts: [['docutils/{w}', 'py', 150, 1_800_000]],
  },
  {
    name: 'setuptools',
    version: '41.0.1',
    top: ['easy_install', 'pkg_resources', 'setuptools'],
    scripts: ['easy_install', 'easy_install-3.6'],
    files: [['easy_install.py', 'py', 126]],
    parts: [
      ['setuptools', 'py', 80, 1_000_000],
      ['pkg_resources/_vendor', 'py', 20, 400_000],
    ],
  },
  {
    name: 'Keras',
    version: '2.2.4',
    top: ['keras'],
    pycache: true,
    requires: [
      'numpy (>=1.9.1)',
      'scipy (>=0.14)',
      'six (>=1.9.0)',
      'pyyaml',
      'h5py',
      'keras-applications (>=1.0.6)',
      'keras-preprocessing (>=1.0.5)',
    ],
    parts: [['keras/{w}', 'py', 60, 1_200_000]],
  },
  { name: 'Werkzeug', version: '0.15.2', top: ['werkzeug'], parts: [['werkzeug/{w}', 'py', 50, 1_000_000]] },
  {
    name: 'html5lib',
    version: '0.9999999',
    top: ['html5lib'],
    requires: ['six'],
    parts: [['html5lib/{w}', 'py', 40, 800_000]],
  },
  { name: 'PyYAML', version: '5.1', top: ['yaml'], pycache: true, parts: [['yaml', 'py', 17, 350_000]] },
  {
    name: 'Markdown',
    version: '3.1',
    top: ['markdown'],
    scripts: ['markdown_py'],
    requires: ['setuptools (>=36)'],
    parts: [['markdown/extensions', 'py', 30, 600_000]],
  },
  { name: 'urllib3', version: '1.24.2', top: ['urllib3'], parts: [['urllib3/{w}', 'py', 35, 600_000]] },
  {
    name: 'boto3',
    version: '1.9.137',
    top: ['boto3'],
    pycache: true,
    requires: ['botocore (<1.13.0,>=1.12.137)', 'jmespath (<1.0.0,>=0.7.1)', 's3transfer (<0.3.0,>=0.2.0)'],
    parts: [
      ['boto3/data/{w}/2006-03-01', 'json', 12, 300_000],
      ['boto3', 'py', 25, 200_000],
    ],
  },
  {
    name: 'python_dateutil',
    version: '2.8.0',
    top: ['dateutil'],
    requires: ['six (>=1.5)'],
    files: [['dateutil/zoneinfo/dateutil-zoneinfo.tar.gz', 'bin', 154_000]],
    parts: [['dateutil/{w}', 'py', 20, 350_000]],
  },
  { name: 'absl_py', version: '0.7.1', top: ['absl'], requires: ['six'], parts: [['absl/{w}', 'py', 30, 450_000]] },
  {
    name: 's3transfer',
    version: '0.2.0',
    top: ['s3transfer'],
    requires: ['botocore (<2.0.0,>=1.12.36)'],
    parts: [['s3transfer', 'py', 12, 300_000]],
  },
  {
    name: 'Keras_Applications',
    version: '1.0.7',
    top: ['keras_applications'],
    requires: ['numpy (>=1.9.1)', 'h5py'],
    parts: [['keras_applications', 'py', 20, 200_000]],
  },
  {
    name: 'Keras_Preprocessing',
    version: '1.0.9',
    top: ['keras_preprocessing'],
    requires: ['numpy (>=1.9.1)', 'six (>=1.9.0)'],
    parts: [['keras_preprocessing', 'py', 5, 200_000]],
  },
  { name: 'astor', version: '0.7.1', top: ['astor'], parts: [['astor', 'py', 12, 150_000]] },
  {
    name: 'bleach',
    version: '1.5.0',
    top: ['bleach'],
    requires: ['six', 'html5lib (!=0.9999,!=0.99999,<0.99999999,>=0.999)'],
    parts: [['bleach', 'py', 6, 100_000]],
  },
  {
    name: 'jmespath',
    version: '0.9.4',
    top: ['jmespath'],
    scripts: ['jp.py'],
    pycache: true,
    parts: [['jmespath', 'py', 8, 100_000]],
  },
  { name: 'wheel', version: '0.33.1', top: ['wheel'], scripts: ['wheel'], parts: [['wheel/cli', 'py', 15, 100_000]] },
  { name: 'gast', version: '0.2.2', top: ['gast'], parts: [['gast', 'py', 4, 50_000]] },
  { name: 'six', version: '1.12.0', top: ['six'], pycache: true, files: [['six.py', 'py', 32_452]] },
  { name: 'termcolor', version: '1.1.0', top: ['termcolor'], files: [['termcolor.py', 'py', 5_008]] },
  // Kept in the function (the layer does not provide them): exactly 81 MB together.
  {
    name: 'numpy',
    version: '1.16.3',
    top: ['numpy'],
    kept: true,
    pycache: true,
    scripts: ['f2py'],
    absorb: `numpy/core/_multiarray_umath${EXT_SUFFIX}`,
    files: [
      ['numpy/__init__.py', 'py', 7_300],
      ['numpy/.libs/libopenblasp-r0-382c8f3a.3.5.dev.so', 'lib', 30_000_000],
      ['numpy/.libs/libgfortran-ed201abd.so.3.0.0', 'lib', 1_000_000],
      [`numpy/core/_multiarray_umath${EXT_SUFFIX}`, 'so', 0],
    ],
    parts: [
      ['numpy/{w}', 'so', 20, 12_000_000],
      ['numpy/{w}', 'py', 300, 8_000_000],
      ['numpy/{w}/tests', 'py', 200, 6_000_000],
      ['numpy/core/include/numpy', 'h', 40, 600_000],
    ],
  },
  {
    name: 'colorgram.py',
    version: '1.2.0',
    top: ['colorgram'],
    kept: true,
    pycache: true,
    requires: ['pillow (>=3.3.1)'],
    files: [
      ['colorgram/__init__.py', 'py', 98],
      ['colorgram/colorgram.py', 'py', 4_554],
    ],
  },
  {
    name: 'webcolors',
    version: '1.8.1',
    top: ['webcolors'],
    kept: true,
    pycache: true,
    files: [['webcolors.py', 'py', 27_345]],
  },
];

/** Python `.pyc` header of CPython 3.6 (magic 3379), then marshalled code. */
const PYC_MAGIC = Buffer.from([0x33, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0]);
const STRAY_README =
  'Installed with: pip install -r requirements.txt -t deps\n' +
  'Do not edit this folder by hand; rebuild it from requirements.txt.\n'.repeat(40);

interface Pools {
  readonly text: Buffer;
  readonly binary: Buffer;
  readonly elf: Buffer;
}
interface Entry {
  readonly path: string;
  readonly size: number;
  readonly hash: string;
}

/** Writes files under one root, hashing them for RECORD on the way. */
class TreeWriter {
  readonly root: string;
  readonly pools: Pools;
  readonly seed: string;
  bytes = 0;
  files = 0;
  readonly #dirs = new Set<string>();
  constructor(root: string, pools: Pools, seed: string) {
    this.root = root;
    this.pools = pools;
    this.seed = seed;
  }
  /** Writes generated content of `kind` (seeded by path) and returns its RECORD entry. */
  generate(path: string, kind: Kind | 'pyc', size: number): Entry {
    const rng = makeRng(`${this.seed}:${path}`);
    const { text, binary, elf } = this.pools;
    let head: Buffer = Buffer.alloc(0);
    if (kind === 'so' || kind === 'lib') head = elf.subarray(0, Math.min(size, elf.length));
    if (kind === 'pyc') head = PYC_MAGIC.subarray(0, Math.min(size, PYC_MAGIC.length));
    const pool = kind === 'py' || kind === 'h' || kind === 'json' ? text : binary;
    return this.write(path, [head, ...poolSlices(pool, size - head.length, rng)]);
  }
  /** Writes `chunks` to `path` (relative to the root) and returns its RECORD entry. */
  write(path: string, chunks: readonly Buffer[], mode = 0o644): Entry {
    const full = join(this.root, path);
    const dir = dirname(full);
    if (!this.#dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.#dirs.add(dir);
    }
    const hash = createHash('sha256');
    const fd = openSync(full, 'wx', mode);
    let size = 0;
    try {
      for (const chunk of chunks) {
        hash.update(chunk);
        for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done);
        size += chunk.length;
      }
    } finally {
      closeSync(fd);
    }
    this.bytes += size;
    this.files++;
    return { path, size, hash: `sha256=${hash.digest('base64url')}` };
  }
}

/** The files of one distribution, planned (sizes at this scale) before anything is written. */
interface PlannedFile {
  readonly path: string;
  readonly kind: Kind | 'pyc';
  readonly size: number;
}

function planDist(dist: Dist, scale: number, flavor: 'deps' | 'layer', seed: string): PlannedFile[] {
  const rng = makeRng(`${seed}:plan:${dist.name}`);
  const soFactor = flavor === 'layer' ? LAYER_SO_FACTOR : 1;
  const sized = (kind: Kind, bytes: number) =>
    Math.max(1, Math.round(bytes * scale * (kind === 'so' || kind === 'lib' ? soFactor : 1)));
  const files: PlannedFile[] = [];
  const taken = new Set<string>();
  const add = (path: string, kind: Kind, size: number) => {
    taken.add(path);
    files.push({ path, kind, size });
  };
  for (const [path, kind, bytes] of dist.files ?? []) add(path, kind, path === dist.absorb ? 0 : sized(kind, bytes));
  for (const [pattern, kind, count, bytes] of dist.parts ?? []) {
    const n = Math.max(1, Math.round(count * Math.sqrt(scale)));
    const dirs = Array.from({ length: Math.max(1, Math.min(40, Math.round(n / 25))) }, () =>
      pattern.replace(/\{w\}/g, () => rng.pick(WORDS)),
    );
    const weights = Array.from({ length: n }, () => Math.exp(normal(rng)));
    const total = sized(kind, bytes);
    const weightSum = weights.reduce((a, b) => a + b, 0);
    for (const weight of weights) {
      const dir = rng.pick(dirs);
      if (kind === 'py' && !taken.has(`${dir}/__init__.py`))
        add(`${dir}/__init__.py`, 'py', rng.int(3) === 0 ? 0 : rng.int(2_000));
      let path: string;
      do path = `${dir}/${fileName(kind, rng)}`;
      while (taken.has(path));
      add(path, kind, Math.floor((total * weight) / weightSum));
    }
  }
  if (dist.pycache && flavor === 'deps') {
    for (const file of [...files]) {
      const match = /^(?:(.*)\/)?([^/]+)\.py$/.exec(file.path);
      if (!match) continue;
      const pyc = `${match[1] ? `${match[1]}/` : ''}__pycache__/${match[2]}.${PY_TAG}.pyc`;
      files.push({ path: pyc, kind: 'pyc', size: PYC_MAGIC.length + Math.round(file.size * 0.7) });
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

function fileName(kind: Kind, rng: Rng): string {
  const word = rng.int(2) === 0 ? rng.pick(WORDS) : `${rng.pick(WORDS)}_${rng.pick(WORDS)}`;
  const hex = () => rng.next().toString(16).padStart(8, '0');
  switch (kind) {
    case 'py':
      return `${word}.py`;
    case 'so':
      return `_${word}${EXT_SUFFIX}`;
    case 'lib':
      return `lib${rng.pick(WORDS)}-${hex()}.so.${1 + rng.int(9)}.${rng.int(9)}.0`;
    case 'h':
      return `${word}.h`;
    case 'json':
      return `${word}-2.json`;
    case 'bin':
      return `${word}.dat`;
  }
}

function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.float())) * Math.cos(2 * Math.PI * rng.float());
}

function distInfoTexts(dist: Dist, isPure: boolean): Array<[string, string]> {
  const info = `${dist.name}-${dist.version}.dist-info`;
  const metadata = [
    'Metadata-Version: 2.1',
    `Name: ${dist.name}`,
    `Version: ${dist.version}`,
    `Summary: ${dist.name} ${dist.version} (lambda-ml generated fixture)`,
    `Home-page: https://pypi.org/project/${dist.name}/`,
    'License: UNKNOWN',
    'Platform: UNKNOWN',
    ...(dist.requires ?? []).map((req) => `Requires-Dist: ${req}`),
    '',
    '',
  ].join('\n');
  const wheel = [
    'Wheel-Version: 1.0',
    'Generator: bdist_wheel (0.33.1)',
    `Root-Is-Purelib: ${isPure}`,
    `Tag: ${isPure ? 'py3-none-any' : 'cp311-cp311-manylinux1_x86_64'}`,
    '',
    '',
  ].join('\n');
  return [
    [`${info}/INSTALLER`, 'pip\n'],
    [`${info}/METADATA`, metadata],
    [`${info}/WHEEL`, wheel],
    [`${info}/top_level.txt`, `${dist.top.join('\n')}\n`],
    [`${info}/LICENSE.txt`, `Copyright (c) the ${dist.name} authors.\n${LICENSE}`],
  ];
}

const LICENSE =
  'Permission is hereby granted, free of charge, to any person obtaining a copy of this software, to deal in the\n' +
  'Software without restriction, subject to the conditions of the original licence of this distribution.\n';

const scriptText = (dist: Dist, script: string) =>
  `#!/usr/bin/python${PY_VERSION}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n\n` +
  `from ${dist.top[dist.top.length - 1]}.${script.replace(/\W/g, '_')} import main\n\nif __name__ == '__main__':\n` +
  `    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])\n    sys.exit(main())\n`;

// pip records compiled files without hash or size (it writes them after installing).
const recordLine = (entry: Entry) =>
  entry.path.endsWith('.pyc') ? `${entry.path},,\n` : `${entry.path},${entry.hash},${entry.size}\n`;
const digits = (n: number) => String(n).length;

/** Writes one distribution; if it holds the group's absorber, sizes it so the group ends exactly at `groupEnd`. */
function writeDist(tree: TreeWriter, dist: Dist, planned: readonly PlannedFile[], groupEnd: number): void {
  const info = `${dist.name}-${dist.version}.dist-info`;
  const entries: Entry[] = [];
  const isPure = !planned.some((file) => file.kind === 'so' || file.kind === 'lib');
  for (const file of planned)
    if (file.path !== dist.absorb) entries.push(tree.generate(file.path, file.kind, file.size));
  for (const script of dist.scripts ?? [])
    entries.push(tree.write(`bin/${script}`, [Buffer.from(scriptText(dist, script))], 0o755));
  for (const [path, text] of distInfoTexts(dist, isPure)) entries.push(tree.write(path, [Buffer.from(text)]));
  const record = `${info}/RECORD`;
  const recordFixed = (absorbSize: number) =>
    entries.reduce((n, e) => n + recordLine(e).length, 0) +
    `${record},,\n`.length +
    (dist.absorb ? `${dist.absorb},sha256=${'x'.repeat(43)},`.length + digits(absorbSize) + 1 : 0);
  if (dist.absorb) {
    // size + RECORD length (which holds size's digits) must land the group exactly on its target.
    const room = groupEnd - tree.bytes - recordFixed(0) + digits(0);
    let size = room - digits(room);
    if (digits(size) !== digits(room)) size = room - digits(size);
    if (size < 1024) throw new Error(`scenario scale too small: no room left for ${dist.absorb} (${size} bytes)`);
    const kind = planned.find((file) => file.path === dist.absorb)?.kind ?? 'bin';
    entries.push(tree.generate(dist.absorb, kind, size));
  }
  const lines = [
    ...entries.map((e) => ({ path: e.path, line: recordLine(e) })),
    { path: record, line: `${record},,\n` },
  ];
  const text = lines
    .sort((a, b) => (a.path < b.path ? -1 : 1))
    .map((l) => l.line)
    .join('');
  tree.write(record, [Buffer.from(text)]);
}

let poolCache: { readonly seed: string; readonly pools: Pools } | undefined;
function getPools(seed: string): Pools {
  if (poolCache?.seed !== seed) {
    const text = makeTextPool(`${seed}:text`, 4_000_000);
    poolCache = {
      seed,
      pools: { text, binary: makeBinaryPool(`${seed}:binary`, 4_000_000, text), elf: makeElfHeader() },
    };
  }
  return poolCache.pools;
}

/** Writes `dists` (the absorbing one last) so that they add exactly `target` bytes to the tree. */
function writeGroup(
  tree: TreeWriter,
  dists: readonly Dist[],
  target: number,
  scale: number,
  flavor: 'deps' | 'layer',
): void {
  const end = tree.bytes + target;
  const ordered = [...dists].sort((a, b) => Number(Boolean(a.absorb)) - Number(Boolean(b.absorb)));
  for (const dist of ordered) writeDist(tree, dist, planDist(dist, scale, flavor, tree.seed), end);
  if (tree.bytes !== end) throw new Error(`scenario generator bug: wrote ${tree.bytes} bytes, wanted ${end}`);
}

const HANDLER_PY = `import lambda_ml_bootstrap  # noqa: F401  must stay first: makes the sideloaded deps importable

import json
import os
import urllib.parse

import boto3
import colorgram
import numpy as np
import webcolors
from keras.models import load_model
from PIL import Image

from asset_utils import closest_colour, merge_tags

s3 = boto3.client('s3')
MODELS = {}


def model(name):
    if name not in MODELS:
        path = os.path.join('/tmp', name + '.h5')
        if not os.path.exists(path):
            s3.download_file(os.environ['MODEL_BUCKET'], name + '/' + name + '.h5', path)
        MODELS[name] = load_model(path)
    return MODELS[name]


def handler(event, context):
    for record in event['Records']:
        bucket = record['s3']['bucket']['name']
        key = urllib.parse.unquote_plus(record['s3']['object']['key'])
        local = '/tmp/' + os.path.basename(key)
        s3.download_file(bucket, key, local)
        image = Image.open(local).convert('RGB').resize((224, 224))
        batch = np.expand_dims(np.asarray(image, dtype=np.float32) / 127.5 - 1.0, 0)
        tags = {'ml:' + name: str(int(np.argmax(model(name).predict(batch)))) for name in ('category', 'color')}
        tags['ml:colors'] = ' '.join(closest_colour(webcolors, c.rgb) for c in colorgram.extract(local, 3))
        existing = s3.get_object_tagging(Bucket=bucket, Key=key)['TagSet']
        s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={'TagSet': merge_tags(existing, tags)})
    return {'statusCode': 200, 'body': json.dumps({'records': len(event['Records'])})}
`;

function writeCode(dir: string, target: number, pools: Pools, seed: string): number {
  const code = new TreeWriter(dir, pools, seed);
  code.write('handler.py', [Buffer.from(HANDLER_PY)]);
  code.write('labels.json', [Buffer.from(`${JSON.stringify(WORDS.slice(0, 40).map((word, i) => `${word}-${i}`))}\n`)]);
  const filler = target - code.bytes;
  if (filler < 0) throw new Error(`scenario scale too small: code needs at least ${code.bytes} bytes`);
  code.generate('asset_utils.py', 'py', filler);
  return code.bytes;
}

interface Resolved {
  readonly models: number;
  readonly layer: boolean;
  readonly ephemeralStorageMb: number;
  readonly scale: number;
  readonly seed: string;
}
function resolveOptions(options: ScenarioOptions = {}): Resolved {
  const resolved = {
    models: options.models ?? 2,
    layer: options.layer ?? true,
    ephemeralStorageMb: options.ephemeralStorageMb ?? 512,
    scale: options.scale ?? 1,
    seed: options.seed ?? 'lambda-ml',
  };
  if (!Number.isInteger(resolved.models) || resolved.models < 0 || resolved.models > MODEL_NAMES.length) {
    throw new RangeError(`models must be an integer from 0 to ${MODEL_NAMES.length}`);
  }
  if (!(resolved.scale > 0 && resolved.scale <= 1)) throw new RangeError('scale must be in (0, 1]');
  return resolved;
}

/** Generates the scenario into `dir` (created if missing; must not already hold a scenario). */
export async function makeScenario(dir: string, options?: ScenarioOptions): Promise<Scenario> {
  const o = resolveOptions(options);
  const target = (bytes: number) => Math.round(bytes * o.scale);
  const pools = getPools(o.seed);
  mkdirSync(dir, { recursive: true });

  const deps = new TreeWriter(join(dir, 'deps'), pools, o.seed);
  // One file no distribution owns, so the scanner's "unowned" report has something to show.
  const readme = deps.write('README.txt', [Buffer.from(STRAY_README)]);
  writeGroup(
    deps,
    DISTS.filter((d) => d.kept),
    target(SCENARIO_BYTES.kept),
    o.scale,
    'deps',
  );
  const keptBytes = deps.bytes - readme.size;
  writeGroup(
    deps,
    DISTS.filter((d) => !d.kept),
    target(SCENARIO_BYTES.deps) - keptBytes - readme.size,
    o.scale,
    'deps',
  );

  let layerBytes = 0;
  let layerFiles = 0;
  if (o.layer) {
    const src = join(dir, 'layer-src');
    const layer = new TreeWriter(join(src, 'python'), pools, o.seed);
    writeGroup(
      layer,
      DISTS.filter((d) => !d.kept),
      target(SCENARIO_BYTES.layer),
      o.scale,
      'layer',
    );
    // Stored (-0): deflating 230 MB takes ~8 s here, and the product measures a layer from its central directory's
    // uncompressed sizes, which do not depend on the method.
    execFileSync('zip', ['-q', '-r', '-X', '-0', join(dir, 'layer.zip'), 'python'], {
      cwd: src,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    rmSync(src, { recursive: true, force: true });
    layerBytes = layer.bytes;
    layerFiles = layer.files;
  }

  const modelPaths: string[] = [];
  for (const name of MODEL_NAMES.slice(0, o.models)) {
    const path = join(dir, 'models', `${name}.h5`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.from('\x89HDF\r\n\x1a\n', 'latin1')); // HDF5 signature, then a sparse hole
    truncateSync(path, target(SCENARIO_BYTES.model));
    modelPaths.push(path);
  }
  const codeBytes = writeCode(join(dir, 'code'), target(SCENARIO_BYTES.code), pools, o.seed);

  const configPath = join(dir, 'lambda-ml.config.json');
  await writeFile(configPath, `${JSON.stringify(scenarioConfig(o), null, 2)}\n`);
  return {
    dir,
    configPath,
    depsDir: join(dir, 'deps'),
    layerZip: o.layer ? join(dir, 'layer.zip') : null,
    modelPaths,
    codeDir: join(dir, 'code'),
    expected: {
      depsBytes: deps.bytes,
      depsFiles: deps.files,
      keptBytes,
      layerBytes,
      layerFiles,
      modelBytes: modelPaths.length * target(SCENARIO_BYTES.model),
      codeBytes,
    },
  };
}

/** The docs/design.md §8 config of the scenario (paths relative to the scenario folder). */
function scenarioConfig(o: Resolved): Record<string, unknown> {
  return {
    function: {
      name: 'asset-classifier',
      runtime: `python${PY_VERSION}`,
      architecture: 'x86_64',
      memoryMb: 3008,
      ephemeralStorageMb: o.ephemeralStorageMb,
      timeoutS: 60,
      role: 'arn:aws:iam::123456789012:role/asset-classifier',
    },
    region: 'eu-west-1',
    code: 'code',
    deps: 'deps',
    layers: o.layer ? [{ name: 'tf_keras_pillow', zip: 'layer.zip' }] : [],
    models: MODEL_NAMES.slice(0, o.models).map((name) => ({
      name,
      path: `models/${name}.h5`,
      s3: `s3://my-models/${name}/`,
      input: { width: 224, height: 224, range: [-1, 1] },
      topK: 3,
      tag: name,
    })),
    artifacts: { bucket: 'my-deploy-artifacts', prefix: 'lambda-ml/' },
    plan: 'auto',
    // Only the byte limits scale; /tmp and memory are configured in MB and cannot shrink with the fixture.
    ...(o.scale === 1
      ? {}
      : {
          limits: {
            unzippedBytes: Math.round(262_144_000 * o.scale),
            zipDirectBytes: Math.round(52_428_800 * o.scale),
          },
        }),
  };
}

const GENERATED_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/generated');
const MARKER = '.complete';

/**
 * The scenario for `options`, generated once under `<repo>/fixtures/generated/scenario-<hash>/` and reused while its
 * `.complete` marker carries this generator version. Built in a temp folder and renamed, so concurrent test
 * processes never see a half-written scenario; the loser of a race discards its copy.
 */
export async function ensureScenario(options?: ScenarioOptions): Promise<Scenario> {
  const o = resolveOptions(options);
  const key = createHash('sha256')
    .update(JSON.stringify([o.models, o.layer, o.ephemeralStorageMb, o.scale, o.seed]))
    .digest('hex');
  const finalDir = join(GENERATED_ROOT, `scenario-${key.slice(0, 12)}`);
  const cached = await readMarker(finalDir);
  if (cached) return cached;

  mkdirSync(GENERATED_ROOT, { recursive: true });
  const tmpDir = join(GENERATED_ROOT, `.tmp-${key.slice(0, 12)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const built = await makeScenario(tmpDir, o);
    const marker = {
      version: SCENARIO_GENERATOR_VERSION,
      expected: built.expected,
      models: built.modelPaths.length,
      layer: o.layer,
    };
    await writeFile(join(tmpDir, MARKER), `${JSON.stringify(marker)}\n`);
    for (let attempt = 0; ; attempt++) {
      try {
        await rename(tmpDir, finalDir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt > 3) throw error;
        if (await readMarker(finalDir)) break; // another process finished first: use theirs
        // A stale version: move it aside (atomic), then retry; removing it is best effort.
        const trash = join(GENERATED_ROOT, `.trash-${process.pid}-${randomBytes(4).toString('hex')}`);
        await rename(finalDir, trash).then(
          () => rm(trash, { recursive: true, force: true }),
          () => undefined,
        );
      }
    }
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  const ready = await readMarker(finalDir);
  if (!ready) throw new Error(`scenario cache at ${finalDir} is not usable`);
  return ready;
}

async function readMarker(dir: string): Promise<Scenario | null> {
  let marker: { version: number; expected: Scenario['expected']; models: number; layer: boolean };
  try {
    marker = JSON.parse(await readFile(join(dir, MARKER), 'utf8'));
  } catch {
    return null;
  }
  if (marker.version !== SCENARIO_GENERATOR_VERSION) return null;
  return {
    dir,
    configPath: join(dir, 'lambda-ml.config.json'),
    depsDir: join(dir, 'deps'),
    layerZip: marker.layer ? join(dir, 'layer.zip') : null,
    modelPaths: MODEL_NAMES.slice(0, marker.models).map((name) => join(dir, 'models', `${name}.h5`)),
    codeDir: join(dir, 'code'),
    expected: marker.expected,
  };
}
