/** Applies pruning to a deps entry list: `safe` rules, reported per rule with the bytes they save. */
import { recordForKind } from '../runtimes/registry.js';
import type { DepsKind, FileEntry, PruneMode } from '../types.js';

export interface PruneResult {
  readonly mode: PruneMode;
  readonly kept: FileEntry[];
  readonly removed: FileEntry[];
  readonly savedBytes: number;
  readonly rules: { rule: string; files: number; bytes: number }[];
}

/**
 * Applies the safe rules of the deps' runtime record (docs/design.md §6): entry points named by package.json and
 * licences are always kept.
 */
export function pruneSafe(entries: readonly FileEntry[], kind: DepsKind, root: string | null): PruneResult {
  const kept: FileEntry[] = [];
  const removed: FileEntry[] = [];
  const byRule = new Map<string, { files: number; bytes: number }>();
  const ruleOf = kind === 'none' ? () => null : recordForKind(kind).prune.ruleFor(entries, root);
  for (const entry of entries) {
    const rule = ruleOf(entry);
    if (rule === null) {
      kept.push(entry);
    } else {
      removed.push(entry);
      const total = byRule.get(rule) ?? { files: 0, bytes: 0 };
      total.files++;
      total.bytes += entry.bytes;
      byRule.set(rule, total);
    }
  }
  const rules = [...byRule.entries()].map(([rule, t]) => ({ rule, ...t })).sort((a, b) => b.bytes - a.bytes);
  return { mode: 'safe', kept, removed, savedBytes: rules.reduce((s, r) => s + r.bytes, 0), rules };
}

/** No pruning. */
export const pruneOff = (entries: readonly FileEntry[]): PruneResult => ({
  mode: 'off',
  kept: [...entries],
  removed: [],
  savedBytes: 0,
  rules: [],
});
