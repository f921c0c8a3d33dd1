/** The shape of `budget --json --base FILE`'s `delta` field (docs/report.md); computed by delta.ts. */
import type { LimitName } from '../types.js';
import type { LargestFile } from './largest-files.js';

export type ChangeStatus = 'added' | 'removed' | 'grown' | 'shrunk' | 'unchanged';

/** A size before and after; `percent` is relative to the base (null when there is no base size). */
export interface SizeChange {
  readonly status: ChangeStatus;
  readonly base: number | null;
  readonly head: number | null;
  readonly bytes: number;
  readonly percent: number | null;
}

export interface CheckDelta extends SizeChange {
  readonly limit: LimitName;
  readonly max: number;
}

export interface ComponentDelta extends SizeChange {
  readonly id: string; // code, deps, deps.zip (the sideload archive, either format), layer:<name>, model:<name>
  readonly kind: 'code' | 'deps' | 'depsZip' | 'layer' | 'model';
  readonly name: string;
}

export interface PackageDelta extends SizeChange {
  readonly name: string;
  readonly baseVersions: readonly string[];
  readonly headVersions: readonly string[];
  readonly providedBy: { readonly base: string | null; readonly head: string | null };
}

/** Something a reviewer should see even when it is small. */
export interface DeltaFlag {
  readonly kind: 'native' | 'wasm' | 'model';
  readonly name: string; // the file's path, or the model's name
  readonly bytes: number;
  readonly package: string | null;
}

/** The `delta` field of `budget --json --base FILE`. */
export interface BudgetDelta {
  readonly base: { readonly fits: boolean; readonly plan: string | null };
  readonly head: { readonly fits: boolean; readonly plan: string | null };
  readonly checks: readonly CheckDelta[];
  readonly components: readonly ComponentDelta[];
  /** Every package of either side (by name, copies summed), changed ones first, biggest change first. */
  readonly packages: readonly PackageDelta[];
  readonly counts: Readonly<Record<ChangeStatus, number>>;
  readonly flags: readonly DeltaFlag[];
  /** Files in the head's largest list that the base's list does not explain (new, or grown into it). */
  readonly newFiles: readonly LargestFile[];
  readonly notes: readonly string[];
}
