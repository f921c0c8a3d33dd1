/**
 * The Lambda runtime table (src/runtimes/lambda-runtimes.json) as a table, its API on pinned dates, and its monopoly in
 * src/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import data from '../../src/runtimes/lambda-runtimes.json' with { type: 'json' };
import { cpythonTag } from '../../src/runtimes/python.js';
import { layerModulePaths, layerPackageRoots } from '../../src/runtimes/registry.js';
import {
  creatableRuntimes,
  DEFAULT_NODE_RUNTIME,
  DEFAULT_PYTHON_RUNTIME,
  deprecationNote,
  findRuntime,
  replacementFor,
  RUNTIME_SOURCE,
  runtimeOf,
  runtimeStatus,
  type RuntimePhase,
} from '../../src/runtimes/table.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const day = (iso: string) => new Date(`${iso}T12:00:00Z`);
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

test('every row: a unique id named after its language and version, ordered dates, a known OS with its glibc', () => {
  assert.match(RUNTIME_SOURCE.page, /^https:\/\/docs\.aws\.amazon\.com\/lambda\/latest\/dg\/lambda-runtimes\.html$/);
  assert.match(RUNTIME_SOURCE.read, ISO_DAY);
  const ids = new Set<string>();
  const glibcOf: Record<string, string> = { 'Amazon Linux 2': '2.26', 'Amazon Linux 2023': '2.34' };
  for (const row of data.runtimes) {
    assert.ok(!ids.has(row.id), `${row.id} is listed twice`);
    ids.add(row.id);
    assert.ok(row.os in data.os, `${row.id}: unknown os "${row.os}"`);
    const runtime = runtimeOf(row.id);
    assert.equal(
      runtime.id,
      row.language === 'node' ? `nodejs${row.version}.x` : `python${row.version}`,
      `${row.id}: id and version agree`,
    );
    assert.equal(runtime.glibc.join('.'), glibcOf[runtime.os], `${row.id}: glibc of ${runtime.os}`);
    assert.ok(
      runtime.architectures.length > 0 && runtime.architectures.every((a) => a === 'x86_64' || a === 'arm64'),
      row.id,
    );
    for (const date of [runtime.deprecation, runtime.blockCreate, runtime.blockUpdate])
      assert.match(date ?? '', ISO_DAY, row.id);
    assert.ok(
      runtime.deprecation! <= runtime.blockCreate! && runtime.blockCreate! <= runtime.blockUpdate!,
      `${row.id}: deprecation <= blockCreate <= blockUpdate`,
    );
    if (runtime.language === 'node')
      assert.ok(Number.isInteger(runtime.nodeModuleVersion), `${row.id}: NODE_MODULE_VERSION`);
    else assert.equal(runtime.nodeModuleVersion, null, row.id);
  }
  // The OS the issue names for each supported runtime.
  for (const id of ['python3.10', 'python3.11']) assert.equal(runtimeOf(id).os, 'Amazon Linux 2', id);
  for (const id of ['python3.12', 'python3.13', 'python3.14', 'nodejs22.x', 'nodejs24.x'])
    assert.equal(runtimeOf(id).os, 'Amazon Linux 2023', id);
  assert.equal(findRuntime('nodejs25.x'), undefined);
  assert.throws(() => runtimeOf('nodejs25.x'), /unknown Lambda runtime "nodejs25\.x"/);
});

test('the defaults are runtimes AWS lets you create functions on today', () => {
  for (const id of [DEFAULT_NODE_RUNTIME, DEFAULT_PYTHON_RUNTIME]) {
    assert.equal(runtimeStatus(runtimeOf(id)).phase, 'supported', id);
    assert.ok(
      creatableRuntimes().some((r) => r.id === id),
      id,
    );
  }
  assert.equal(DEFAULT_NODE_RUNTIME, 'nodejs24.x');
});

test('runtimeStatus on pinned dates: phases, replacements and the one-line note', () => {
  const cases: [id: string, on: string, phase: RuntimePhase, replacement: string | null][] = [
    ['nodejs20.x', '2026-04-29', 'supported', null],
    ['nodejs20.x', '2026-04-30', 'deprecated', 'nodejs24.x'],
    ['nodejs20.x', '2026-08-31', 'create-blocked', 'nodejs24.x'],
    ['nodejs20.x', '2026-12-01', 'update-blocked', 'nodejs24.x'],
    ['nodejs22.x', '2026-12-01', 'supported', null],
    ['nodejs24.x', '2026-12-01', 'supported', null],
    ['python3.10', '2026-12-01', 'deprecated', 'python3.14'],
    ['python3.11', '2026-12-01', 'supported', null],
    ['python3.9', '2026-12-01', 'update-blocked', 'python3.14'],
    ['nodejs22.x', '2027-05-01', 'deprecated', 'nodejs24.x'],
  ];
  for (const [id, on, phase, replacement] of cases) {
    const status = runtimeStatus(runtimeOf(id), day(on));
    assert.deepEqual([status.phase, status.replacement], [phase, replacement], `${id} on ${on}`);
    assert.equal(
      deprecationNote(status) === null,
      phase === 'supported',
      `${id} on ${on}: a note exactly when deprecated`,
    );
  }
  assert.equal(
    deprecationNote(runtimeStatus(runtimeOf('nodejs20.x'), day('2026-12-01'))),
    'nodejs20.x is retired: AWS blocks creating functions on it since 2026-08-31 ' +
      'and updating them since 2026-09-30; move to nodejs24.x',
  );
  assert.equal(replacementFor(runtimeOf('python3.9'), day('2026-12-01')), 'python3.14');
  assert.deepEqual(
    creatableRuntimes('node', day('2026-12-01')).map((r) => r.id),
    ['nodejs24.x', 'nodejs22.x'],
  );
  assert.deepEqual(
    creatableRuntimes('python', day('2026-12-01')).map((r) => r.id),
    ['python3.14', 'python3.13', 'python3.12', 'python3.11', 'python3.10'],
  );
});

test('layer folders and CPython tags per runtime', () => {
  assert.deepEqual(layerPackageRoots(runtimeOf('nodejs24.x')), ['nodejs/node24/node_modules', 'nodejs/node_modules']);
  assert.deepEqual(layerModulePaths(runtimeOf('nodejs22.x')), [
    '/opt/nodejs/node22/node_modules',
    '/opt/nodejs/node_modules',
  ]);
  assert.deepEqual(layerPackageRoots(runtimeOf('python3.12')), ['python/lib/python3.12/site-packages', 'python']);
  assert.equal(cpythonTag(runtimeOf('python3.12')), 'cpython-312');
  assert.equal(cpythonTag(runtimeOf('python3.10')), 'cpython-310');
});

test('no runtime name in src/ outside src/runtimes/lambda-runtimes.json (everything asks the table)', () => {
  const name = /\b(nodejs\d+\.x|python3\.\d+)\b/g;
  const table = join(REPO, 'src/runtimes/lambda-runtimes.json');
  const hits: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|json)$/.test(entry.name) && path !== table) {
        readFileSync(path, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            for (const match of line.matchAll(name)) hits.push(`${relative(REPO, path)}:${i + 1}: ${match[0]}`);
          });
      }
    }
  };
  walk(join(REPO, 'src'));
  assert.deepEqual(
    hits,
    [],
    `runtime names outside the table (import from src/runtimes/table.ts instead):\n${hits.join('\n')}`,
  );
});

test("docs/config.md's runtime table says what the data file says", () => {
  const doc = readFileSync(join(REPO, 'docs/config.md'), 'utf8');
  const rows = [
    ...doc.matchAll(
      /^\| `([a-z0-9.]+)`(?: \(default\))? \| ([^|]+) \| ([\d.]+) \| ([\d-]+) \| ([\d-]+) \| ([\d-]+) \|$/gm,
    ),
  ];
  assert.ok(rows.length >= 7, `found ${rows.length} rows`);
  for (const [, id, os, glibc, deprecation, blockCreate, blockUpdate] of rows) {
    const runtime = runtimeOf(id);
    assert.deepEqual(
      [os.trim(), glibc, deprecation, blockCreate, blockUpdate],
      [runtime.os, runtime.glibc.join('.'), runtime.deprecation, runtime.blockCreate, runtime.blockUpdate],
      id,
    );
  }
});
