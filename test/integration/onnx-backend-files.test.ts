/**
 * What `package` ships of onnxruntime-node (src/measure/native-onnx.ts), read from the real installed package: only
 * bin/napi-v6/linux/<cpu>/ for the function's CPU, onnxruntime-common nested, and the native audit passes on every
 * Node runtime's glibc (libonnxruntime.so.1 is checked like any .so). Shipped only when a model runs on onnx.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepOnnxFile, nativesFor, ONNX_RUNTIME_GLIBC, onnxRuntimeEntries } from '../../src/measure/native-onnx.js';
import { auditBinaries, readBinaryInfo } from '../../src/pack/audit-native.js';
import type { LambdaMlError } from '../../src/lib/errors.js';
import { onnxRuntimeBlocked } from '../../src/pipeline/onnx-probe.js';
import { RUNTIMES } from '../../src/runtimes/table.js';
import type { Architecture } from '../../src/types.js';

const ARCHES: readonly [Architecture, string, number][] = [
  ['x86_64', 'x64', 62],
  ['arm64', 'arm64', 183],
];

for (const [arch, cpu, machine] of ARCHES) {
  test(`${arch}: linux/${cpu} only, ELF machine ${machine}, audited on every Node runtime`, () => {
    const entries = onnxRuntimeEntries(arch);
    const bin = entries.filter((e) => e.path.includes('/bin/')).map((e) => e.path);
    assert.deepEqual(bin.sort(), [
      `node_modules/onnxruntime-node/bin/napi-v6/linux/${cpu}/libonnxruntime.so.1`,
      `node_modules/onnxruntime-node/bin/napi-v6/linux/${cpu}/onnxruntime_binding.node`,
    ]);
    assert.ok(entries.some((e) => e.path === 'node_modules/onnxruntime-node/dist/index.js'));
    assert.ok(entries.some((e) => e.path.startsWith('node_modules/onnxruntime-node/node_modules/onnxruntime-common/')));
    const library = entries.find((e) => e.path.endsWith('libonnxruntime.so.1'))!;
    const info = readBinaryInfo(library.source!);
    assert.equal(info.machineId, machine);
    const bytes = entries.reduce((t, e) => t + (e.bytes ?? 0), 0);
    assert.ok(bytes < 50_000_000, `${bytes} bytes: one platform's build, not the package's 288 MB`);
    const files = entries.map((e) => [e.path, e.source!, null] as const);
    assert.deepEqual(info.glibc, ONNX_RUNTIME_GLIBC, 'the glibc the backend choice assumes is the one it needs');
    for (const runtime of RUNTIMES.filter((r) => r.language === 'node' && r.architectures.includes(arch))) {
      const glibc = runtime.glibc.join('.');
      const target = { architecture: arch, runtime: runtime.id };
      if (runtime.glibc[1] < 28) {
        // Amazon Linux 2 (glibc 2.26): refused by name, as any .so; and auto keeps such a function on wasm.
        assert.throws(
          () => auditBinaries(files, target),
          (error: LambdaMlError) => error.details.some((d) => /libonnxruntime\.so\.1: needs glibc 2\.28/.test(d)),
        );
        assert.match(onnxRuntimeBlocked(runtime) ?? '', /needs glibc 2\.28; nodejs\d+\.x .* has 2\.26$/);
        continue;
      }
      assert.equal(onnxRuntimeBlocked(runtime), null);
      const { audited } = auditBinaries(files, target);
      assert.equal(audited, 2, `${runtime.id} (glibc ${glibc}): the binding and libonnxruntime.so.1`);
    }
  });
}

test('the other arch is refused by the audit: an x64 libonnxruntime.so.1 in an arm64 function', () => {
  const x64 = onnxRuntimeEntries('x86_64').map((e) => [e.path, e.source!, null] as const);
  assert.throws(
    () => auditBinaries(x64, { architecture: 'arm64', runtime: 'nodejs24.x' }),
    /cannot load on nodejs24\.x arm64: .*libonnxruntime\.so\.1|onnxruntime_binding\.node/,
  );
});

test('which files of the package are kept, by path', () => {
  const rows: [string, Architecture, boolean][] = [
    ['bin/napi-v6/linux/x64/libonnxruntime.so.1', 'x86_64', true],
    ['bin/napi-v6/linux/arm64/libonnxruntime.so.1', 'x86_64', false],
    ['bin/napi-v6/linux/arm64/onnxruntime_binding.node', 'arm64', true],
    ['bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib', 'arm64', false],
    ['bin/napi-v6/win32/x64/onnxruntime.dll', 'x86_64', false],
    ['dist/binding.js', 'arm64', true],
    ['lib/backend.ts', 'x86_64', false],
    ['script/install.js', 'x86_64', false],
    ['package.json', 'x86_64', true],
  ];
  for (const [path, arch, kept] of rows) assert.equal(keepOnnxFile(path, arch), kept, `${path} (${arch})`);
});

test('onnxruntime-node ships only when some model runs on onnx', () => {
  const names = ['sharp', 'onnxruntime-node'];
  assert.deepEqual(nativesFor(names, [{ backend: 'wasm' }, {}]), ['sharp']);
  assert.deepEqual(nativesFor(names, [{ backend: 'wasm' }, { backend: 'onnx' }]), names);
  assert.deepEqual(nativesFor(names, []), ['sharp']);
});
