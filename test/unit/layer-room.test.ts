/** When the layers leave no room under the unzipped limit: which layer to trim or drop, and by how much (a table). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerRoomSuggestions } from '../../src/plan/layer-room.js';
import type { LayerScan, PlanAttempt } from '../../src/types.js';

const layer = (name: string, bytes: number): LayerScan => ({
  name,
  source: 'zip',
  location: `${name}.zip`,
  bytes,
  zipBytes: null,
  files: 1,
  provides: [],
});
/** The three attempts with the given unzipped totals (sideload-s3 last: code + bundled models + layers). */
const attempts = (...unzipped: number[]): PlanAttempt[] =>
  (['bundle', 'sideload-bundled', 'sideload-s3'] as const).map((strategy, i) => ({
    strategy,
    fits: false,
    checks: [{ limit: 'unzipped', used: unzipped[i], max: 1_000_000, ok: unzipped[i] <= 1_000_000, blocking: true }],
  }));

const CASES: readonly [string, LayerScan[], PlanAttempt[], RegExp[]][] = [
  ['room left: nothing to say', [layer('tf', 600_000)], attempts(2_000_000, 900_000, 700_000), []],
  [
    'one layer alone over the limit',
    [layer('tf', 1_200_000)],
    attempts(3_000_000, 1_500_000, 1_250_000),
    [
      new RegExp(
        [
          String.raw`^layer tf alone is 1,200,000 bytes, over the 1,000,000 bytes unzipped limit: `,
          String.raw`remove it from "layers", or rebuild it to at most 950,000 bytes`,
        ].join(''),
      ),
    ],
  ],
  [
    'a layer under the limit, over it with the code',
    [layer('tf', 990_000)],
    attempts(3_000_000, 1_500_000, 1_040_000),
    [
      new RegExp(
        [
          String.raw`^layer tf is 990,000 bytes; with the code it is 40,000 bytes over the `,
          String.raw`1,000,000 bytes unzipped limit: .* at most 950,000 bytes`,
        ].join(''),
      ),
    ],
  ],
  [
    'two layers together: each that could make room is named, biggest first',
    [layer('a', 300_000), layer('b', 800_000)],
    attempts(3_000_000, 1_500_000, 1_150_000),
    [
      /^layer b is 800,000 bytes; with the code and the other layers it is 150,000 bytes over .* at most 650,000 bytes/,
      /^layer a is 300,000 bytes; .* at most 150,000 bytes/,
    ],
  ],
  [
    'five small layers, none enough alone',
    [1, 2, 3, 4, 5].map((i) => layer(`l${i}`, 250_000)),
    attempts(3_000_000, 2_000_000, 1_300_000),
    [
      new RegExp(
        [
          String.raw`^the layers \(1,250,000 bytes\) and the code and bundled models \(50,000 bytes\) are `,
          String.raw`300,000 bytes over the 1,000,000 bytes unzipped limit: drop a layer`,
        ].join(''),
      ),
    ],
  ],
];

test('layer room: a suggestion naming the layer and the size that fits, or none (a table)', () => {
  for (const [name, layers, tried, want] of CASES) {
    const got = layerRoomSuggestions(layers, tried, 1_000_000);
    assert.equal(got.length, want.length, `${name}: ${JSON.stringify(got.map((s) => s.message))}`);
    got.forEach((suggestion, i) => {
      assert.equal(suggestion.kind, 'trim-layer', name);
      assert.match(suggestion.message, want[i], name);
    });
  }
});
