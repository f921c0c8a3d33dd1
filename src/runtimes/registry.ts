/**
 * The runtime records by language (docs/design.md, "Runtimes: one record per language"): stages ask `recordFor` what
 * varies between languages. A new language is one record module added to RECORDS (and its rows in
 * lambda-runtimes.json); tests add one with `registerRuntimeRecord`.
 */
import type { Config } from '../types.js';
import { NODE_RECORD } from './node.js';
import { PYTHON_RECORD } from './python.js';
import type { RuntimeRecord } from './record.js';
import { findRuntime, registerRuntimeRows, type LambdaRuntime } from './table.js';

const RECORDS = new Map<string, RuntimeRecord>([NODE_RECORD, PYTHON_RECORD].map((record) => [record.name, record]));

/** Every record, in registration order (Node first: layer folders are matched in this order). */
export const runtimeRecords = (): readonly RuntimeRecord[] => [...RECORDS.values()];

/** The record named `kind` ("node", "python"): a table row's language, a deps scan's or layer package's kind. */
export function recordForKind(kind: string): RuntimeRecord {
  const record = RECORDS.get(kind);
  if (!record) throw new Error(`no runtime record named "${kind}" (src/runtimes/registry.ts)`);
  return record;
}

/** The record of a runtime id (a table row's `id`), a table row, or a config's `function.runtime`. */
export function recordFor(runtime: string | LambdaRuntime | Config): RuntimeRecord {
  const id = typeof runtime === 'string' ? runtime : 'function' in runtime ? runtime.function.runtime : runtime.id;
  const row = findRuntime(id);
  if (!row) throw new Error(`unknown Lambda runtime "${id}" (not in src/runtimes/lambda-runtimes.json)`);
  return recordForKind(row.language);
}

/**
 * Adds a record (and table rows for its runtimes, which lambda-runtimes.json does not list) until the returned
 * function is called: a test runs a whole pipeline on a language that exists nowhere else.
 */
export function registerRuntimeRecord(record: RuntimeRecord, rows: readonly LambdaRuntime[] = []): () => void {
  if (RECORDS.has(record.name)) throw new Error(`a runtime record named "${record.name}" exists already`);
  RECORDS.set(record.name, record);
  const removeRows = registerRuntimeRows(rows);
  return () => {
    removeRows();
    RECORDS.delete(record.name);
  };
}

/**
 * The layer folders whose packages the runtime puts on its module path, in lookup order:
 * https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths
 */
export const layerPackageRoots = (runtime: LambdaRuntime): readonly string[] =>
  recordForKind(runtime.language).layers.packageRoots(runtime);

/** The same folders as absolute paths inside the Lambda sandbox (layers are extracted into /opt). */
export const layerModulePaths = (runtime: LambdaRuntime): string[] =>
  layerPackageRoots(runtime).map((root) => `/opt/${root}`);
