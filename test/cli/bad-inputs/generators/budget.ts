/**
 * Binary inputs of the budget rows (test/cli/bad-inputs/budget.json): hostile layer zips written byte by byte,
 * a cut weight shard, compressible deps. Each generator gets the row's fresh copy of the starter project.
 */
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { forgeZip, symlinkEntry } from '../../../helpers/forged-zip.js';

type Generator = (projectDir: string) => Promise<void>;

async function layerZip(projectDir: string, name: string, zip: Buffer): Promise<void> {
  await mkdir(join(projectDir, 'layers'), { recursive: true });
  await writeFile(join(projectDir, 'layers', name), zip);
}

/** A sentence of text repeated: deflates to a few percent, as source code roughly does. */
const LINE = 'export const value = "the same line of source, again and again";\n';
const compressible = (bytes: number) => Buffer.from(LINE.repeat(Math.ceil(bytes / LINE.length))).subarray(0, bytes);

export const generators: Record<string, Generator> = {
  /** layers/passwd.zip: a symlink entry to /etc/passwd beside a normal package file. */
  'layer-symlink-etc-passwd': (dir) =>
    layerZip(
      dir,
      'passwd.zip',
      forgeZip([
        { name: 'nodejs/node_modules/a/package.json', data: JSON.stringify({ name: 'a', version: '1.0.0' }) },
        symlinkEntry('nodejs/node_modules/passwd', '/etc/passwd'),
      ]),
    ),
  /** layers/climb.zip: a relative symlink whose `..` climb out of the layer. */
  'layer-symlink-dotdot': (dir) =>
    layerZip(dir, 'climb.zip', forgeZip([symlinkEntry('python/lib/etc', '../../../etc')])),
  /** layers/bomb.zip: ~420 bytes that declare 8.6 GB in one entry (zip64 sizes). */
  'layer-zip-bomb': (dir) =>
    layerZip(
      dir,
      'bomb.zip',
      forgeZip([
        { name: 'python/ok.py', data: 'print("ok")\n' },
        { name: 'python/README.txt', data: 'a small layer\n'.repeat(8) },
        { name: 'big.bin', data: Buffer.alloc(100_000), declaredBytes: 8_600_000_000 },
      ]),
    ),
  /** layers/overlap.zip: 2,001 directory entries sharing one entry's data (each under deflate's ceiling). */
  'layer-zip-overlap': (dir) =>
    layerZip(
      dir,
      'overlap.zip',
      forgeZip([{ name: 'zeros.bin', data: Buffer.alloc(1_000_000) }], { repeatFirst: 2000 }),
    ),
  /** The starter model's only weight shard cut from 508 to 100 bytes. */
  /** layer/: a layer folder of 120,000 bytes (one package), for a limit it alone is over. */
  'layer-dir-big': async (dir) => {
    const pkg = join(dir, 'layer', 'nodejs', 'node_modules', 'big');
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, 'package.json'), '{ "name": "big", "version": "1.0.0" }\n');
    // 85,000,000 bytes: over the row's 80,000,000-byte limit, which the function itself (~69 MB) is under.
    await writeFile(join(pkg, 'index.js'), Buffer.alloc(85_000_000 - 38, 0x78));
  },
  'shard-cut': (dir) => truncate(join(dir, 'models/m/group1-shard1of1.bin'), 100),
  /** The starter model's weight shard with 92 bytes too many. */
  'shard-grown': (dir) => writeFile(join(dir, 'models/m/group1-shard1of1.bin'), Buffer.alloc(600)),
  /** 2 MiB of compressible source as the project's own code (src/big.js): kept by any prune mode. */
  'compressible-code': async (dir) => {
    await mkdir(join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, 'src/big.js'), compressible(2 * 1_048_576));
  },
  /** 2 MiB of compressible source in a deps package: its level-9 zip is a few percent of that. */
  'compressible-deps': (dir) => writeFile(join(dir, 'node_modules/tiny-a/index.js'), compressible(2 * 1_048_576)),
};
