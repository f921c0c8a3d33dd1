/**
 * `budget --base FILE` (docs/report.md): what changed between two `budget --json` documents, per limit, component and
 * package, with new native binaries, .wasm files and models flagged. PURE.
 */
import type { BinaryFile } from './binaries.js';
import type { LargestFile } from './largest-files.js';
import type { BudgetDocument } from './budget-document.js';
import type { BudgetDelta, ChangeStatus, ComponentDelta, DeltaFlag, PackageDelta, SizeChange } from './delta-types.js';

// The shapes live in delta-types.ts (budget-document.ts carries a BudgetDelta): re-exported for the callers.
export type {
  BudgetDelta,
  ChangeStatus,
  CheckDelta,
  ComponentDelta,
  DeltaFlag,
  PackageDelta,
  SizeChange,
} from './delta-types.js';

/** Status, bytes and % of one size pair; null means absent on that side. */
export function sizeChange(base: number | null, head: number | null): SizeChange {
  const bytes = (head ?? 0) - (base ?? 0);
  const status: ChangeStatus =
    base === null ? 'added' : head === null ? 'removed' : bytes > 0 ? 'grown' : bytes < 0 ? 'shrunk' : 'unchanged';
  const percent = base !== null && head !== null && base > 0 ? Math.round((bytes / base) * 10_000) / 100 : null;
  return { status, base, head, bytes, percent };
}

/** Compares two budgets: `base` (e.g. the main branch's) and `head` (this run). */
export function budgetDelta(base: BudgetDocument, head: BudgetDocument): BudgetDelta {
  const packages = packageDeltas(base, head);
  const notes: string[] = [];
  const flags = [...binaryFlags(base, head, packages, notes), ...modelFlags(base, head)];
  const counts = { added: 0, removed: 0, grown: 0, shrunk: 0, unchanged: 0 };
  for (const p of packages) counts[p.status]++;
  return {
    base: { fits: base.fits, plan: base.plan },
    head: { fits: head.fits, plan: head.plan },
    checks: head.checks.map((check) => {
      const before = base.checks.find((c) => c.limit === check.limit);
      return { limit: check.limit, max: check.max, ...sizeChange(before ? before.used : null, check.used) };
    }),
    components: componentDeltas(base, head),
    packages,
    counts,
    flags,
    newFiles: newLargestFiles(base.files, head.files),
    notes,
  };
}

function componentDeltas(base: BudgetDocument, head: BudgetDocument): ComponentDelta[] {
  const rows: ComponentDelta[] = [
    {
      id: 'code',
      kind: 'code',
      name: 'code + handler',
      ...sizeChange(base.components.code.bytes, head.components.code.bytes),
    },
  ];
  const hasDeps = (doc: BudgetDocument) => doc.components.deps.kind !== 'none';
  if (hasDeps(base) || hasDeps(head)) {
    const after = (doc: BudgetDocument) => (hasDeps(doc) ? doc.components.deps.afterPrune : null);
    const change = sizeChange(after(base), after(head));
    rows.push({ id: 'deps', kind: 'deps', name: 'deps (after strip + prune)', ...change });
  }
  // The sideload archive (deps.tar.br or deps.zip) is measured only when a decision needs it: compared only when
  // both runs measured it. A base from before the tar.br format has only zipBytes; a change of format is its own row.
  const archiveOf = (doc: BudgetDocument) => {
    const deps = doc.components.deps;
    const bytes = deps.archiveBytes ?? deps.zipBytes;
    return bytes === null || bytes === undefined ? null : { bytes, name: deps.archive ?? 'deps.zip' };
  };
  const [baseArchive, headArchive] = [archiveOf(base), archiveOf(head)];
  if (baseArchive && headArchive) {
    const name = baseArchive.name === headArchive.name ? headArchive.name : `${baseArchive.name} → ${headArchive.name}`;
    rows.push({ id: 'deps.zip', kind: 'depsZip', name, ...sizeChange(baseArchive.bytes, headArchive.bytes) });
  }
  type Named = { readonly name: string; readonly bytes: number };
  const named = (kind: 'layer' | 'model', a: readonly Named[], b: readonly Named[]) => {
    for (const name of unique([...b.map((x) => x.name), ...a.map((x) => x.name)])) {
      const before = a.find((x) => x.name === name);
      const after = b.find((x) => x.name === name);
      const change = sizeChange(before?.bytes ?? null, after?.bytes ?? null);
      rows.push({ id: `${kind}:${name}`, kind, name: `${kind} ${name}`, ...change });
    }
  };
  named('layer', base.components.layers, head.components.layers);
  named('model', base.components.models, head.components.models);
  return rows;
}

