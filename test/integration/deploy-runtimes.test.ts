/**
 * AWS's runtime deprecation schedule in deploy (docs/design.md §2), against the loopback Lambda server, which applies
 * the same table as AWS would. Dates are pinned: deploy's `now` option and the server's clock.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateFunctionCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { deploy } from '../../src/deploy/deploy.js';
import { exitCodeFor } from '../../src/lib/errors.js';
import type { Manifest } from '../../src/types.js';
import {
  FAST_WAIT,
  makeManifest,
  ROLE,
  startDeployEnv,
  writeFunctionZip,
  type DeployEnv,
} from '../helpers/s3-deploy-fixtures.js';
import { rejection } from '../helpers/rejection.js';

const ops = (calls: readonly { op: string }[]) => calls.map((call) => call.op);
const day = (iso: string) => new Date(`${iso}T12:00:00Z`);
const RETIRED_MESSAGE =
  'The runtime parameter of nodejs20.x is no longer supported for creating or updating AWS Lambda ' +
  'functions. We recommend you use a supported runtime while creating or updating functions.';

/** A deploy env whose server clock is `clock.now` (tests move it). */
async function envAt(t: Parameters<typeof startDeployEnv>[0], clock: { now: Date }): Promise<DeployEnv> {
  return startDeployEnv(t, { updateDelayMs: 30, now: () => clock.now });
}

async function manifestFor(
  env: DeployEnv,
  runtime: string,
  marker = 'v1',
): Promise<{ out: string; manifest: Manifest }> {
  const out = join(env.dir, 'out');
  await writeFunctionZip(out, marker);
  return { out, manifest: await makeManifest({ outDir: out, trigger: null, fn: { runtime } }) };
}

test("the loopback server refuses creates/updates on a runtime past its block dates, with AWS's message", async (t) => {
  const clock = { now: day('2026-07-01') };
  const env = await envAt(t, clock);
  const { out } = await manifestFor(env, 'nodejs20.x');
  const zip = await readFile(join(out, 'function.zip'));
  const createOn = (name: string) =>
    env.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zip },
      }),
    );
  await createOn('made-in-july'); // deprecated since 2026-04-30, still creatable
  clock.now = day('2026-09-15'); // create blocked (2026-08-31), updates not yet (2026-09-30)
  await assert.rejects(
    createOn('made-in-september'),
    (error: Error) => error.name === 'InvalidParameterValueException' && error.message === RETIRED_MESSAGE,
  );
  await new Promise((resolve) => setTimeout(resolve, 50)); // the create's Pending state passes
  await env.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'made-in-july', MemorySize: 256 }));
  clock.now = day('2026-12-01');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assert.rejects(
    env.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'made-in-july', MemorySize: 512 })),
    (error: Error) => error.name === 'InvalidParameterValueException' && error.message === RETIRED_MESSAGE,
  );
  // Moving the function to a supported runtime is still allowed.
  await env.lambda.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: 'made-in-july', Runtime: 'nodejs24.x' }),
  );
  assert.equal(env.server.inspect('made-in-july')!.config.Runtime, 'nodejs24.x');
});

test('deploy refuses nodejs20.x for a new function, citing the block date, before any write call', async (t) => {
  const clock = { now: day('2026-12-01') };
  const env = await envAt(t, clock);
  const { out, manifest } = await manifestFor(env, 'nodejs20.x');
  for (const now of [day('2026-09-01'), day('2026-12-01')]) {
    env.server.clearCalls();
    const error = await rejection(deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT, now }));
    assert.equal(error.code, 'config');
    assert.equal(exitCodeFor(error), 2);
    assert.equal(
      error.message,
      'function.runtime nodejs20.x: AWS blocks creating functions on it since ' +
        '2026-08-31, and asset-classifier does not exist yet',
    );
    assert.equal(error.hint, 'set function.runtime to nodejs24.x');
    assert.deepEqual(ops(env.server.calls), ['GetFunction'], 'it only looked whether the function exists');
    assert.deepEqual(env.server.writes(), []);
  }
  assert.equal(env.server.inspect('asset-classifier'), null);
});

