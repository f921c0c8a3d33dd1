/**
 * CreateJob's ClientRequestToken (1 to 64 characters): the sha256 of what the job is, so a retried command gets the
 * same job back while a model update, a new function version or another filter starts a new one (docs/backfill.md).
 */
import { createHash } from 'node:crypto';
import { normalizeSuffixes } from './key-filter.js';

/** Everything that makes two backfills the same job. */
export interface TokenInputs {
  readonly bucket: string;
  readonly prefix: string;
  readonly suffixes: readonly string[];
  /** The function version the alias points at (e.g. "7"), not the alias name: moving the alias is a new job. */
  readonly functionVersion: string;
  /** sha256 (hex) of every model file the function ships or fetches, in any order. */
  readonly modelSha256: readonly string[];
  /** `--manifest csv`: the manifest file's sha256; the generator lists at run time, so it has none. */
  readonly manifestSha256?: string | null;
  /** What the run may change (UserArguments): a forced re-classification is another job than a stale-only one. */
  readonly userArguments?: Readonly<Record<string, string>>;
}

/** The token: 64 hex characters, CreateJob's maximum. */
export function backfillToken(inputs: TokenInputs): string {
  const canonical = {
    v: 1,
    bucket: inputs.bucket,
    prefix: inputs.prefix,
    suffixes: normalizeSuffixes(inputs.suffixes),
    functionVersion: inputs.functionVersion,
    models: [...new Set(inputs.modelSha256.map((sha) => sha.toLowerCase()))].sort(),
    manifest: inputs.manifestSha256 ?? null,
    args: Object.entries(inputs.userArguments ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
