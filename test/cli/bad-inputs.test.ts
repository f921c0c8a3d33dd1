/**
 * The bad-input table: every row of every test/cli/bad-inputs/*.json runs `lambda-ml ...args` in-process against a
 * fresh copy of the starter project (test/helpers/bad-input-project.ts), and must give its exit code, one line on
 * stderr matching its pattern, no stack trace, and leave nothing behind (docs/design.md, "Errors and exit codes").
 *
 * A row: { id, bullet, found, args, exit, stderr?, hint?, stdout?, config?, files?, generate?, env?, writes?, note? }
 * - config: deep-merged into the starter's config; null deletes a key; arrays merge item by item (objects in
 *   them are merged too), so `"models": [{ "labels": null }]` drops the first model's labels.
 * - files: text files written into the project (paths relative to it); generate: a function of
 *   test/cli/bad-inputs/generators/*.ts (each exports `generators`) run on the project folder.
 * - env: added to the run's env (NO_COLOR=1, fake AWS keys, empty AWS config files); "" deletes a variable.
 *   AWS_* variables are also applied to process.env for the run, since the AWS SDK reads that.
 * - args: `{project}` is replaced by the row's project folder.
 * - exit != 0: the first stderr line matches `stderr` (a case-insensitive regex) and the `hint:` line matches
 *   `hint`; with --json, error.message (and error.hint) in the one JSON document on stdout do. exit 0: `stdout`
 *   matches stdout; `stderr`, if given, matches stderr or stdout.
 * - writes: project paths the command may create or change (a folder covers everything under it). Anything
 *   else added, removed or resized fails the row, and so do *.tmp, *-partial and .NAME.tmp-* entries anywhere.
 *   The process's cwd is an empty folder during the rows: a relative path resolved against it instead of the
 *   project (io.cwd) lands there and fails the row. The CLI's temp dir (TMPDIR) is a folder of this file only.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { copyStarterProject, starterProject } from '../helpers/bad-input-project.js';
import { runCli, type CliResult } from '../helpers/cli.js';

// BAD_INPUTS_TABLE points the runner at another folder of rows (to try the runner itself on rows that must fail).
const TABLE_DIR = process.env.BAD_INPUTS_TABLE ?? join(dirname(fileURLToPath(import.meta.url)), 'bad-inputs');
const GENERATORS_DIR = join(TABLE_DIR, 'generators');
const ISSUE_BULLETS = [
  'stack-traces',
  'corrupt-model',
  's3-names',
  'cli-numbers',
  'wording',
  'invoke-event',
  'layer-zips',
  'jsonc',
  'units',
  'direct-zip',
  'offline-invoke',
] as const;
const OTHER_BULLETS = ['runtimes', 'init', 'sideload', 'backend'] as const;
const FOUND = ['partly', 'badly', 'new'] as const;
const ROW_KEYS = [
  'id',
  'bullet',
  'found',
  'args',
  'exit',
  'stderr',
  'hint',
  'stdout',
  'config',
  'files',
  'generate',
  'env',
  'writes',
  'note',
];
const MIN_ROWS = 60;
const ROW_TIMEOUT_MS = 120_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Generator = (projectDir: string) => Promise<void>;

interface Row {
  readonly id: string;
  readonly bullet: string;
  readonly found: string;
  readonly args: readonly string[];
  readonly exit: number;
  readonly stderr?: string;
  readonly hint?: string;
  readonly stdout?: string;
  readonly config?: Record<string, Json>;
  readonly files?: Record<string, string>;
  readonly generate?: string;
  readonly env?: Record<string, string>;
  readonly writes?: readonly string[];
  readonly source: string; // the json file it came from
}

// A malformed file or row is reported by its own test below; the well-formed rows still run.
const problems: string[] = [];
const rows = await loadRows();
const generators = await loadGenerators();

let workRoot = '';
let privateTmp = '';
let cwdTrap = '';
const savedCwd = process.cwd();
let awsConfigFile = '';
let starterConfig: Record<string, Json> = {};
const savedTmp = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP };

before(async () => {
  const starter = await starterProject(); // built in the real temp dir, once
  starterConfig = JSON.parse(await readFile(join(starter, 'lambda-ml.config.json'), 'utf8'));
  workRoot = await mkdtemp(join(tmpdir(), 'bad-inputs-rows-'));
  // The CLI's temp folders (os.tmpdir()) land in a folder of this process only, so "nothing left in the temp dir"
  // is checked exactly, whatever else runs on the machine.
  privateTmp = join(workRoot, 'tmp');
  await mkdir(privateTmp);
  awsConfigFile = join(workRoot, 'aws-empty');
  await writeFile(awsConfigFile, '');
  process.env.TMPDIR = privateTmp;
  process.env.TMP = privateTmp;
  process.env.TEMP = privateTmp;
  cwdTrap = join(workRoot, 'cwd');
  await mkdir(cwdTrap);
  process.chdir(cwdTrap);
});

after(async () => {
  process.chdir(savedCwd);
  for (const [key, value] of Object.entries(savedTmp)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  if (workRoot) await rm(workRoot, { recursive: true, force: true });
  await rm(dirname(await starterProject()), { recursive: true, force: true });
});

test('the starter project passes budget (exit 0)', async () => {
  const dir = join(workRoot, 'starter-check');
  await copyStarterProject(dir);
  const result = await runCli(['budget'], { cwd: dir, env: baseEnv() });
  assert.equal(result.code, 0, `budget on the starter exited ${result.code}\n${result.stderr}`);
  assert.match(result.stdout, /fits/);
});

rows.forEach((row, index) => {
  test(`${row.bullet}: ${row.id}`, { timeout: ROW_TIMEOUT_MS }, async () => {
    const dir = join(workRoot, `${index}-${row.id}`);
    await copyStarterProject(dir);
    await prepareRow(row, dir);
    const before = await listTree(dir);
    const tmpBefore = new Set(await readdir(privateTmp));
    const result = await runRow(row, dir);
    // whatever landed in the process's cwd is taken away now, so it cannot spill into the next row
    const stray = await readdir(cwdTrap);
    await Promise.all(stray.map((name) => rm(join(cwdTrap, name), { recursive: true, force: true })));
    const shown = `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
    assert.equal(result.code, row.exit, `${row.id} (${row.source}): expected exit ${row.exit}, got ${shown}`);
    checkOutput(row, result, shown);
    checkLeftovers(row, before, await listTree(dir));
    const isNew = (name: string) => !tmpBefore.has(name) && name.startsWith('lambda-ml-');
    const leftInTmp = (await readdir(privateTmp)).filter(isNew);
    assert.deepEqual(leftInTmp, [], `${row.id}: left temp folders behind in the temp dir`);
    assert.deepEqual(stray, [], `${row.id}: wrote into the process's cwd (a path resolved against it, not io.cwd)`);
    await rm(dir, { recursive: true, force: true });
  });
});

test('the row files and generators are well-formed', () => {
  assert.deepEqual(problems, [], `malformed rows or generator files:\n${problems.join('\n')}`);
});

test('the table: ids unique, every bullet of issue §4 covered, enough rows', () => {
  const ids = rows.map((row) => row.id);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.deepEqual(dupes, [], `duplicate row ids: ${dupes.join(', ')}`);
  const tally = new Map<string, { rows: number; partly: number; badly: number; new: number }>();
  for (const row of rows) {
    const entry = tally.get(row.bullet) ?? { rows: 0, partly: 0, badly: 0, new: 0 };
    entry.rows++;
    entry[row.found as 'partly' | 'badly' | 'new']++;
    tally.set(row.bullet, entry);
  }
  const lines = [...tally.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([bullet, t]) => tallyLine(bullet, t.rows, t.partly, t.badly, t.new));
  const total = (key: 'partly' | 'badly' | 'new') => rows.filter((row) => row.found === key).length;
  lines.push(tallyLine('total', rows.length, total('partly'), total('badly'), total('new')));
  console.log(`bad-input table tally\n${lines.join('\n')}`);
  const missing = ISSUE_BULLETS.filter((bullet) => !tally.has(bullet));
  assert.deepEqual(missing, [], `bullets of issue §4 without a row: ${missing.join(', ')}`);
  assert.ok(rows.length >= MIN_ROWS, `the table has ${rows.length} rows; at least ${MIN_ROWS} are needed`);
});

function tallyLine(label: string, count: number, partly: number, badly: number, found: number): string {
  return `${label.padEnd(14)} ${String(count).padStart(3)} rows  partly ${partly}  badly ${badly}  new ${found}`;
}

/** Reads and checks every row file; a malformed file or row goes into `problems` with its file and index. */
async function loadRows(): Promise<Row[]> {
  const files = existsSync(TABLE_DIR) ? (await readdir(TABLE_DIR)).filter((name) => name.endsWith('.json')).sort() : [];
  const all: Row[] = [];
  for (const file of files) {
    try {
      const raw = JSON.parse(await readFile(join(TABLE_DIR, file), 'utf8')) as unknown;
      assert.ok(Array.isArray(raw), `${file}: must be a JSON array of rows`);
      raw.forEach((item, i) => {
        try {
          all.push(checkRow(item, `${file}[${i}]`, file));
        } catch (error) {
          problems.push((error as Error).message);
        }
      });
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
    }
  }
  return all;
}

