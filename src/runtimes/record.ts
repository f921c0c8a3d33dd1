/**
 * One record per language (docs/design.md, "Runtimes: one record per language"): everything that differs between a
 * Node and a Python function, asked by the stages instead of testing a runtime string. In the spirit of
 * netlify/zip-it-and-ship-it's `src/runtimes/runtime.ts`. A new language is one new record module (registry.ts).
 */
import type { ArchiveEntry } from '../archive/archive-entry.js';
import type { SideloadFormat } from '../archive/tar-br-format.js';
import type { FileEntry, PackageInfo, ProvidedPackage } from '../types.js';
import type { LambdaRuntime } from './table.js';

export type { SideloadFormat } from '../archive/tar-br-format.js';

/** A walked deps folder, as the scanner hands it over (paths relative to the walked folder, '/'-separated). */
export interface DepsTree {
  readonly entries: FileEntry[];
  readonly dirs: string[];
}

/** A deps folder grouped by package: each entry with its owner, and the files no package claims. */
export interface OwnedTree {
  readonly packages: PackageInfo[];
  readonly entries: FileEntry[];
  readonly unowned: { bytes: number; files: number; sample: string[] };
}

/** How the language's deps folder is laid out and scanned. */
export interface DepsLayout {
  /** What `deps` points at, for messages: "node_modules". */
  readonly folder: string;
  /** How the user fills it: "npm install". */
  readonly install: string;
  /** A `deps` setting to show in hints: "node_modules". */
  readonly example: string;
  /** The folder actually walked for a configured `deps` folder. */
  readonly walkRoot: (configured: string) => string;
  /** Paths under the walked folder that never ship, with everything below them. */
  readonly exclude: (walkRoot: string) => ReadonlySet<string>;
  /** Groups the walked tree by package; entry paths come back as they sit in the function zip. */
  readonly group: (walkRoot: string, tree: DepsTree) => OwnedTree;
  /** The folder the grouped entry paths are relative to. */
  readonly rootOf: (walkRoot: string) => string;
}

/** How a layer's packages are found and matched against the deps. */
export interface LayerLayout {
  /** The layer folders the runtime puts on its module path, in lookup order (AWS "packaging-layers-paths"). */
  readonly packageRoots: (runtime: LambdaRuntime) => readonly string[];
  /** Matches the start of a path inside one of this language's layer folders, for any runtime version. */
  readonly anyRoot: RegExp;
  /** True for the small metadata files a provides scan reads; `rest` is the path below the matched folder. */
  readonly isMetadata: (rest: readonly string[]) => boolean;
  /** The packages in this language's layer folders: every path split at its folder, metadata read by `readMeta`. */
  readonly provided: (
    paths: readonly { readonly root: string; readonly rest: readonly string[] }[],
    readMeta: (path: string) => string | undefined,
  ) => ProvidedPackage[];
  /** True when the handler resolves layer packages itself (Node's ESM ignores NODE_PATH): package lists the folders. */
  readonly resolvedByHandler: boolean;
}

/** How deps packages are matched with layer packages (pure: the planner strips with it). */
export interface PackageMatch {
  /** What code imports a layer package by, as `budget` lists it (docs/design.md §9: "PIL", not "Pillow"). */
  readonly importNames: (pkg: ProvidedPackage) => readonly string[];
  /** Keys a layer package is found by. */
  readonly providedKeys: (pkg: ProvidedPackage) => readonly string[];
  /** Keys a deps package looks for, in order; the first that a layer provides wins. */
  readonly depKeys: (pkg: PackageInfo) => readonly string[];
  /** Only top-level packages are stripped (a nested copy exists because its parent needs another version). */
  readonly isTopLevel: (path: string) => boolean;
  /** True when packages sit inside other packages' folders and go with them when those are stripped. */
  readonly nests: boolean;
}

/** What safe pruning removes (docs/design.md §6). */
export interface PruneLayout {
  /** For one deps tree (all its entries, its root): the rule that removes an entry, or null to keep it. */
  readonly ruleFor: (entries: readonly FileEntry[], root: string | null) => (entry: FileEntry) => string | null;
  /** True when `prune: "trace"` can follow the handler's imports through this language's deps. */
  readonly traces: boolean;
}

