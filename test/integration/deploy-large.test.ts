/**
 * A function.zip over 50 MiB deploys through S3 (multipart, content-addressed), never as ZipFile; forced as ZipFile,
 * AWS's 413 is explained.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { deploy } from '../../src/deploy/deploy.js';
import type { DeployProgress } from '../../src/deploy/context.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { FAST_WAIT, incompressible, makeManifest, makeZip, startDeployEnv } from '../helpers/s3-deploy-fixtures.js';

const MiB = 1_048_576;

test('a 51 MiB function.zip goes to S3 in parts, deploys by S3Bucket/S3Key; a redeploy uploads nothing', async (t) => {
  const env = await startDeployEnv(t);
  const out = join(env.dir, 'out');
  // stored (-0): the bytes are incompressible anyway, and zip is quicker
  await makeZip(
    join(out, 'function.zip'),
    { 'index.mjs': 'export const handler = () => 1;', 'model.bin': incompressible(51 * MiB) },
    ['-0'],
  );
  const manifest = await makeManifest({ outDir: out, trigger: null });
  assert.ok(manifest.artifacts.function.bytes > 52_428_800);
  const progress: DeployProgress[] = [];
  const result = await deploy(manifest, out, {
    lambda: env.lambda,
    s3: env.s3,
    wait: FAST_WAIT,
    onProgress: (event) => progress.push(event),
    upload: { multipartThresholdBytes: 16 * MiB, partBytes: 8 * MiB },
  });
  const key = `lambda-ml/asset-classifier/${manifest.artifacts.function.sha256}.zip`;
  assert.deepEqual(result.uploaded, [`s3://deploy-artifacts/${key}`]);
  const writes = env.server.writes();
  assert.equal(writes.filter((call) => call.op === 'UploadPart').length, 7);
  assert.deepEqual(
    [...new Set(writes.map((call) => call.op))],
    [
      'CreateMultipartUpload',
      'UploadPart',
      'CompleteMultipartUpload',
      'CreateFunction',
      'PublishVersion',
      'CreateAlias',
    ],
  );
  const create = writes.find((call) => call.op === 'CreateFunction')!;
  assert.deepEqual(create.params.Code, { S3Bucket: 'deploy-artifacts', S3Key: key });
  assert.equal(
    env.server.inspect('asset-classifier')!.config.CodeSha256,
    manifest.artifacts.function.sha256Base64,
    'Lambda read the same bytes back from S3',
  );
  const uploads = progress.filter((event) => event.phase === 'upload');
  assert.equal(uploads.at(-1)!.phase === 'upload' && uploads.at(-1)!.loaded, manifest.artifacts.function.bytes);

  env.server.clearCalls();
  const again = await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  assert.deepEqual(env.server.writes(), []);
  assert.deepEqual(again.uploaded, []);
  assert.ok(
    !env.server.calls.some((call) => call.op === 'HeadObject'),
    'the code sha256 matches CodeSha256: the zip is not even looked up',
  );

  // forcing ZipFile hits Lambda's request cap; the error says what to do
  const forced = { ...manifest, function: { ...manifest.function, name: 'forced-zipfile' } };
  try {
    await deploy(forced, out, {
      lambda: env.lambda,
      s3: env.s3,
      wait: FAST_WAIT,
      zipDirectBytes: Number.POSITIVE_INFINITY,
    });
    assert.fail('expected a 413');
  } catch (error) {
    assert.ok(error instanceof LambdaMlError);
    assert.match(
      error.message,
      new RegExp(
        [
          String.raw`^deploy failed at CreateFunction: function\.zip is over 50 MiB: deploy `,
          String.raw`through S3 \(set artifacts\.bucket\) \[AWS: Request must be smaller than `,
          String.raw`69905067 bytes for the CreateFunction operation\]`,
        ].join(''),
      ),
    );
  }
  assert.equal(
    env.server.calls.find((call) => call.op === 'CreateFunction' && call.status === 413)?.op,
    'CreateFunction',
  );
});
