/**
 * Lambda's managed runtimes (docs/design.md §2), read from lambda-runtimes.json: the only place in src/ that names
 * one. Config validation, the native audit, layer paths, invoke and deploy all ask this module.
 */
import data from './lambda-runtimes.json' with { type: 'json' };
import type { Architecture } from '../types.js';

/** The language of a runtime: the key of its record (registry.ts), "node" or "python". */
export type RuntimeLanguage = string;

export interface LambdaRuntime {
  readonly id: string;
  readonly language: RuntimeLanguage;
  /** The language version: "24" for Node.js 24, "3.12" for Python 3.12. */
  readonly version: string;
  readonly major: number;
  readonly minor: number | null;
  readonly os: string; // "Amazon Linux 2023"
  readonly glibc: readonly [number, number];
  readonly architectures: readonly Architecture[];
  /** Node's NODE_MODULE_VERSION (the ABI of addons that are not Node-API), null for Python. */
  readonly nodeModuleVersion: number | null;
  readonly deprecation: string | null; // YYYY-MM-DD (UTC)
  readonly blockCreate: string | null;
  readonly blockUpdate: string | null;
}

export type RuntimePhase = 'supported' | 'deprecated' | 'create-blocked' | 'update-blocked';

export interface RuntimeStatus {
  readonly runtime: LambdaRuntime;
  readonly phase: RuntimePhase;
  /** The newest supported runtime of the same language, when this one is deprecated. */
  readonly replacement: string | null;
}

export const RUNTIME_SOURCE: { readonly page: string; readonly policy: string; readonly read: string } = Object.freeze({
  page: data.source,
  policy: data.policy,
  read: data.read,
});

const OS = data.os as Record<string, { name: string; glibc: string }>;

export const RUNTIMES: readonly LambdaRuntime[] = Object.freeze(
  data.runtimes.map((row): LambdaRuntime => {
    const os = OS[row.os];
    if (!os) throw new Error(`lambda-runtimes.json: ${row.id} has unknown os "${row.os}"`);
    const [major, minor] = row.version.split('.').map(Number);
    const [gMajor, gMinor] = os.glibc.split('.').map(Number);
    return Object.freeze({
      id: row.id,
      language: row.language as RuntimeLanguage,
      version: row.version,
      major,
      minor: minor ?? null,
      os: os.name,
      glibc: Object.freeze([gMajor, gMinor] as const),
      architectures: Object.freeze(row.architectures as Architecture[]),
      nodeModuleVersion: 'nodeModuleVersion' in row ? (row.nodeModuleVersion as number) : null,
      deprecation: row.deprecation ?? null,
      blockCreate: row.blockCreate ?? null,
      blockUpdate: row.blockUpdate ?? null,
    });
  }),
);

/** The runtime new configs and `init` use for the Node classifier. */
export const DEFAULT_NODE_RUNTIME: string = data.defaults.node;
/** The runtime suggested for a Python tree when none is configured. */
export const DEFAULT_PYTHON_RUNTIME: string = data.defaults.python;

const BY_ID = new Map(RUNTIMES.map((runtime) => [runtime.id, runtime]));

/** Adds rows found by id (findRuntime, runtimeOf) until the returned function is called: registry.ts, for tests. */
export function registerRuntimeRows(rows: readonly LambdaRuntime[]): () => void {
  for (const row of rows) if (BY_ID.has(row.id)) throw new Error(`runtime "${row.id}" is in the table already`);
  for (const row of rows) BY_ID.set(row.id, row);
  return () => rows.forEach((row) => BY_ID.delete(row.id));
}

/** The table row of `id`, or undefined for a name Lambda never had (or that the table does not list). */
export function findRuntime(id: string): LambdaRuntime | undefined {
  return BY_ID.get(id);
}

/** The table row of a runtime that config validation already accepted. */
export function runtimeOf(id: string): LambdaRuntime {
  const runtime = BY_ID.get(id);
  if (!runtime) throw new Error(`unknown Lambda runtime "${id}" (not in src/runtimes/lambda-runtimes.json)`);
  return runtime;
}

/** Today's date (UTC) as YYYY-MM-DD; the comparisons below are on these strings. */
export const isoDay = (now: Date = new Date()) => now.toISOString().slice(0, 10);

/** Where `runtime` stands on `now` in AWS's deprecation schedule. */
export function runtimeStatus(runtime: LambdaRuntime, now: Date = new Date()): RuntimeStatus {
  const today = isoDay(now);
  const passed = (date: string | null) => date !== null && date <= today;
  const phase: RuntimePhase = passed(runtime.blockUpdate)
    ? 'update-blocked'
    : passed(runtime.blockCreate)
      ? 'create-blocked'
      : passed(runtime.deprecation)
        ? 'deprecated'
        : 'supported';
  return { runtime, phase, replacement: phase === 'supported' ? null : replacementFor(runtime, now) };
}

/** The newest runtime of the same language that is not deprecated on `now`. */
export function replacementFor(runtime: LambdaRuntime, now: Date = new Date()): string | null {
  const today = isoDay(now);
  const candidates = RUNTIMES.filter(
    (r) => r.language === runtime.language && (r.deprecation === null || r.deprecation > today),
  );
  candidates.sort((a, b) => b.major - a.major || (b.minor ?? 0) - (a.minor ?? 0));
  return candidates[0]?.id ?? null;
}

/** Runtimes of `language` that AWS still lets you create functions on, newest first. */
export function creatableRuntimes(language?: RuntimeLanguage, now: Date = new Date()): LambdaRuntime[] {
  const today = isoDay(now);
  return RUNTIMES.filter(
    (r) => (language === undefined || r.language === language) && (r.blockCreate === null || r.blockCreate > today),
  ).sort((a, b) =>
    a.language === b.language ? b.major - a.major || (b.minor ?? 0) - (a.minor ?? 0) : a.language < b.language ? -1 : 1,
  );
}

/** Creatable runtimes of the same language as `runtime` (every language when it is unknown), newest first. */
export const creatableLike = (runtime: LambdaRuntime | undefined, now: Date = new Date()): LambdaRuntime[] =>
  creatableRuntimes(runtime?.language, now);

/** One line for a deprecated runtime: the date and what to move to. */
export function deprecationNote(status: RuntimeStatus): string | null {
  const { runtime, phase, replacement } = status;
  if (phase === 'supported') return null;
  const to = replacement ? `; move to ${replacement}` : '';
  if (phase === 'update-blocked')
    return (
      `${runtime.id} is retired: AWS blocks creating functions on it ` +
      `since ${runtime.blockCreate} and updating them since ${runtime.blockUpdate}${to}`
    );
  if (phase === 'create-blocked')
    return (
      `${runtime.id} is deprecated: AWS blocks creating functions on it ` +
      `since ${runtime.blockCreate} and will block updates on ${runtime.blockUpdate}${to}`
    );
  return (
    `${runtime.id} is deprecated since ${runtime.deprecation} (AWS blocks new functions ` +
    `on ${runtime.blockCreate}, updates on ${runtime.blockUpdate})${to}`
  );
}
