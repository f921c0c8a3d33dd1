/**
 * `package` writes --out atomically (docs/design.md §3): failing, killed, interrupted and disk-full runs leave the
 * previous
 * artifacts byte-identical and no `.<out>.tmp-*` folder (or one the next run cleans). Runs spawn bin/lambda-ml.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { reportError } from '../../src/cli/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { exitCodeFor, LambdaMlError } from '../../src/lib/errors.js';
import { runPackage } from '../../src/pipeline/package.js';
import { EM, makeElf } from '../helpers/elf.js';
import { ensureScenario } from '../helpers/scenario.js';
import {
  assertOneLineError,
  copyTree,
  finished,
  runPackageBin,
  snapshot,
  spawnBin,
  tempsBeside,
  waitFor,
} from '../helpers/package-cli.js';

const MB = 1_000_000;
let root: string;
let previous: Map<string, string>; // the artifacts of a good run, that every failing run must leave alone

/** A Python project: `deps-small` packages in a second, `deps-big` (120 MB of random bytes) takes several. */
function writeProject(dir: string): void {
  const put = (rel: string, data: string | Buffer) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), data);
  };
  put('code/handler.py', 'def handler(event, context):\n    return 1\n');
  for (const deps of ['deps-small', 'deps-big']) {
    put(`${deps}/pkg/__init__.py`, 'VALUE = 1\n');
    put(`${deps}/pkg-1.0.dist-info/METADATA`, 'Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n');
    put(`${deps}/pkg-1.0.dist-info/top_level.txt`, 'pkg\n');
    put(`${deps}/pkg-1.0.dist-info/RECORD`, 'pkg/__init__.py,,\n');
  }
  put('deps-small/pkg/data.bin', randomBytes(200_000));
  for (let i = 0; i < 12; i++) put(`deps-big/pkg/blob${String(i).padStart(2, '0')}.bin`, randomBytes(10 * MB));
  for (const deps of ['deps-small', 'deps-big']) {
    put(
      `${deps}.json`,
      JSON.stringify(
        {
          function: {
            name: 'atomic',
            runtime: 'python3.11',
            architecture: 'x86_64',
            memoryMb: 1024,
            ephemeralStorageMb: 512,
            timeoutS: 60,
            role: 'arn:aws:iam::123456789012:role/x',
          },
          region: 'eu-west-1',
          code: 'code',
          deps,
          layers: [],
          models: [],
          // Bundle without a measuring pass first: the big zip is written once, so a kill lands in the write.
          limits: { zipDirectBytes: 1_000_000_000 },
        },
        null,
        2,
      ),
    );
  }
}

const config = (name: 'deps-small' | 'deps-big' | string) => join(root, 'project', `${name}.json`);
const outDir = () => join(root, 'site', '.lambda-ml');

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'lambda-ml-atomic-'));
  writeProject(join(root, 'project'));
  const first = await runPackageBin(config('deps-small'), outDir());
  assert.equal(first.code, 0, first.stderr);
  previous = snapshot(outDir());
  assert.deepEqual([...previous.keys()].sort(), ['function.zip', 'manifest.json']);
});
after(() => rmSync(root, { recursive: true, force: true }));

/** The previous artifacts are byte-identical and no temp folder is left beside them. */
function assertUntouched(out = outDir(), expected = previous): void {
  assert.deepEqual(snapshot(out), expected, 'previous artifacts byte-identical');
  assert.deepEqual(tempsBeside(out), [], 'no temp folder left');
}

/** A variant of the small project: `deps-small` copied to `name`, changed by `edit`, with its own config. */
function variant(name: string, edit: (deps: string) => void): string {
  const deps = join(root, 'project', name);
  copyTree(join(root, 'project', 'deps-small'), deps);
  edit(deps);
  const text = execFileSync('cat', [config('deps-small')])
    .toString()
    .replace('"deps": "deps-small"', `"deps": "${name}"`);
  writeFileSync(config(name), text);
  return config(name);
}

