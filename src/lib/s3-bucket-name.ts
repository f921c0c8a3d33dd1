/**
 * S3's naming rules for general purpose buckets, as a table: each row says which rule a name breaks.
 * Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (read 2026-12-01).
 * Rules that only apply to existing legacy buckets (upper case, underscores in us-east-1 before 2018) are not
 * accepted: new buckets cannot use them, and deploy may create buckets.
 */

/** One naming rule: `breaks` returns what is wrong (e.g. the offending character), or null when the name obeys it. */
export interface BucketRule {
  readonly id: string;
  readonly rule: string;
  readonly breaks: (name: string) => string | null;
}

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'] as const;
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'] as const;

/** The rules, in the order a name is checked (the first one broken is reported). */
export const BUCKET_RULES: readonly BucketRule[] = [
  {
    id: 'length',
    rule: 'must be 3 to 63 characters long',
    breaks: (name) => (name.length < 3 || name.length > 63 ? `it has ${name.length}` : null),
  },
  {
    id: 'characters',
    rule: 'may contain only lowercase letters, digits, dots (.) and hyphens (-)',
    breaks: (name) => {
      const bad = [...name].find((ch) => !/[a-z0-9.-]/.test(ch));
      return bad === undefined ? null : `found ${JSON.stringify(bad)}${/[A-Z]/.test(bad) ? ' (upper case)' : ''}`;
    },
  },
  {
    id: 'ends',
    rule: 'must begin and end with a letter or digit',
    breaks: (name) => {
      if (!/^[a-z0-9]/.test(name)) return `it begins with "${name[0]}"`;
      return /[a-z0-9]$/.test(name) ? null : `it ends with "${name.slice(-1)}"`;
    },
  },
  {
    id: 'adjacent-dots',
    rule: 'must not contain two adjacent dots',
    breaks: (name) => (name.includes('..') ? 'found ".."' : null),
  },
  {
    id: 'ip-address',
    rule: 'must not be formatted as an IP address (e.g. 192.168.5.4)',
    breaks: (name) => (/^\d{1,3}(\.\d{1,3}){3}$/.test(name) ? 'it is one' : null),
  },
  {
    id: 'reserved-prefix',
    rule: `must not start with a reserved prefix (${RESERVED_PREFIXES.join(', ')})`,
    breaks: (name) => {
      const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
      return prefix ? `it starts with "${prefix}"` : null;
    },
  },
  {
    id: 'reserved-suffix',
    rule: `must not end with a reserved suffix (${RESERVED_SUFFIXES.join(', ')})`,
    breaks: (name) => {
      const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
      return suffix ? `it ends with "${suffix}"` : null;
    },
  },
];

/** The AWS page the rules come from, for hints. */
export const BUCKET_RULES_URL = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html';

/** The first rule `name` breaks, worded for a message ("must be 3 to 63 characters long (it has 1)"), or null. */
export function bucketNameProblem(name: string): string | null {
  for (const rule of BUCKET_RULES) {
    const why = rule.breaks(name);
    if (why !== null) return `${rule.rule} (${why})`;
  }
  return null;
}
