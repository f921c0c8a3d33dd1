/**
 * AWS's runtime deprecation schedule, applied before deploy writes anything (docs/design.md §2): creating functions
 * on a runtime is blocked from its block-create date, updating them from its block-update date
 * (https://docs.aws.amazon.com/lambda/latest/dg/runtime-support-policy.html). The dates are in runtimes/table.ts.
 */
import { configError } from '../lib/errors.js';
import { creatableLike, deprecationNote, findRuntime, runtimeStatus } from '../runtimes/table.js';

/** Throws a config error when AWS would refuse the runtime; returns the deprecation warning, if any. */
export function checkRuntime(runtimeId: string, functionName: string, exists: boolean, now: Date): string | null {
  const runtime = findRuntime(runtimeId);
  const creatable = () =>
    creatableLike(runtime, now)
      .map((r) => r.id)
      .join(', ');
  if (!runtime) {
    const what = `function.runtime "${runtimeId}" is not a Lambda runtime lambda-ml knows`;
    throw configError(what, `use one of ${creatable()}`);
  }
  const status = runtimeStatus(runtime, now);
  const fix = `set function.runtime to ${status.replacement ?? `one of ${creatable()}`}`;
  if (status.phase === 'update-blocked' && exists) {
    const blocked = `AWS blocks updating functions on it since ${runtime.blockUpdate}`;
    throw configError(`function.runtime ${runtime.id}: ${blocked}, and ${functionName} already exists`, fix);
  }
  if ((status.phase === 'update-blocked' || status.phase === 'create-blocked') && !exists) {
    const blocked = `AWS blocks creating functions on it since ${runtime.blockCreate}`;
    throw configError(`function.runtime ${runtime.id}: ${blocked}, and ${functionName} does not exist yet`, fix);
  }
  const note = deprecationNote(status);
  return note ? `function.runtime: ${note}` : null;
}

/** True when AWS refuses updates to a function that runs on `runtimeId` (then its runtime must change first). */
export function isUpdateBlocked(runtimeId: string | undefined, now: Date): boolean {
  const runtime = runtimeId ? findRuntime(runtimeId) : undefined;
  return runtime !== undefined && runtimeStatus(runtime, now).phase === 'update-blocked';
}
