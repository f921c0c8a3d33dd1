/**
 * lambda_ml_bootstrap.py's own tests (test/python/test_bootstrap.py) under the machine's python3 with boto3, against
 * the real s3rver on loopback: a Python project (deps, a Keras-format model in S3) is built by the real package
 * pipeline, its model and deps.zip uploaded where deploy puts them, and the Python suite runs cold starts, two
 * concurrent starts, a killed fetch, a corrupt model and merge_tags on that task root. One node:test per Python test.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config/load.js';
import { modelCacheDir } from '../../src/handler/models.js';
import { modelsHash } from '../../src/handler/models-hash.js';
import { PYTHON_BOOTSTRAP, PYTHON_BOOTSTRAP_PATH } from '../../src/pack/python-bootstrap.js';
import { runPackage } from '../../src/pipeline/package.js';
import type { Manifest } from '../../src/types.js';
import { startS3, type S3Server } from '../helpers/s3rver.js';

const REPO = new URL('../../', import.meta.url).pathname;
const MODEL_BYTES = 32_000_000; // large enough that a kill lands mid-download
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
// The python3 on PATH first; Debian's python3-boto3 serves /usr/bin/python3 when PATH has another Python (pyenv).
const PYTHON = ['python3', '/usr/bin/python3'].find((cmd) => ok(cmd, ['-c', 'import boto3'])) ?? 'python3';
const noPython = ok(PYTHON, ['--version']) ? false : 'python3 is not installed';
const noBoto3 =
  noPython || (ok(PYTHON, ['-c', 'import boto3']) ? false : 'boto3 is not installed (apt-get install python3-boto3)');

interface TagRow {
  name: string;
  existing: [string, string][];
  ours: [string, string][];
  tags: [string, string][];
  replaced: string[];
}
const table = JSON.parse(readFileSync(join(REPO, 'test/cases/tag-merge.json'), 'utf8')) as { merge: TagRow[] };
const tagRow = table.merge[0]; // a user's tags kept, our old ones replaced

/** Incompressible bytes from a fixed seed (AES-CTR keystream), behind an HDF5 signature so scan takes it as Keras. */
function seededModel(bytes: number): Buffer {
  const stream = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  return Buffer.concat([HDF5_SIGNATURE, stream.update(Buffer.alloc(bytes - HDF5_SIGNATURE.length))]);
}

function writeProject(dir: string): void {
  const put = (rel: string, data: string | Buffer) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), data);
  };
  put(
    'code/handler.py',
    [
      'import lambda_ml_bootstrap',
      '',
      'def handler(event, context):',
      '    path = lambda_ml_bootstrap.model_path("clf", context)',
      '    record = event["Records"][0]["s3"]',
      '    return lambda_ml_bootstrap.merge_tags(record["bucket"]["name"], record["object"]["key"], {"clf": path})',
      '',
    ].join('\n'),
  );
  put('deps/hello_dep/__init__.py', 'VALUE = 42\n');
  put('deps/hello_dep-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: hello-dep\nVersion: 1.0\n');
  put('deps/hello_dep-1.0.dist-info/top_level.txt', 'hello_dep\n');
  put('deps/hello_dep-1.0.dist-info/RECORD', 'hello_dep/__init__.py,,\nhello_dep-1.0.dist-info/RECORD,,\n');
  put('models/clf.h5', seededModel(MODEL_BYTES));
  put('labels.json', JSON.stringify(['cat', 'dog']));
  const config = {
    function: { name: 'py-models', runtime: 'python3.12', handler: 'handler.handler', memoryMb: 3008 },
    region: 'us-east-1',
    code: 'code',
    deps: 'deps',
    models: [
      {
        name: 'clf',
        path: 'models/clf.h5',
        s3: 's3://models/clf/',
        labels: 'labels.json',
        tag: 'clf',
        input: { width: 8, height: 8 },
      },
    ],
    artifacts: { bucket: 'artifacts', prefix: 'lambda-ml/' },
    plan: 'sideload-s3',
  };
  put('lambda-ml.config.json', JSON.stringify(config, null, 2));
}

/** Runs python3 with args; resolves with its exit and its interleaved output (killed after 3 minutes). */
function runPython(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((done) => {
    const child = spawn(PYTHON, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code, signal) => done({ code, signal, output }));
  });
}

interface PyResult {
  id: string;
  outcome: 'pass' | 'fail' | 'error' | 'skip';
  detail: string;
}

let root: string;
let task: string;
let manifest: Manifest;
let s3: S3Server;
let results: PyResult[] = [];
let pythonLog = '';

