/**
 * `npm run test:runtimes`: the handler's integration tests and the `invoke` tests, run on every Node major AWS still
 * lets you create functions on (src/runtimes/table.ts creatableRuntimes), each on a binary the project installs
 * itself through the same cache as `invoke --local` (src/invoke/node-cache.ts). Fails when a run fails, or when a
 * major cannot be had: here there is no falling back to this process's Node.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedNode } from '../src/invoke/node-cache.js';
import { probeNode } from '../src/invoke/node-probe.js';
import { creatableRuntimes } from '../src/runtimes/table.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUITES: readonly [string, RegExp][] = [
  ['test/integration', /^handler-.*\.test\.ts$/],
  ['test/cli', /^invoke.*\.test\.ts$/],
];

interface RunSummary {
  runtime: string;
  version: string;
  tests: number;
  pass: number;
  fail: number;
  seconds: number;
  code: number | null;
}

const files = SUITES.flatMap(([dir, name]) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => name.test(f))
    .sort()
    .map((f) => `${dir}/${f}`),
);

/** Runs the files on `node`; echoes the output and reads the TAP reporter's totals ("# pass N"). */
function runTests(node: string): Promise<Omit<RunSummary, 'runtime' | 'version'>> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS; // this runner's tsx registration is not the child's
    const child = spawn(node, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=tap', ...files], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      process.stdout.write(chunk);
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const total = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
      const seconds = (performance.now() - started) / 1000;
      done({ tests: total('tests'), pass: total('pass'), fail: total('fail'), seconds, code });
    });
  });
}

const runtimes = creatableRuntimes('node');
const summaries: RunSummary[] = [];
let failed = false;
console.log(`test:runtimes: ${files.length} files on ${runtimes.map((r) => r.id).join(', ')}`);
for (const runtime of runtimes) {
  let node: string;
  try {
    node = await cachedNode(runtime.major, { env: process.env, onInstall: (line) => console.log(line) });
  } catch (error) {
    console.error(`test:runtimes: cannot install Node ${runtime.major} for ${runtime.id}: ${(error as Error).message}`);
    failed = true;
    continue;
  }
  const { version } = await probeNode(node);
  const shown = relative(ROOT, node).startsWith('..') ? node : relative(ROOT, node);
  console.log(`\n=== ${runtime.id}: Node ${version} (${shown})`);
  const run = await runTests(node);
  summaries.push({ runtime: runtime.id, version, ...run });
  if (run.code !== 0 || run.fail > 0 || run.tests === 0) failed = true;
}

console.log('\ntest:runtimes summary');
for (const s of summaries) {
  const verdict = s.code === 0 && s.fail === 0 && s.tests > 0 ? 'ok' : `FAILED (exit ${s.code})`;
  const counts = `${s.pass}/${s.tests} passed, ${s.fail} failed`;
  console.log(`  ${s.runtime.padEnd(12)} Node ${s.version.padEnd(9)} ${counts}, ${s.seconds.toFixed(1)} s  ${verdict}`);
}
process.exitCode = failed ? 1 : 0;
