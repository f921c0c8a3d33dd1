/**
 * The import graph of src/ and the layer rule over it (docs/design.md, "Layers and imports"): every relative import
 * (static, dynamic, `export ... from`, type-only and `import('…')` types alike) resolved to a file, checked against
 * the layer table, plus the import circles. Works on any { path: text } map, so a test can plant violations.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** One row of the layer table: folders (or single files at the src/ root) that share a level. */
export interface Layer {
  readonly name: string;
  readonly folders: readonly string[];
  readonly why: string;
}

/** A file whose transitive imports must never reach a folder (budget never reaches pack/). */
export interface NeverReaches {
  readonly from: string;
  readonly folder: string;
  readonly why: string;
}

/** The rule: layers top to bottom; a folder imports itself and any folder of a lower layer, nothing else. */
export interface LayerRules {
  readonly layers: readonly Layer[];
  readonly never: readonly NeverReaches[];
}

/** One import as written: the importing file, the resolved target (paths relative to src/), the line. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
}

/** What the checker found; every list empty means the tree obeys the rule. */
export interface ImportReport {
  readonly backward: readonly string[]; // "pack/a.ts:3 -> scan/b.ts (pack may import: ...)"
  readonly circles: readonly string[]; // "a.ts -> b.ts -> a.ts"
  readonly unplaced: readonly string[]; // folders in no layer
  readonly unresolved: readonly string[]; // relative imports of files that do not exist
  readonly reaches: readonly string[]; // "pipeline/budget.ts -> ... -> pack/x.ts"
}

/** Reads every .ts file under `root` as { "folder/file.ts": text } (forward slashes), and lists the other files. */
export function readTree(root: string): { sources: Map<string, string>; others: string[] } {
  const sources = new Map<string, string>();
  const others: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      const rel = relative(root, abs).split(sep).join('/');
      if (entry.isDirectory()) walk(abs);
      else if (entry.name.endsWith('.ts')) sources.set(rel, readFileSync(abs, 'utf8'));
      else others.push(rel);
    }
  };
  walk(root);
  return { sources, others };
}

/** The folder a path belongs to: its first segment, or the file itself at the root (bin.ts, types.ts). */
export const folderOf = (path: string): string => path.split('/')[0];

/** Relative module specifiers in one file, with their 1-based lines. */
export function importSpecifiers(path: string, text: string): { spec: string; line: number }[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const found: { spec: string; line: number }[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node) && node.text.startsWith('.')) {
      found.push({ spec: node.text, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Resolves `spec` from `from` to a known file: `x.js` is `x.ts` (NodeNext ESM), other files (.json) as they are. */
function resolveSpec(from: string, spec: string, files: ReadonlySet<string>): string | null {
  const joined = posix.normalize(posix.join(posix.dirname(from), spec));
  const candidates = joined.endsWith('.js') ? [joined.slice(0, -3) + '.ts', joined] : [joined];
  return candidates.find((c) => files.has(c)) ?? null;
}

/** Every relative import edge; specifiers that name no file under src/ come back in `unresolved`. */
export function importEdges(
  sources: ReadonlyMap<string, string>,
  extraFiles: readonly string[] = [],
): { edges: ImportEdge[]; unresolved: string[] } {
  const known = new Set([...sources.keys(), ...extraFiles]);
  const edges: ImportEdge[] = [];
  const unresolved: string[] = [];
  for (const [from, text] of sources) {
    for (const { spec, line } of importSpecifiers(from, text)) {
      const to = resolveSpec(from, spec, known);
      if (to === null) unresolved.push(`${from}:${line} imports ${spec}, which is no file under src/`);
      else edges.push({ from, to, line });
    }
  }
  return { edges, unresolved };
}

/** The folders each folder may import (itself excluded), from the layer table. */
export function allowedImports(rules: LayerRules): Map<string, string[]> {
  const allowed = new Map<string, string[]>();
  rules.layers.forEach((layer, index) => {
    const below = rules.layers.slice(index + 1).flatMap((l) => l.folders);
    for (const folder of layer.folders) allowed.set(folder, below);
  });
  return allowed;
}

/** Import circles: one shortest cycle per strongly connected group of files, as "a -> b -> a". */
export function findCircles(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    const list = next.get(from) ?? [];
    if (!list.includes(to)) list.push(to);
    next.set(from, list);
  }
  for (const list of next.values()) list.sort();
  const circles: string[] = [];
  for (const group of stronglyConnected(next)) {
    const start = [...group].sort()[0];
    circles.push(shortestCycle(start, next, group).join(' -> '));
  }
  return circles.sort();
}

// Tarjan's algorithm, iterative enough for our depth; groups of one file count only with a self-import.
function stronglyConnected(next: ReadonlyMap<string, readonly string[]>): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: Set<string>[] = [];
  let counter = 0;
  const connect = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const group = new Set<string>();
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.add(member);
    } while (member !== node);
    if (group.size > 1 || (next.get(node) ?? []).includes(node)) groups.push(group);
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) connect(node);
  return groups;
}

// Breadth-first from `start` back to it, inside its group: the path a reader follows to see the circle.
function shortestCycle(start: string, next: ReadonlyMap<string, readonly string[]>, group: Set<string>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    for (const to of next.get(node) ?? []) {
      if (!group.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== start && at !== undefined; at = parent.get(at))
          path.splice(1, 0, at);
        return [...path, start];
      }
      if (!parent.has(to)) {
        parent.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/** A path of imports from `from` to any file of `folder`, or null when none exists (dynamic imports count). */
export function reachPath(edges: readonly ImportEdge[], from: string, folder: string): string[] | null {
  const parent = new Map<string, string>([[from, '']]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    if (node !== from && folderOf(node) === folder) {
      const path = [node];
      for (let at = parent.get(node)!; at !== ''; at = parent.get(at)!) path.unshift(at);
      return path;
    }
    for (const edge of edges) {
      if (edge.from === node && !parent.has(edge.to)) {
        parent.set(edge.to, node);
        queue.push(edge.to);
      }
    }
  }
  return null;
}

/** Checks a source tree against the rule. `extraFiles`: non-.ts files that imports may name (JSON tables). */
export function checkImports(
  sources: ReadonlyMap<string, string>,
  rules: LayerRules,
  extraFiles: readonly string[] = [],
): ImportReport {
  const { edges, unresolved } = importEdges(sources, extraFiles);
  const allowed = allowedImports(rules);
  const folders = new Set([...sources.keys()].map(folderOf));
  const unplaced = [...folders].filter((f) => !allowed.has(f)).sort();
  const backward: string[] = [];
  for (const { from, to, line } of edges) {
    const [a, b] = [folderOf(from), folderOf(to)];
    if (a === b || !allowed.has(a) || !allowed.has(b)) continue;
    if (!allowed.get(a)!.includes(b)) {
      const may = allowed.get(a)!.join(', ') || 'nothing outside itself';
      backward.push(`${from}:${line} -> ${to} (${a} may import: ${may})`);
    }
  }
  const reaches: string[] = [];
  for (const rule of rules.never) {
    if (!sources.has(rule.from)) continue; // the src/ test checks that each row names a file
    const path = reachPath(edges, rule.from, rule.folder);
    if (path) reaches.push(`${path.join(' -> ')} (${rule.from} must never reach ${rule.folder}/: ${rule.why})`);
  }
  return { backward, circles: findCircles(edges), unplaced, unresolved, reaches };
}
