/**
 * Opt-in run against real AWS: LAMBDA_ML_E2E=1 plus credentials, LAMBDA_ML_E2E_ROLE (an execution role ARN) and
 * LAMBDA_ML_E2E_BUCKET (an artifacts bucket, also used as the trigger bucket). Skipped otherwise, with the reason.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DeleteFunctionCommand } from '@aws-sdk/client-lambda';
import { deploy } from '../../src/deploy/deploy.js';
import { makeClients } from '../../src/deploy/clients.js';
import { readAccountLimits } from '../../src/remote/account-limits.js';
import { makeManifest, writeFunctionZip } from '../helpers/s3-deploy-fixtures.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const env = process.env;
const hasCredentials = Boolean(
  env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
);
const skipReason =
  env.LAMBDA_ML_E2E !== '1'
    ? 'real-AWS deploy test: set LAMBDA_ML_E2E=1 (with credentials, ' +
      'LAMBDA_ML_E2E_ROLE and LAMBDA_ML_E2E_BUCKET) to run it'
    : !hasCredentials
      ? 'real-AWS deploy test: LAMBDA_ML_E2E=1 but no AWS credentials in the environment'
      : !env.LAMBDA_ML_E2E_ROLE || !env.LAMBDA_ML_E2E_BUCKET
        ? 'real-AWS deploy test: set LAMBDA_ML_E2E_ROLE and LAMBDA_ML_E2E_BUCKET'
        : null;

test('real AWS: deploy twice (the second makes no write call), read the account limits', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const { lambda, s3 } = makeClients({ region: env.AWS_REGION ?? 'us-east-1', env });
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-e2e-'));
  const name = `lambda-ml-e2e-${Date.now()}`;
  t.after(async () => {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name })).catch(() => {});
    lambda.destroy();
    s3.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  await writeFunctionZip(dir, 'e2e');
  const base = await makeManifest({
    outDir: dir,
    trigger: null,
    fn: { name, role: env.LAMBDA_ML_E2E_ROLE!, memoryMb: 256 },
  });
  const manifest = { ...base, artifactsBucket: { bucket: env.LAMBDA_ML_E2E_BUCKET!, prefix: 'lambda-ml-e2e/' } };
  const first = await deploy(manifest, dir, { lambda, s3, wait: { minDelay: 1, maxDelay: 5, maxWaitTime: 180 } });
  assert.equal(first.version, '1');
  const second = await deploy(manifest, dir, { lambda, s3 });
  assert.deepEqual(
    second.calls.filter((call) => call.write),
    [],
  );
  const limits = await readAccountLimits(lambda);
  assert.ok(limits.unzippedBytes >= 262_144_000);
});
