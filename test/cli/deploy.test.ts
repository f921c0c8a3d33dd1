/**
 * `lambda-ml deploy`, `policy` and the remote side of `budget` as real processes against the loopback Lambda server
 * in front of s3rver (one --endpoint-url for Lambda and S3), on a copy of the Node example's config.
 * The deploy tests run in order on one server: dry run, a failed create, the first deploy, a no-op redeploy.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { LAMBDA_LIMITS } from '../../src/lib/limits.js';
import { hasAnsi, runBin } from '../helpers/cli.js';
import { assertOneLineError, AWS_TEST_ENV, cleanStderr, exampleProject, tempDir } from '../helpers/cli-procs.js';
import { startLambdaServer, type LambdaServer } from '../helpers/lambda-server.js';
import { makeZip } from '../helpers/s3-deploy-fixtures.js';
import { startDeployS3, type DeployS3 } from '../helpers/s3rver-deploy.js';

const ROLE = 'arn:aws:iam::123456789012:role/asset-classifier';
const BUCKETS = {
  artifacts: 'lambda-ml-demo-artifacts',
  models: 'lambda-ml-demo-models',
  trigger: 'lambda-ml-demo-assets',
};
const ops = (calls: readonly { op: string }[]) => calls.map((call) => call.op);

const cleanups: (() => unknown)[] = [];
const scope = {
  after: (fn: () => unknown) => {
    cleanups.push(fn);
  },
};
after(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

let s3rver: DeployS3;
let server: LambdaServer;
let project = '';
let manifestSha = '';

/** The Lambda server in front of s3rver, as test/helpers/s3-deploy-fixtures.ts starts them. */
async function startServers(
  options: Parameters<typeof startLambdaServer>[0] = {},
): Promise<{ s3rver: DeployS3; server: LambdaServer }> {
  const s3 = await startDeployS3();
  const lambda = await startLambdaServer({ s3Endpoint: s3.endpoint, updateDelayMs: 50, ...options });
  scope.after(async () => {
    await lambda.stop();
    await s3.stop();
  });
  return { s3rver: s3, server: lambda };
}

const deploy = (args: readonly string[], cwd = project) =>
  runBin(['deploy', '--endpoint-url', server.endpoint, ...args], { cwd, env: AWS_TEST_ENV });

before(async () => {
  ({ s3rver, server } = await startServers());
  for (const bucket of Object.values(BUCKETS)) await s3rver.client.send(new CreateBucketCommand({ Bucket: bucket }));
  project = await exampleProject(scope, (config) => {
    config.region = 'us-east-1';
    config.function.role = ROLE;
    config.function.runtime = 'nodejs24.x';
  });
});

