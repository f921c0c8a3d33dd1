/** `lambda-ml budget` through main(argv, fakeIo), plus a few spawned smoke runs of bin/lambda-ml. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, test } from 'node:test';
import { VERSION } from '../../src/lib/version.js';
import { createProgress } from '../../src/cli/progress.js';
import { showProgress } from '../../src/cli/io.js';
import { fakeIo, hasAnsi, runBin, runCli } from '../helpers/cli.js';
import { ensureScenario } from '../helpers/scenario.js';

// The scenario at 1/100 of its size: 4 MB of deps, the same shape and plan (byte limits scale with it).
const small = await ensureScenario({ scale: 0.01 });
const scratch = mkdtempSync(join(tmpdir(), 'lambda-ml-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The small scenario's config with absolute paths, changed by `edit`, written to a fresh folder. */
function variant(name: string, edit: (config: any) => void): string {
  const config = JSON.parse(readFileSync(small.configPath, 'utf8'));
  const abs = (p: string) => (isAbsolute(p) ? p : join(small.dir, p));
  config.code = abs(config.code);
  config.deps = abs(config.deps);
  config.layers = config.layers.map((l: { zip: string }) => ({ ...l, zip: abs(l.zip) }));
  config.models = config.models.map((m: { path: string }) => ({ ...m, path: abs(m.path) }));
  edit(config);
  const path = join(scratch, `${name}.config.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Every line at most `width` columns (code points: the bars are one column each). */
function assertFits(text: string, width = 80): void {
  for (const line of text.split('\n')) assert.ok([...line].length <= width, `${[...line].length} columns: ${line}`);
}

test('--json: exactly one JSON document on stdout, nothing on stderr, exit 0 when it fits', async () => {
  const result = await runCli(['budget', '--json'], { cwd: small.dir });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  const body = JSON.parse(result.stdout);
  assert.equal(result.stdout, `${JSON.stringify(body, null, 2)}\n`);
  assert.equal(body.schemaVersion, 1);
  assert.equal(body.ok, true);
  assert.equal(body.plan, 'sideload-bundled');
  assert.equal(body.components.deps.bytes, small.expected.depsBytes);
  assert.equal(body.components.layers[0].bytes, small.expected.layerBytes);
  assert.ok(!hasAnsi(result.stdout));
});

test('--json ignores a TTY and colour: still one plain document, no progress', async () => {
  const result = await runCli(['budget', '--json'], { cwd: small.dir, isTTY: true, env: {} });
  assert.equal(result.code, 0);
  assert.equal(result.stderr, '');
  assert.ok(!hasAnsi(result.stdout));
  JSON.parse(result.stdout);
});

test('human report: no ANSI with NO_COLOR or off a TTY, colour on a TTY; every line fits 80 columns', async () => {
  const plain = await runCli(['budget'], { cwd: small.dir });
  assert.equal(plain.code, 0);
  assert.equal(plain.stderr, '');
  assert.ok(!hasAnsi(plain.stdout));
  assertFits(plain.stdout);
  for (const heading of [
    'Components',
    'Biggest packages',
    'Limits (plan sideload-bundled)',
    '✓ fits',
    'Next: lambda-ml package',
  ]) {
    assert.ok(plain.stdout.includes(heading), heading);
  }
  for (const limit of ['unzipped', 'zip direct', '/tmp', 'memory', 'layers'])
    assert.match(plain.stdout, new RegExp(`^  ${limit.replace('/', '\\/')} +[█░]{20} `, 'm'));
  assert.match(plain.stdout, /layer tf_keras_pillow \(zip\) +2\.2 MiB {2}provides/);
  const nonTty = await runCli(['budget'], { cwd: small.dir, env: {} });
  assert.ok(!hasAnsi(nonTty.stdout), 'not a TTY: no colour even without NO_COLOR');
  const tty = await runCli(['budget'], { cwd: small.dir, env: {}, isTTY: true });
  assert.ok(hasAnsi(tty.stdout), 'a TTY without NO_COLOR gets colour');
  assertFits(tty.stdout.replace(/\x1b\[[0-9;]*m/g, ''));
  const ttyNoColor = await runCli(['budget'], { cwd: small.dir, env: { NO_COLOR: '1' }, isTTY: true });
  assert.ok(!hasAnsi(ttyNoColor.stdout), 'NO_COLOR wins over a TTY');
  const flag = await runCli(['--no-color', 'budget'], { cwd: small.dir, env: {}, isTTY: true });
  assert.ok(!hasAnsi(flag.stdout), '--no-color wins over a TTY');
});

test('an unfit project: exit 1, failing limits and suggestions, still within 80 columns', async () => {
  // A sparse 600 MB .h5 that no 512 MB /tmp holds, and byte limits the deps cannot meet.
  const huge = join(scratch, 'huge.h5');
  writeFileSync(huge, Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'));
  truncateSync(huge, 600_000_000);
  const config = variant('unfit', (c) => {
    c.layers = [];
    c.models.push({ name: 'huge', path: huge });
    c.limits = { unzippedBytes: 1_000_000, zipDirectBytes: 100_000 };
  });
  const result = await runCli(['budget', '--config', config], { cwd: scratch });
  assert.equal(result.code, 1, result.stderr);
  assert.ok(!hasAnsi(result.stdout));
  assertFits(result.stdout);
  assert.match(result.stdout, /✗ does not fit: nothing fits: /);
  assert.match(result.stdout, /^ {2}bundle +unzipped over by /m);
  assert.match(result.stdout, /^To make it fit$/m);
  assert.match(result.stdout, /Next: apply a suggestion above/);
  const json = await runCli(['budget', '--json', '--config', config], { cwd: scratch });
  assert.equal(json.code, 1);
  assert.equal(json.stderr, '');
  const body = JSON.parse(json.stdout);
  assert.equal(body.fits, false);
  assert.equal(body.plan, null);
  const quiet = await runCli(['budget', '--quiet', '--config', config], { cwd: scratch });
  assert.equal(quiet.code, 1);
  assert.equal(quiet.stdout, '');
  assert.match(quiet.stderr, /^does not fit: nothing fits: /);
});

/** Sizes a report may show: binary units, configured MB (memory and /tmp), exact bytes with separators. */
function assertOneUnitConvention(text: string, config: { memoryMb: number; tmpMb: number }): void {
  assert.doesNotMatch(text, /(?<![\w.,])\d{5,}(?![\w.,])/, 'no bare run of 5+ digits (use thousands separators)');
  assert.doesNotMatch(text, /\d (kB|GB|TB)\b/, 'no SI units: sizes are KiB, MiB, GiB');
  // "MB" only for what Lambda configures in MB (= MiB): the configured memory and /tmp themselves
  for (const match of text.matchAll(/([\d,.]+) MB\b/g)) {
    assert.ok(
      [config.memoryMb, config.tmpMb].includes(Number(match[1])),
      `"${match[0]}" is not a configured memory or /tmp size`,
    );
  }
}

test('units: human and markdown reports agree (MiB sizes, memory and /tmp as configured, separators)', async () => {
  const human = await runCli(['budget'], { cwd: small.dir });
  assert.equal(human.code, 0, human.stderr);
  assertOneUnitConvention(human.stdout, { memoryMb: 3008, tmpMb: 512 });
  assert.match(human.stdout, /\(python3\.11, x86_64, 3008 MB, \/tmp 512 MB\)/);
  assert.match(
    human.stdout,
    /^ {2}\/tmp +[█░]{20} +[\d.]+ (KiB|MiB) \/ 512 MB /m,
    '/tmp max as configured, not 537 MB',
  );
  const memoryLine = /^ {2}memory +[█░]{20} +[\d.]+ MiB \/ 3008 MB /m;
  assert.match(human.stdout, memoryLine, 'memory max as configured, not 3.2 GB');
  assert.match(human.stdout, /exceed 2,621,440 bytes\s+\(2\.5 MiB\)/, 'a byte limit with separators and its MiB');
  const markdown = await runCli(['budget', '--markdown'], { cwd: small.dir });
  assertOneUnitConvention(markdown.stdout, { memoryMb: 3008, tmpMb: 512 });
  assert.match(markdown.stdout, /^\| tmp \| [\d.]+ (KiB|MiB) \| 512 MB \|/m);
  assert.match(markdown.stdout, /^\| memory \| [\d.]+ MiB \| 3008 MB \|/m);
});

test('a layer alone over the unzipped limit: the report says which layer, by how much, and what fixes it', async () => {
  const config = variant('layer-alone', (c) => {
    c.limits = { unzippedBytes: 2_000_000 };
  });
  const result = await runCli(['budget', '--config', config], { cwd: scratch });
  assert.equal(result.code, 1, result.stderr);
  assertFits(result.stdout);
  assertOneUnitConvention(result.stdout, { memoryMb: 3008, tmpMb: 512 });
  const flat = result.stdout.replace(/\n {4}/g, ' ');
  assert.match(
    flat,
    new RegExp(
      [
        String.raw`→ layer tf_keras_pillow alone is [\d,]+ bytes, over the 2,000,000 bytes \(1\.91 MiB\) `,
        String.raw`unzipped limit: remove it from "layers", or rebuild it to at most [\d,]+ bytes`,
      ].join(''),
    ),
  );
  assert.match(result.stdout, /Next: apply a suggestion above/);
  const json = JSON.parse((await runCli(['budget', '--json', '--config', config], { cwd: scratch })).stdout);
  assert.equal(json.suggestions[0].kind, 'trim-layer');
  assert.equal(json.suggestions[0].value, 'tf_keras_pillow');
});

test('--quiet prints nothing when it fits', async () => {
  const result = await runCli(['budget', '--quiet'], { cwd: small.dir });
  assert.deepEqual(result, { code: 0, stdout: '', stderr: '' });
});

test('--markdown: a CI summary with a limits table; --markdown FILE appends to the file', async () => {
  const result = await runCli(['budget', '--markdown'], { cwd: small.dir });
  assert.equal(result.code, 0);
  assert.equal(result.stderr, '');
  assert.ok(!hasAnsi(result.stdout));
  assert.match(result.stdout, /^## lambda-ml budget: asset-classifier ✅ fits\n/);
  assert.match(result.stdout, /^\*\*Plan:\*\* `sideload-bundled`: /m);
  assert.match(result.stdout, /^\| limit \| used \| max \| % \| status \|\n\|---\|---:\|---:\|---:\|---\|$/m);
  for (const limit of ['unzipped', 'zipDirect', 'tmp', 'memory', 'layers'])
    assert.match(result.stdout, new RegExp(`^\\| ${limit} \\| .+ \\| (?:ok|near) \\|$`, 'm'));
  assert.match(result.stdout, /^\| component \| unzipped \| note \|$/m);
  const summary = join(scratch, 'summary.md');
  writeFileSync(summary, '# before\n');
  const toFile = await runCli(['budget', '--quiet', '--markdown', summary], { cwd: small.dir });
  assert.equal(toFile.code, 0);
  assert.equal(toFile.stdout, '');
  const written = readFileSync(summary, 'utf8');
  assert.ok(written.startsWith('# before\n## lambda-ml budget: asset-classifier'), written.slice(0, 80));
});

test('--help and --version exit 0; an unknown flag or command exits 2', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: lambda-ml /);
  assert.match(help.stdout, /budget/);
  const budgetHelp = await runCli(['budget', '--help']);
  assert.equal(budgetHelp.code, 0);
  assert.match(budgetHelp.stdout, /--markdown/);
  const version = await runCli(['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), VERSION);
  const unknown = await runCli(['budget', '--bogus'], { cwd: small.dir });
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /unknown option '--bogus'/);
  const command = await runCli(['frobnicate']);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command 'frobnicate'/);
});

test('a forced plan that does not fit exits 1 and says why', async () => {
  const config = variant('forced', (c) => {
    c.plan = 'bundle';
  });
  const result = await runCli(['budget', '--json', '--config', config], { cwd: scratch });
  assert.equal(result.code, 1);
  const body = JSON.parse(result.stdout);
  assert.equal(body.plan, null);
  assert.equal(body.reason, 'plan forced by config ("plan": "bundle") does not fit: unzipped');
});

test('bin/lambda-ml: --json on the small scenario, same with LAMBDA_ML_NO_FIND=1; --help; bad flag', async () => {
  const [fast, noFind, help, bad] = await Promise.all([
    runBin(['budget', '--json'], { cwd: small.dir }),
    runBin(['budget', '--json'], { cwd: small.dir, env: { LAMBDA_ML_NO_FIND: '1' } }),
    runBin(['--help']),
    runBin(['budget', '--bogus'], { cwd: small.dir }),
  ]);
  assert.equal(fast.code, 0, fast.stderr);
  assert.equal(fast.stderr, '');
  assert.equal(noFind.code, 0, noFind.stderr);
  const a = JSON.parse(fast.stdout);
  const b = JSON.parse(noFind.stdout);
  assert.equal(a.components.deps.bytes, small.expected.depsBytes);
  assert.deepEqual(b.components, a.components);
  assert.deepEqual(b.checks, a.checks);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: lambda-ml /);
  assert.ok(!hasAnsi(help.stdout));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown option '--bogus'/);
  assert.ok(!/\n\s+at /.test(bad.stderr), 'no stack');
});

test('spawned: a bad config exits 2 with error + hint and no stack', async () => {
  const dir = mkdtempSync(join(scratch, 'bad-'));
  writeFileSync(join(dir, 'lambda-ml.config.json'), JSON.stringify({ function: { name: 'fn', memoryMb: '3008' } }));
  const result = await runBin(['budget'], { cwd: dir });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, 'error: function.memoryMb must be an integer, got "3008"\nhint: e.g. "memoryMb": 3008\n');
});

test('progress: only on a TTY, never with --json, --quiet or CI; silent for fast scans; erased when done', async () => {
  const io = (isTTY: boolean, env: NodeJS.ProcessEnv = {}) => fakeIo({ isTTY, env });
  assert.equal(showProgress(io(true), {}), true);
  assert.equal(showProgress(io(false), {}), false);
  assert.equal(showProgress(io(true), { json: true }), false);
  assert.equal(showProgress(io(true), { quiet: true }), false);
  assert.equal(showProgress(io(true, { CI: 'true' }), {}), false);
  const slow = io(true);
  const progress = createProgress(slow, true, 0);
  progress.step('scanning deps');
  progress.bytes('measuring deps.zip', 50, 100);
  progress.done();
  assert.match(slow.stderr.text, /^\r\x1b\[Kscanning deps…/);
  assert.ok(slow.stderr.text.endsWith('\r\x1b[K'), 'the line is erased at the end');
  assert.equal(slow.stdout.text, '');
  const fast = io(true);
  const quiet = createProgress(fast, true, 60_000);
  quiet.step('scanning deps');
  quiet.done();
  assert.equal(fast.stderr.text, '', 'nothing before the delay');
  const off = io(false);
  createProgress(off, false, 0).step('x');
  assert.equal(off.stderr.text, '');
});

test('errors on a TTY with NO_COLOR carry no ANSI escapes', async () => {
  const dir = mkdtempSync(join(scratch, 'tty-'));
  const result = await runCli(['budget'], { cwd: dir, isTTY: true, env: { NO_COLOR: '1' } });
  assert.equal(result.code, 2);
  assert.ok(!hasAnsi(result.stderr), JSON.stringify(result.stderr));
  assert.match(result.stderr, /^error: no config found in /);
});