/** Starts a big run and waits until its temp folder holds a partly written zip. */
async function startBigRun(out = outDir(), extra: { shell?: string } = {}) {
  const child = spawnBin(['package', '--config', config('deps-big'), '--out', out], extra);
  const done = finished(child);
  const partial = await waitFor(() => {
    for (const temp of tempsBeside(out)) {
      const files = readdirSync(join(out, '..', temp)).filter((n) => n.startsWith('function.zip.tmp-'));
      for (const f of files) {
        try {
          if (statSync(join(out, '..', temp, f)).size > 2 * MB) return join(out, '..', temp);
        } catch {
          // gone: the run moved on
        }
      }
    }
    return null;
  }, 120_000);
  return { child, done, partial };
}

test('a secret in the code: exit 2 naming it, previous artifacts untouched', async () => {
  writeFileSync(join(root, 'project', 'code', '.env'), 'API_KEY=x\n');
  try {
    const run = await runPackageBin(config('deps-small'), outDir());
    assertOneLineError(run, 2, /^error: \.env looks like an environment file; it would ship inside the function$/);
    assertUntouched();
  } finally {
    unlinkSync(join(root, 'project', 'code', '.env'));
  }
});

test('a wrong-architecture .so in the deps: exit 2 naming the file, what it is and the fix', async () => {
  const cfg = variant('deps-arm', (deps) =>
    writeFileSync(join(deps, 'pkg', '_speedups.cpython-311-aarch64-linux-gnu.so'), makeElf({ machine: EM.AARCH64 })),
  );
  const run = await runPackageBin(cfg, outDir());
  assert.equal(run.code, 2, run.stderr);
  assert.equal(run.stdout, '');
  // One error line naming the file, one indented detail line per refused binary, the hint.
  assert.deepEqual(
    run.stderr
      .trimEnd()
      .split('\n')
      .map((line) => line.replace(/^(hint: reinstall the deps for python3\.11 x86_64: pip install).*$/, '$1')),
    [
      'error: 1 native binary cannot load on python3.11 x86_64: pkg/_speedups.cpython-311-aarch64-linux-gnu.so',
      '  pkg/_speedups.cpython-311-aarch64-linux-gnu.so: a Linux arm64 (aarch64) binary; the function is x86_64',
      'hint: reinstall the deps for python3.11 x86_64: pip install',
    ],
  );
  assert.match(run.stderr, /hint: .*pip install -t DIR --platform manylinux2014_x86_64 --python-version 3\.11/);
  assertUntouched();
});

test('a symlink in the deps pointing outside the tree: exit 2 naming it', async () => {
  writeFileSync(join(root, 'outside.txt'), 'secret-ish\n');
  const cfg = variant('deps-escape', (deps) => symlinkSync('../../../outside.txt', join(deps, 'pkg', 'escape.txt')));
  const run = await runPackageBin(cfg, outDir());
  assertOneLineError(
    run,
    2,
    /deps-escape\/pkg\/escape\.txt: symlink escapes the tree \(-> \.\.\/\.\.\/\.\.\/outside\.txt\)/,
  );
  assertUntouched();
  const absolute = variant('deps-absolute', (deps) => symlinkSync('/etc/passwd', join(deps, 'pkg', 'passwd')));
  assertOneLineError(
    await runPackageBin(absolute, outDir()),
    2,
    /deps-absolute\/pkg\/passwd: symlink escapes the tree \(-> \/etc\/passwd\)/,
  );
  assertUntouched();
});

