/**
 * When a sideload download gives up (src/handler/download.ts outOfTime): a table, test/cases/download-deadline.json.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { outOfTime, PROJECT_AFTER_MS, PROJECT_SLACK } from '../../src/handler/download.js';

interface Row {
  readonly id: string;
  readonly received: number;
  readonly expected: number;
  readonly elapsedMs: number;
  readonly leftMs: number;
  readonly late: boolean;
}

const table = JSON.parse(readFileSync(new URL('../cases/download-deadline.json', import.meta.url), 'utf8')) as {
  rows: Row[];
};

test('the evidence window and the slack', () => {
  assert.equal(PROJECT_AFTER_MS, 1000);
  assert.equal(PROJECT_SLACK, 1.5);
});

test('outOfTime: every row of test/cases/download-deadline.json', () => {
  assert.ok(table.rows.length >= 8);
  for (const row of table.rows) {
    const got = outOfTime(row, row.leftMs);
    assert.equal(got !== null, row.late, row.id);
    if (got && row.received > 0) {
      const eta = ((row.expected - row.received) * row.elapsedMs) / row.received;
      assert.equal(got.etaMs, eta, `${row.id}: the rate so far`);
    }
  }
});
