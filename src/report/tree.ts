/**
 * The report tree (docs/report.md): artifact -> package -> folder -> file, each node with its bytes, fate, package
 * version and share of the limit it counts against. Small files are merged per folder, and folders deeper than
 * `maxDepth` inside a package become leaves, so a 10,000-file node_modules stays a readable (and small) treemap.
 * PURE: no fs.
 */
import { HANDLER_PROVIDER, type Budget } from '../types.js';
import {
  classifyFiles,
  type Fate,
  type ReportArtifact,
  type ReportFile,
  type ReportInput,
  type ReportLimit,
} from './classify.js';

export type NodeKind = 'root' | 'artifact' | 'package' | 'folder' | 'file' | 'more';

/** One box of the treemap. `more` is the merge of a folder's small files ("37 smaller files"). */
export interface ReportNode {
  readonly name: string;
  readonly kind: NodeKind;
  readonly bytes: number;
  readonly files: number;
  readonly fate: Fate | null; // null only for the root (mixed)
  readonly limit: ReportLimit;
  readonly share: number | null; // bytes / max of `limit`; null when not shipped
  readonly version?: string; // package nodes
  readonly package?: string; // package nodes: the package name (deltas outline by it)
  readonly note?: string;
  readonly children?: readonly ReportNode[];
}

export interface TreeOptions {
  /** A child smaller than this share of the whole tree is merged into its folder's `more` node. */
  readonly minShare?: number;
  /** At most this many children per folder are shown on their own; the rest are merged. */
  readonly maxChildren?: number;
  /** Folders deeper than this inside a package are shown as one leaf. */
  readonly maxDepth?: number;
}

export const TREE_DEFAULTS: Required<TreeOptions> = { minShare: 1 / 20_000, maxChildren: 40, maxDepth: 4 };

interface Trie {
  readonly folders: Map<string, Trie>;
  readonly files: { name: string; bytes: number }[];
}

interface Context {
  readonly minBytes: number;
  readonly options: Required<TreeOptions>;
  readonly fate: Fate;
  readonly limit: ReportLimit;
  readonly limitMax: (limit: ReportLimit) => number | null;
}

/** Builds the tree of everything `budget` measured; `runBudget()`'s result is a valid input. */
export function buildReportTree(input: ReportInput, options: TreeOptions = {}): ReportNode {
  const opts = { ...TREE_DEFAULTS, ...options };
  const classified = classifyFiles(input);
  const total = classified.files.reduce((t, f) => t + f.bytes, 0) + classified.opaque.reduce((t, p) => t + p.bytes, 0);
  const limitMax = limitLookup(input.budget);
  const artifacts: ReportNode[] = [];
  for (const artifact of classified.artifacts) {
    const ctx: Context = {
      minBytes: total * opts.minShare,
      options: opts,
      fate: artifact.fate,
      limit: artifact.limit,
      limitMax,
    };
    const files = classified.files.filter((f) => f.artifact === artifact.id);
    const opaque = classified.opaque.filter((p) => p.artifact === artifact.id);
    const node = artifactNode(artifact, files, opaque, ctx);
    if (node.bytes > 0) artifacts.push(node);
  }
  return {
    name: 'all',
    kind: 'root',
    bytes: sumBytes(artifacts),
    files: sumFiles(artifacts),
    fate: null,
    limit: null,
    share: null,
    note: 'everything budget measured',
    children: artifacts,
  };
}

function artifactNode(
  artifact: ReportArtifact,
  files: readonly ReportFile[],
  opaque: Classified['opaque'],
  ctx: Context,
): ReportNode {
  const base = {
    name: artifact.name,
    kind: 'artifact' as const,
    fate: artifact.fate,
    limit: artifact.limit,
    note: artifact.note,
  };
  if (files.length === 0 && opaque.length === 1) return finishNode({ ...base, bytes: opaque[0].bytes, files: 0 }, ctx);
  const children: ReportNode[] = opaque.map((p) => leaf(p.name, p.bytes, 0, ctx));
  const byPackage = new Map<string, ReportFile[]>();
  const loose: ReportFile[] = [];
  for (const file of files) {
    if (file.package === null) loose.push(file);
    else {
      const group = byPackage.get(file.package.path);
      if (group) group.push(file);
      else byPackage.set(file.package.path, [file]);
    }
  }
  for (const group of byPackage.values()) children.push(packageNode(group, ctx));
  // Files of no package: code (under code/), model files, and deps files that no package owns.
  const trieFrom = (list: readonly ReportFile[]) => trieOf(list.map((f) => [f.inner, f.bytes]));
  const own = loose.filter((f) => f.source !== 'deps');
  const unowned = loose.filter((f) => f.source === 'deps');
  if (own.length > 0) children.push(...folderChildren(trieFrom(own), 0, ctx));
  if (unowned.length > 0) children.push(folderNode('(no package)', folderChildren(trieFrom(unowned), 1, ctx), ctx));
  const kids = aggregate(children, ctx, false);
  return finishNode({ ...base, bytes: sumBytes(kids), files: sumFiles(kids), children: kids }, ctx);
}

type Classified = ReturnType<typeof classifyFiles>;

