/**
 * The projects and the peer of the cold-start benches (issue 15), made once under fixtures/generated/coldstart/:
 *
 * - the previous release: lambda-ml at PREV_COMMIT (before the handler bundle and deps.tar.br), exported with
 *   `git archive` (nothing in the repo's .git is written), `npm ci` and `npm run build`;
 * - starter: what `lambda-ml init` writes (bundle plan, prune trace), its deps installed;
 * - heavy: the starter plus the packages a user adds (PDF rendering and editing, image processing, OCR), plan forced
 *   to sideload-s3, prune safe: deps that keep well over 80 MB after what the handler bundle inlines.
 *
 * Each version packages the same project with its own CLI; packaged folders are cached by a key of the config, the
 * lockfile and the CLI's build, and redone when any of them changes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, GENERATED, ROOT } from './util.js';

export const PREV_COMMIT = 'ae45903';
export const COLDSTART_DIR = join(GENERATED, 'coldstart');
const PREV_DIR = join(GENERATED, `lambda-ml-${PREV_COMMIT}`);
const BUILT = '.bench-built';

/** The packages the heavy project adds to the starter's (pure JS or prebuilt, all from the npm registry). */
export const HEAVY_EXTRAS: Record<string, string> = {
  'pdfjs-dist': '6.5.438',
  'pdf-lib': '1.17.1',
  jimp: '1.6.1',
  'tesseract.js': '7.0.0',
};

type Say = (line: string) => void;

function run(cmd: string, args: readonly string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
}

/** A folder made by `make` in a temp sibling, then renamed into place (a killed run leaves no half folder). */
function ensureDir(dir: string, make: (tmp: string) => void): string {
  if (existsSync(join(dir, BUILT))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  make(tmp);
  writeFileSync(join(tmp, BUILT), new Date().toISOString() + '\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/** The previous release's bin/lambda-ml, exported and built on first use (a few minutes: npm ci). */
export function ensurePrevRelease(say: Say): string {
  const dir = ensureDir(PREV_DIR, (tmp) => {
    say(`coldstart: building the previous release (${PREV_COMMIT}) in ${tmp}: git archive, npm ci, npm run build`);
    execFileSync('mkdir', ['-p', tmp]);
    execFileSync('bash', ['-c', `git -C "${ROOT}" archive ${PREV_COMMIT} | tar -x -C "${tmp}"`]);
    run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], tmp);
    run('npm', ['run', 'build'], tmp);
  });
  return join(dir, 'bin', 'lambda-ml');
}

export interface BenchProject {
  readonly name: string;
  readonly dir: string;
  /** Config files by version: the current one adds what only it knows ("backend": "wasm"). */
  readonly configs: { readonly current: string; readonly previous: string };
}

const writeJson = (file: string, value: unknown) => writeFileSync(file, JSON.stringify(value, null, 2) + '\n');

/** Writes the current version's config beside the shared one: the same project, plus `extra`. */
function currentConfig(dir: string, extra: Record<string, unknown>): string {
  const base = JSON.parse(readFileSync(join(dir, 'lambda-ml.config.json'), 'utf8')) as Record<string, unknown>;
  const file = join(dir, 'current.config.json');
  writeJson(file, { ...base, ...extra });
  return file;
}

function installDeps(dir: string): void {
  run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], dir);
}

/** `lambda-ml init` (this repo's) and its deps: the starter as a user gets it. */
export function ensureStarter(say: Say): BenchProject {
  const dir = ensureDir(join(COLDSTART_DIR, 'starter'), (tmp) => {
    say(`coldstart: lambda-ml init ${tmp} && npm install`);
    run(process.execPath, [BIN, 'init', tmp, '--name', 'cs-starter'], ROOT);
    installDeps(tmp);
  });
  const previous = join(dir, 'lambda-ml.config.json');
  return { name: 'starter', dir, configs: { current: currentConfig(dir, { backend: 'wasm' }), previous } };
}

/** The starter plus HEAVY_EXTRAS, plan sideload-s3, prune safe (the starter's trace would drop them). */
export function ensureHeavy(say: Say): BenchProject {
  const starter = ensureStarter(say);
  const dir = ensureDir(join(COLDSTART_DIR, 'heavy'), (tmp) => {
    say(`coldstart: the heavy project in ${tmp}: the starter + ${Object.keys(HEAVY_EXTRAS).join(', ')}; npm install`);
    execFileSync('mkdir', ['-p', tmp]);
    execFileSync('cp', ['-r', join(starter.dir, 'models'), tmp]);
    const pkg = JSON.parse(readFileSync(join(starter.dir, 'package.json'), 'utf8'));
    delete pkg.devDependencies;
    writeJson(join(tmp, 'package.json'), {
      ...pkg,
      name: 'cs-heavy',
      dependencies: { ...pkg.dependencies, ...HEAVY_EXTRAS },
    });
    const config = JSON.parse(readFileSync(join(starter.dir, 'lambda-ml.config.json'), 'utf8'));
    delete config.prune;
    writeJson(join(tmp, 'lambda-ml.config.json'), {
      ...config,
      function: { ...config.function, name: 'cs-heavy' },
      plan: 'sideload-s3',
    });
    installDeps(tmp);
  });
  const previous = join(dir, 'lambda-ml.config.json');
  return { name: 'heavy', dir, configs: { current: currentConfig(dir, { backend: 'wasm' }), previous } };
}

/** The folders of dist/ that `package` and the handler it ships are built from (not convert, deploy, the CLI...). */
const PACKAGING_DIST = [
  'archive',
  'config',
  'handler',
  'handler-bundle',
  'lib',
  'measure',
  'onnx',
  'pack',
  'pipeline',
  'plan',
  'runtimes',
  'scan',
];

/** (path, content) of every file under `dir`: a build's fingerprint (tsc rewrites unchanged files). */
function treeFingerprint(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !entry.name.endsWith('.tsbuildinfo')) {
        hash.update(`${path}\0`).update(readFileSync(path)).update('\n');
      }
    }
  };
  walk(dir);
  return hash.digest('hex');
}

export interface Packaged {
  readonly label: string;
  readonly outDir: string;
  readonly packageMs: number | null; // null: from the cache
}

/**
 * `bin package -c config --out <cached folder>`; `label` names the version. Reused while the config, the lockfile and
 * the CLI's packaging code (PACKAGING_DIST) are unchanged.
 */
export function packageWith(label: string, bin: string, project: BenchProject, config: string, say: Say): Packaged {
  const key = createHash('sha256')
    .update(readFileSync(config))
    .update(readFileSync(join(project.dir, 'package-lock.json')))
    .update(PACKAGING_DIST.map((d) => treeFingerprint(join(bin, '..', '..', 'dist', d))).join())
    .digest('hex')
    .slice(0, 12);
  const outs = join(COLDSTART_DIR, 'out');
  const prefix = `${project.name}-${label}-`;
  const outDir = join(outs, `${prefix}${key}`);
  if (existsSync(join(outDir, 'manifest.json'))) return { label, outDir, packageMs: null };
  if (existsSync(outs))
    for (const old of readdirSync(outs))
      if (old.startsWith(prefix) && /^[0-9a-f]{12}$/.test(old.slice(prefix.length)))
        rmSync(join(outs, old), { recursive: true });
  say(`coldstart: packaging ${project.name} with ${label} (${bin})`);
  const tmp = `${outDir}.tmp-${process.pid}`;
  const t0 = performance.now();
  run(process.execPath, [bin, 'package', '-c', config, '--out', tmp], project.dir);
  const packageMs = performance.now() - t0;
  renameSync(tmp, outDir);
  return { label, outDir, packageMs };
}
