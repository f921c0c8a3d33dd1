/**
 * The import direction of src/ as a test (docs/design.md, "Layers and imports"): the layer table in
 * import-layers.json, checked row by row against the real tree, and the checker itself run on planted trees
 * (import-direction-cases.json) that must fail: a backward import, a circle, a type-only or dynamic import.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { allowedImports, checkImports, readTree, type LayerRules } from '../helpers/import-graph.js';
import rulesJson from './import-layers.json' with { type: 'json' };
import casesJson from './import-direction-cases.json' with { type: 'json' };

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const rules: LayerRules = rulesJson;

interface Case {
  readonly name: string;
  readonly files: Record<string, string>;
  readonly backward?: readonly string[];
  readonly circles?: readonly string[];
  readonly reaches?: readonly string[];
  readonly unplaced?: readonly string[];
  readonly unresolved?: readonly string[];
}

const { sources, others } = readTree(SRC);
const report = checkImports(sources, rules, others);
const allowed = allowedImports(rules);

test('every folder of src/ is in one layer, and every layer row names folders that exist', () => {
  assert.deepEqual(report.unplaced, [], 'add these folders to test/unit/import-layers.json');
  const listed = rules.layers.flatMap((l) => l.folders);
  assert.deepEqual(
    listed.filter((f, i) => listed.indexOf(f) !== i),
    [],
    'a folder listed in two layers',
  );
  assert.deepEqual(
    listed.filter((f) => !existsSync(join(SRC, f))),
    [],
    'layer rows naming folders src/ no longer has',
  );
});

test('src/: each folder imports only itself and the layers below it', async (t) => {
  for (const layer of rules.layers) {
    for (const folder of layer.folders) {
      const may = allowed.get(folder)!;
      await t.test(`${folder} (${layer.name}) may import: ${may.join(', ') || 'nothing else'}`, () => {
        const own = report.backward.filter((line) => line.startsWith(`${folder}/`) || line.startsWith(`${folder}:`));
        assert.deepEqual(own, []);
      });
    }
  }
});

test('src/ has no import circles', () => {
  assert.deepEqual(report.circles, []);
});

test('src/ relative imports all name files', () => {
  assert.deepEqual(report.unresolved, []);
});

test('src/: the "never" rows hold (budget never reaches pack/)', async (t) => {
  for (const rule of rules.never) {
    await t.test(`${rule.from} never reaches ${rule.folder}/`, () => {
      assert.ok(sources.has(rule.from), `${rule.from} is no file under src/: update the "never" row`);
      assert.deepEqual(
        report.reaches.filter((line) => line.startsWith(`${rule.from} `)),
        [],
      );
    });
  }
});

test('the checker on planted trees', async (t) => {
  const head = (line: string) => line.replace(/ \(.*$/, '').replace(/, which is no file.*$/, '');
  for (const row of casesJson.cases as unknown as Case[]) {
    await t.test(row.name, () => {
      const found = checkImports(new Map(Object.entries(row.files)), rules);
      assert.deepEqual(found.backward.map(head), row.backward ?? [], 'backward imports');
      assert.deepEqual(found.circles, row.circles ?? [], 'circles');
      assert.deepEqual(found.reaches.map(head), row.reaches ?? [], 'never-reaches');
      assert.deepEqual(found.unplaced, row.unplaced ?? [], 'folders in no layer');
      assert.deepEqual(found.unresolved.map(head), row.unresolved ?? [], 'unresolved imports');
    });
  }
});
