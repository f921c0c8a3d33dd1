/**
 * lambda_ml_bootstrap.py (docs/design.md §7) run by the machine's python3 on artifacts built by the real package
 * pipeline:
 * a Python project whose deps (a module plus incompressible filler) are sideloaded from a bundled deps.zip.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { PYTHON_BOOTSTRAP } from '../../src/pack/python-bootstrap.js';
import { runPackage } from '../../src/pipeline/package.js';
import type { Manifest } from '../../src/types.js';
import { startS3 } from '../helpers/s3rver.js';

const noBoto3 =
  spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0
    ? false
    : 'python3 with boto3 is not installed (apt-get install python3-boto3)';

const MB = 1_000_000;
let root: string;
let task: string; // function.zip extracted: the Lambda task root
let manifest: Manifest;
let deps: NonNullable<Manifest['artifacts']['deps']>;

/** A python project with a dist-info'd module and ~50 MB of random filler in 1,200 files (extraction takes a while). */
function writeProject(dir: string): void {
  const put = (rel: string, data: string | Buffer) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), data);
  };
  put(
    'code/handler.py',
    'import lambda_ml_bootstrap  # noqa: F401\nimport hello_dep\n\n' +
      'def handler(event, context):\n    return hello_dep.VALUE\n',
  );
  put('deps/hello_dep/__init__.py', 'VALUE = 42\n');
  put('deps/hello_dep-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: hello-dep\nVersion: 1.0\n');
  put('deps/hello_dep-1.0.dist-info/top_level.txt', 'hello_dep\n');
  put('deps/hello_dep-1.0.dist-info/RECORD', 'hello_dep/__init__.py,,\nhello_dep-1.0.dist-info/RECORD,,\n');
  for (let i = 0; i < 1200; i++) put(`deps/filler/part${String(i).padStart(4, '0')}.bin`, randomBytes(8_000));
  for (let i = 0; i < 4; i++) put(`deps/filler/big${i}.bin`, randomBytes(10 * MB));
  put(
    'lambda-ml.config.json',
    JSON.stringify(
      {
        function: {
          name: 'bootstrap-test',
          runtime: 'python3.11',
          architecture: 'x86_64',
          memoryMb: 1024,
          ephemeralStorageMb: 512,
          timeoutS: 60,
          role: 'arn:aws:iam::123456789012:role/x',
        },
        region: 'eu-west-1',
        code: 'code',
        deps: 'deps',
        layers: [],
        models: [],
        plan: 'sideload-bundled',
      },
      null,
      2,
    ),
  );
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'lambda-ml-bootstrap-'));
  writeProject(join(root, 'project'));
  const config = await loadConfig(join(root, 'project'));
  const run = await runPackage(config, { out: join(root, 'out') });
  manifest = run.manifest;
  assert.ok(manifest.artifacts.deps);
  deps = manifest.artifacts.deps;
  task = join(root, 'task');
  mkdirSync(task);
  execFileSync('unzip', ['-q', join(root, 'out', 'function.zip'), '-d', task]);
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A fresh /tmp for one test. */
function lambdaTmp(name: string): string {
  const dir = join(root, `tmp-${name}`);
  mkdirSync(dir);
  return dir;
}

const PROBE = [
  'import json, sys',
  'sys.path.insert(0, sys.argv[1])',
  'try:',
  '    import lambda_ml_bootstrap',
  'except Exception as error:',
  '    print(json.dumps({"error": type(error).__name__, "message": str(error)}))',
  '    sys.exit(3)',
  'import hello_dep',
  'print(json.dumps({"value": hello_dep.VALUE, "file": hello_dep.__file__, "first": sys.path[0]}))',
].join('\n');

interface ProbeResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: Record<string, unknown> | null;
  stderr: string;
}

/** Runs the handler's first import in a python3 child, as a cold start would. */
function startProbe(taskRoot: string, tmp: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn('python3', ['-c', PROBE, taskRoot], {
    env: { ...process.env, LAMBDA_ML_TMP: tmp, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = new Promise<ProbeResult>((done) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let out: Record<string, unknown> | null = null;
      try {
        out = JSON.parse(last) as Record<string, unknown>;
      } catch {
        out = null;
      }
      done({ code, signal, out, stderr });
    });
  });
  return { child, result };
}

const probe = (taskRoot: string, tmp: string, env?: NodeJS.ProcessEnv) => startProbe(taskRoot, tmp, env).result;

/** Files under a folder (recursively), with their total bytes. */
function measure(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return { files, bytes };
}