function checkRow(item: unknown, where: string, source: string): Row {
  assert.ok(item && typeof item === 'object' && !Array.isArray(item), `${where}: a row must be an object`);
  const row = item as Record<string, unknown>;
  const unknown = Object.keys(row).filter((key) => !ROW_KEYS.includes(key));
  assert.deepEqual(unknown, [], `${where}: unknown keys (known: ${ROW_KEYS.join(', ')})`);
  assert.ok(typeof row.id === 'string' && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(row.id), `${where}: "id" must be kebab-case`);
  const bullets: readonly string[] = [...ISSUE_BULLETS, ...OTHER_BULLETS];
  const at = `${where} (${row.id})`;
  assert.ok(bullets.includes(row.bullet as string), `${at}: "bullet" must be one of ${bullets.join(', ')}`);
  assert.ok((FOUND as readonly string[]).includes(row.found as string), `${at}: "found" must be partly, badly or new`);
  assert.ok(Array.isArray(row.args) && row.args.every((a) => typeof a === 'string'), `${at}: "args" must be strings`);
  assert.ok([0, 1, 2, 3, 4].includes(row.exit as number), `${at}: "exit" must be 0–4`);
  if ((row.exit as number) >= 2)
    assert.ok(typeof row.stderr === 'string', `${at}: a failing row needs a "stderr" pattern`);
  if (row.exit === 1) assert.ok(typeof row.stdout === 'string', `${at}: an over-budget row needs a "stdout" pattern`);
  for (const key of ['stderr', 'hint', 'stdout'] as const) {
    if (row[key] === undefined) continue;
    assert.equal(typeof row[key], 'string', `${at}: "${key}" must be a regex string`);
    assert.doesNotThrow(() => new RegExp(row[key] as string, 'i'), `${at}: "${key}" is not a valid regex`);
  }
  return { ...(row as unknown as Row), source };
}

