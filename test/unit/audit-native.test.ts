/**
 * Native binary audit (docs/design.md §6): ELF files generated in a temp folder, plus the real sharp binary of the
 * Node example.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { auditBinaries, readBinaryInfo, type AuditFile, type AuditTarget } from '../../src/pack/audit-native.js';
import { abi3Minimum } from '../../src/runtimes/python-wheels.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { RUNTIMES } from '../../src/runtimes/table.js';
import { EM, makeElf, makeMachO, makePe } from '../helpers/elf.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE24_X64: AuditTarget = { architecture: 'x86_64', runtime: 'nodejs24.x' };
const PY312_X64: AuditTarget = { architecture: 'x86_64', runtime: 'python3.12' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `files` (label -> bytes or text) under `dir` and returns the [label, path] pairs auditBinaries takes. */
function place(dir: string, files: Record<string, Buffer | string>): [string, string][] {
  return Object.entries(files).map(([label, data]) => {
    const path = join(dir, ...label.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
    return [label, path];
  });
}

/**
 * Runs the audit and returns the error it throws (asserting it is a one-line input error with one detail per binary).
 */
function auditError(files: readonly AuditFile[], target: AuditTarget): LambdaMlError {
  try {
    auditBinaries(files, target);
  } catch (error) {
    assert.ok(error instanceof LambdaMlError, `expected a LambdaMlError, got ${String(error)}`);
    assert.equal(error.code, 'input');
    assert.ok(!error.message.includes('\n'), 'one line');
    assert.ok(error.details.length > 0, 'details list each binary');
    return error;
  }
  assert.fail('the audit passed');
}

test('glibc comes from the runtime table: each runtime takes its own OS glibc and refuses the next minor', (t) => {
  const dir = tempDir(t);
  const [[, exact]] = place(dir, { 'exact.so': makeElf() });
  for (const runtime of RUNTIMES) {
    const [major, minor] = runtime.glibc;
    const [[, atLimit]] = place(dir, { [`${runtime.id}/ok.so`]: makeElf({ glibc: ['2.2.5', `${major}.${minor}`] }) });
    const [[, over]] = place(dir, { [`${runtime.id}/new.so`]: makeElf({ glibc: [`${major}.${minor + 1}`] }) });
    const target: AuditTarget = { architecture: 'x86_64', runtime: runtime.id };
    assert.deepEqual(
      auditBinaries(
        [
          ['ok.so', atLimit],
          ['exact.so', exact],
        ],
        target,
      ),
      { audited: 2 },
      runtime.id,
    );
    const error = auditError([['new.so', over]], target);
    assert.match(
      error.details[0],
      new RegExp(
        `^new\\.so: needs glibc ${major}\\.${minor + 1};` +
          ` ${runtime.id.replace('.', '\\.')} \\(${runtime.os}\\) has glibc ${major}\\.${minor}$`,
      ),
    );
  }
});

test('readBinaryInfo tells ELF machines, Mach-O, PE, other files and Node addon ABIs apart', (t) => {
  const dir = tempDir(t);
  const cases: [string, Buffer, Partial<ReturnType<typeof readBinaryInfo>>][] = [
    [
      'x64.node',
      makeElf({ glibc: ['2.2.5', '2.17'] }),
      { kind: 'elf', machine: 'x86_64', machineId: 62, glibc: [2, 17], addon: null },
    ],
    ['arm.so', makeElf({ machine: EM.AARCH64 }), { kind: 'elf', machine: 'arm64 (aarch64)', machineId: 183 }],
    ['be.so', makeElf({ machine: EM.X86_64, bigEndian: true }), { kind: 'elf', machineId: 62 }],
    ['odd.so', makeElf({ machine: 999 }), { kind: 'elf', machine: 'machine 999' }],
    ['new.so', makeElf({ glibc: ['2.2.5', '2.38', '2.9'], padding: 100_000 }), { kind: 'elf', glibc: [2, 38] }],
    ['none.so', makeElf({ glibc: [] }), { kind: 'elf', glibc: null }],
    [
      'napi.node',
      makeElf({ exports: ['napi_register_module_v1'], imports: ['napi_create_function'] }),
      { addon: { napi: true, moduleVersion: null } },
    ],
    [
      'abi.node',
      makeElf({ exports: ['node_register_module_v115'], imports: ['node_module_register'] }),
      { addon: { napi: false, moduleVersion: 115 } },
    ],
    [
      'abi-be.node',
      makeElf({ bigEndian: true, exports: ['node_register_module_v137'] }),
      { addon: { napi: false, moduleVersion: 137 } },
    ],
    // Only an import of the name: the addon does not register itself that way.
    [
      'imports.node',
      makeElf({ imports: ['node_register_module_v108'] }),
      { addon: { napi: false, moduleVersion: null } },
    ],
    ['plain.so', makeElf({ exports: ['foo', 'bar'] }), { addon: { napi: false, moduleVersion: null } }],
    ['mac.node', makeMachO(), { kind: 'mach-o', addon: null }],
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
    for (const [key, value] of Object.entries(expected))
      assert.deepEqual(info[key as keyof typeof info], value, `${name}.${key}`);
  }
  // A truncated section header table is not a crash: the header checks still apply.
  const cut = makeElf({ exports: ['napi_register_module_v1'] });
  const [[, truncated]] = place(dir, { 'cut.node': cut.subarray(0, cut.length - 100) });
  assert.equal(readBinaryInfo(truncated).addon, null);
});

/** One row per binary the audit refuses: the file, the target, what its detail line says and what the hint says. */
const REFUSED: {
  name: string;
  label: string;
  data: () => Buffer;
  target: AuditTarget;
  detail: RegExp;
  hint: RegExp;
}[] = [
  {
    name: 'Mach-O',
    label: 'node_modules/@img/sharp-darwin-arm64/lib/sharp-darwin-arm64.node',
    data: () => makeMachO(),
    target: NODE24_X64,
    detail: /sharp-darwin-arm64\.node: a macOS \(Mach-O\) binary; Lambda runs Linux$/,
    hint: /npm install --os=linux --cpu=x64/,
  },
  {
    name: 'PE',
    label: 'node_modules/sharp/build/Release/sharp-win32-x64.node',
    data: () => makePe(),
    target: NODE24_X64,
    detail: /sharp-win32-x64\.node: a Windows \(PE\) binary; Lambda runs Linux$/,
    hint: /npm install --os=linux --cpu=x64/,
  },
  {
    name: 'aarch64 on x86_64',
    label: 'node_modules/@img/sharp-linux-arm64/lib/sharp-linux-arm64.node',
    data: () => makeElf({ machine: EM.AARCH64 }),
    target: NODE24_X64,
    detail: /: a Linux arm64 \(aarch64\) binary; the function is x86_64$/,
    hint: /npm install --os=linux --cpu=x64/,
  },
  {
    name: 'x86_64 on arm64',
    label: 'node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node',
    data: () => makeElf(),
    target: { architecture: 'arm64', runtime: 'nodejs22.x' },
    detail: /: a Linux x86_64 binary; the function is arm64$/,
    hint: /npm install --os=linux --cpu=arm64/,
  },
  {
    name: 'glibc 2.38 on AL2023',
    label: 'node_modules/fast-native/build/Release/addon.node',
    data: () => makeElf({ glibc: ['2.2.5', '2.38'], padding: 4096 }),
    target: NODE24_X64,
    detail: /addon\.node: needs glibc 2\.38; nodejs24\.x \(Amazon Linux 2023\) has glibc 2\.34$/,
    hint: /glibc 2\.34 or older/,
  },
  {
    name: 'glibc 2.34 on AL2 (python3.11)',
    label: 'numpy/core/_x.so',
    data: () => makeElf({ glibc: ['2.34'] }),
    target: { architecture: 'x86_64', runtime: 'python3.11' },
    detail: /needs glibc 2\.34; python3\.11 \(Amazon Linux 2\) has glibc 2\.26/,
    hint: /or move to python3\.14 \(Amazon Linux 2023, glibc 2\.34\)/,
  },
  {
    name: 'aarch64 .so.N in a Python tree',
    label: 'numpy/.libs/libgfortran-ed201abd.so.3.0.0',
    data: () => makeElf({ machine: EM.AARCH64 }),
    target: { architecture: 'x86_64', runtime: 'python3.11' },
    detail: /libgfortran-ed201abd\.so\.3\.0\.0: a Linux arm64/,
    hint: /pip install -t DIR --platform manylinux2014_x86_64 --python-version 3\.11 --only-binary=:all:/,
  },
  {
    name: 'cpython-311 extension on python3.12',
    label: 'fast/_speedups.cpython-311-x86_64-linux-gnu.so',
    data: () => makeElf(),
    target: PY312_X64,
    detail: new RegExp(
      [
        String.raw`_speedups\.cpython-311-x86_64-linux-gnu\.so: built for CPython 3\.11 `,
        String.raw`\(cpython-311\); python3\.12 imports only cpython-312 extensions$`,
      ].join(''),
    ),
    hint: /--platform manylinux2014_x86_64 --python-version 3\.12 --only-binary=:all:/,
  },
  {
    name: 'free-threaded cpython-313t on python3.13',
    label: 'fast/_x.cpython-313t-x86_64-linux-gnu.so',
    data: () => makeElf(),
    target: { architecture: 'x86_64', runtime: 'python3.13' },
    detail: /built for CPython 3\.13 \(cpython-313t\)/,
    hint: /--python-version 3\.13/,
  },
  {
    name: 'Node 20 addon (not Node-API) on nodejs24.x',
    label: 'node_modules/old-addon/build/Release/old.node',
    data: () => makeElf({ exports: ['node_register_module_v115'] }),
    target: NODE24_X64,
    detail: new RegExp(
      [
        String.raw`old\.node: a Node addon built for Node 20 \(NODE_MODULE_VERSION 115, `,
        String.raw`not Node-API\); nodejs24\.x is Node 24 \(137\)$`,
      ].join(''),
    ),
    hint: new RegExp(
      [
        String.raw`rebuild the addon under Node 24 on linux\/x64: npm rebuild \(or npm `,
        String.raw`install --os=linux --cpu=x64 with Node 24\)`,
      ].join(''),
    ),
  },
  {
    name: 'unknown NODE_MODULE_VERSION on nodejs22.x',
    label: 'node_modules/x/x.node',
    data: () => makeElf({ exports: ['node_register_module_v999'] }),
    target: { architecture: 'x86_64', runtime: 'nodejs22.x' },
    detail: /built for another Node \(NODE_MODULE_VERSION 999, not Node-API\); nodejs22\.x is Node 22 \(127\)/,
    hint: /Node 22/,
  },
];

test('refuses each kind of binary that cannot load, naming the file, the reason and the fix', (t) => {
  const dir = tempDir(t);
  for (const row of REFUSED) {
    const files = place(join(dir, row.name.replace(/\W+/g, '-')), { [row.label]: row.data() });
    const error = auditError(files, row.target);
    assert.equal(
      error.message,
      `1 native binary cannot load on ${row.target.runtime} ${row.target.architecture}: ${row.label}`,
      row.name,
    );
    assert.equal(error.details.length, 1, row.name);
    assert.match(error.details[0], new RegExp(`^${row.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), row.name);
    assert.match(error.details[0], row.detail, row.name);
    assert.match(error.hint ?? '', row.hint, row.name);
  }
});

test('binaries for the runtime pass: its own cpython tag, Node-API addons, its own NODE_MODULE_VERSION', (t) => {
  const files = place(tempDir(t), {
    'fast/_ok.cpython-312-x86_64-linux-gnu.so': makeElf(),
    'fast/_plain.so': makeElf(), // no tag: CPython imports it on any version
    'node_modules/napi/build/Release/napi.node': makeElf({ exports: ['napi_register_module_v1'] }),
    'node_modules/abi/build/Release/abi.node': makeElf({ exports: ['node_register_module_v137'] }),
  });
  const python = files.filter(([label]) => label.startsWith('fast/'));
  assert.deepEqual(auditBinaries(python, PY312_X64), { audited: 2 });
  assert.deepEqual(
    auditBinaries(
      files.filter(([label]) => label.startsWith('node_modules/')),
      NODE24_X64,
    ),
    { audited: 2 },
  );
  // The nodejs24.x addon is wrong for nodejs22.x; Node's ABI does not apply to a Python tree's .so files.
  assert.match(
    auditError(files.slice(3), { architecture: 'x86_64', runtime: 'nodejs22.x' }).details[0],
    /built for Node 24 \(NODE_MODULE_VERSION 137/,
  );
});

test('abi3 wheels: the minimum comes from WHEEL Tag lines, via the owner or the dist-info beside the package', (t) => {
  assert.deepEqual(
    abi3Minimum('Wheel-Version: 1.0\nTag: cp313-abi3-manylinux_2_17_x86_64\nTag: cp313-abi3-manylinux2014_x86_64\n'),
    [3, 13],
  );
  assert.deepEqual(abi3Minimum('Tag: cp39.cp310-abi3.none-manylinux_2_28_x86_64\n'), [3, 9]);
  assert.equal(abi3Minimum('Tag: cp312-cp312-manylinux_2_17_x86_64\n'), null, 'not abi3');
  assert.equal(abi3Minimum('Tag: py3-none-any\n'), null);

  const dir = tempDir(t);
  const wheel = (tag: string) => `Wheel-Version: 1.0\nGenerator: maturin\nRoot-Is-Purelib: false\nTag: ${tag}\n`;
  const files = place(dir, {
    'newlib/_core.abi3.so': makeElf(),
    'newlib-2.0.dist-info/WHEEL': wheel('cp313-abi3-manylinux_2_17_x86_64'),
    'newlib-2.0.dist-info/RECORD': 'newlib/_core.abi3.so,,\n',
    'cryptography/hazmat/bindings/_rust.abi3.so': makeElf(),
    'cryptography-44.0.0.dist-info/WHEEL': wheel('cp39-abi3-manylinux_2_34_x86_64'),
    'cryptography-44.0.0.dist-info/top_level.txt': 'cryptography\n',
    'orphan/_x.abi3.so': makeElf(), // no dist-info at all: nothing tells its minimum
  });
  const so = files.filter(([label]) => label.endsWith('.so'));
  const [newlib, crypto, orphan] = so;
  // Through the scan's owner (the dist-info whose RECORD lists it) ...
  const owned: AuditFile = [newlib[0], newlib[1], 'newlib-2.0.dist-info'];
  const error = auditError([owned, crypto, orphan], PY312_X64);
  assert.equal(error.message, '1 native binary cannot load on python3.12 x86_64: newlib/_core.abi3.so');
  assert.match(
    error.details[0],
    new RegExp(
      [
        String.raw`^newlib\/_core\.abi3\.so: a stable-ABI \(abi3\) extension for CPython 3\.13 and `,
        String.raw`later \(newlib-2\.0\.dist-info\/WHEEL\); python3\.12 is 3\.12$`,
      ].join(''),
    ),
  );
  // ... and without one, through the dist-info beside the package (its name, top_level.txt or RECORD).
  assert.match(auditError([newlib], PY312_X64).details[0], /CPython 3\.13 and later/);
  assert.deepEqual(auditBinaries([newlib, crypto, orphan], { architecture: 'x86_64', runtime: 'python3.13' }), {
    audited: 3,
  });
  assert.deepEqual(auditBinaries([crypto], { architecture: 'x86_64', runtime: 'python3.12' }), { audited: 1 });
});

test('every failing binary is listed in one error: the count and target first, one detail each, each fix once', (t) => {
  const files = place(tempDir(t), {
    'site/a.cpython-311-x86_64-linux-gnu.so': makeElf(),
    'site/b.cpython-310-x86_64-linux-gnu.so': makeElf(),
    'site/c.so': makeElf({ machine: EM.AARCH64 }),
    'site/d.so': makeElf({ glibc: ['2.39'] }),
    'site/ok.cpython-312-x86_64-linux-gnu.so': makeElf(),
    'site/mac.so': makeMachO(),
  });
  const error = auditError(files, PY312_X64);
  assert.equal(
    error.message,
    '5 native binaries cannot load on python3.12 x86_64: ' +
      'site/a.cpython-311-x86_64-linux-gnu.so, site/b.cpython-310-x86_64-linux-gnu.so and 3 more',
  );
  assert.deepEqual(
    error.details.map((line) => line.split(': ')[0]),
    [
      'site/a.cpython-311-x86_64-linux-gnu.so',
      'site/b.cpython-310-x86_64-linux-gnu.so',
      'site/c.so',
      'site/d.so',
      'site/mac.so',
    ],
  );
  const fixes = (error.hint ?? '').split('; ');
  assert.equal(fixes.length, 2, `the pip fix once, the glibc fix once: ${error.hint}`);
  assert.match(
    fixes[0],
    new RegExp(
      [
        String.raw`^reinstall the deps for python3\.12 x86_64: pip install -t DIR --platform `,
        String.raw`manylinux2014_x86_64 --python-version 3\.12 --only-binary=:all:`,
      ].join(''),
    ),
  );
  assert.match(fixes[1], /glibc 2\.34 or older/);
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
  assert.deepEqual(auditBinaries(files, NODE24_X64), { audited: 4 });
});

test("the Node example's real sharp binary is a Node-API addon that passes nodejs24.x and nodejs22.x x86_64", () => {
  const libDir = join(REPO, 'fixtures/node-example/node_modules/@img/sharp-linux-x64/lib');
  const nodeFile = readdirSync(libDir).find((f) => f.endsWith('.node'));
  assert.ok(nodeFile, 'sharp-linux-x64 .node present');
  const vipsDir = join(REPO, 'fixtures/node-example/node_modules/@img/sharp-libvips-linux-x64/lib');
  const vips = readdirSync(vipsDir).filter((f) => /\.so(\.\d+)*$/.test(f));
  const files: [string, string][] = [
    [`node_modules/@img/sharp-linux-x64/lib/${nodeFile}`, join(libDir, nodeFile)],
    ...vips.map((f) => [`node_modules/@img/sharp-libvips-linux-x64/lib/${f}`, join(vipsDir, f)] as [string, string]),
  ];
  const info = readBinaryInfo(files[0][1]);
  assert.equal(info.kind, 'elf');
  assert.equal(info.machine, 'x86_64');
  assert.ok(info.glibc && info.glibc[1] <= 34, `glibc ${info.glibc?.join('.')}`);
  assert.deepEqual(info.addon, { napi: true, moduleVersion: null }, 'read from its real .dynsym');
  assert.deepEqual(auditBinaries(files, NODE24_X64), { audited: files.length });
  assert.deepEqual(auditBinaries(files, { architecture: 'x86_64', runtime: 'nodejs22.x' }), { audited: files.length });
  // The same binary is wrong for an arm64 function.
  assert.match(
    auditError(files.slice(0, 1), { architecture: 'arm64', runtime: 'nodejs24.x' }).details[0],
    /Linux x86_64 binary; the function is arm64/,
  );
});