/** Waits until an extraction temp folder under `lambdaMl` holds over 2 MB, and returns its name. */
async function waitForPartial(lambdaMl: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const name = existsSync(lambdaMl)
      ? readdirSync(lambdaMl).find((n) => n.startsWith('.tmp-') && !n.endsWith('.lock'))
      : undefined;
    if (name) {
      try {
        if (measure(join(lambdaMl, name)).bytes > 2 * MB) return name;
      } catch {
        // renamed or removed under us: keep polling
      }
    }
    assert.ok(Date.now() < deadline, 'no temp extraction folder appeared');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Asserts <tmp>/lambda-ml holds exactly the complete extraction folder and nothing else. */
function assertOneCompleteFolder(tmp: string): string {
  const folder = join(tmp, 'lambda-ml', deps.sha256);
  assert.deepEqual(readdirSync(join(tmp, 'lambda-ml')), [deps.sha256], 'one final folder, no temp folder or lock left');
  const got = measure(folder);
  assert.equal(got.bytes, deps.unzippedBytes, 'every byte of deps.zip extracted');
  assert.equal(got.files, deps.files + 1, 'every file, plus the completion marker');
  return folder;
}

test('the package emits the bootstrap with its runtime config (bundled deps.zip, sha256, sizes)', () => {
  assert.equal(manifest.plan, 'sideload-bundled');
  assert.equal(readFileSync(join(task, 'lambda_ml_bootstrap.py'), 'utf8'), PYTHON_BOOTSTRAP);
  const runtime = JSON.parse(readFileSync(join(task, 'lambda-ml.runtime.json'), 'utf8')) as {
    sideload: Record<string, unknown>;
  };
  // The zip fields stay; the format-neutral ones (docs/design.md, "Sideload archive") are added beside them.
  assert.deepEqual(runtime.sideload, {
    zip: 'deps.zip',
    s3: null,
    sha256: deps.sha256,
    zipBytes: deps.bytes,
    unzippedBytes: deps.unzippedBytes,
    files: deps.files,
    archive: 'deps.zip',
    archiveBytes: deps.bytes,
    format: 'zip',
    diskBytes: runtime.sideload.diskBytes,
    entries: runtime.sideload.entries,
  });
  assert.ok((runtime.sideload.diskBytes as number) >= deps.unzippedBytes, 'disk use counts at least every byte');
  assert.ok((runtime.sideload.entries as number) >= deps.files, 'entries count every file');
  assert.ok(existsSync(join(task, 'deps.zip')));
  execFileSync('python3', ['-m', 'py_compile', join(task, 'lambda_ml_bootstrap.py')]);
});

test('import extracts deps.zip to <tmp>/lambda-ml/<sha256>/, first on sys.path; a warm start reuses it', async () => {
  const tmp = lambdaTmp('basic');
  const cold = await probe(task, tmp);
  assert.equal(cold.code, 0, cold.stderr);
  const folder = assertOneCompleteFolder(tmp);
  assert.deepEqual(cold.out, { value: 42, file: join(folder, 'hello_dep', '__init__.py'), first: folder });
  const mtime = statSync(folder).mtimeMs;
  const warm = await probe(task, tmp);
  assert.equal(warm.code, 0, warm.stderr);
  assert.equal(warm.out?.value, 42);
  assert.equal(statSync(folder).mtimeMs, mtime, 'not extracted again');
});

test('two processes starting at once both succeed, with one final folder', async () => {
  const tmp = lambdaTmp('race');
  const [a, b] = await Promise.all([probe(task, tmp), probe(task, tmp)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const folder = assertOneCompleteFolder(tmp);
  assert.equal(a.out?.first, folder);
  assert.equal(b.out?.first, folder);
});

test('killed mid-extraction: the next start cleans the partial folder (even if /tmp is tight), unused', async () => {
  const tmp = lambdaTmp('killed');
  const lambdaMl = join(tmp, 'lambda-ml');
  const { child, result } = startProbe(task, tmp);
  // Kill once the temp folder holds a few MB: extraction is under way, far from done.
  const partial = await waitForPartial(lambdaMl);
  child.kill('SIGKILL');
  const killed = await result;
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(!existsSync(join(lambdaMl, deps.sha256)), 'the killed process never published a final folder');
  assert.ok(existsSync(join(lambdaMl, partial)), 'the partial folder is left behind by the kill');

  // /tmp just large enough for one extraction: the stale partial must be reclaimed, not counted against it.
  const next = await probe(task, tmp, { LAMBDA_ML_TMP_LIMIT_BYTES: String(deps.unzippedBytes + MB) });
  assert.equal(next.code, 0, `${JSON.stringify(next.out)}\n${next.stderr}`);
  const folder = assertOneCompleteFolder(tmp);
  assert.equal(next.out?.first, folder);
});

test('a live (paused) extraction is left alone by a concurrent start; both end with one final folder', async () => {
  const tmp = lambdaTmp('paused');
  const lambdaMl = join(tmp, 'lambda-ml');
  const first = startProbe(task, tmp);
  const partial = await waitForPartial(lambdaMl);
  first.child.kill('SIGSTOP'); // alive, holding its lock, far from done
  try {
    const second = await probe(task, tmp);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(existsSync(join(lambdaMl, partial)), 'the paused process keeps its temp folder');
  } finally {
    first.child.kill('SIGCONT');
  }
  const resumed = await first.result;
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(resumed.out?.value, 42);
  assertOneCompleteFolder(tmp);
});

test(
  'sideload-s3: boto3 fetches deps.zip from S3 (s3rver), checked, extracted; the download removed',
  { skip: noBoto3 },
  async (t) => {
    const s3Task = join(root, 'task-s3');
    cpSync(task, s3Task, { recursive: true });
    const s3 = await startS3(t);
    await s3.client.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
    const body = readFileSync(join(s3Task, 'deps.zip'));
    await s3.client.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'deps-abc.zip', Body: body }));
    rmSync(join(s3Task, 'deps.zip'));
    const runtimePath = join(s3Task, 'lambda-ml.runtime.json');
    const runtime = JSON.parse(readFileSync(runtimePath, 'utf8')) as { sideload: Record<string, unknown> };
    runtime.sideload = { ...runtime.sideload, zip: null, s3: 's3://artifacts/deps-abc.zip' };
    writeFileSync(runtimePath, JSON.stringify(runtime));
    // The real boto3 against s3rver (which predates flexible checksums).
    const env = {
      ...s3.env,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
    };
    const tmp = lambdaTmp('s3');
    const run = await probe(s3Task, tmp, env);
    assert.equal(run.code, 0, `${JSON.stringify(run.out)}\n${run.stderr}`);
    assert.equal(run.out?.value, 42);
    assertOneCompleteFolder(tmp); // no leftover download
    // /tmp must hold the download and the extraction together.
    const tight = await probe(s3Task, lambdaTmp('s3-tight'), {
      ...env,
      LAMBDA_ML_TMP_LIMIT_BYTES: String(deps.unzippedBytes + deps.bytes - 1),
    });
    assert.equal(tight.out?.error, 'BootstrapError');
    assert.match(
      String(tight.out?.message),
      new RegExp(`deps need ${deps.unzippedBytes + deps.bytes}: raise the function's ephemeral storage`),
    );
  },
);

