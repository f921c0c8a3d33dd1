/** The PR comment's body: the headroom first, the checks with the soft budget, the delta, escaping, its size cap. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkStatus, headroomLine } from '../../src/report/checks.js';
import type { BudgetDocument } from '../../src/report/budget-document.js';
import { budgetDelta } from '../../src/report/delta.js';
import { COMMENT_MARKER, MAX_COMMENT_CHARS, renderErrorComment, renderPrComment } from '../../src/report/pr-comment.js';
import type { Check } from '../../src/types.js';

const MiB = 1_048_576;
const LIMIT = 262_144_000;
const used = Math.round(244.7 * MiB);

const check = (limit: Check['limit'], usedBytes: number, max: number, blocking = true): Check => ({
  limit,
  used: usedBytes,
  max,
  ok: usedBytes <= max,
  blocking,
});

function budget(unzipped: number, packages: { name: string; bytes: number }[] = []): BudgetDocument {
  return {
    fits: unzipped <= LIMIT,
    plan: unzipped <= LIMIT ? 'bundle' : null,
    runtime: 'node',
    reason: unzipped <= LIMIT ? 'code + deps fit' : 'nothing fits: bundle fails unzipped',
    components: {
      code: { bytes: 60_000, files: 1 },
      deps: {
        kind: 'node',
        bytes: unzipped,
        files: 1,
        afterStrip: unzipped,
        afterPrune: unzipped,
        zipBytes: null,
        packages: packages.map((p) => ({
          ...p,
          version: '1.0.0',
          path: `node_modules/${p.name}`,
          files: 1,
          topLevel: [p.name],
          providedBy: null,
          layerVersion: null,
        })),
        unowned: { bytes: 0, files: 0, sample: [] },
      },
      layers: [],
      models: [],
    },
    checks: [
      check('unzipped', unzipped, LIMIT),
      check('zipDirect', 60 * MiB, 50 * MiB, false),
      check('tmp', 10 * MiB, 512 * MiB),
      check('memory', 300 * MiB, 2048 * MiB),
      check('layers', 0, 5),
    ],
    attempts: [],
    suggestions:
      unzipped > LIMIT
        ? [{ kind: 'prune', message: 'set "prune": "trace" (-40 MiB)', savesBytes: 1, value: null }]
        : [],
    warnings: [],
    prune: { mode: 'safe', savedBytes: 0, rules: [] },
  };
}

// [used, max, warnAtPercent, status]: the soft budget applies to byte limits only.
const STATUS_ROWS: [Check, number, string][] = [
  [check('unzipped', used, LIMIT), 90, 'warn'],
  [check('unzipped', used, LIMIT), 99, 'ok'],
  [check('unzipped', LIMIT + 1, LIMIT), 90, 'over'],
  [check('zipDirect', 60 * MiB, 50 * MiB, false), 90, 'via-s3'],
  [check('tmp', 100, 100), 90, 'warn'],
  [check('layers', 5, 5), 90, 'ok'],
];

test('check status with the soft budget', () => {
  for (const [c, warnAt, status] of STATUS_ROWS) {
    assert.equal(checkStatus(c, warnAt), status, `${c.limit} ${c.used}/${c.max} @${warnAt}`);
  }
});

test('the headroom line, as the issue spells it', () => {
  assert.equal(headroomLine(check('unzipped', used, LIMIT)), '244.7 MiB unzipped of 250 MiB (97.9%), 5.3 MiB headroom');
  assert.equal(
    headroomLine(check('unzipped', LIMIT + 8 * MiB, LIMIT)),
    '258 MiB unzipped of 250 MiB (103.2%), over by 8 MiB',
  );
});

test('the comment: marker first, headroom, checks, delta with code spans, no raw HTML from names', () => {
  const base = budget(used - 3 * MiB, [
    { name: 'sharp', bytes: 400_000 },
    { name: 'old', bytes: 1_000 },
  ]);
  const hostile = '<img src=x onerror=alert(1)>';
  const head = budget(used, [
    { name: 'sharp', bytes: 500_000 },
    { name: hostile, bytes: 3 * MiB },
  ]);
  const report = { url: 'https://github.com/o/r/actions/runs/1', artifact: 'lambda-ml-report' };
  const baseNote = 'compared with the base abc1234';
  const body = renderPrComment({ budget: head, delta: budgetDelta(base, head), baseNote, report });
  const lines = body.split('\n');
  assert.equal(lines[0], COMMENT_MARKER);
  assert.equal(lines[1], '### lambda-ml budget: ⚠️ fits, above 90% of a limit (plan `bundle`)');
  assert.equal(lines[3], '**244.7 MiB unzipped of 250 MiB (97.9%), 5.3 MiB headroom** (+3.0 MiB against the base)');
  assert.ok(lines.includes('| unzipped | 244.7 MiB of 250 MiB | 97.9% | ⚠️ above 90% |'), body);
  assert.ok(lines.includes('| zip direct | 60 MiB of 50 MiB | 120.0% | via S3 (over 50 MiB zipped) |'), body);
  assert.match(body, /\| `<img src=x onerror=alert\(1\)>` \| 1\.0\.0 \| – \| 3\.0 MiB \| \+3\.0 MiB \(new\) \|/);
  assert.doesNotMatch(body.replace(/`[^`]*`/g, ''), /<img/, 'outside code spans no name becomes HTML');
  assert.match(body, /Packages: 1 added, 1 removed, 1 grown, 0 shrunk, 0 unchanged/);
  assert.ok(
    body.includes(
      '<sub>compared with the base abc1234 · HTML report (treemap): ' +
        'artifact `lambda-ml-report` of ' +
        '[this run](https://github.com/o/r/actions/runs/1)</sub>',
    ),
    body,
  );
});

test('over budget: the verdict, the failing limit and the suggestion', () => {
  const body = renderPrComment({ budget: budget(LIMIT + 8 * MiB), warnAtPercent: 80 });
  assert.match(body, /^### lambda-ml budget: ❌ does not fit$/m);
  assert.match(body, /^\*\*258 MiB unzipped of 250 MiB \(103\.2%\), over by 8 MiB\*\*$/m);
  assert.match(body, /\| unzipped \| 258 MiB of 250 MiB \| 103\.2% \| ❌ \*\*over\*\* \|/);
  assert.match(body, /\*\*To make it fit\*\*\n\n- set "prune": "trace" \(-40 MiB\)/);
});

test('markdown escaping: markup characters, and no @mention from a scoped package name', async () => {
  const { escapeMarkdown, codeSpan } = await import('../../src/report/markdown.js');
  const rows: [string, string][] = [
    ['a|b', 'a\\|b'],
    ['<b>x</b>', '\\<b\\>x\\</b\\>'],
    ['*x* _y_ [l](u) ~s~', '\\*x\\* \\_y\\_ \\[l\\](u) \\~s\\~'],
    ['move @types/node to a layer', 'move @\u2060types/node to a layer'],
    ['a&b', 'a&amp;b'],
    ['two\nlines', 'two lines'],
  ];
  for (const [text, md] of rows) assert.equal(escapeMarkdown(text), md, text);
  assert.equal(codeSpan('a`b|c'), '`aˋb\\|c`');
});

test('a huge delta still fits in one GitHub comment', () => {
  const many = (n: number, bytes: number) =>
    Array.from({ length: n }, (_, i) => ({ name: `pkg-${i}-${'x'.repeat(180)}`, bytes: bytes + i }));
  const head = budget(used, many(3_000, 2_000));
  const body = renderPrComment({ budget: head, delta: budgetDelta(budget(used, many(3_000, 1_000)), head) });
  assert.ok(body.length <= MAX_COMMENT_CHARS, `${body.length} chars`);
  assert.ok(body.startsWith(COMMENT_MARKER));
});

test('the error comment for exit 2 and 3: what lambda-ml said, in a code block', () => {
  const message = 'error: lambda-ml.config.json: models[0].path does not exist\nhint: fix the path\n```x';
  const body = renderErrorComment({ exitCode: 2, where: 'head', message });
  const title = '### lambda-ml budget: ❌ could not run on the head (exit 2: bad input (config, flags or files))';
  assert.ok(body.startsWith(`${COMMENT_MARKER}\n${title}`), body);
  const block =
    '```text\nerror: lambda-ml.config.json: models[0].path does not exist\nhint: fix the path\n' + 'ˋˋˋx\n```';
  assert.ok(body.includes(block), body);
  const aws = renderErrorComment({ exitCode: 3, where: 'head', message: 'error: S3 refused' });
  assert.match(aws, /exit 3: AWS or S3 could not be read/);
});
