/**
 * Native binary audit (docs/design.md §6): every shipped .node/.so must load on the target runtime: a Linux ELF for
 * the function's CPU, no newer glibc than the runtime's OS, and the ABI its runtime record checks (CPython's
 * extension tag or abi3 minimum, Node's NODE_MODULE_VERSION for addons that are not Node-API). Every failing binary
 * is listed.
 */
import { LambdaMlError } from '../lib/errors.js';
import { recordFor } from '../runtimes/registry.js';
import type { RuntimeRecord } from '../runtimes/record.js';
import { creatableLike, runtimeOf, type LambdaRuntime } from '../runtimes/table.js';
import type { Architecture } from '../types.js';
import { readBinaryInfo, type BinaryInfo } from './elf-read.js';

export { readBinaryInfo, type BinaryInfo } from './elf-read.js';

const TARGET_MACHINE: Record<Architecture, number> = { x86_64: 62, arm64: 183 };
const BINARY = /\.(node|so)(\.\d+)*$/;

export interface AuditTarget {
  readonly architecture: Architecture;
  readonly runtime: string;
}

/** A shipped file: its label (path relative to its tree's root), absolute path, and owning package from the scan. */
export type AuditFile = readonly [label: string, path: string, owner?: string | null];

/** 'platform' and 'glibc' for every runtime; the runtime record names its own ABI fixes (record.ts NativeAudit). */
type FixKind = string;

interface Failure {
  readonly label: string;
  readonly reason: string;
  readonly fix: FixKind;
  readonly glibc?: readonly [number, number];
}

/** Audits every .node/.so; throws one input error listing each that cannot load (details), with the fixes (hint). */
export function auditBinaries(files: readonly AuditFile[], target: AuditTarget): { audited: number } {
  const runtime = runtimeOf(target.runtime);
  const record = recordFor(runtime);
  const abiFailure = record.audit.abiChecker();
  const failures: Failure[] = [];
  let audited = 0;
  for (const [label, path, owner = null] of files) {
    if (!BINARY.test(label)) continue;
    audited++;
    const info = readBinaryInfo(path);
    const abi = () => abiFailure({ label, path, owner, addon: info.addon }, runtime);
    const failure = platformFailure(label, info, runtime, target.architecture) ?? abi();
    if (failure) failures.push({ label, ...failure });
  }
  if (failures.length > 0) throw auditError(failures, { runtime, record, arch: target.architecture });
  return { audited };
}

/** Format, CPU and glibc: what any loader (dlopen) checks first. */
function platformFailure(label: string, info: BinaryInfo, runtime: LambdaRuntime, arch: Architecture): Failure | null {
  if (info.kind === 'mach-o') return { label, reason: 'a macOS (Mach-O) binary; Lambda runs Linux', fix: 'platform' };
  if (info.kind === 'pe') return { label, reason: 'a Windows (PE) binary; Lambda runs Linux', fix: 'platform' };
  if (info.kind === 'other') return null; // a linker script or data file named .so: nothing to load
  if (info.machineId !== TARGET_MACHINE[arch]) {
    return { label, reason: `a Linux ${info.machine} binary; the function is ${arch}`, fix: 'platform' };
  }
  if (info.glibc && newer(info.glibc, runtime.glibc)) {
    const has = `${runtime.id} (${runtime.os}) has glibc ${runtime.glibc.join('.')}`;
    return { label, reason: `needs glibc ${info.glibc.join('.')}; ${has}`, fix: 'glibc', glibc: info.glibc };
  }
  return null;
}

interface AuditContext {
  readonly runtime: LambdaRuntime;
  readonly record: RuntimeRecord;
  readonly arch: Architecture;
}

function auditError(failures: readonly Failure[], context: AuditContext): LambdaMlError {
  const { runtime, arch } = context;
  const count = failures.length === 1 ? '1 native binary' : `${failures.length} native binaries`;
  const more = failures.length > 2 ? ` and ${failures.length - 2} more` : '';
  const named =
    failures
      .slice(0, 2)
      .map((f) => f.label)
      .join(', ') + more;
  const fixes = [...new Set(failures.map((failure) => fixFor(failure, failures, context)))];
  return new LambdaMlError('input', `${count} cannot load on ${runtime.id} ${arch}: ${named}`, fixes.join('; '), {
    details: failures.map((failure) => `${failure.label}: ${failure.reason}`),
  });
}

/** glibc: older builds or a newer runtime of the same record; anything else: the record's reinstall hint. */
function fixFor(failure: Failure, all: readonly Failure[], { runtime, record, arch }: AuditContext): string {
  if (failure.fix !== 'glibc') return record.audit.fixHint(failure.fix, runtime, arch);
  const needed = all
    .filter((f) => f.glibc)
    .map((f) => f.glibc!)
    .reduce((a, b) => (newer(b, a) ? b : a));
  const upgrade = creatableLike(runtime).find((r) => !newer(needed, r.glibc) && newer(r.glibc, runtime.glibc));
  const move = upgrade ? `, or move to ${upgrade.id} (${upgrade.os}, glibc ${upgrade.glibc.join('.')})` : '';
  const builds = "manylinux2014 wheels, npm packages' linux-gnu prebuilds";
  return `use builds made for glibc ${runtime.glibc.join('.')} or older (${builds})${move}`;
}

/** True when version `a` is newer than `b`. */
const newer = (a: readonly [number, number], b: readonly [number, number]) =>
  a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
