/**
 * Deploy test fixtures: s3rver + the loopback Lambda server + real SDK clients, and hand-built manifests over real
 * zips.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { makeClients } from '../../src/deploy/clients.js';
import type { ArtifactInfo, Manifest, StagedModel } from '../../src/types.js';
import { measureZip, startLambdaServer, type LambdaServer, type LambdaServerOptions } from './lambda-server.js';
import { S3RVER_CREDENTIALS, startDeployS3, type DeployS3 } from './s3rver-deploy.js';

export const ROLE = 'arn:aws:iam::123456789012:role/asset-classifier';
/** Waiter timings for tests: the server's updates last ~100 ms. */
export const FAST_WAIT = { minDelay: 0.02, maxDelay: 0.1, maxWaitTime: 10, conflictRetries: 8 } as const;

export interface DeployEnv {
  readonly dir: string;
  readonly s3rver: DeployS3;
  readonly server: LambdaServer;
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
}

/**
 * Starts s3rver and the Lambda server in front of it, with clients pointed at the one endpoint; cleaned up by t.after.
 */
export async function startDeployEnv(
  t: TestContext,
  options: LambdaServerOptions & { buckets?: readonly string[]; maxAttempts?: number } = {},
): Promise<DeployEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-deploy-'));
  const s3rver = await startDeployS3();
  const server = await startLambdaServer({ s3Endpoint: s3rver.endpoint, ...options });
  const { lambda, s3 } = makeClients({
    region: server.region,
    endpointUrl: server.endpoint,
    credentials: S3RVER_CREDENTIALS,
    maxAttempts: options.maxAttempts,
  });
  for (const bucket of options.buckets ?? ['deploy-artifacts', 'dam-assets', 'my-models']) {
    await s3rver.client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
  t.after(async () => {
    lambda.destroy();
    s3.destroy();
    await server.stop();
    await s3rver.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, s3rver, server, lambda, s3 };
}

/** Writes `files` under a staging folder and zips them with the `zip` CLI (entries sorted, no extra attributes). */
export async function makeZip(
  zipPath: string,
  files: Record<string, string | Buffer>,
  zipArgs: readonly string[] = [],
): Promise<void> {
  const staging = await mkdtemp(join(tmpdir(), 'lambda-ml-zipsrc-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      await mkdir(dirname(join(staging, name)), { recursive: true });
      await writeFile(join(staging, name), content);
    }
    await mkdir(dirname(zipPath), { recursive: true });
    await rm(zipPath, { force: true });
    execFileSync('zip', ['-q', '-X', '-r', ...zipArgs, zipPath, ...Object.keys(files).sort()], { cwd: staging });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Describes a file `package` would have written: sizes and hashes measured, not estimated. */
export async function artifactInfo(outDir: string, file: string): Promise<ArtifactInfo> {
  const data = await readFile(join(outDir, file));
  const hash = createHash('sha256').update(data).digest();
  const { unzippedBytes, files } = await measureZip(data);
  return {
    file,
    bytes: data.length,
    unzippedBytes,
    files,
    sha256: hash.toString('hex'),
    sha256Base64: hash.toString('base64'),
  };
}

/** Seeded incompressible bytes (a zip of them is as large as they are). */
export function incompressible(bytes: number, seed = 1): Buffer {
  // xorshift32: deterministic for a seed, ~100x faster than a cipher keystream here, and deflate cannot shrink it
  const words = new Uint32Array(Math.ceil(bytes / 4));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, bytes);
}

/** A staged TF.js model in `outDir/models/<name>` with a tiny weights manifest. */
export async function stageModel(outDir: string, name: string, s3: string | null): Promise<StagedModel> {
  const dir = `models/${name}`;
  const weights = incompressible(4 * 10 * 3, 7);
  const modelJson = JSON.stringify({
    format: 'layers-model',
    modelTopology: {},
    weightsManifest: [
      { paths: ['group1-shard1of1.bin'], weights: [{ name: 'dense/kernel', shape: [10, 3], dtype: 'float32' }] },
    ],
  });
  const files: StagedModel['files'][number][] = [];
  for (const [file, content] of [
    ['model.json', Buffer.from(modelJson)],
    ['group1-shard1of1.bin', weights],
  ] as const) {
    await mkdir(join(outDir, dir), { recursive: true });
    await writeFile(join(outDir, dir, file), content);
    files.push({ name: file, bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') });
  }
  return { name, dir, s3, files };
}

export interface ManifestInput {
  readonly outDir: string;
  readonly functionZip?: string; // relative to outDir, default function.zip
  readonly deps?: { file: string; s3: string | null } | null;
  readonly models?: readonly StagedModel[];
  readonly layers?: readonly { name: string; arn: string | null }[];
  readonly trigger?: Manifest['trigger'];
  readonly fn?: Partial<Manifest['function']>;
  readonly plan?: Manifest['plan'];
}

/** A Manifest as `package` writes it, for the files already in outDir. */
export async function makeManifest(input: ManifestInput): Promise<Manifest> {
  const fnArtifact = await artifactInfo(input.outDir, input.functionZip ?? 'function.zip');
  const deps = input.deps ? { ...(await artifactInfo(input.outDir, input.deps.file)), s3: input.deps.s3 } : null;
  const plan = input.plan ?? (deps ? 'sideload-s3' : 'bundle');
  const manifest: Manifest = {
    schemaVersion: 1,
    tool: 'lambda-ml 0.1.0',
    function: {
      name: 'asset-classifier',
      runtime: 'nodejs24.x',
      architecture: 'x86_64',
      memoryMb: 1024,
      ephemeralStorageMb: 512,
      timeoutS: 60,
      role: ROLE,
      handler: null,
      environment: { LOG_LEVEL: 'info' },
      alias: 'live',
      ...input.fn,
    },
    region: 'us-east-1',
    plan,
    reason: 'test fixture',
    checks: [],
    artifacts: { function: fnArtifact, deps, models: input.models ?? [] },
    layers: input.layers ?? [],
    trigger:
      input.trigger === undefined
        ? { bucket: 'dam-assets', prefix: 'images/', suffixes: ['.jpg', '.png'] }
        : input.trigger,
    artifactsBucket: { bucket: 'deploy-artifacts', prefix: 'lambda-ml/' },
    runtime: {
      version: 1,
      strategy: plan,
      sideload: deps
        ? {
            zip: null,
            s3: deps.s3,
            sha256: deps.sha256,
            zipBytes: deps.bytes,
            unzippedBytes: deps.unzippedBytes,
            files: deps.files,
          }
        : null,
      layerNodeModules: [],
      backend: 'wasm',
      models: [],
      colors: { count: 3 },
      tags: { prefix: 'ml:' },
      results: null,
      maxImageBytes: 20_000_000,
    },
  };
  return manifest;
}

/** A small function.zip: index.mjs with `marker` in it (change the marker to change the code). */
export async function writeFunctionZip(outDir: string, marker: string, file = 'function.zip'): Promise<void> {
  await makeZip(join(outDir, file), {
    'index.mjs': `export const handler = async () => ({ ok: true, marker: ${JSON.stringify(marker)} });\n`,
    'lambda-ml.runtime.json': JSON.stringify({ version: 1, marker }),
  });
}

export const fileSize = async (path: string) => (await stat(path)).size;