test('a file that becomes unreadable between the scan and the zip: one-line error, nothing partial', async () => {
  const deps = join(root, 'project', 'deps-vanish');
  const cfgPath = variant('deps-vanish', (dir) => writeFileSync(join(dir, 'pkg', 'zz-late.bin'), randomBytes(1000)));
  const cfg = await loadConfig(root, cfgPath);
  let error: unknown;
  try {
    await runPackage(cfg, {
      out: outDir(),
      // After the deps are scanned and before anything is zipped: the file becomes a dangling symlink.
      onStep: (step) => {
        if (step !== 'models') return;
        unlinkSync(join(deps, 'pkg', 'zz-late.bin'));
        symlinkSync('nowhere.bin', join(deps, 'pkg', 'zz-late.bin'));
      },
    });
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof LambdaMlError, `a LambdaMlError, got ${String(error)}`);
  assert.equal(exitCodeFor(error), 2);
  assert.match(error.message, /deps-vanish\/pkg\/zz-late\.bin/);
  const stderr = {
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
  reportError(error, { stdout: stderr, stderr, env: { NO_COLOR: '1' }, cwd: root } as never, {});
  const lines = stderr.text.trimEnd().split('\n');
  assert.ok(
    lines.length <= 2 && lines[0].startsWith('error: ') && (lines.length === 1 || lines[1].startsWith('hint: ')),
    stderr.text,
  );
  assertUntouched();
});

test(
  'SIGKILL mid-zip leaves the previous artifacts; the next run removes the stale temp folder and succeeds',
  { timeout: 180_000 },
  async () => {
    const { child, done, partial } = await startBigRun();
    child.kill('SIGKILL');
    const killed = await done;
    assert.equal(killed.signal, 'SIGKILL');
    assert.deepEqual(snapshot(outDir()), previous, 'previous artifacts byte-identical');
    assert.ok(existsSync(partial), 'a SIGKILL cannot clean up: the temp folder stays until the next run');
    const next = await runPackageBin(config('deps-small'), outDir());
    assert.equal(next.code, 0, next.stderr);
    assert.ok(!existsSync(partial), 'the next run removed the stale temp folder');
    assertUntouched(); // the same inputs again: the same bytes
  },
);

test(
  'SIGTERM mid-zip cleans up by itself: one-line error, previous artifacts untouched',
  { timeout: 180_000 },
  async () => {
    const { child, done, partial } = await startBigRun();
    child.kill('SIGTERM');
    const run = await done;
    assertOneLineError(run, 2, /^error: interrupted by SIGTERM; partial output was removed$/);
    assert.ok(!existsSync(partial));
    assertUntouched();
  },
);

test('killed between the two renames of the swap: the next run puts the previous artifacts back', async () => {
  // A process that has exited: its pid marks the temp folders as stale.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const site = join(root, 'swap');
  const out = join(site, 'out');
  assert.equal((await runPackageBin(config('deps-small'), out)).code, 0);
  const before = snapshot(out);
  renameSync(out, join(site, `.out.tmp-${dead}-0badc0de.old`)); // as swapIn leaves it after its first rename
  writeFileSync(join(root, 'project', 'code', 'id_rsa'), 'not really\n');
  try {
    const run = await runPackageBin(config('deps-small'), out);
    assertOneLineError(run, 2, /id_rsa looks like an SSH key/);
  } finally {
    unlinkSync(join(root, 'project', 'code', 'id_rsa'));
  }
  assertUntouched(out, before);
});

test(
  'a full disk (tmpfs): exit 2 with one line, previous artifacts untouched, nothing partial',
  { timeout: 120_000 },
  async (t) => {
    const disk = join(root, 'disk');
    mkdirSync(disk);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]).status === 0;
    if (!mounted) {
      t.skip('cannot mount a tmpfs here (not root?): the ulimit test covers a size limit');
      return;
    }
    t.after(() => spawnSync('umount', [disk]));
    const out = join(disk, 'out');
    assert.equal((await runPackageBin(config('deps-small'), out)).code, 0);
    const before = snapshot(out);

    // The scale-0.01 scenario: deps.zip fits, the second model's copy runs out of space.
    const scenario = await ensureScenario({ scale: 0.01 });
    const staging = await runPackageBin(scenario.configPath, out);
    assertOneLineError(staging, 2, /: no space left on device$/);
    assertUntouched(out, before);

    // 120 MB of random bytes: function.zip runs out of space.
    const zipping = await runPackageBin(config('deps-big'), out);
    assertOneLineError(zipping, 2, /function\.zip: no space left on device$/);
    assert.match(zipping.stderr, /hint: free disk space or choose another --out folder/);
    assertUntouched(out, before);
  },
);

test(
  'a file size limit (ulimit -f): EFBIG is exit 2 with one line, or SIGXFSZ leaves a folder the next run cleans',
  { timeout: 180_000 },
  async () => {
    const run = await runPackageBin(config('deps-big'), outDir(), [], { shell: 'ulimit -f 4096;' });
    if (run.signal === 'SIGXFSZ') {
      assert.deepEqual(snapshot(outDir()), previous);
      assert.equal((await runPackageBin(config('deps-small'), outDir())).code, 0);
    } else {
      assertOneLineError(run, 2, /function\.zip: disk quota or file size limit reached$/);
    }
    assertUntouched();
  },
);
