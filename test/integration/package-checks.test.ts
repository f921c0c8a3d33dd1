/**
 * `package` on copies of the scale-0.01 scenario: reproducibility across mtimes, umask and creation order;
 * secrets; layer version mismatches (--strict); over budget writes nothing.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { runPackage } from '../../src/pipeline/package.js';
import type { Manifest } from '../../src/types.js';
import { ensureScenario } from '../helpers/scenario.js';
import {
  assertOneLineError,
  copyTree,
  editJson,
  runPackageBin,
  sha256File,
  snapshot,
  tempDir,
  tempsBeside,
  zipEntries,
} from '../helpers/package-cli.js';

const SCALE = 0.01;

/** A private copy of the scale-0.01 scenario (cp -a: modes, mtimes and sparse models kept). */
async function scenarioCopy(
  t: { after: (fn: () => void) => void },
  dir = tempDir(t),
  options: { models?: number } = {},
): Promise<string> {
  const scenario = await ensureScenario({ scale: SCALE, ...options });
  const copy = join(dir, 'scenario');
  copyTree(scenario.dir, copy);
  return copy;
}

const readManifest = (out: string) => JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;

/** Recreates `from` at `to` file by file in reverse order, with umask-077 modes (x bits kept) and scattered mtimes. */
function recreateScrambled(from: string, to: string): void {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(from, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      if (lstatSync(join(from, path)).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk('');
  files.sort().reverse();
  let seed = 7;
  for (const path of files) {
    const target = join(to, path);
    mkdirSync(join(target, '..'), { recursive: true, mode: 0o700 });
    copyFileSync(join(from, path), target);
    chmodSync(target, lstatSync(join(from, path)).mode & 0o111 ? 0o700 : 0o600);
    seed = (seed * 48271) % 2147483647;
    const when = new Date(Date.UTC(2001, 0, 1) + (seed % 700_000_000) * 1000);
    utimesSync(target, when, when);
  }
}

/** Sets every file's mtime under `dir` to now + offset. */
function touchAll(dir: string, offsetS: number): void {
  const when = new Date(Date.now() + offsetS * 1000);
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) utimesSync(join(entry.parentPath ?? entry.path, entry.name), when, when);
  }
}

test(
  'same inputs, same bytes: after touching every file, and from a copy made in another order with another umask',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t);
    const a = await scenarioCopy(t, dir);
    const run = async (scenario: string, out: string, shell?: string) => {
      const result = await runPackageBin(join(scenario, 'lambda-ml.config.json'), join(dir, out), [], { shell });
      assert.equal(result.code, 0, result.stderr);
      return readManifest(join(dir, out)).artifacts;
    };
    const first = await run(a, 'out-1');
    touchAll(a, 3600);
    const touched = await run(a, 'out-2');
    const b = join(dir, 'scrambled');
    recreateScrambled(a, b);
    const scrambled = await run(b, 'out-3', 'umask 077;');

    assert.ok(first.deps);
    for (const other of [touched, scrambled]) {
      assert.equal(other.function.sha256, first.function.sha256);
      assert.equal(other.deps?.sha256, first.deps.sha256);
    }
    for (const out of ['out-1', 'out-2', 'out-3']) {
      assert.equal(sha256File(join(dir, out, 'function.zip')), first.function.sha256, `${out}: fresh sha256`);
      assert.equal(sha256File(join(dir, out, 'deps.zip')), first.deps.sha256, `${out}: fresh sha256`);
    }
    // Modes normalised whatever the umask: 0644 files, 0755 executables.
    const modes = new Map(zipEntries(join(dir, 'out-3', 'deps.zip')).map((e) => [e.name, e.mode & 0o7777]));
    assert.equal(modes.get('bin/f2py'), 0o755);
    assert.equal(modes.get('numpy/__init__.py'), 0o644);
  },
);

const SECRETS: [string, string, RegExp][] = [
  ['code/.env', 'API_KEY=1\n', /^\.env looks like an environment file/],
  ['code/.env.production', 'DB=postgres://u:p@h/db\n', /\.env\.production looks like an environment file/],
  ['code/.aws/credentials', '[default]\naws_secret_access_key = x\n', /\.aws\/credentials looks like AWS credentials/],
  ['code/id_rsa', 'ssh key\n', /id_rsa looks like an SSH key/],
  [
    'code/key.pem',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n',
    /key\.pem holds a PEM private key/,
  ],
  ['deps/numpy/.env', 'X=1\n', /numpy\/\.env looks like an environment file/],
];