test('deploy --dry-run --json packages, lists the calls it would make, and writes nothing', async () => {
  const result = await deploy(['--dry-run', '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(cleanStderr(result.stderr), '');
  const body = JSON.parse(result.stdout);
  assert.equal(body.dryRun, true);
  assert.deepEqual(ops(body.calls.filter((call: { write: boolean }) => call.write)), [
    'PutObject', // the model: one model.onnx (backend auto, docs/handler.md "Choosing a backend")
    'CreateFunction',
    'PublishVersion',
    'CreateAlias',
    'AddPermission',
    'PutBucketNotificationConfiguration',
  ]);
  const create = body.calls.find((call: { op: string }) => call.op === 'CreateFunction');
  assert.equal(create.params.Role, ROLE);
  assert.equal(create.params.MemorySize, 2048);
  assert.match(String(create.params.Code.ZipFile), /^<\d+ bytes>$/, 'a 26 MB zip goes as ZipFile');
  assert.deepEqual(server.writes(), [], 'nothing reached the servers');
  assert.ok(ops(server.calls).includes('GetFunction'), 'it did read the current state');
  assert.equal(server.inspect('asset-classifier'), null);
  assert.ok(existsSync(join(project, '.lambda-ml', 'manifest.json')), 'the package it made is kept for --no-package');
  manifestSha = body.codeSha256;
});

test('deploy --dry-run (human) prints the numbered calls and says nothing changed', async () => {
  server.clearCalls();
  const result = await deploy(['--dry-run', '--no-package']);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!hasAnsi(result.stdout));
  assert.match(result.stdout, /^Dry run: the calls deploy would make for asset-classifier$/m);
  assert.match(result.stdout, /^ +\d+\. CreateFunction FunctionName=asset-classifier /m);
  assert.match(result.stdout, /^ +\d+\. PutBucketNotificationConfiguration Bucket=lambda-ml-demo-assets/m);
  assert.match(result.stdout, /Nothing was changed\. Run without --dry-run to apply\./);
  assert.deepEqual(server.writes(), []);
});

test("deploy --dry-run with no credentials lists a new function's calls, says it could not compare", async (t) => {
  server.clearCalls();
  // No keys, no profile, empty config files (the real home dir is not read), no instance metadata lookups.
  const dir = await tempDir(t);
  const empty = join(dir, 'empty');
  await writeFile(empty, '');
  const env = {
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: empty,
    AWS_SHARED_CREDENTIALS_FILE: empty,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  };
  const human = await runBin(['deploy', '--dry-run', '--no-package', '--endpoint-url', server.endpoint], {
    cwd: project,
    env,
  });
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.trim().split('\n');
  assert.equal(lines[0], '! could not compare with AWS (no credentials found): these are the calls for a new function');
  assert.equal(lines.filter((line) => /could not compare/.test(line)).length, 1, 'one warning line');
  assert.match(lines[1], /^Dry run: the calls deploy would make for asset-classifier$/);
  assert.match(human.stdout, /^ +\d+\. CreateFunction FunctionName=asset-classifier /m);
  assert.match(human.stdout, /Nothing was changed\./);
  const json = await runBin(['deploy', '--dry-run', '--no-package', '--json', '--endpoint-url', server.endpoint], {
    cwd: project,
    env,
  });
  assert.equal(json.code, 0, json.stderr);
  const body = JSON.parse(json.stdout);
  assert.deepEqual(body.warnings, [
    'could not compare with AWS (no credentials found): these are the calls for a new function',
  ]);
  assert.deepEqual(ops(body.calls.filter((call: { write: boolean }) => call.write)), [
    'PutObject', // the model: one model.onnx (backend auto, docs/handler.md "Choosing a backend")
    'CreateFunction',
    'PublishVersion',
    'CreateAlias',
    'AddPermission',
    'PutBucketNotificationConfiguration',
  ]);
  assert.deepEqual(server.calls, [], 'nothing reached the server: the SDK had nothing to sign with');
  // Without --dry-run the same missing credentials are an AWS error (exit 3) with the fix.
  const real = await runBin(['deploy', '--no-package', '--endpoint-url', server.endpoint], { cwd: project, env });
  assert.equal(real.code, 3);
  assertOneLineError(real.stderr, /no AWS credentials found/);
});

test('deploy refuses a retired runtime for a new function: exit 2, the date, the fix, no write call', async (t) => {
  server.clearCalls();
  const dir = await tempDir(t);
  await mkdir(join(dir, 'node_modules/tiny'), { recursive: true });
  await writeFile(join(dir, 'node_modules/tiny/package.json'), '{"name":"tiny","version":"1.0.0"}');
  await writeFile(join(dir, 'node_modules/tiny/index.js'), 'module.exports = 1;\n');
  await writeFile(
    join(dir, 'lambda-ml.config.json'),
    JSON.stringify({
      function: { name: 'retired-fn', runtime: 'nodejs20.x', role: ROLE },
      region: 'us-east-1',
      deps: 'node_modules',
    }),
  );
  const result = await deploy([], dir);
  assert.equal(result.code, 2, result.stderr);
  const line = assertOneLineError(
    result.stderr,
    new RegExp(
      [
        String.raw`^error: function\.runtime nodejs20\.x: AWS blocks creating functions on it `,
        String.raw`since 2026-08-31, and retired-fn does not exist yet$`,
      ].join(''),
    ),
  );
  assert.ok(line);
  assert.match(cleanStderr(result.stderr), /^hint: set function\.runtime to nodejs24\.x$/m);
  assert.deepEqual(server.writes(), []);
  assert.equal(server.inspect('retired-fn'), null);
});

test('an injected failure exits 3 with one line naming the step; nothing goes live', async () => {
  server.clearCalls();
  server.failNext('CreateFunction', {
    status: 400,
    type: 'InvalidParameterValueException',
    message: 'The role defined for the function cannot be assumed by Lambda.',
  });
  const result = await deploy(['--no-package']);
  assert.equal(result.code, 3);
  assert.equal(result.stdout, '');
  assertOneLineError(
    result.stderr,
    new RegExp(
      [
        String.raw`^error: deploy failed at CreateFunction: .*cannot be assumed by `,
        String.raw`Lambda.*; no version is live through alias live yet$`,
      ].join(''),
    ),
  );
  assert.equal(server.inspect('asset-classifier'), null);
});

test('deploy --json creates, publishes and aliases the function; the code sha matches the package', async () => {
  // Run alone, this test packages once itself to know the code sha a second packaging must reproduce.
  if (!manifestSha) manifestSha = JSON.parse((await deploy(['--dry-run', '--json'])).stdout).codeSha256;
  server.clearCalls();
  const result = await deploy(['--json']);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(body.ok, true);
  assert.equal(body.changed, true);
  assert.equal(body.version, '1');
  assert.equal(body.alias, 'live');
  assert.equal(body.codeSha256, manifestSha, 'packaging again gives the same bytes');
  const writes = ops(server.writes());
  for (const op of [
    'CreateFunction',
    'PublishVersion',
    'CreateAlias',
    'AddPermission',
    'PutBucketNotificationConfiguration',
  ])
    assert.ok(writes.includes(op), op);
  assert.ok(!writes.includes('UpdateFunctionCode'));
  const state = server.inspect('asset-classifier')!;
  assert.equal(state.config.CodeSha256, manifestSha);
  assert.equal(state.config.MemorySize, 2048);
  assert.deepEqual(state.aliases, { live: '1' });
  assert.equal(server.notification(BUCKETS.trigger)!.entries.length, 4, 'one entry per suffix');
  // the models were uploaded by the failed run already and are not uploaded twice
  assert.deepEqual(body.uploaded, []);
  // backend auto: the example's model ships as ONNX (docs/handler.md, "Choosing a backend")
  await s3rver.client.send(new HeadObjectCommand({ Bucket: BUCKETS.models, Key: 'safety/model.onnx' }));
});

test('a second deploy makes no write call: changed false', async () => {
  if (!server.inspect('asset-classifier')) assert.equal((await deploy([])).code, 0, 'run alone: the first deploy');
  server.clearCalls();
  const result = await deploy(['--no-package', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(body.changed, false);
  assert.equal(body.version, '1');
  assert.deepEqual(server.writes(), []);
  const human = await deploy(['--no-package']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^✓ asset-classifier is up to date \(CodeSha256 \S+\); nothing uploaded or changed$/m);
  assert.deepEqual(server.writes(), []);
});

test('deploy --no-package without a manifest exits 2 with one line', async (t) => {
  const out = await tempDir(t);
  const result = await deploy(['--no-package', '--out', out]);
  assert.equal(result.code, 2);
  assertOneLineError(result.stderr, /manifest\.json not found/);
});

test('policy --json: least privilege, tagging on the trigger bucket only', async () => {
  const result = await runBin(['policy', '--json'], { cwd: project });
  assert.equal(result.code, 0, result.stderr);
  const { policy } = JSON.parse(result.stdout);
  assert.equal(policy.Version, '2012-10-17');
  const tagging = policy.Statement.filter((s: { Action: string[] }) => s.Action.includes('s3:PutObjectTagging'));
  assert.equal(tagging.length, 1);
  assert.deepEqual(tagging[0].Resource, [`arn:aws:s3:::${BUCKETS.trigger}/images/*`]);
  const reads = policy.Statement.find((s: { Sid: string }) => s.Sid === 'ReadModelsAndDeps');
  // the model's prefix; the config's plan is "auto", so the artifacts prefix a sideloaded deps.zip would use is
  // readable too
  assert.deepEqual(reads.Resource, [
    `arn:aws:s3:::${BUCKETS.artifacts}/lambda-ml/asset-classifier/*`,
    `arn:aws:s3:::${BUCKETS.models}/safety/*`,
  ]);
  assert.ok(
    policy.Statement.every((s: { Resource: string[] }) => s.Resource.every((r) => r !== '*')),
    'no wildcard resource',
  );
});

test('budget --account-limits reads GetAccountSettings; an ARN-only layer is measured by range reads', async (t) => {
  // A project with no deps and one layer known only by its ARN, served by the Lambda server.
  const dir = await tempDir(t);
  const layerZip = join(dir, 'layer.zip');
  await makeZip(layerZip, {
    'nodejs/node_modules/left-pad/package.json': '{"name":"left-pad","version":"1.3.0","main":"index.js"}',
    'nodejs/node_modules/left-pad/index.js':
      `module.exports = (s, n) => String(s).padStart(n);\n` + '// padding\n'.repeat(2000),
  });
  const budget = async (server: LambdaServer, flags: readonly string[]) => {
    const arn = await server.addLayer('left-pad', layerZip, 3);
    const project = join(dir, `project-${server.endpoint.split(':').pop()}`);
    await mkdir(project);
    await writeFile(
      join(project, 'lambda-ml.config.json'),
      JSON.stringify({
        function: { name: 'tiny', runtime: 'nodejs24.x', role: ROLE },
        region: 'us-east-1',
        layers: [{ name: 'left-pad', arn }],
      }),
    );
    const result = await runBin(['budget', '--json', ...flags, '--endpoint-url', server.endpoint], {
      cwd: project,
      env: AWS_TEST_ENV,
    });
    const body = JSON.parse(result.stdout);
    return {
      code: result.code,
      stderr: result.stderr,
      body,
      check: (limit: string) => body.checks.find((c: { limit: string }) => c.limit === limit),
    };
  };

  const documented = await startServers();
  const plain = await budget(documented.server, []);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(
    plain.check('unzipped').max,
    LAMBDA_LIMITS.unzippedBytes,
    'without the flag the documented limits apply',
  );
  assert.ok(!ops(documented.server.calls).includes('GetAccountSettings'));
  const [layer] = plain.body.components.layers;
  assert.equal(layer.source, 'arn');
  assert.equal(layer.name, 'left-pad');
  assert.ok(layer.bytes > 20_000, `${layer.bytes} unzipped bytes`);
  assert.deepEqual(
    layer.provides,
    ['left-pad'],
    'what the layer provides is read from its package.json inside the zip',
  );
  assert.ok(ops(documented.server.calls).includes('GetLayerVersionByArn'));
  assert.ok(documented.server.rangeRequests.length > 0, 'the layer zip was read through HTTP ranges');
  assert.ok(
    documented.server.rangeRequests.every((r) => r.range !== null),
    'never downloaded whole',
  );

  // An account whose unzipped limit is one byte less than this project needs: the same project no longer fits.
  const used = plain.check('unzipped').used;
  const tight = await startServers({ accountLimits: { CodeSizeUnzipped: used - 1, CodeSizeZipped: 40_000_000 } });
  const limited = await budget(tight.server, ['--account-limits']);
  assert.equal(limited.code, 1, limited.stderr);
  assert.ok(ops(tight.server.calls).includes('GetAccountSettings'));
  assert.equal(limited.check('unzipped').max, used - 1);
  assert.equal(limited.check('unzipped').ok, false);
  assert.equal(limited.check('zipDirect').max, 40_000_000);
  assert.equal(limited.body.fits, false);
});
