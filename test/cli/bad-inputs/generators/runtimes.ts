/** Generators of the runtime rows (test/cli/bad-inputs/runtimes.json): native binaries built for another ABI. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { makeElf } from '../../../helpers/elf.js';

async function put(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [path, body] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), body);
  }
}

/** A pip -t tree ("site") of one distribution: `fast`, or `newlib` with a WHEEL tag. */
function distInfo(name: string, version: string, files: string[], wheelTag?: string): Record<string, string> {
  const info = `${name}-${version}.dist-info`;
  const record = [...files, `${info}/METADATA`, `${info}/RECORD`, `${info}/top_level.txt`]
    .map((f) => `${f},,`)
    .join('\n');
  return {
    [`${info}/METADATA`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`,
    [`${info}/RECORD`]: `${record}\n`,
    [`${info}/top_level.txt`]: `${name}\n`,
    ...(wheelTag ? { [`${info}/WHEEL`]: `Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: ${wheelTag}\n` } : {}),
  };
}

export const generators: Record<string, (projectDir: string) => Promise<void>> = {
  /** A CPython 3.11 extension in a tree for python3.12: Lambda would fail the import. */
  async 'elf-cpython311-so'(dir) {
    const so = 'fast/_speedups.cpython-311-x86_64-linux-gnu.so';
    await put(join(dir, 'site'), {
      'fast/__init__.py': '',
      [so]: makeElf(),
      ...distInfo('fast', '1.0', ['fast/__init__.py', so]),
    });
  },
  /** A Node addon that is not Node-API, built for Node 20 (NODE_MODULE_VERSION 115). */
  async 'elf-node-abi115'(dir) {
    await put(join(dir, 'node_modules', 'old-addon'), {
      'package.json': JSON.stringify({ name: 'old-addon', version: '1.0.0', main: 'index.js' }),
      'index.js': "module.exports = require('./build/Release/old.node');\n",
      'build/Release/old.node': makeElf({ exports: ['node_register_module_v115'] }),
    });
  },
  /** An abi3 extension whose wheel needs CPython 3.13, in a tree for python3.12. */
  async 'wheel-abi3-cp313'(dir) {
    const so = 'newlib/_core.abi3.so';
    await put(join(dir, 'site'), {
      'newlib/__init__.py': '',
      [so]: makeElf(),
      ...distInfo('newlib', '2.0', ['newlib/__init__.py', so], 'cp313-abi3-manylinux_2_17_x86_64'),
    });
  },
};