/** Merges the `generators` export of every test/cli/bad-inputs/generators/*.ts (and a generators.ts, if any). */
async function loadGenerators(): Promise<Record<string, Generator>> {
  const names = existsSync(GENERATORS_DIR) ? (await readdir(GENERATORS_DIR)).filter((n) => n.endsWith('.ts')) : [];
  const files = names.sort().map((name) => join(GENERATORS_DIR, name));
  if (existsSync(join(TABLE_DIR, 'generators.ts'))) files.push(join(TABLE_DIR, 'generators.ts'));
  const merged: Record<string, Generator> = {};
  for (const file of files) {
    try {
      const module = (await import(pathToFileURL(file).href)) as { generators?: Record<string, Generator> };
      assert.ok(module.generators && typeof module.generators === 'object', `${file}: must export "generators"`);
      for (const [name, fn] of Object.entries(module.generators)) {
        assert.ok(!(name in merged), `generator "${name}" is defined twice (${basename(file)})`);
        merged[name] = fn;
      }
    } catch (error) {
      problems.push(`${basename(file)}: ${(error as Error).message}`);
    }
  }
  return merged;
}

/** Config merge, files, generator. */
async function prepareRow(row: Row, dir: string): Promise<void> {
  if (row.config) {
    const config = mergeJson(starterConfig, row.config);
    await writeFile(join(dir, 'lambda-ml.config.json'), JSON.stringify(config, null, 2) + '\n');
  }
  for (const [path, text] of Object.entries(row.files ?? {})) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  if (row.generate !== undefined) {
    const generate = generators[row.generate];
    assert.ok(
      generate,
      `${row.id}: generator "${row.generate}" not found in test/cli/bad-inputs/generators/*.ts ` +
        `(known: ${Object.keys(generators).join(', ') || 'none'})`,
    );
    await generate(dir);
  }
}

