/** PURE: build lambda-ml's tags and merge them into an object's existing tag set within S3's limits. */

/** An S3 tag, as the SDK spells it. */
export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

/** One model's result, for tagging. */
export interface ModelTagInput {
  readonly tag: string;
  readonly top: readonly { readonly label: string; readonly score: number }[];
}

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html
// "letters (in UTF-8), numbers, and spaces representable in UTF-8, and the following characters: + - = . _ : / @"
export const S3_MAX_TAGS = 10;
export const TAG_KEY_MAX = 128;
export const TAG_VALUE_MAX = 256;
const DISALLOWED = /[^\p{L}\p{N}\s+\-=._:/@]/gu;

/** Cuts a string to at most `max` UTF-16 units (S3 counts that way) without splitting a surrogate pair. */
export function truncateUtf16(value: string, max: number): string {
  if (value.length <= max) return value;
  let cut = value.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

/** A tag value within S3's character set and length: other characters become `_`, whitespace runs become one space. */
export function sanitizeTagValue(value: string): string {
  return truncateUtf16(value.replace(DISALLOWED, '_').replace(/\s+/g, ' ').trim(), TAG_VALUE_MAX);
}

/** A tag key within S3's rules: sanitised like values, never empty, never starting with the reserved `aws:`. */
export function sanitizeTagKey(key: string): string {
  let k = key.replace(DISALLOWED, '_').replace(/\s+/g, ' ').trim();
  if (/^aws:/i.test(k)) k = `_${k}`;
  return truncateUtf16(k || '_', TAG_KEY_MAX);
}

/**
 * `Label=0.998 Other=0.001`: labels have their spaces replaced by `_` so entries stay space-separated; whole entries
 * only.
 */
export function formatTop(top: ModelTagInput['top']): string {
  let out = '';
  for (const { label, score } of top) {
    const entry = `${sanitizeTagValue(label).replace(/ /g, '_')}=${score.toFixed(3)}`;
    const next = out ? `${out} ${entry}` : entry;
    if (next.length > TAG_VALUE_MAX) break;
    out = next;
  }
  return out;
}

/** The tag (after the prefix) that says which models wrote our results: modelsHash() (models-hash.ts). */
export const MODELS_TAG = 'models';

/** `<prefix>models`, sanitised as buildTags writes it. */
export const modelsTagKey = (prefix: string) => sanitizeTagKey(`${prefix}${MODELS_TAG}`);

/**
 * Our tags, in priority order: every model's top-1 label, then (given `modelsHash`) `<prefix>models`, then the
 * colours, then every model's top-K. The models tag comes right after the top-1 tags so that it is written whenever
 * a result is, and before the optional ones, which a user's tags may crowd out.
 */
export function buildTags(
  models: readonly ModelTagInput[],
  colorNames: readonly string[],
  prefix: string,
  modelsHash?: string,
): Tag[] {
  const tags: Tag[] = [];
  for (const m of models)
    if (m.top.length > 0)
      tags.push({ Key: sanitizeTagKey(`${prefix}${m.tag}`), Value: sanitizeTagValue(m.top[0].label) });
  if (modelsHash) tags.push({ Key: modelsTagKey(prefix), Value: sanitizeTagValue(modelsHash) });
  if (colorNames.length > 0)
    tags.push({ Key: sanitizeTagKey(`${prefix}colors`), Value: sanitizeTagValue(colorNames.join(' ')) });
  for (const m of models)
    if (m.top.length > 0) tags.push({ Key: sanitizeTagKey(`${prefix}${m.tag}:top`), Value: formatTop(m.top) });
  return dedupeKeys(tags);
}

function dedupeKeys(tags: readonly Tag[]): Tag[] {
  const seen = new Set<string>();
  return tags.filter((t) => !seen.has(t.Key) && Boolean(seen.add(t.Key)));
}

/** The result of merging: the full set to PUT and the tags of ours that did not fit (for the log). */
export interface MergedTags {
  readonly tags: Tag[];
  readonly dropped: Tag[];
  readonly replaced: string[]; // keys of our previous tags that were removed or rewritten
}

/**
 * Merges our tags into the object's existing set. PutObjectTagging replaces the whole set, so every
 * user tag (key not starting with `prefix`) is kept untouched; our previous tags (keys starting with
 * `prefix`) are replaced; ours fill what is left of the 10 slots in priority order.
 */
export function mergeTags(
  existing: readonly Tag[],
  ours: readonly Tag[],
  prefix: string,
  maxTags = S3_MAX_TAGS,
): MergedTags {
  const isOurs = (key: string) => prefix.length > 0 && key.startsWith(prefix);
  const ourKeys = new Set(ours.map((t) => t.Key));
  // A user's key that collides with one of ours (possible with an empty prefix) wins: we never overwrite it.
  const user = existing.filter((t) => !isOurs(t.Key));
  const userKeys = new Set(user.map((t) => t.Key));
  const candidates = ours.filter((t) => !userKeys.has(t.Key));
  const room = Math.max(0, maxTags - user.length);
  const kept = candidates.slice(0, room);
  const dropped = [...ours.filter((t) => userKeys.has(t.Key)), ...candidates.slice(room)];
  const replaced = existing
    .filter((t) => isOurs(t.Key) && !(ourKeys.has(t.Key) && kept.some((k) => k.Key === t.Key && k.Value === t.Value)))
    .map((t) => t.Key);
  return { tags: [...user, ...kept], dropped, replaced };
}

/** Whether an object's tags hold results of the models with this hash (our models tag equals it). */
export function holdsCurrentResults(existing: readonly Tag[], prefix: string, modelsHash: string): boolean {
  const key = modelsTagKey(prefix);
  return prefix.length > 0 && existing.some((t) => t.Key === key && t.Value === modelsHash);
}