test(
  'secrets in code or deps are refused (exit 2) unless allowSecrets names them; a public certificate passes',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t);
    const scenario = await scenarioCopy(t, dir);
    const configPath = join(scenario, 'lambda-ml.config.json');
    const out = join(dir, 'out');
    writeFileSync(
      join(scenario, 'code', 'ca.pem'),
      '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----\n',
    );
    for (const [rel, text, message] of SECRETS) {
      const path = join(scenario, rel);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
      let error: unknown;
      await runPackage(await loadConfig(dir, configPath), { out }).catch((caught: unknown) => (error = caught));
      assert.ok(error instanceof LambdaMlError, `${rel}: refused`);
      assert.equal(error.code, 'input');
      assert.match(error.message, message, rel);
      assert.ok(!existsSync(out), `${rel}: nothing written`);
      assert.deepEqual(tempsBeside(out), []);
      unlinkSync(path);
    }
    // Allowed by name, they ship (through the CLI, which also reads allowSecrets from the config file).
    for (const [rel, text] of SECRETS) writeFileSync(join(scenario, rel), text);
    editJson(
      configPath,
      (c) => (c.allowSecrets = ['.env', '.env.production', '.aws/credentials', 'id_rsa', 'key.pem']),
    );
    const allowed = await runPackageBin(configPath, out);
    assert.equal(allowed.code, 0, allowed.stderr);
    const names = zipEntries(join(out, 'function.zip')).map((e) => e.name);
    for (const name of ['.env', '.env.production', '.aws/credentials', 'id_rsa', 'key.pem', 'ca.pem'])
      assert.ok(names.includes(name), name);
    assert.ok(zipEntries(join(out, 'deps.zip')).some((e) => e.name === 'numpy/.env'));
    // One not allowed: the CLI refuses with one line and leaves the previous artifacts.
    const before = snapshot(out);
    writeFileSync(join(scenario, 'code', '.env.staging'), 'X=1\n');
    assertOneLineError(
      await runPackageBin(configPath, out),
      2,
      /^error: \.env\.staging looks like an environment file/,
    );
    assert.deepEqual(snapshot(out), before);
  },
);

test('a layer version mismatch: a warning, and with --strict exit 2', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const scenario = await scenarioCopy(t, dir);
  // The deps pin six 1.11.0; the layer provides 1.12.0.
  const deps = join(scenario, 'deps');
  renameSync(join(deps, 'six-1.12.0.dist-info'), join(deps, 'six-1.11.0.dist-info'));
  for (const file of ['METADATA', 'RECORD']) {
    const path = join(deps, 'six-1.11.0.dist-info', file);
    writeFileSync(
      path,
      readFileSync(path, 'utf8')
        .replaceAll('six-1.12.0.dist-info', 'six-1.11.0.dist-info')
        .replace(/^Version: 1\.12\.0$/m, 'Version: 1.11.0'),
    );
  }
  const configPath = join(scenario, 'lambda-ml.config.json');
  const strict = await runPackageBin(configPath, join(dir, 'strict'), ['--strict']);
  assertOneLineError(strict, 2, /^error: --strict: six is 1\.11\.0 in deps but 1\.12\.0 in layer tf_keras_pillow$/);
  assert.match(strict.stderr, /hint: pin six==1\.12\.0/);
  assert.ok(!existsSync(join(dir, 'strict')));
  assert.deepEqual(tempsBeside(join(dir, 'strict')), []);

  const lenient = await runPackageBin(configPath, join(dir, 'lenient'));
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.match(
    lenient.stdout,
    /! six: deps have 1\.11\.0, layer tf_keras_pillow provides 1\.12\.0; the layer's version is what runs/,
  );
  // Stripped either way: the layer's six is what runs.
  assert.ok(!zipEntries(join(dir, 'lenient', 'deps.zip')).some((e) => e.name.startsWith('six')));
});

test(
  'over budget (three models need more than a 512 MB /tmp): exit 1, nothing written',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t);
    const scenario = await scenarioCopy(t, dir, { models: 3 });
    // Scale-1 /tmp needs (3 x 159 MB of models + 65 MB of deps + its zip) at scale 0.01: only /tmp does not scale.
    for (const name of ['category', 'color', 'style'])
      truncateSync(join(scenario, 'models', `${name}.h5`), 190_000_000);
    const configPath = join(scenario, 'lambda-ml.config.json');
    const fresh = join(dir, '.lambda-ml');
    const run = await runPackageBin(configPath, fresh);
    assertOneLineError(run, 1, /^error: does not fit: .*/);
    assert.match(run.stderr, /hint: .*ephemeral/i);
    assert.ok(!existsSync(fresh), 'out not created');
    assert.deepEqual(tempsBeside(fresh), []);

    // An existing --out is left as it was.
    const existing = join(dir, 'existing');
    mkdirSync(existing);
    writeFileSync(join(existing, 'manifest.json'), '{"previous": true}\n');
    const json = await runPackageBin(configPath, existing, ['--json']);
    assert.equal(json.code, 1);
    const body = JSON.parse(json.stdout) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(body.ok, false);
    assert.equal(body.error.code, 'over-budget');
    assert.deepEqual([...snapshot(existing).keys()], ['manifest.json']);
    assert.equal(readFileSync(join(existing, 'manifest.json'), 'utf8'), '{"previous": true}\n');
    assert.deepEqual(tempsBeside(existing), []);
  },
);