before(async () => {
  if (noBoto3) return;
  root = mkdtempSync(join(tmpdir(), 'lambda-ml-pybootstrap-'));
  writeProject(join(root, 'project'));
  const out = join(root, 'out');
  manifest = (await runPackage(await loadConfig(join(root, 'project')), { out })).manifest;
  task = join(root, 'task');
  mkdirSync(task);
  execFileSync('unzip', ['-q', join(out, 'function.zip'), '-d', task]);

  // Upload what deploy would: the model files under models[].s3, deps.zip at its sideload location.
  s3 = await startS3();
  for (const bucket of ['models', 'artifacts', 'photos'])
    await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const put = (url: string, body: Buffer) => {
    const [, Bucket, Key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(url)!;
    return s3.client.send(new PutObjectCommand({ Bucket, Key, Body: body }));
  };
  const [model] = manifest.artifacts.models;
  const modelFile = readFileSync(join(out, model.dir, model.files[0].name));
  await put(`${model.s3}${model.files[0].name}`, modelFile);
  const deps = manifest.artifacts.deps;
  assert.ok(deps?.s3, 'a sideload-s3 plan');
  await put(deps.s3, readFileSync(join(out, 'deps.zip')));
  // The same size, three bytes changed: only the sha256 can tell.
  const corrupt = Buffer.from(modelFile);
  for (const at of [100, MODEL_BYTES >> 1, MODEL_BYTES - 1]) corrupt[at] ^= 0xff;
  const corruptS3 = 's3://models/clf-corrupt/';
  await put(`${corruptS3}${model.files[0].name}`, corrupt);
  // The photo with the table row's existing tags (s3rver ignores PutObject's Tagging: set them on their own).
  const photo = { Bucket: 'photos', Key: 'cat.jpg' };
  await s3.client.send(new PutObjectCommand({ ...photo, Body: 'not really a jpeg' }));
  const TagSet = tagRow.existing.map(([Key, Value]) => ({ Key, Value }));
  await s3.client.send(new PutObjectTaggingCommand({ ...photo, Tagging: { TagSet } }));
  const before = await s3.client.send(new GetObjectTaggingCommand(photo));
  assert.deepEqual(before.TagSet, TagSet, 'the existing tags are in place');

  const spec = manifest.runtime.models[0];
  const fixture = {
    task,
    scratch: root,
    model: 'clf',
    modelS3: model.s3,
    modelSha256: createHash('sha256').update(modelFile).digest('hex'),
    modelBytes: modelFile.length,
    labels: ['cat', 'dog'],
    corruptS3,
    photo: { bucket: 'photos', key: 'cat.jpg' },
    tagRow,
    nodeModelDir: basename(modelCacheDir('/tmp', spec)),
    nodeModelsHash: modelsHash(manifest.runtime.models),
  };
  writeFileSync(join(root, 'fixture.json'), JSON.stringify(fixture, null, 2));
  // Asynchronously: s3rver runs in this process and must keep answering while Python runs.
  const run = await runPython([join(REPO, 'test/python/test_bootstrap.py'), '--json', join(root, 'results.json')], {
    ...process.env,
    ...s3.env,
    // s3rver predates flexible checksums (boto3 >= 1.36 sends them by default).
    AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
    LAMBDA_ML_TEST_FIXTURE: join(root, 'fixture.json'),
    PYTHONDONTWRITEBYTECODE: '1',
  });
  pythonLog = `exit ${run.code} ${run.signal ?? ''}\n${run.output}`;
  if (existsSync(join(root, 'results.json')))
    results = JSON.parse(readFileSync(join(root, 'results.json'), 'utf8')) as PyResult[];
});

after(async () => {
  await s3?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('lambda_ml_bootstrap.py compiles (python3 -m py_compile)', { skip: noPython }, () => {
  const cache = mkdtempSync(join(tmpdir(), 'lambda-ml-pycache-'));
  try {
    execFileSync(PYTHON, ['-m', 'py_compile', PYTHON_BOOTSTRAP_PATH], {
      env: { ...process.env, PYTHONPYCACHEPREFIX: cache },
    });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('package ships src/runtimes/python/lambda_ml_bootstrap.py byte for byte', { skip: noBoto3 }, () => {
  const file = readFileSync(PYTHON_BOOTSTRAP_PATH);
  assert.ok(file.equals(Buffer.from(PYTHON_BOOTSTRAP)), 'PYTHON_BOOTSTRAP is the file');
  assert.ok(readFileSync(join(task, 'lambda_ml_bootstrap.py')).equals(file), 'function.zip holds the file');
});

test('the Python runtime config lists the model with its hashes, in the Node shape', { skip: noBoto3 }, () => {
  const runtime = JSON.parse(readFileSync(join(task, 'lambda-ml.runtime.json'), 'utf8')) as Manifest['runtime'];
  assert.deepEqual(runtime, manifest.runtime);
  const model = readFileSync(join(root, 'project', 'models', 'clf.h5'));
  assert.deepEqual(runtime.models, [
    {
      name: 'clf',
      tag: 'clf',
      format: 'keras-h5',
      dir: null,
      s3: 's3://models/clf/',
      files: [{ name: 'clf.h5', bytes: MODEL_BYTES, sha256: createHash('sha256').update(model).digest('hex') }],
      labels: ['cat', 'dog'],
      input: runtime.models[0].input,
      topK: runtime.models[0].topK,
      threshold: runtime.models[0].threshold,
    },
  ]);
  assert.equal(runtime.tags.prefix, 'ml:');
});

test('python3 test/python/test_bootstrap.py: every test passes, none skipped', { skip: noBoto3 }, async (t) => {
  assert.ok(results.length >= 18, `the suite ran (${results.length} results)\n${pythonLog}`);
  for (const result of results) {
    await t.test(result.id.replace(/^__main__\./, ''), () => {
      assert.equal(result.outcome, 'pass', result.detail);
    });
  }
});

test(
  "after merge_tags, S3 holds the user's tags and ours (read back with the Node SDK)",
  { skip: noBoto3 },
  async () => {
    const got = await s3.client.send(new GetObjectTaggingCommand({ Bucket: 'photos', Key: 'cat.jpg' }));
    const pairs = (got.TagSet ?? []).map((tag) => [tag.Key, tag.Value]);
    assert.deepEqual(pairs.sort(), [...tagRow.tags].sort());
    for (const [key, value] of tagRow.existing.filter(([key]) => !key.startsWith('ml:')))
      assert.ok(
        pairs.some(([k, v]) => k === key && v === value),
        `user tag ${key} kept`,
      );
  },
);
