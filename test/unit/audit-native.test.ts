/** Native binary audit (SPEC §6): headers generated in a temp folder, plus the real sharp binary of the Node example. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { auditBinaries, readBinaryInfo, runtimeGlibc, type AuditTarget } from '../../src/pack/audit-native.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { EM, makeElf, makeMachO, makePe } from '../helpers/elf.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE20_X64: AuditTarget = { architecture: 'x86_64', runtime: 'nodejs20.x' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `files` (label -> bytes) under a temp folder and returns the [label, path] pairs auditBinaries takes. */
function place(dir: string, files: Record<string, Buffer>): [string, string][] {
  return Object.entries(files).map(([label, data]) => {
    const path = join(dir, ...label.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
    return [label, path];
  });
}

/** Runs the audit and returns the error it throws (asserting it is a one-line input error). */
function auditError(files: [string, string][], target: AuditTarget): LambdaMlError {
  try {
    auditBinaries(files, target);
  } catch (error) {
    assert.ok(error instanceof LambdaMlError, `expected a LambdaMlError, got ${String(error)}`);
    assert.equal(error.code, 'input');
    assert.ok(!error.message.includes('\n'), 'one line');
    return error;
  }
  assert.fail('the audit passed');
}

test('runtimeGlibc: Amazon Linux 2 (2.26) vs Amazon Linux 2023 (2.34) runtimes', () => {
  const cases: [string, [number, number]][] = [
    ['nodejs18.x', [2, 26]], ['nodejs20.x', [2, 34]], ['nodejs22.x', [2, 34]],
    ['python3.9', [2, 26]], ['python3.11', [2, 26]], ['python3.12', [2, 34]], ['python3.13', [2, 34]],
  ];
  for (const [runtime, glibc] of cases) assert.deepEqual(runtimeGlibc(runtime), glibc, runtime);
});

test('readBinaryInfo tells ELF machines, Mach-O, PE and other files apart', (t) => {
  const dir = tempDir(t);
  const cases: [string, Buffer, Partial<ReturnType<typeof readBinaryInfo>>][] = [
    ['x64.node', makeElf({ glibc: ['2.2.5', '2.17'] }), { kind: 'elf', machine: 'x86_64', machineId: 62, glibc: [2, 17] }],
    ['arm.so', makeElf({ machine: EM.AARCH64 }), { kind: 'elf', machine: 'arm64 (aarch64)', machineId: 183 }],
    ['be.so', makeElf({ machine: EM.X86_64, bigEndian: true }), { kind: 'elf', machineId: 62 }],
    ['odd.so', makeElf({ machine: 999 }), { kind: 'elf', machine: 'machine 999' }],
    ['new.so', makeElf({ glibc: ['2.2.5', '2.38', '2.9'], padding: 100_000 }), { kind: 'elf', glibc: [2, 38] }],
    ['none.so', makeElf({ glibc: [] }), { kind: 'elf', glibc: null }],
    ['mac.node', makeMachO(), { kind: 'mach-o' }],
    ['mac-be.node', makeMachO({ bigEndianMagic: true }), { kind: 'mach-o' }],
    ['fat.node', makeMachO({ fat: true }), { kind: 'mach-o' }],
    ['win.node', makePe(), { kind: 'pe' }],
    ['script.so', Buffer.from('/* GNU ld script */\nGROUP ( libc.so.6 )\n'), { kind: 'other' }],
    ['tiny.so', Buffer.from([0x7f]), { kind: 'other' }],
    ['empty.so', Buffer.alloc(0), { kind: 'other' }],
  ];
  for (const [name, data, expected] of cases) {
    const [[, path]] = place(dir, { [name]: data });
    const info = readBinaryInfo(path);
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(info[key as keyof typeof info], value, `${name}.${key}`);
  }
});

test('refuses a Mach-O binary, naming the file, what it is and the npm fix', (t) => {
  const files = place(tempDir(t), { 'node_modules/@img/sharp-darwin-arm64/lib/sharp-darwin-arm64.node': makeMachO() });
  const error = auditError(files, NODE20_X64);
  assert.match(error.message, /node_modules\/@img\/sharp-darwin-arm64\/lib\/sharp-darwin-arm64\.node/);
  assert.match(error.message, /macOS \(Mach-O\)/);
  assert.match(error.hint ?? '', /npm install --os=linux --cpu=x64/);
});

test('refuses a Windows PE binary', (t) => {
  const files = place(tempDir(t), { 'node_modules/sharp/build/Release/sharp-win32-x64.node': makePe() });
  const error = auditError(files, NODE20_X64);
  assert.match(error.message, /sharp-win32-x64\.node is a Windows \(PE\) binary/);
  assert.match(error.hint ?? '', /npm install --os=linux --cpu=x64/);
});

test('refuses an aarch64 ELF for an x86_64 function and an x86_64 ELF for an arm64 one', (t) => {
  const dir = tempDir(t);
  const [arm] = place(dir, { 'node_modules/@img/sharp-linux-arm64/lib/sharp-linux-arm64.node': makeElf({ machine: EM.AARCH64 }) });
  const error = auditError([arm], NODE20_X64);
  assert.match(error.message, /sharp-linux-arm64\.node is a Linux arm64 \(aarch64\) binary; the function is x86_64/);
  assert.match(error.hint ?? '', /npm install --os=linux --cpu=x64/);

  const [x64] = place(dir, { 'node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node': makeElf({ machine: EM.X86_64 }) });
  const back = auditError([x64], { architecture: 'arm64', runtime: 'nodejs20.x' });
  assert.match(back.message, /is a Linux x86_64 binary; the function is arm64/);
  assert.match(back.hint ?? '', /npm install --os=linux --cpu=arm64/);
});

test('Python targets get the pip fix; versioned .so names are audited', (t) => {
  const files = place(tempDir(t), { 'numpy/.libs/libgfortran-ed201abd.so.3.0.0': makeElf({ machine: EM.AARCH64 }) });
  const error = auditError(files, { architecture: 'x86_64', runtime: 'python3.11' });
  assert.match(error.message, /libgfortran-ed201abd\.so\.3\.0\.0 is a Linux arm64/);
  assert.match(error.hint ?? '', /pip install -t DIR --platform manylinux2014_x86_64 --only-binary=:all:/);
});

test('refuses a glibc requirement newer than the runtime (GLIBC_2.38 on nodejs20.x = 2.34)', (t) => {
  const files = place(tempDir(t), { 'node_modules/fast-native/build/Release/addon.node': makeElf({ glibc: ['2.2.5', '2.38'], padding: 4096 }) });
  const error = auditError(files, NODE20_X64);
  assert.match(error.message, /node_modules\/fast-native\/build\/Release\/addon\.node needs glibc 2\.38; nodejs20\.x has glibc 2\.34/);
  assert.ok(error.hint && error.hint.length > 0);
  // 2.34 itself is fine on nodejs20.x, but not on python3.11 (Amazon Linux 2, glibc 2.26).
  const [[, path]] = place(tempDir(t), { 'ok.node': makeElf({ glibc: ['2.34'] }) });
  assert.deepEqual(auditBinaries([['ok.node', path]], NODE20_X64), { audited: 1 });
  assert.match(auditError([['ok.so', path]], { architecture: 'x86_64', runtime: 'python3.11' }).message, /needs glibc 2\.34; python3\.11 has glibc 2\.26/);
});

test('passes good binaries, ignores non-binary names and counts what it audited', (t) => {
  const files = place(tempDir(t), {
    'a/x.node': makeElf({ glibc: ['2.17'] }),
    'b/libfoo.so': makeElf(),
    'b/libfoo.so.1.2': makeElf(),
    'c/linker-script.so': Buffer.from('INPUT(-lfoo)\n'),
    'd/mac.dylib': makeMachO(), // not .node/.so: not loaded by require or dlopen by these names
    'd/readme.txt': makePe(),
  });
  assert.deepEqual(auditBinaries(files, NODE20_X64), { audited: 4 });
});

test('the real sharp binary of the Node example passes for nodejs20.x x86_64', () => {
  const libDir = join(REPO, 'fixtures/node-example/node_modules/@img/sharp-linux-x64/lib');
  const nodeFile = readdirSync(libDir).find((f) => f.endsWith('.node'));
  assert.ok(nodeFile, 'sharp-linux-x64 .node present');
  const vipsDir = join(REPO, 'fixtures/node-example/node_modules/@img/sharp-libvips-linux-x64/lib');
  const vips = readdirSync(vipsDir).filter((f) => /\.so(\.\d+)*$/.test(f));
  const files: [string, string][] = [[`node_modules/@img/sharp-linux-x64/lib/${nodeFile}`, join(libDir, nodeFile)], ...vips.map((f) => [`node_modules/@img/sharp-libvips-linux-x64/lib/${f}`, join(vipsDir, f)] as [string, string])];
  const info = readBinaryInfo(files[0][1]);
  assert.equal(info.kind, 'elf');
  assert.equal(info.machine, 'x86_64');
  assert.ok(info.glibc && info.glibc[1] <= 34, `glibc ${info.glibc?.join('.')}`);
  assert.deepEqual(auditBinaries(files, NODE20_X64), { audited: files.length });
  // The same binary is wrong for an arm64 function.
  assert.match(auditError(files.slice(0, 1), { architecture: 'arm64', runtime: 'nodejs20.x' }).message, /Linux x86_64 binary; the function is arm64/);
});
