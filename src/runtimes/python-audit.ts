/**
 * The Python half of the native audit (docs/design.md §6): CPython imports `NAME.cpython-3XY-….so` only on its 3.XY,
 * and `NAME.abi3.so` only from the minimum its wheel's tags allow (python-wheels.ts).
 */
import { join } from 'node:path';
import { abi3Minimum, wheelFinder } from './python-wheels.js';
import type { AbiFailure, NativeAudit, NativeBinary } from './record.js';
import type { LambdaRuntime } from './table.js';

const PIP_PLATFORM = { x86_64: 'manylinux2014_x86_64', arm64: 'manylinux2014_aarch64' } as const;

/** CPython's extension-module tag for a runtime, e.g. "cpython-312" (PEP 3149). */
export const cpythonTag = (runtime: LambdaRuntime): string => `cpython-${runtime.major}${runtime.minor ?? ''}`;

/** One audit run's checker: wheel listings are read once per site-packages folder. */
function pythonAbiChecker(): (binary: NativeBinary, runtime: LambdaRuntime) => AbiFailure | null {
  const findWheel = wheelFinder();
  return ({ label, path, owner }, runtime) => {
    const tag = /\.(cpython-\d+[a-z]*)(?:-[^./]+)?\.so$/.exec(label)?.[1];
    const own = cpythonTag(runtime);
    if (tag && tag !== own) {
      const version = /^cpython-(\d)(\d+)/.exec(tag);
      const built = version ? `CPython ${version[1]}.${version[2]}` : tag;
      return { reason: `built for ${built} (${tag}); ${runtime.id} imports only ${own} extensions`, fix: 'python-abi' };
    }
    if (!label.endsWith('.abi3.so')) return null;
    const wheel = findWheel(rootOf(path, label), label, owner);
    const minimum = wheel ? abi3Minimum(wheel.text) : null;
    if (!wheel || !minimum || !newer(minimum, [runtime.major, runtime.minor ?? 0])) return null;
    return {
      reason:
        `a stable-ABI (abi3) extension for CPython ${minimum.join('.')} and later (${wheel.distInfo}/WHEEL); ` +
        `${runtime.id} is ${runtime.version}`,
      fix: 'python-abi',
    };
  };
}

export const PYTHON_AUDIT: NativeAudit = {
  abiChecker: pythonAbiChecker,
  fixHint: (_fix, runtime, arch) =>
    `reinstall the deps for ${runtime.id} ${arch}: pip install -t DIR --platform ${PIP_PLATFORM[arch]} ` +
    `--python-version ${runtime.version} --only-binary=:all: ...`,
};

const newer = (a: readonly [number, number], b: readonly [number, number]) =>
  a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/** The tree root a label is relative to (the site-packages folder for a deps file). */
function rootOf(path: string, label: string): string {
  const suffix = join('/', ...label.split('/'));
  return path.endsWith(suffix) ? path.slice(0, path.length - suffix.length) || '/' : join(path, '..');
}