test('nodejs20.x function: deploys while deprecated, refused past the update block, moves to nodejs24.x', async (t) => {
  const clock = { now: day('2026-07-01') };
  const env = await envAt(t, clock);
  const { out, manifest } = await manifestFor(env, 'nodejs20.x');
  const run = (m: Manifest, now: Date) => deploy(m, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT, now });

  // Only deprecated: it deploys, with a warning that names the dates and the replacement.
  const first = await run(manifest, clock.now);
  assert.equal(first.version, '1');
  assert.deepEqual(first.warnings, [
    'function.runtime: nodejs20.x is deprecated since 2026-04-30 (AWS blocks new ' +
      'functions on 2026-08-31, updates on 2026-09-30); move to nodejs24.x',
  ]);

  // Create blocked, update not yet: an existing function still updates.
  clock.now = day('2026-09-15');
  const v2 = (await manifestFor(env, 'nodejs20.x', 'v2')).manifest;
  const second = await run(v2, clock.now);
  assert.equal(second.version, '2');
  assert.match(
    second.warnings[0],
    new RegExp(
      [
        String.raw`^function\.runtime: nodejs20\.x is deprecated: AWS blocks creating functions on it since `,
        String.raw`2026-08-31 and will block updates on 2026-09-30; move to nodejs24\.x$`,
      ].join(''),
    ),
  );

  // Past the update block: refused before any write, the function stays on version 2.
  clock.now = day('2026-12-01');
  const v3 = (await manifestFor(env, 'nodejs20.x', 'v3')).manifest;
  env.server.clearCalls();
  const error = await rejection(run(v3, clock.now));
  assert.equal(error.code, 'config');
  assert.equal(
    error.message,
    'function.runtime nodejs20.x: AWS blocks updating functions on it since ' +
      '2026-09-30, and asset-classifier already exists',
  );
  assert.equal(error.hint, 'set function.runtime to nodejs24.x');
  assert.deepEqual(env.server.writes(), []);
  assert.deepEqual(env.server.inspect('asset-classifier')!.aliases, { live: '2' });

  // The fix: nodejs24.x. AWS refuses code updates on the old runtime, so the configuration (runtime) goes first.
  env.server.clearCalls();
  const moved = await run({ ...v3, function: { ...v3.function, runtime: 'nodejs24.x' } }, clock.now);
  assert.equal(moved.version, '3');
  assert.deepEqual(moved.warnings, []);
  assert.deepEqual(ops(env.server.writes()), [
    'UpdateFunctionConfiguration',
    'UpdateFunctionCode',
    'PublishVersion',
    'UpdateAlias',
  ]);
  const state = env.server.inspect('asset-classifier')!;
  assert.equal(state.config.Runtime, 'nodejs24.x');
  assert.equal(state.config.CodeSha256, v3.artifacts.function.sha256Base64);
});

test('a python runtime that is only deprecated deploys with a warning', async (t) => {
  const clock = { now: day('2026-12-01') };
  const env = await envAt(t, clock);
  const { out, manifest } = await manifestFor(env, 'python3.10');
  const python: Manifest = { ...manifest, function: { ...manifest.function, handler: 'app.handler' } };
  const result = await deploy(python, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT, now: clock.now });
  assert.equal(result.version, '1');
  assert.deepEqual(result.warnings, [
    'function.runtime: python3.10 is deprecated since 2026-10-31 (AWS blocks new ' +
      'functions on 2027-01-15, updates on 2027-02-15); move to python3.14',
  ]);
  assert.equal(env.server.inspect('asset-classifier')!.config.Runtime, 'python3.10');
});

test('AWS refusing a runtime our (outdated) table allows: exit 3 says to change function.runtime', async (t) => {
  const env = await envAt(t, { now: day('2026-12-01') });
  const { out, manifest } = await manifestFor(env, 'nodejs20.x');
  // deploy judges the dates as of 2026-07-01 (only deprecated); AWS, as of 2026-12-01, refuses the create.
  const error = await rejection(
    deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT, now: day('2026-07-01') }),
  );
  assert.equal(exitCodeFor(error), 3);
  assert.match(
    error.message,
    new RegExp(
      [
        String.raw`^deploy failed at CreateFunction: AWS no longer accepts runtime nodejs20\.x `,
        String.raw`\(The runtime parameter of nodejs20\.x is no longer supported`,
      ].join(''),
    ),
  );
  assert.match(error.hint ?? '', /^set function\.runtime to a supported runtime: nodejs24\.x/);
});
