/** `budget --base`: deltas from literal pairs of `budget --json` documents, and how they read. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LambdaMlError } from '../../src/lib/errors.js';
import { parseBudgetDocument, type BudgetDocument } from '../../src/report/budget-document.js';
import { budgetDelta, sizeChange } from '../../src/report/delta.js';
import { renderDeltaMarkdown, renderDeltaText } from '../../src/report/delta-render.js';

interface Pkg {
  name: string;
  version: string;
  bytes: number;
  path?: string;
  providedBy?: string | null;
}

/** A budget --json document as JSON text would give it, from a few fields. */
interface DocParts {
  packages: Pkg[];
  unzipped: number;
  afterPrune?: number;
  models?: { name: string; bytes: number }[];
  layers?: { name: string; bytes: number }[];
  binaries?: { path: string; bytes: number; kind: 'native' | 'wasm'; package: string | null }[];
  files?: { path: string; bytes: number; package: string | null }[];
  /** The sideload archive's fields in components.deps (zipBytes alone: a base from before deps.tar.br). */
  archive?: { zipBytes: number | null; archive?: string; archiveBytes?: number; format?: string };
}

function doc(parts: DocParts): BudgetDocument {
  const depsBytes = parts.packages.reduce((t, p) => t + p.bytes, 0);
  const json = {
    schemaVersion: 1,
    ok: true,
    fits: true,
    plan: 'bundle',
    reason: 'fits',
    runtime: 'node',
    components: {
      code: { bytes: 60_000, files: 1 },
      deps: {
        kind: 'node',
        bytes: depsBytes,
        files: 10,
        afterStrip: 0,
        afterPrune: parts.afterPrune ?? depsBytes,
        zipBytes: null,
        ...parts.archive,
        packages: parts.packages.map((p) => ({
          name: p.name,
          version: p.version,
          path: p.path ?? `node_modules/${p.name}`,
          bytes: p.bytes,
          files: 1,
          topLevel: [p.name],
          providedBy: p.providedBy ?? null,
          layerVersion: null,
        })),
        unowned: { bytes: 0, files: 0, sample: [] },
      },
      layers: (parts.layers ?? []).map((l) => ({ ...l, source: 'zip', provides: [], packages: [] })),
      models: (parts.models ?? []).map((m) => ({
        ...m,
        format: 'tfjs-layers',
        memoryBytes: m.bytes * 4,
        location: 's3',
        quantization: null,
      })),
    },
    checks: [
      { limit: 'unzipped', used: parts.unzipped, max: 262_144_000, ok: true, blocking: true },
      { limit: 'tmp', used: 1_000, max: 536_870_912, ok: true, blocking: true },
      { limit: 'layers', used: (parts.layers ?? []).length, max: 5, ok: true, blocking: true },
    ],
    attempts: [],
    suggestions: [],
    warnings: [],
    prune: { mode: 'safe', savedBytes: 0, rules: [] },
    ...(parts.binaries ? { binaries: parts.binaries } : {}),
    ...(parts.files ? { files: parts.files.map((f) => ({ ...f, artifact: 'function.zip', limit: 'unzipped' })) } : {}),
  };
  return parseBudgetDocument(JSON.stringify(json), 'test');
}

const BASE = doc({
  unzipped: 10_000_000,
  packages: [
    { name: 'sharp', version: '0.33.4', bytes: 400_000 },
    { name: 'lodash', version: '4.17.21', bytes: 1_400_000 },
    { name: 'left-pad', version: '1.3.0', bytes: 4_000 },
    { name: 'debug', version: '4.3.4', bytes: 50_000 },
    { name: 'ms', version: '2.1.3', bytes: 6_000 },
    { name: 'ms', version: '2.1.2', bytes: 6_000, path: 'node_modules/debug/node_modules/ms' },
  ],
  models: [{ name: 'content', bytes: 2_500_000 }],
  binaries: [
    { path: 'node_modules/sharp/build/Release/sharp.node', bytes: 300_000, kind: 'native', package: 'sharp@0.33.4' },
  ],
  files: [
    { path: 'node_modules/lodash/lodash.js', bytes: 540_000, package: 'lodash@4.17.21' },
    { path: 'node_modules/sharp/build/Release/sharp.node', bytes: 300_000, package: 'sharp@0.33.4' },
  ],
});