function packageNode(files: readonly ReportFile[], ctx: Context): ReportNode {
  const pkg = files[0].package!;
  const kids = folderChildren(trieOf(files.map((f) => [f.inner, f.bytes])), 0, ctx);
  const by = pkg.providedBy === HANDLER_PROVIDER ? 'the handler' : `layer ${pkg.providedBy}`;
  const note = pkg.providedBy ? `provided by ${by}` : undefined;
  return finishNode(
    {
      name: pkg.name,
      kind: 'package',
      bytes: sumBytes(kids),
      files: sumFiles(kids),
      fate: ctx.fate,
      limit: ctx.limit,
      version: pkg.version,
      package: pkg.name,
      note,
      children: kids,
    },
    ctx,
  );
}

function trieOf(items: readonly (readonly [string, number])[]): Trie {
  const root: Trie = { folders: new Map(), files: [] };
  for (const [path, bytes] of items) {
    const parts = path.split('/');
    let at = root;
    for (const part of parts.slice(0, -1)) {
      let next = at.folders.get(part);
      if (!next) at.folders.set(part, (next = { folders: new Map(), files: [] }));
      at = next;
    }
    at.files.push({ name: parts[parts.length - 1], bytes });
  }
  return root;
}

/** The children of a folder at `depth` (0 = a package's own folder), with small ones merged. */
function folderChildren(trie: Trie, depth: number, ctx: Context): ReportNode[] {
  const nodes: ReportNode[] = [];
  for (const [name, sub] of trie.folders) {
    if (depth + 1 > ctx.options.maxDepth) {
      const { bytes, files } = trieSize(sub);
      const note = `${files} files, not shown one by one`;
      nodes.push({ ...leaf(`${name}/`, bytes, files, ctx), kind: 'folder', note });
      continue;
    }
    // A chain of folders that only hold one folder ("dist/esm/") is one box.
    let label = name;
    let at = sub;
    while (at.files.length === 0 && at.folders.size === 1) {
      const [nextName, next] = [...at.folders][0];
      label = `${label}/${nextName}`;
      at = next;
    }
    nodes.push(folderNode(label, folderChildren(at, depth + 1, ctx), ctx));
  }
  for (const file of trie.files) nodes.push(leaf(file.name, file.bytes, 1, ctx));
  return aggregate(nodes, ctx, true);
}

/** Keeps the biggest children; merges the rest (under minBytes, or past maxChildren) into one `more` node. */
function aggregate(nodes: ReportNode[], ctx: Context, merge: boolean): ReportNode[] {
  const sorted = nodes.filter((n) => n.bytes > 0).sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  if (!merge) return sorted;
  const kept: ReportNode[] = [];
  const rest: ReportNode[] = [];
  for (const node of sorted) {
    const isShown = kept.length < ctx.options.maxChildren && node.bytes >= ctx.minBytes;
    (isShown ? kept : rest).push(node);
  }
  if (rest.length === 1 && rest[0].kind === 'file') return [...kept, rest[0]];
  if (rest.length > 0) {
    const files = sumFiles(rest);
    const more = leaf(`${files} smaller ${files === 1 ? 'file' : 'files'}`, sumBytes(rest), files, ctx);
    const names =
      rest
        .map((n) => n.name)
        .slice(0, 5)
        .join(', ') + (rest.length > 5 ? ', …' : '');
    kept.push({ ...more, kind: 'more', note: `merged: ${names}` });
  }
  return kept;
}

function folderNode(name: string, kids: ReportNode[], ctx: Context): ReportNode {
  const { fate, limit } = ctx;
  const sizes = { bytes: sumBytes(kids), files: sumFiles(kids) };
  return finishNode({ name, kind: 'folder', ...sizes, fate, limit, children: kids }, ctx);
}

function leaf(name: string, bytes: number, files: number, ctx: Context): ReportNode {
  return finishNode({ name, kind: 'file', bytes, files, fate: ctx.fate, limit: ctx.limit }, ctx);
}

function finishNode(node: Omit<ReportNode, 'share'>, ctx: Context): ReportNode {
  const max = ctx.limitMax(node.limit);
  return { ...node, share: max ? node.bytes / max : null };
}

function trieSize(trie: Trie): { bytes: number; files: number } {
  let bytes = trie.files.reduce((t, f) => t + f.bytes, 0);
  let files = trie.files.length;
  for (const sub of trie.folders.values()) {
    const inner = trieSize(sub);
    bytes += inner.bytes;
    files += inner.files;
  }
  return { bytes, files };
}

function limitLookup(budget: Budget): (limit: ReportLimit) => number | null {
  const max = new Map(budget.checks.map((c) => [c.limit as string, c.max]));
  return (limit) => (limit === null ? null : (max.get(limit) ?? null));
}

const sumBytes = (nodes: readonly ReportNode[]) => nodes.reduce((t, n) => t + n.bytes, 0);
const sumFiles = (nodes: readonly ReportNode[]) => nodes.reduce((t, n) => t + n.files, 0);

/** Every node of a tree, parents first, with its depth below `root`. */
export function* walkTree(root: ReportNode, depth = 0): Generator<{ node: ReportNode; depth: number }> {
  yield { node: root, depth };
  for (const child of root.children ?? []) yield* walkTree(child, depth + 1);
}
