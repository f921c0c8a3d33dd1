/**
 * Names derived from a folder name (docs/design.md, `init`): one lowercase stem that is at once a valid npm package
 * name, a Lambda function name and the stem of the S3 bucket names `<stem>-models`, `-artifacts` and `-assets`.
 */

/** Lambda's function name pattern (CreateFunction's FunctionName, without ARNs). */
export const LAMBDA_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** The suffixes `init` appends to the stem for the config's buckets. */
export const BUCKET_SUFFIXES = ['-models', '-artifacts', '-assets'] as const;
/** What an empty stem becomes. */
export const FALLBACK_NAME = 'asset-classifier';

const LONGEST_SUFFIX = Math.max(...BUCKET_SUFFIXES.map((suffix) => suffix.length));
/** The longest stem whose longest bucket name still fits S3's 63 characters. */
export const MAX_STEM = 63 - LONGEST_SUFFIX;

// Reserved bucket prefixes (src/lib/s3-bucket-name.ts has every rule); the suffixes never end a derived name.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const BUCKET_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const LETTERS: Record<string, string> = { ø: 'o', æ: 'ae', œ: 'oe', ß: 'ss', đ: 'd', ł: 'l' };

/**
 * Transliterates (NFKD, combining marks dropped: "Ünïcødé" -> "unicode") and keeps `[a-z0-9]` plus `keep`: other
 * letters and digits (e.g. CJK) and apostrophes are dropped, every other run (spaces, punctuation) becomes one
 * hyphen; trimmed at both ends and cut to `max` characters.
 */
export function slugify(text: string, options: { readonly max: number; readonly keep?: string }): string {
  const keep = options.keep ?? '';
  const plain = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[øæœßđł]/g, (ch) => LETTERS[ch]) // letters NFKD leaves whole
    .replace(/['’]/g, '');
  let out = '';
  for (const ch of plain) out += /[a-z0-9]/.test(ch) || keep.includes(ch) ? ch : /[\p{L}\p{N}]/u.test(ch) ? '' : '-';
  const trim = (s: string) => s.replace(/-{2,}/g, '-').replace(/^[-_.]+|[-_.]+$/g, '');
  return trim(trim(out).slice(0, options.max));
}

/** The project stem for a folder name; "asset-classifier" when nothing usable is left. */
export function projectName(folderName: string): string {
  let stem = slugify(folderName, { max: MAX_STEM });
  // S3 reserves these prefixes; "my-" keeps the rest of the name readable.
  if (BUCKET_PREFIXES.some((prefix) => `${stem}-`.startsWith(prefix))) stem = slugify(`my-${stem}`, { max: MAX_STEM });
  return stem || FALLBACK_NAME;
}

/** The config's three bucket names for a project stem. */
export function bucketNames(stem: string): { models: string; artifacts: string; assets: string } {
  return { models: `${stem}-models`, artifacts: `${stem}-artifacts`, assets: `${stem}-assets` };
}

/** Why `name` is not a valid npm package name (new packages: lowercase, URL-safe, at most 214), or null. */
export function npmNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 214) return 'must have 1 to 214 characters';
  if (/^[._]/.test(name)) return 'must not start with . or _';
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (!/^[a-z0-9._~-]+$/.test(name)) return 'may only hold lowercase letters, digits and - . _ ~';
  if (name === 'node_modules' || name === 'favicon.ico') return 'is reserved';
  return null;
}

/**
 * Why `name` cannot be the project stem (`init --name`): it must be its own slug, so that npm, Lambda and the three
 * bucket names all accept it. Returns null when it can.
 */
export function projectNameProblem(name: string): string | null {
  if (name.length > MAX_STEM) {
    return `is ${name.length} characters; at most ${MAX_STEM} leave room for "${BUCKET_SUFFIXES[1]}" in 63`;
  }
  if (slugify(name, { max: MAX_STEM }) !== name || name === '') {
    return 'must be lowercase letters, digits and single hyphens, starting and ending with a letter or digit';
  }
  if (projectName(name) !== name) {
    return `gives bucket names that start with a prefix S3 reserves (${BUCKET_PREFIXES.join(', ')})`;
  }
  return null;
}