const HEAD = doc({
  unzipped: 11_500_000,
  packages: [
    { name: 'sharp', version: '0.33.5', bytes: 450_000 },
    { name: 'lodash', version: '4.17.21', bytes: 1_000_000 },
    { name: 'debug', version: '4.3.4', bytes: 50_000 },
    { name: 'ms', version: '2.1.3', bytes: 12_000 },
    { name: 'canvas', version: '2.11.2', bytes: 900_000 },
  ],
  models: [
    { name: 'content', bytes: 2_500_000 },
    { name: 'faces', bytes: 9_000_000 },
  ],
  binaries: [
    { path: 'node_modules/sharp/build/Release/sharp.node', bytes: 310_000, kind: 'native', package: 'sharp@0.33.5' },
    { path: 'node_modules/canvas/build/Release/canvas.node', bytes: 350_000, kind: 'native', package: 'canvas@2.11.2' },
    { path: 'node_modules/canvas/dist/blur.wasm', bytes: 40_000, kind: 'wasm', package: 'canvas@2.11.2' },
  ],
  files: [
    { path: 'node_modules/lodash/lodash.js', bytes: 540_000, package: 'lodash@4.17.21' },
    { path: 'node_modules/canvas/build/Release/canvas.node', bytes: 350_000, package: 'canvas@2.11.2' },
  ],
});

// [package, status, bytes, percent, base versions, head versions]
const PACKAGE_ROWS = [
  ['canvas', 'added', 900_000, null, [], ['2.11.2']],
  ['lodash', 'shrunk', -400_000, -28.57, ['4.17.21'], ['4.17.21']],
  ['sharp', 'grown', 50_000, 12.5, ['0.33.4'], ['0.33.5']],
  ['left-pad', 'removed', -4_000, null, ['1.3.0'], []],
  ['debug', 'unchanged', 0, 0, ['4.3.4'], ['4.3.4']],
  ['ms', 'unchanged', 0, 0, ['2.1.2', '2.1.3'], ['2.1.3']],
] as const;

test('per package: added, removed, grown, shrunk, unchanged (copies of one name summed), changed first', () => {
  const delta = budgetDelta(BASE, HEAD);
  const rows = delta.packages.map((p) => [p.name, p.status, p.bytes, p.percent, p.baseVersions, p.headVersions]);
  assert.deepEqual(rows, PACKAGE_ROWS);
  assert.deepEqual(delta.counts, { added: 1, removed: 1, grown: 1, shrunk: 1, unchanged: 2 });
});

test('per limit and component, with bytes and %', () => {
  const delta = budgetDelta(BASE, HEAD);
  const unzipped = delta.checks.find((c) => c.limit === 'unzipped')!;
  assert.deepEqual(
    [unzipped.status, unzipped.bytes, unzipped.percent, unzipped.max],
    ['grown', 1_500_000, 15, 262_144_000],
  );
  assert.deepEqual(
    delta.components.map((c) => [c.id, c.status, c.bytes]),
    [
      ['code', 'unchanged', 0],
      ['deps', 'grown', 2_412_000 - 1_866_000],
      ['model:content', 'unchanged', 0],
      ['model:faces', 'added', 9_000_000],
    ],
  );
});

test('flags: new native binaries, new .wasm files and new models; a grown known binary is not new', () => {
  const delta = budgetDelta(BASE, HEAD);
  assert.deepEqual(
    delta.flags.map((f) => [f.kind, f.name, f.package]),
    [
      ['native', 'node_modules/canvas/build/Release/canvas.node', 'canvas@2.11.2'],
      ['wasm', 'node_modules/canvas/dist/blur.wasm', 'canvas@2.11.2'],
      ['model', 'faces', null],
    ],
  );
  assert.deepEqual(delta.notes, []);
});

test('an older base without a binaries list: binaries of added packages are flagged, and the report says so', () => {
  const { binaries: _drop, ...older } = BASE;
  const delta = budgetDelta(older as BudgetDocument, HEAD);
  assert.deepEqual(
    delta.flags.filter((f) => f.kind !== 'model').map((f) => f.name),
    ['node_modules/canvas/build/Release/canvas.node', 'node_modules/canvas/dist/blur.wasm'],
  );
  assert.match(delta.notes.join(' '), /base budget has no `binaries` list/);
  const noHead = budgetDelta(BASE, { ...HEAD, binaries: undefined });
  assert.deepEqual(
    noHead.flags.map((f) => f.kind),
    ['model'],
  );
  assert.match(noHead.notes.join(' '), /head budget has no `binaries` list/);
});