test('a corrupt deps.zip (sha256 mismatch) is a BootstrapError with the fix, and leaves nothing in /tmp', async () => {
  const corrupt = join(root, 'task-corrupt');
  cpSync(task, corrupt, { recursive: true });
  const zip = readFileSync(join(corrupt, 'deps.zip'));
  for (const at of [100, 5_000, zip.length >> 1]) zip[at] ^= 0xff;
  writeFileSync(join(corrupt, 'deps.zip'), zip);
  const tmp = lambdaTmp('corrupt');
  const run = await probe(corrupt, tmp);
  assert.equal(run.code, 3, run.stderr);
  assert.equal(run.out?.error, 'BootstrapError');
  assert.match(
    String(run.out?.message),
    new RegExp(
      `^deps\\.zip sha256 is [0-9a-f]{64}, expected ${deps.sha256}: the artifact is ` +
        `corrupt or stale; run lambda-ml package and deploy again$`,
    ),
  );
  assert.deepEqual(readdirSync(join(tmp, 'lambda-ml')), [], 'no folder, temp folder or lock left');
});

test('/tmp below the unzipped deps (LAMBDA_ML_TMP_LIMIT_BYTES): BootstrapError naming ephemeral storage', async () => {
  const tmp = lambdaTmp('small');
  const run = await probe(task, tmp, { LAMBDA_ML_TMP_LIMIT_BYTES: String(deps.unzippedBytes - 1) });
  assert.equal(run.code, 3, run.stderr);
  assert.equal(run.out?.error, 'BootstrapError');
  assert.match(
    String(run.out?.message),
    new RegExp(
      `has ${deps.unzippedBytes - 1} bytes free, deps ` +
        `need ${deps.unzippedBytes}: raise the function's ephemeral storage`,
    ),
  );
  assert.deepEqual(readdirSync(join(tmp, 'lambda-ml')), []);
});
