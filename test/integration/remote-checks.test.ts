/**
 * What remote measuring refuses or infers, against the loopback Lambda server and s3rver with the real SDK:
 * a layer ARN whose zip has an escaping symlink or declares more than deflate can produce (the same checks as a
 * local zip, through range reads), the region taken from a layer ARN, and a clear line when no region is set.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LambdaMlError } from '../../src/lib/errors.js';
import { measureLayerArn } from '../../src/remote/layer-arn.js';
import { writeTinyModel } from '../helpers/bad-input-project.js';
import { runCli } from '../helpers/cli.js';
import { forgeZip, symlinkEntry } from '../helpers/forged-zip.js';
import { startDeployEnv } from '../helpers/s3-deploy-fixtures.js';
import { S3RVER_CREDENTIALS } from '../helpers/s3rver-deploy.js';

test('a layer by ARN, read by ranges: an escaping symlink or a zip bomb is exit 2 naming ARN and entry', async (t) => {
  const env = await startDeployEnv(t, { buckets: [] });
  const cases: [string, Buffer, RegExp][] = [
    [
      'passwd',
      forgeZip([
        { name: 'nodejs/node_modules/a/index.js', data: 'x' },
        symlinkEntry('nodejs/node_modules/passwd', '/etc/passwd'),
      ]),
      new RegExp(
        [
          String.raw`^layer arn:aws:lambda:us-east-1:\d{12}:layer:passwd:1: entry `,
          String.raw`"nodejs\/node_modules\/passwd" is a symlink to "\/etc\/passwd", outside the archive$`,
        ].join(''),
      ),
    ],
    [
      'dotdot',
      forgeZip([symlinkEntry('python/x', '../../etc/shadow')]),
      /layer:dotdot:1: entry "python\/x" is a symlink to "\.\.\/\.\.\/etc\/shadow"/,
    ],
    [
      'bomb',
      forgeZip([{ name: 'big.bin', data: Buffer.alloc(100_000), declaredBytes: 8_600_000_000 }]),
      new RegExp(
        [
          String.raw`layer:bomb:1: entry "big\.bin" declares 8,600,000,000 bytes unzipped from \d+ `,
          String.raw`bytes compressed, more than deflate can produce \(1,032×\)`,
        ].join(''),
      ),
    ],
    [
      'overlap',
      forgeZip([{ name: 'zeros.bin', data: Buffer.alloc(1_000_000) }], { repeatFirst: 2000 }),
      /layer:overlap:1: its entries declare 2,001,000,000 bytes unzipped in total/,
    ],
  ];
  for (const [name, zip, want] of cases) {
    await writeFile(join(env.dir, `${name}.zip`), zip);
    const arn = await env.server.addLayer(name, join(env.dir, `${name}.zip`));
    const before = env.server.rangeRequests.length;
    await assert.rejects(measureLayerArn(env.lambda, arn), (error: unknown) => {
      assert.ok(error instanceof LambdaMlError, String(error));
      assert.equal(error.code, 'input', name);
      assert.match(error.message, want, name);
      return true;
    });
    assert.ok(
      env.server.rangeRequests.slice(before).every((request) => request.range !== null),
      `${name}: only range reads`,
    );
  }
  // a clean layer with a link that stays inside still measures
  await writeFile(
    join(env.dir, 'ok.zip'),
    forgeZip([
      { name: 'nodejs/node_modules/a/lib/i.js', data: 'x' },
      symlinkEntry('nodejs/node_modules/a/main.js', 'lib/i.js'),
    ]),
  );
  const ok = await measureLayerArn(env.lambda, await env.server.addLayer('ok', join(env.dir, 'ok.zip')));
  assert.equal(ok.files, 2);
});

/** Runs the CLI with exactly these AWS variables in process.env (the SDK reads it), restored afterwards. */
async function withAwsEnv<T>(vars: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('AWS_')));
  for (const key of Object.keys(saved)) delete process.env[key];
  Object.assign(process.env, vars);
  try {
    return await run();
  } finally {
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

test('region: from a layer ARN when config and environment have none; else one line on where to set it', async (t) => {
  const env = await startDeployEnv(t, { buckets: ['my-models'] });
  const dir = join(env.dir, 'project');
  await writeTinyModel(join(dir, 'models/m'));
  await writeFile(
    join(env.dir, 'layer.zip'),
    forgeZip([{ name: 'nodejs/node_modules/a/package.json', data: JSON.stringify({ name: 'a', version: '1.0.0' }) }]),
  );
  const arn = await env.server.addLayer('a', join(env.dir, 'layer.zip')); // arn:aws:lambda:us-east-1:...
  await writeFile(join(env.dir, 'empty-aws-config'), '');
  const vars = {
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_CONFIG_FILE: join(env.dir, 'empty-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(env.dir, 'empty-aws-config'),
  };
  const run = (config: object) =>
    withAwsEnv(vars, async () => {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'lambda-ml.config.json'), JSON.stringify(config));
      return runCli(['budget', '--json', '--endpoint-url', env.server.endpoint], {
        cwd: dir,
        env: { NO_COLOR: '1', ...vars },
      });
    });
  const fn = { name: 'fn', runtime: 'nodejs24.x' };
  const byArn = await run({ function: fn, layers: [{ arn }] });
  assert.equal(byArn.code, 0, byArn.stdout);
  assert.equal(JSON.parse(byArn.stdout).components.layers[0].source, 'arn');
  // an S3-only model and no layer ARN: nothing names a region
  const s3Only = await run({ function: fn, models: [{ name: 'm', s3: 's3://my-models/m/' }] });
  assert.equal(s3Only.code, 2, s3Only.stdout);
  const error = JSON.parse(s3Only.stdout).error;
  assert.match(error.message, /^(HeadObject|ListObjectsV2) s3:\/\/my-models\/m\/: no AWS region is set$/);
  assert.match(error.hint, /set "region" in lambda-ml\.config\.json .*AWS_REGION/);
  const human = await withAwsEnv(vars, () =>
    runCli(['budget', '--endpoint-url', env.server.endpoint], { cwd: dir, env: { NO_COLOR: '1', ...vars } }),
  );
  assert.equal(human.code, 2);
  assert.match(human.stderr, /^error: ListObjectsV2 s3:\/\/my-models\/m\/: no AWS region is set\nhint: /);
});