test('new among the largest files: not in the base list and bigger than its smallest row', () => {
  const paths = (base: BudgetDocument, head: BudgetDocument) => budgetDelta(base, head).newFiles.map((f) => f.path);
  assert.deepEqual(paths(BASE, HEAD), ['node_modules/canvas/build/Release/canvas.node']);
  const files = [
    { path: 'a.js', bytes: 540_000, package: null },
    { path: 'tiny.js', bytes: 10, package: null },
  ];
  const small = doc({ unzipped: 1, packages: [], files });
  assert.deepEqual(paths(BASE, small), ['a.js'], 'tiny.js may have been below the cut');
  assert.deepEqual(paths({ ...BASE, files: undefined }, HEAD), [], 'no list on the base: nothing claimed new');
});

test('the sideload archive: deps.tar.br against deps.tar.br, and against an older base that had deps.zip', () => {
  const pkgs = [{ name: 'a', version: '1.0.0', bytes: 1_000_000 }];
  const zip = { zipBytes: 500_000, archive: 'deps.zip', archiveBytes: 500_000, format: 'zip' };
  const tarBr = (bytes: number) => ({ zipBytes: null, archive: 'deps.tar.br', archiveBytes: bytes, format: 'tar.br' });
  const rowOf = (a: DocParts['archive'], b: DocParts['archive']) =>
    budgetDelta(
      doc({ packages: pkgs, unzipped: 1, archive: a }),
      doc({ packages: pkgs, unzipped: 1, archive: b }),
    ).components.find((c) => c.kind === 'depsZip');
  const same = rowOf(tarBr(250_000), tarBr(260_000));
  assert.equal(same?.name, 'deps.tar.br');
  assert.deepEqual([same?.base, same?.head, same?.bytes], [250_000, 260_000, 10_000]);
  const moved = rowOf({ zipBytes: 500_000 }, tarBr(260_000)); // a base written before archiveBytes existed
  assert.equal(moved?.name, 'deps.zip → deps.tar.br');
  assert.equal(moved?.bytes, -240_000);
  assert.equal(rowOf(zip, zip)?.name, 'deps.zip');
  assert.equal(rowOf({ zipBytes: null }, tarBr(1)), undefined, 'not measured in the base: no row');
});

test('sizeChange: statuses and percentages', () => {
  const rows: [number | null, number | null, string, number, number | null][] = [
    [null, 10, 'added', 10, null],
    [10, null, 'removed', -10, null],
    [100, 150, 'grown', 50, 50],
    [100, 75, 'shrunk', -25, -25],
    [5, 5, 'unchanged', 0, 0],
    [0, 7, 'grown', 7, null],
  ];
  for (const [base, head, status, bytes, percent] of rows) {
    assert.deepEqual(sizeChange(base, head), { status, base, head, bytes, percent });
  }
});

test('text and markdown: changed rows only, names in code spans, 80 columns', () => {
  const delta = budgetDelta(BASE, HEAD);
  const text = renderDeltaText(delta);
  assert.ok(
    text.split('\n').every((l) => l.length <= 80),
    text,
  );
  assert.match(text, /\+ canvas +\+879 KiB +2\.11\.2/);
  assert.match(text, /~ sharp +\+48\.8 KiB +0\.33\.4 → 0\.33\.5/);
  const flag = '! new native binary (canvas@2.11.2, 342 KiB)\n    node_modules/canvas/build/Release/canvas.node\n';
  assert.ok(text.includes(flag), text);
  assert.doesNotMatch(text, /debug/);
  const md = renderDeltaMarkdown(delta);
  assert.match(md, /^\*\*Against the base:\*\* unzipped \+1\.4 MiB \(\+15%\)/);
  assert.match(md, /\| `lodash` \| 4\.17\.21 \| 1\.3 MiB \| 977 KiB \| -391 KiB \(-29%\) \|/);
  assert.match(md, /\| `left-pad` \| 1\.3\.0 \| 3\.9 KiB \| – \| -3\.9 KiB \(gone\) \|/);
  assert.match(md, /Packages: 1 added, 1 removed, 1 grown, 1 shrunk, 2 unchanged/);
  assert.match(md, /⚠️ new model: `faces`/);
});

test('parseBudgetDocument: one clear error for what is not a budget', () => {
  const cases: [string, RegExp][] = [
    ['{"fits": tru', /^base\.json is not JSON/],
    ['{"ok": false, "error": {"message": "no config"}}', /^base\.json is the output of a failed budget run: no config/],
    ['{"fits": true, "checks": []}', /^base\.json is not a `budget --json` document/],
    ['[]', /^base\.json is not a `budget --json` document/],
  ];
  for (const [text, message] of cases) {
    const isInputError = (e: unknown) => e instanceof LambdaMlError && e.code === 'input' && message.test(e.message);
    assert.throws(() => parseBudgetDocument(text, 'base.json'), isInputError);
  }
});