/** Deep merge: null deletes, objects merge key by key, arrays item by item. */
function mergeJson(base: Json, patch: Json): Json {
  if (Array.isArray(patch)) {
    const items = Array.isArray(base) ? [...base] : [];
    patch.forEach((item, i) => {
      items[i] = i < items.length ? mergeJson(items[i], item) : item;
    });
    return items.filter((item) => item !== null);
  }
  if (patch === null || typeof patch !== 'object') return patch;
  const out: Record<string, Json> = base && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = key in out ? mergeJson(out[key], value) : value;
  }
  return out;
}

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    NO_COLOR: '1',
    PATH: process.env.PATH,
    TMPDIR: privateTmp,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_CONFIG_FILE: awsConfigFile,
    AWS_SHARED_CREDENTIALS_FILE: awsConfigFile,
  };
  for (const [key, value] of Object.entries(extra)) {
    if (value === '') delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs the row's command with its env, mirrored into process.env's AWS_* for the SDK, restored afterwards. */
async function runRow(row: Row, dir: string): Promise<CliResult> {
  const env = baseEnv(row.env);
  const args = row.args.map((arg) => arg.replaceAll('{project}', dir));
  const awsKeys = Object.keys(process.env).filter((key) => key.startsWith('AWS_'));
  const saved = Object.fromEntries(awsKeys.map((key) => [key, process.env[key]]));
  for (const key of Object.keys(saved)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) if (key.startsWith('AWS_')) process.env[key] = value;
  try {
    return await runCli(args, { cwd: dir, env });
  } finally {
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

function checkOutput(row: Row, result: CliResult, shown: string): void {
  assert.doesNotMatch(result.stderr, /^\s+at /m, `${row.id}: stack trace on stderr\n${shown}`);
  const json = row.args.includes('--json');
  // 0 (fits, maybe with a warning) and 1 (over budget: a report, not an error) are judged by what they print.
  if (row.exit === 0 || row.exit === 1) {
    if (row.stdout) assert.match(result.stdout, new RegExp(row.stdout, 'i'), `${row.id}: stdout\n${shown}`);
    const pattern = row.stderr ? new RegExp(row.stderr, 'i') : null;
    const matches = pattern === null || pattern.test(result.stderr) || pattern.test(result.stdout);
    assert.ok(matches, `${row.id}: no match for ${pattern}\n${shown}`);
    return;
  }
  if (row.stdout) assert.match(result.stdout, new RegExp(row.stdout, 'i'), `${row.id}: stdout\n${shown}`);
  if (json) {
    let doc: { ok?: boolean; error?: { message?: string; hint?: string | null; exitCode?: number } };
    try {
      doc = JSON.parse(result.stdout);
    } catch {
      assert.fail(`${row.id}: --json must print one JSON document on stdout\n${shown}`);
    }
    assert.equal(doc.ok, false, `${row.id}: --json document must say ok: false\n${shown}`);
    assert.match(doc.error?.message ?? '', new RegExp(row.stderr as string, 'i'), `${row.id}: error.message\n${shown}`);
    if (row.hint) assert.match(doc.error?.hint ?? '', new RegExp(row.hint, 'i'), `${row.id}: error.hint\n${shown}`);
    return;
  }
  const first = result.stderr.split('\n')[0];
  assert.match(first, new RegExp(row.stderr as string, 'i'), `${row.id}: first stderr line\n${shown}`);
  if (row.hint) {
    const hint = result.stderr.split('\n').find((line) => line.startsWith('hint:')) ?? '(no hint: line)';
    assert.match(hint, new RegExp(row.hint, 'i'), `${row.id}: hint line\n${shown}`);
  }
  const errors = result.stderr.match(/^error:/gm)?.length ?? 0;
  assert.equal(errors, 1, `${row.id}: "error:" must appear once on stderr, not ${errors} times\n${shown}`);
}

/** Every path of the project (folders end with /) with its size. */
async function listTree(root: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        found.set(`${path}/`, 0);
        await walk(path);
      } else {
        found.set(path, (await lstat(join(root, path))).size);
      }
    }
  };
  await walk('');
  return found;
}

const isTempName = (name: string) => name.endsWith('.tmp') || name.endsWith('-partial') || name.includes('.tmp-');

function checkLeftovers(row: Row, before: Map<string, number>, after: Map<string, number>): void {
  const allowed = (path: string) =>
    (row.writes ?? []).some((w) => {
      const prefix = w.replace(/\/+$/, '');
      return path === prefix || path === `${prefix}/` || path.startsWith(`${prefix}/`);
    });
  const isTemp = (path: string) => path.split('/').some((part) => part !== '' && isTempName(part));
  const temps = [...after.keys()].filter((path) => !before.has(path) && isTemp(path));
  assert.deepEqual(temps, [], `${row.id}: temp or partial entries left behind`);
  const changed: string[] = [];
  for (const [path, size] of after) {
    if (before.get(path) === size || allowed(path)) continue;
    changed.push(before.has(path) ? `changed ${path}` : `added ${path}`);
  }
  for (const path of before.keys()) if (!after.has(path) && !allowed(path)) changed.push(`removed ${path}`);
  assert.deepEqual(changed, [], `${row.id}: the project changed outside "writes"`);
}
