/**
 * Native binary audit (docs/design.md §6): every shipped .node/.so must load on the target runtime: a Linux ELF for
 * the function's CPU, no newer glibc than the runtime's OS, and the runtime's language ABI (CPython's extension tag
 * or abi3 minimum, Node's NODE_MODULE_VERSION for addons that are not Node-API). Every failing binary is listed.
 */
import { join } from 'node:path';
import { LambdaMlError } from '../lib/errors.js';
import { cpythonTag, creatableRuntimes, RUNTIMES, runtimeOf, type LambdaRuntime } from '../runtimes/table.js';
import type { Architecture } from '../types.js';
import { readBinaryInfo, type BinaryInfo } from './elf-read.js';
import { abi3Minimum, wheelFinder, type WheelFinder } from './wheel-tags.js';

export { readBinaryInfo, type BinaryInfo } from './elf-read.js';

const TARGET_MACHINE: Record<Architecture, number> = { x86_64: 62, arm64: 183 };
const NPM_CPU: Record<Architecture, string> = { x86_64: 'x64', arm64: 'arm64' };
const PIP_PLATFORM: Record<Architecture, string> = { x86_64: 'manylinux2014_x86_64', arm64: 'manylinux2014_aarch64' };
const BINARY = /\.(node|so)(\.\d+)*$/;

export interface AuditTarget {
  readonly architecture: Architecture;
  readonly runtime: string;
}

/** A shipped file: its label (path relative to its tree's root), absolute path, and owning package from the scan. */
export type AuditFile = readonly [label: string, path: string, owner?: string | null];

type FixKind = 'platform' | 'glibc' | 'python-abi' | 'node-abi';

interface Failure {
  readonly label: string;
  readonly reason: string;
  readonly fix: FixKind;
  readonly glibc?: readonly [number, number];
}

/** Audits every .node/.so; throws one input error listing each that cannot load (details), with the fixes (hint). */
export function auditBinaries(files: readonly AuditFile[], target: AuditTarget): { audited: number } {
  const runtime = runtimeOf(target.runtime);
  const findWheel = wheelFinder();
  const failures: Failure[] = [];
  let audited = 0;
  for (const [label, path, owner = null] of files) {
    if (!BINARY.test(label)) continue;
    audited++;
    const info = readBinaryInfo(path);
    const abiFailure = () =>
      runtime.language === 'python'
        ? pythonAbiFailure(label, path, owner, runtime, findWheel)
        : nodeAbiFailure(label, info, runtime);
    const failure = platformFailure(label, info, runtime, target.architecture) ?? abiFailure();
    if (failure) failures.push(failure);
  }
  if (failures.length > 0) throw auditError(failures, runtime, target.architecture);
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

/** CPython imports `NAME.cpython-3XY-….so` only on its 3.XY, and `NAME.abi3.so` only from the wheel's minimum on. */
function pythonAbiFailure(
  label: string,
  path: string,
  owner: string | null,
  runtime: LambdaRuntime,
  findWheel: WheelFinder,
): Failure | null {
  const tag = /\.(cpython-\d+[a-z]*)(?:-[^./]+)?\.so$/.exec(label)?.[1];
  const own = cpythonTag(runtime);
  if (tag && tag !== own) {
    const version = /^cpython-(\d)(\d+)/.exec(tag);
    const built = version ? `CPython ${version[1]}.${version[2]}` : tag;
    const reason = `built for ${built} (${tag}); ${runtime.id} imports only ${own} extensions`;
    return { label, reason, fix: 'python-abi' };
  }
  if (!label.endsWith('.abi3.so')) return null;
  const wheel = findWheel(rootOf(path, label), label, owner);
  const minimum = wheel ? abi3Minimum(wheel.text) : null;
  if (!wheel || !minimum || !newer(minimum, [runtime.major, runtime.minor ?? 0])) return null;
  return {
    label,
    reason:
      `a stable-ABI (abi3) extension for CPython ${minimum.join('.')} and later (${wheel.distInfo}/WHEEL); ` +
      `${runtime.id} is ${runtime.version}`,
    fix: 'python-abi',
  };
}

/** An addon that is not Node-API loads only on the Node major whose NODE_MODULE_VERSION it exports. */
function nodeAbiFailure(label: string, info: BinaryInfo, runtime: LambdaRuntime): Failure | null {
  const addon = info.addon;
  if (!label.endsWith('.node') || !addon || addon.napi || addon.moduleVersion === null) return null;
  if (addon.moduleVersion === runtime.nodeModuleVersion) return null;
  const built = RUNTIMES.find((r) => r.nodeModuleVersion === addon.moduleVersion);
  const node = built ? `Node ${built.version}` : 'another Node';
  return {
    label,
    reason:
      `a Node addon built for ${node} (NODE_MODULE_VERSION ${addon.moduleVersion}, not Node-API); ` +
      `${runtime.id} is Node ${runtime.version} (${runtime.nodeModuleVersion})`,
    fix: 'node-abi',
  };
}

function auditError(failures: readonly Failure[], runtime: LambdaRuntime, arch: Architecture): LambdaMlError {
  const count = failures.length === 1 ? '1 native binary' : `${failures.length} native binaries`;
  const more = failures.length > 2 ? ` and ${failures.length - 2} more` : '';
  const named =
    failures
      .slice(0, 2)
      .map((f) => f.label)
      .join(', ') + more;
  const fixes = [...new Set(failures.map((failure) => fixFor(failure, failures, runtime, arch)))];
  return new LambdaMlError('input', `${count} cannot load on ${runtime.id} ${arch}: ${named}`, fixes.join('; '), {
    details: failures.map((failure) => `${failure.label}: ${failure.reason}`),
  });
}

function fixFor(failure: Failure, all: readonly Failure[], runtime: LambdaRuntime, arch: Architecture): string {
  const cpu = NPM_CPU[arch];
  if (failure.fix === 'glibc') {
    const needed = all
      .filter((f) => f.glibc)
      .map((f) => f.glibc!)
      .reduce((a, b) => (newer(b, a) ? b : a));
    const upgrade = creatableRuntimes(runtime.language).find(
      (r) => !newer(needed, r.glibc) && newer(r.glibc, runtime.glibc),
    );
    const move = upgrade ? `, or move to ${upgrade.id} (${upgrade.os}, glibc ${upgrade.glibc.join('.')})` : '';
    const builds = "manylinux2014 wheels, npm packages' linux-gnu prebuilds";
    return `use builds made for glibc ${runtime.glibc.join('.')} or older (${builds})${move}`;
  }
  if (runtime.language === 'python') {
    return (
      `reinstall the deps for ${runtime.id} ${arch}: pip install -t DIR --platform ${PIP_PLATFORM[arch]} ` +
      `--python-version ${runtime.version} --only-binary=:all: ...`
    );
  }
  if (failure.fix === 'node-abi') {
    const node = `Node ${runtime.version}`;
    return (
      `rebuild the addon under ${node} on linux/${cpu}: npm rebuild ` +
      `(or npm install --os=linux --cpu=${cpu} with ${node})`
    );
  }
  return `reinstall the deps for Lambda: npm install --os=linux --cpu=${cpu} (or npm ci on a linux/${cpu} machine)`;
}

/** True when version `a` is newer than `b`. */
const newer = (a: readonly [number, number], b: readonly [number, number]) =>
  a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/** The tree root a label is relative to (the site-packages folder for a deps file). */
function rootOf(path: string, label: string): string {
  const suffix = join('/', ...label.split('/'));
  return path.endsWith(suffix) ? path.slice(0, path.length - suffix.length) || '/' : join(path, '..');
}