/** The deps as the handler-provides question needs them: the folder holding node_modules and its packages. */
export interface HandlerDeps {
  readonly root: string | null;
  readonly packages: readonly PackageInfo[];
}

/** A deps package the emitted handler brings itself: stripped from the deps, reported as provided by the handler. */
export interface HandlerProvided {
  readonly path: string;
  readonly name: string;
  /** The version the handler brings; null when the handler does without it (types, stubs). */
  readonly version: string | null;
}

/** A file `package` writes at the function root: an archive entry of kind "file". */
export type EmittedFile = ArchiveEntry & { readonly kind: 'file' };

/** One shipped native binary, as the audit read it. */
export interface NativeBinary {
  readonly label: string; // path relative to its tree's root
  readonly path: string; // absolute
  readonly owner: string | null; // the owning package from the scan
  /** How a Node addon registers itself, from its dynamic symbols; null when it exports no addon entry point. */
  readonly addon: { readonly napi: boolean; readonly moduleVersion: number | null } | null;
}

/** A binary the runtime's language cannot load, and the kind of fix. */
export interface AbiFailure {
  readonly reason: string;
  readonly fix: string; // e.g. "python-abi", "node-abi"
}

/** The language half of the native audit (the platform half, CPU and glibc, is the same for every language). */
export interface NativeAudit {
  /** A checker for one audit run: the language ABI a binary was built for (CPython tags, NODE_MODULE_VERSION). */
  readonly abiChecker: () => (binary: NativeBinary, runtime: LambdaRuntime) => AbiFailure | null;
  /** The hint for failures other than glibc: how to reinstall or rebuild for this runtime and CPU. */
  readonly fixHint: (fix: string, runtime: LambdaRuntime, arch: 'x86_64' | 'arm64') => string;
}

/** Whether `invoke --local` runs this language, and what to do instead when not. */
export type InvokeSupport = { readonly local: true } | { readonly local: false; readonly hint: string };

/** Everything lambda-ml needs to know about one language's Lambda runtimes. */
export interface RuntimeRecord {
  /** Its key: the `language` of its rows in lambda-runtimes.json, the `kind` of its deps scans and layer packages. */
  readonly name: string;
  /** Its name for people: "Node.js". */
  readonly title: string;
  readonly deps: DepsLayout;
  readonly layers: LayerLayout;
  readonly match: PackageMatch;
  readonly prune: PruneLayout;
  /** The files `package` adds at the function root besides the user's code (handler, bootstrap). */
  readonly emitted: () => readonly EmittedFile[];
  /** The deps packages the emitted handler brings itself (inlined in the Node bundle): stripped as provided by it. */
  readonly handlerProvides: (deps: HandlerDeps) => readonly HandlerProvided[];
  /** Native packages the emitted handler imports, shipped beside it built for the function's CPU. */
  readonly handlerNatives: () => readonly string[];
  /** The format of a sideloaded deps archive when config `sideload.format` names none. */
  readonly sideloadFormat: SideloadFormat;
  /** Every format the code that unpacks it reads (sideloadFormat is one). */
  readonly sideloadFormats: readonly SideloadFormat[];
  /** What unpacks the archive at cold start, for messages: "handler", "bootstrap". */
  readonly sideloadReader: string;
  /** The Lambda handler setting deploy uses when the config names none; null: the user must name theirs. */
  readonly defaultHandler: string | null;
  /** Resident memory of the runtime with its ML stack imported, before models (docs/budget.md). */
  readonly baseMemoryBytes: number;
  /** Where a deps archive fetched from S3 sits while it is extracted: on /tmp, or in memory. */
  readonly sideloadArchiveIn: 'tmp' | 'memory';
  /** True when the handler runs Keras files as they are; false: package converts them to TF.js. */
  readonly loadsKeras: boolean;
  readonly audit: NativeAudit;
  readonly invoke: InvokeSupport;
}

/** The part of a record the pure planner reads. */
export type PlanRuntime = Pick<RuntimeRecord, 'name' | 'baseMemoryBytes' | 'sideloadArchiveIn' | 'match'>;
