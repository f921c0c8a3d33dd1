/**
 * The CSV manifest of an S3 Batch Operations job (format S3BatchOperations_CSV_20180820): one `bucket,key` row per
 * object, no header row, keys URL-encoded as Batch Operations requires (docs/backfill.md, "The object list").
 */
import { csvLine } from './csv.js';

export const MANIFEST_FORMAT = 'S3BatchOperations_CSV_20180820';
/** The manifest's columns; ListObjectsV2 gives no version ids, so the current version of each key is processed. */
export const MANIFEST_FIELDS = ['Bucket', 'Key'] as const;

/** One object of a backfill. `key` is the object's real key (decoded). */
export interface ManifestObject {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | null;
}

/**
 * URL-encodes a key for a manifest row: every byte but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` and `/` is %XX-escaped, so a
 * space is %20 and a `+` is %2B. Batch Operations decodes it back, and so does the handler's form decoding
 * (which reads `+` as a space): both agree because no literal `+` or space is ever written.
 */
export function encodeManifestKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/');
}

/** Reverses encodeManifestKey; `+` is read as a space, as S3 writes keys in events (form encoding). */
export function decodeManifestKey(encoded: string): string {
  const spaced = encoded.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** One manifest line (no line break): `bucket,encoded-key` (and the version id when there is one). */
export function manifestLine(object: ManifestObject): string {
  const fields = [object.bucket, encodeManifestKey(object.key)];
  if (object.versionId) fields.push(object.versionId);
  return csvLine(fields);
}

/** A whole manifest, one line per object, each ended by `\n`. */
export function manifestCsv(objects: Iterable<ManifestObject>): string {
  let text = '';
  for (const object of objects) text += `${manifestLine(object)}\n`;
  return text;
}