function packageDeltas(base: BudgetDocument, head: BudgetDocument): PackageDelta[] {
  const group = (doc: BudgetDocument) => {
    const byName = new Map<string, { bytes: number; versions: string[]; providedBy: string | null }>();
    for (const pkg of doc.components.deps.packages) {
      const entry = byName.get(pkg.name) ?? { bytes: 0, versions: [], providedBy: null };
      entry.bytes += pkg.bytes;
      if (!entry.versions.includes(pkg.version)) entry.versions.push(pkg.version);
      entry.providedBy ??= pkg.providedBy ?? null;
      byName.set(pkg.name, entry);
    }
    return byName;
  };
  const before = group(base);
  const after = group(head);
  const rows: PackageDelta[] = [];
  for (const name of unique([...after.keys(), ...before.keys()])) {
    const a = before.get(name);
    const b = after.get(name);
    rows.push({
      name,
      ...sizeChange(a?.bytes ?? null, b?.bytes ?? null),
      baseVersions: a ? [...a.versions].sort() : [],
      headVersions: b ? [...b.versions].sort() : [],
      providedBy: { base: a?.providedBy ?? null, head: b?.providedBy ?? null },
    });
  }
  const changed = (p: PackageDelta) => (p.status === 'unchanged' ? 1 : 0);
  const bigger = (x: PackageDelta, y: PackageDelta) => Math.abs(y.bytes) - Math.abs(x.bytes);
  return rows.sort((x, y) => changed(x) - changed(y) || bigger(x, y) || x.name.localeCompare(y.name));
}

function binaryFlags(
  base: BudgetDocument,
  head: BudgetDocument,
  packages: readonly PackageDelta[],
  notes: string[],
): DeltaFlag[] {
  if (!head.binaries) {
    notes.push('the head budget has no `binaries` list: new native and .wasm files are not flagged');
    return [];
  }
  let isNew: (file: BinaryFile) => boolean;
  if (base.binaries) {
    const known = new Set(base.binaries.map((b) => b.path));
    isNew = (file) => !known.has(file.path);
  } else {
    // An older base JSON lists no binaries: flag those of the packages it did not have.
    notes.push('the base budget has no `binaries` list: only binaries of added packages are flagged');
    const added = new Set(packages.filter((p) => p.status === 'added').map((p) => p.name));
    isNew = (file) => file.package !== null && added.has(file.package.slice(0, file.package.lastIndexOf('@')));
  }
  return head.binaries.filter(isNew).map((b) => ({ kind: b.kind, name: b.path, bytes: b.bytes, package: b.package }));
}

function modelFlags(base: BudgetDocument, head: BudgetDocument): DeltaFlag[] {
  const known = new Set(base.components.models.map((m) => m.name));
  return head.components.models
    .filter((m) => !known.has(m.name))
    .map((m) => ({ kind: 'model', name: m.name, bytes: m.bytes, package: null }));
}

type Files = readonly LargestFile[] | undefined;

function newLargestFiles(base: Files, head: Files): LargestFile[] {
  if (!base || !head) return [];
  const known = new Set(base.map((f) => f.path));
  // When the base's list was cut at the same length, an unlisted file was at most as big as its smallest row.
  const isFull = base.length >= head.length && base.length > 0;
  const floor = isFull ? Math.min(...base.map((f) => f.bytes)) : -1;
  return head.filter((f) => !known.has(f.path) && f.bytes > floor);
}

const unique = <T>(items: readonly T[]) => [...new Set(items)];
