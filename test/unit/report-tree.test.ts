/** The report tree, largest files and binaries, from a literal project put through the real pure stages. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listBinaries } from '../../src/report/binaries.js';
import { classifyFiles } from '../../src/report/classify.js';
import { largestFiles, renderLargestFilesMarkdown, renderLargestFilesText } from '../../src/report/largest-files.js';
import { buildReportTree, walkTree, type ReportNode } from '../../src/report/tree.js';
import { fixtureRun } from '../helpers/report-fixtures.js';

const child = (node: ReportNode, name: string) => {
  const found = node.children?.find((c) => c.name === name);
  assert.ok(found, `${node.name} has no child ${name}: ${node.children?.map((c) => c.name).join(', ')}`);
  return found;
};

test('every node is the sum of its children; the root holds every scanned byte once', () => {
  const run = fixtureRun();
  const tree = buildReportTree(run);
  for (const { node } of walkTree(tree)) {
    assert.ok(node.bytes > 0, `${node.name} has bytes`);
    if (node.children) {
      assert.equal(
        node.bytes,
        node.children.reduce((t, c) => t + c.bytes, 0),
        `${node.name} = sum of children`,
      );
      assert.equal(
        node.files,
        node.children.reduce((t, c) => t + c.files, 0),
        `${node.name} files = sum of children`,
      );
    }
  }
  const { scan, budget } = run;
  const handler = budget.components.code.bytes - scan.code.bytes;
  const layers = scan.layers.reduce((t, l) => t + l.bytes, 0);
  const models = scan.models.reduce((t, m) => t + m.bytes, 0);
  assert.equal(tree.bytes, scan.deps.bytes + scan.code.bytes + handler + layers + models);
});

// Where each part goes under each plan: [plan, artifact names in order, where the deps packages go, its limit].
const PLAN_CASES = [
  {
    plan: 'bundle',
    deps: 'function.zip',
    limit: 'unzipped',
    fate: 'kept',
    artifacts: ['function.zip', 'layer sdk', 'model content', 'left to layers', 'pruned'],
  },
  {
    plan: 'sideload-bundled',
    deps: 'deps (sideloaded)',
    limit: 'tmp',
    fate: 'sideloaded',
    artifacts: ['function.zip', 'deps (sideloaded)', 'layer sdk', 'model content', 'left to layers', 'pruned'],
  },
  {
    plan: 'sideload-s3',
    deps: 'deps (sideloaded)',
    limit: 'tmp',
    fate: 'sideloaded',
    artifacts: ['function.zip', 'deps (sideloaded)', 'layer sdk', 'model content', 'left to layers', 'pruned'],
  },
] as const;

for (const c of PLAN_CASES) {
  test(`plan ${c.plan}: artifacts, fates and shares`, () => {
    const run = fixtureRun({ plan: c.plan });
    assert.equal(run.budget.plan, c.plan);
    const tree = buildReportTree(run);
    assert.deepEqual(
      tree.children!.map((a) => a.name),
      c.artifacts,
    );
    const deps = child(tree, c.deps);
    const sharp = child(deps, 'sharp');
    assert.equal(sharp.kind, 'package');
    assert.equal(sharp.version, '0.33.5');
    assert.equal(sharp.fate, c.fate);
    assert.equal(sharp.limit, c.limit);
    const max = run.budget.checks.find((k) => k.limit === c.limit)!.max;
    assert.equal(sharp.share, sharp.bytes / max);
    assert.equal(sharp.bytes, 2_000 + 20_000 + 300_000, 'README.md is pruned, not in the package box');
    const fn = child(tree, 'function.zip');
    assert.equal(child(fn, 'lambda-ml handler (emitted)').bytes, 60_000);
    assert.equal(child(child(fn, 'code'), 'extra.js').bytes, 1_200);
    if (c.plan === 'sideload-bundled') {
      assert.equal(child(fn, 'deps.zip (level 9)').bytes, 4_000_000, 'the zip inside counts unzipped');
    } else assert.ok(!fn.children!.some((n) => n.name === 'deps.zip (level 9)'));
    const layer = child(tree, 'layer sdk');
    assert.equal(layer.bytes, 2_000_000);
    assert.equal(layer.fate, 'layer');
    assert.equal(layer.children, undefined, 'a layer is one box: its files are not known');
    const left = child(child(tree, 'left to layers'), 'aws-sdk');
    assert.equal(left.fate, 'layer');
    assert.equal(left.share, null, 'not shipped: counts against no limit');
    assert.equal(left.note, 'provided by layer sdk');
    const model = child(tree, 'model content');
    assert.deepEqual(
      model.children!.map((n) => [n.name, n.bytes]),
      [
        ['group1-shard1of1.bin', 2_500_000],
        ['model.json', 50_000],
      ],
    );
    assert.equal(model.limit, 'tmp', 'an S3 model counts against /tmp');
    const pruned = child(tree, 'pruned');
    assert.equal(pruned.share, null);
    assert.equal(child(child(pruned, 'lodash'), 'lodash.js.map').bytes, 900_000);
  });
}

test('nested packages and unowned files: each package its own box; files no package owns under "(no package)"', () => {
  const tree = buildReportTree(fixtureRun());
  const fn = child(tree, 'function.zip');
  assert.equal(child(fn, 'semver').version, '7.6.0');
  assert.equal(child(child(child(fn, '(no package)'), 'node_modules'), '.package-lock.json').bytes, 3_000);
  assert.equal(child(child(fn, 'sharp'), 'lib').kind, 'folder');
});

test('small files merge per folder; folders past maxDepth are one leaf; chains of folders are one box', () => {
  const tree = buildReportTree(fixtureRun(), { minShare: 1 / 5_000 });
  const lodash = child(child(tree, 'function.zip'), 'lodash');
  const fp = child(lodash, 'fp');
  assert.equal(fp.children!.length, 1);
  const [more] = fp.children!;
  assert.deepEqual([more.kind, more.name, more.files, more.bytes], ['more', '120 smaller files', 120, 48_000]);
  const wide = buildReportTree(fixtureRun(), { minShare: 0, maxChildren: 1_000 });
  const wideFp = child(child(child(wide, 'function.zip'), 'lodash'), 'fp');
  assert.equal(wideFp.children!.length, 120, 'no merge without a floor');
  const deep = child(child(buildReportTree(fixtureRun(), { minShare: 0, maxDepth: 1 }), 'function.zip'), 'lodash');
  const cut = child(deep, 'deep/a');
  assert.deepEqual(
    cut.children!.map((n) => [n.name, n.kind, n.files, n.bytes, n.children]),
    [
      ['b/', 'folder', 1, 30_000, undefined],
      ['side.js', 'file', 1, 20_000, undefined],
    ],
  );
  const chain = child(child(buildReportTree(fixtureRun(), { minShare: 0, maxDepth: 10 }), 'function.zip'), 'lodash');
  assert.equal(child(child(chain, 'deep/a'), 'b/c/d/e').children![0].name, 'deep.js');
});

test('names are data: kept verbatim in the tree (the HTML escapes them)', () => {
  const weird = child(child(buildReportTree(fixtureRun()), 'function.zip'), 'weird<name>');
  assert.ok(weird.children!.some((c) => c.name === 'x<script>.js'));
});

test('largest files: shipped only, biggest first, with package and where; text and markdown', () => {
  const run = fixtureRun();
  const files = largestFiles(run, 4);
  assert.deepEqual(
    files.map((f) => [f.path, f.bytes, f.package, f.artifact, f.limit]),
    [
      [
        'node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.42',
        7_000_000,
        '@img/sharp-libvips-linux-x64@1.0.4',
        'function.zip',
        'unzipped',
      ],
      ['content/group1-shard1of1.bin', 2_500_000, null, 'model content', 'tmp'],
      ['node_modules/lodash/lodash.js', 540_000, 'lodash@4.17.21', 'function.zip', 'unzipped'],
      [
        'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
        400_000,
        '@tensorflow/tfjs-backend-wasm@4.22.0',
        'function.zip',
        'unzipped',
      ],
    ],
    'aws-sdk (3 MB, left to the layer) and lodash.js.map (pruned) are not shipped',
  );
  assert.equal(largestFiles(classifyFiles(run), 0).length, 0);
  const text = renderLargestFilesText(files);
  assert.ok(
    text.split('\n').every((line) => line.length <= 80),
    text,
  );
  const md = renderLargestFilesMarkdown(largestFiles(run, 50));
  const row = '| `node_modules/weird<name>/x<script>.js` | `weird<name>@1.0.0` |';
  assert.ok(md.includes(row), `names in code spans, no mention or markup:\n${md}`);
});

test('binaries: every shipped .node, versioned .so and .wasm, with its package', () => {
  assert.deepEqual(
    listBinaries(fixtureRun()).map((b) => [b.kind, b.path, b.package]),
    [
      [
        'native',
        'node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.42',
        '@img/sharp-libvips-linux-x64@1.0.4',
      ],
      [
        'wasm',
        'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
        '@tensorflow/tfjs-backend-wasm@4.22.0',
      ],
      ['native', 'node_modules/sharp/build/Release/sharp.node', 'sharp@0.33.5'],
    ],
  );
});
