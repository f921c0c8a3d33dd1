/**
 * A sideloaded Node project end to end: `package` writes deps.tar.br (the default) or deps.zip (`sideload.format`),
 * and `invoke --local` runs the bundled handler on it: the deps are extracted, a photo is tagged, and the cold-start
 * log shows the model download starting before the extraction ends (issue 15, "Overlap the cold start").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { ensureNodeExample, NODE_EXAMPLE } from '../../src/example/node-example.js';
import { runBin } from '../helpers/cli.js';
import { tempDir } from '../helpers/cli-procs.js';

/** A project whose only deps are a user package of 300 modules (the handler brings TF.js, the SDK and sharp). */
async function sideloadProject(t: import('node:test').TestContext, edit: (config: Record<string, unknown>) => void) {
  const dir = await tempDir(t, 'lambda-ml-sideload-e2e-');
  const config = JSON.parse(await readFile(join(NODE_EXAMPLE, 'lambda-ml.config.json'), 'utf8'));
  config.deps = 'node_modules';
  for (const model of config.models) {
    model.path = join(NODE_EXAMPLE, model.path);
    model.labels = join(NODE_EXAMPLE, model.labels);
  }
  edit(config);
  await writeFile(join(dir, 'lambda-ml.config.json'), JSON.stringify(config, null, 2) + '\n');
  const pkg = join(dir, 'node_modules', 'pdf-kit-like');
  await mkdir(join(pkg, 'lib'), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p', dependencies: { 'pdf-kit-like': '1.0.0' } }));
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'pdf-kit-like', version: '1.0.0' }));
  await writeFile(join(pkg, 'index.js'), 'module.exports = { ok: true };\n');
  for (let i = 0; i < 300; i++)
    await writeFile(join(pkg, 'lib', `m${i}.js`), `module.exports = ${JSON.stringify(`${'x'.repeat(1800)}${i}`)};\n`);
  await writeFile(join(dir, 'baboon.png'), baboonPhoto());
  return dir;
}

const CASES = [
  { plan: 'sideload-s3', format: 'tar.br', file: 'deps.tar.br', sideload: undefined },
  { plan: 'sideload-bundled', format: 'zip', file: 'deps.zip', sideload: { format: 'zip' } },
] as const;

for (const c of CASES) {
  test(`${c.plan} with ${c.file}: packaged, extracted, photo tagged, model fetched alongside`, async (t) => {
    await ensureNodeExample();
    const dir = await sideloadProject(t, (config) => {
      config.plan = c.plan;
      if (c.sideload) config.sideload = c.sideload;
    });
    const packaged = await runBin(['package', '--out', 'out', '--json'], { cwd: dir });
    assert.equal(packaged.code, 0, packaged.stderr);
    const { manifest } = JSON.parse(packaged.stdout);
    assert.equal(manifest.plan, c.plan);
    const deps = manifest.artifacts.deps;
    assert.equal(deps.file, c.file);
    assert.equal(deps.format, c.format);
    assert.equal(deps.archiveBytes, deps.bytes);
    assert.ok(deps.diskBytes >= 300 * 4096, `diskBytes ${deps.diskBytes} counts a block per file`);
    const sideload = manifest.runtime.sideload;
    assert.equal(sideload.format, c.format);
    assert.equal(sideload.diskBytes, deps.diskBytes);
    assert.equal(sideload.zipBytes, c.format === 'zip' ? deps.bytes : null);
    assert.equal(sideload.archive, c.plan === 'sideload-bundled' ? c.file : null);

    const tmp = await tempDir(t, 'lambda-ml-sideload-e2e-tmp-');
    const args = ['invoke', '--local', '--s3-local', '--image', join(dir, 'baboon.png'), '--out', 'out', '--json'];
    const run = await runBin(args, { cwd: dir, env: { ...process.env, TMPDIR: tmp } });
    assert.equal(run.code, 0, run.stderr);
    const body = JSON.parse(run.stdout);
    assert.equal(body.invocations[0].result.results[0].status, 'tagged');
    const cold = body.coldStart;
    assert.equal(cold.strategy, c.plan);
    assert.equal(cold.format, c.format);
    assert.equal(cold.reused, false);
    const { timeline } = cold;
    t.diagnostic(JSON.stringify(timeline));
    // The overlap: the model's download starts first and is under way while the deps are extracted.
    assert.ok(timeline.modelFetchStart.safety <= timeline.depsStart, JSON.stringify(timeline));
    assert.ok(timeline.modelFetchStart.safety < timeline.depsEnd, JSON.stringify(timeline));
    assert.ok(timeline.depsEnd <= timeline.backendStart && timeline.backendEnd <= timeline.modelsLoaded);
    assert.ok(timeline.modelFetchEnd.safety <= timeline.modelsLoaded);
  });
}
