/**
 * The job's UserArguments (LambdaInvoke, InvocationSchemaVersion 2.0): what the run may change, read by the handler
 * from `event.job.userArguments` (docs/backfill.md). CreateJob's limits: 1 to 10 entries, keys 1 to 64 characters,
 * values at most 1,024 (the S3 Control API model, UserArguments).
 */

export const USER_ARGUMENTS_LIMITS = { maxEntries: 10, maxKeyLength: 64, maxValueLength: 1024 } as const;

/** `stale`: objects whose tags hold current results are answered Succeeded untouched; `all`: re-classify everything. */
export type Reclassify = 'stale' | 'all';

/** The arguments lambda-ml sends. */
export function backfillUserArguments(options: { reclassify: Reclassify; modelsHash: string }): Record<string, string> {
  return { 'lambda-ml': '1', reclassify: options.reclassify, models: options.modelsHash };
}

/** Why `args` breaks CreateJob's limits (one line per problem), or [] when it is fine. */
export function userArgumentsProblems(args: Readonly<Record<string, string>>): string[] {
  const { maxEntries, maxKeyLength, maxValueLength } = USER_ARGUMENTS_LIMITS;
  const entries = Object.entries(args);
  const problems: string[] = [];
  if (entries.length === 0) problems.push('UserArguments needs at least 1 entry (leave it out instead)');
  if (entries.length > maxEntries) {
    problems.push(`UserArguments has ${entries.length} entries; at most ${maxEntries} are allowed`);
  }
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > maxKeyLength) {
      const shown = key.slice(0, 80);
      problems.push(`UserArguments key "${shown}" must be 1 to ${maxKeyLength} characters (has ${key.length})`);
    }
    if (typeof value !== 'string') problems.push(`UserArguments value of "${key}" must be a string`);
    else if (value.length > maxValueLength) {
      const has = value.length;
      problems.push(`UserArguments value of "${key}" has ${has} characters; at most ${maxValueLength} are allowed`);
    }
  }
  return problems;
}
