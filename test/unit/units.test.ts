/** The one unit convention of the reports (src/lib/bytes.ts), as a table of inputs and the strings they give. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatBytes,
  formatExact,
  formatInt,
  formatLimit,
  formatMb,
  formatMiB,
  formatPercent,
} from '../../src/lib/bytes.js';

const CASES: readonly [string, (n: number) => string, number, string][] = [
  // sizes: binary units, one decimal under 100, none above
  ['formatBytes', formatBytes, 0, '0 B'],
  ['formatBytes', formatBytes, 900, '900 B'],
  ['formatBytes', formatBytes, 1023, '1023 B'],
  ['formatBytes', formatBytes, 1024, '1.0 KiB'],
  ['formatBytes', formatBytes, 1_048_575, '1.0 MiB'], // 1023.999 KiB carries into MiB
  ['formatBytes', formatBytes, 32_925_696, '31.4 MiB'],
  ['formatBytes', formatBytes, 11_114_905, '10.6 MiB'],
  ['formatBytes', formatBytes, 52_428_800, '50.0 MiB'],
  ['formatBytes', formatBytes, 262_144_000, '250 MiB'],
  ['formatBytes', formatBytes, 536_870_912, '512 MiB'], // /tmp 512 MB is 512 MiB, never "537 MB"
  ['formatBytes', formatBytes, 2_147_483_648, '2.0 GiB'], // memory 2048 MB is 2 GiB, never "2.1 GB"
  ['formatBytes', formatBytes, -1_572_864, '-1.5 MiB'],
  // exact MiB, no trailing zeros
  ['formatMiB', formatMiB, 262_144_000, '250 MiB'],
  ['formatMiB', formatMiB, 52_428_800, '50 MiB'],
  ['formatMiB', formatMiB, 2_000_000, '1.91 MiB'],
  ['formatMiB', formatMiB, 10_737_418_240, '10,240 MiB'],
  // byte limits: separators and their MiB
  ['formatLimit', formatLimit, 262_144_000, '262,144,000 bytes (250 MiB)'],
  ['formatLimit', formatLimit, 52_428_800, '52,428,800 bytes (50 MiB)'],
  ['formatLimit', formatLimit, 69_905_067, '69,905,067 bytes (66.67 MiB)'],
  ['formatLimit', formatLimit, 1_000, '1,000 bytes'],
  ['formatExact', formatExact, 1, '1 byte'],
  ['formatExact', formatExact, 8_600_000_000, '8,600,000,000 bytes'],
  // memory and /tmp as configured: Lambda's MB are MiB
  ['formatMb', formatMb, 2048, '2048 MB'],
  ['formatMb', formatMb, 512, '512 MB'],
  ['formatInt', formatInt, 262_144_000, '262,144,000'],
  ['formatPercent', formatPercent, 0.125, '13%'],
];

test('units: every formatter, input -> string', () => {
  for (const [name, format, input, want] of CASES) assert.equal(format(input), want, `${name}(${input})`);
});

test('units: no formatter leaves a bare run of five or more digits', () => {
  for (const [name, format, input] of CASES) assert.doesNotMatch(format(input), /\d{5,}/, `${name}(${input})`);
});
