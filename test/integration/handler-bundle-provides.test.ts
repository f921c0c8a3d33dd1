/**
 * Which deps packages the handler bundle makes redundant (runtimes/node-handler.ts handlerProvided), row by row of
 * handler-bundle-provides.json: each row's tree is written as real package folders with package.json files.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { handlerProvided } from '../../src/runtimes/node-handler.js';
import type { PackageInfo } from '../../src/types.js';
import { tempDir } from '../helpers/package-cli.js';
import table from './handler-bundle-provides.json' with { type: 'json' };

type Fields = Partial<Record<'dependencies' | 'optionalDependencies' | 'peerDependencies', string[]>>;

interface Row {
  readonly name: string;
  readonly imports: string[];
  readonly native: string[];
  readonly packages: Record<string, Fields>;
  readonly provided: string[];
}

for (const row of table.rows as unknown as Row[]) {
  test(`handler provides: ${row.name}`, (t) => {
    const root = tempDir(t, 'lambda-ml-provides-');
    const packages: PackageInfo[] = Object.entries(row.packages).map(([path, fields]) => {
      const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      const manifest: Record<string, unknown> = { name, version: '1.0.0' };
      for (const [field, names] of Object.entries(fields))
        manifest[field] = Object.fromEntries(names.map((n) => [n, '*']));
      mkdirSync(join(root, path), { recursive: true });
      writeFileSync(join(root, path, 'package.json'), JSON.stringify(manifest));
      return { name, version: '1.0.0', path, bytes: 1, files: 1, topLevel: [name] };
    });
    const bundle = {
      imports: row.imports,
      packages: [{ name: '@tensorflow/tfjs', version: '1.0.0' }],
      native: row.native.map((name) => ({ name, version: '2.0.0' })),
    };
    const provided = handlerProvided({ root, packages }, bundle);
    assert.deepEqual(
      provided.map((p) => p.path),
      row.provided,
    );
    // Versions: the handler's own where it has the package, else null (it does without it).
    for (const p of provided)
      assert.equal(p.version, p.name === '@tensorflow/tfjs' ? '1.0.0' : row.native.includes(p.name) ? '2.0.0' : null);
  });
}
