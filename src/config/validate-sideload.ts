/**
 * `sideload` in config (docs/config.md): `format`, the archive a sideload plan ships, among those the runtime record
 * reads (`sideloadFormats`): Node reads deps.tar.br (the default: about half the bytes of the zip) or deps.zip; the
 * Python bootstrap reads deps.zip only.
 */
import { configError } from '../lib/errors.js';
import { ARCHIVE_FILE, SIDELOAD_FORMATS, type SideloadFormat } from '../archive/tar-br-format.js';
import { recordFor, runtimeRecords } from '../runtimes/registry.js';
import type { LambdaRuntime } from '../runtimes/table.js';
import { enumAt, objectAt } from './schema.js';

export const SIDELOAD_KEYS = ['format'] as const;

/** `sideload`: absent is the runtime's default format. */
export function validateSideload(value: unknown, runtime: LambdaRuntime): { readonly format: SideloadFormat } {
  const raw = value === undefined ? {} : objectAt(value, 'sideload', SIDELOAD_KEYS);
  const record = recordFor(runtime);
  const format = enumAt<SideloadFormat>(raw, 'format', 'sideload', SIDELOAD_FORMATS, record.sideloadFormat);
  if (!record.sideloadFormats.includes(format)) {
    const readers = runtimeRecords().filter((r) => r.sideloadFormats.includes(format));
    const reads = record.sideloadFormats.map((f) => ARCHIVE_FILE[f]).join(' or ');
    throw configError(
      `sideload.format "${format}" needs a ${readers.map((r) => r.title).join(' or ')} runtime; ` +
        `${runtime.id}'s ${record.sideloadReader} reads ${reads} only`,
      `remove "sideload": { "format": ... } or set it to "${record.sideloadFormat}"`,
    );
  }
  return { format };
}
