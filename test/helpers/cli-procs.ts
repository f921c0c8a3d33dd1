/** Shared bits of the spawned CLI tests (test/cli/{invoke,demo,init,convert,deploy}.test.ts). */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_EXAMPLE } from '../../src/example/node-example.js';

/** Minimal view of a node:test context: enough to register cleanup. */
interface TestContextLike {
  after(fn: () => unknown): void;
}

/** A temp folder removed when `t` ends. */
export async function tempDir(t: TestContextLike, prefix = 'lambda-ml-cli-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Drops the AWS SDK's NodeVersionSupportWarning from a child's stderr. bin/lambda-ml means to hide it but matches on
 * `warning.name`, while the SDK emits it as a plain 'Warning' whose message starts with the name.
 */
export function withoutSdkWarning(stderr: string): string {
  return stderr
    .replace(
      /^(?:\(node:\d+\) )?Warning: NodeVersionSupportWarning:[\s\S]*?More information can be found at: \S+\n?/m,
      '',
    )
    .replace(/^\(Use `node --trace-warnings \.\.\.`.*\n?/m, '');
}

/**
 * Drops TF.js's "Hi, looks like you are running TensorFlow.js in Node.js" banner, which tfjs-backend-cpu prints with
 * console.warn on its first tensor unless the PROD flag is set (the converter does not set it).
 */
export function withoutTfBanner(stderr: string): string {
  return stderr.replace(/\n?=+\nHi, looks like you are running TensorFlow\.js in Node\.js\.[^\n]*\n=+\n?/, '');
}

/** stderr without the two known bits of library noise above. */
export const cleanStderr = (stderr: string) => withoutTfBanner(withoutSdkWarning(stderr));

/**
 * An error as docs/design.md §3 wants it: one `error:` line naming the problem (plus at most a `hint:` line), nothing
 * else.
 */
export function assertOneLineError(stderr: string, pattern?: RegExp): string {
  const lines = cleanStderr(stderr).trim().split('\n');
  assert.match(lines[0] ?? '', /^error: \S/, `stderr: ${stderr}`);
  assert.ok(
    lines.length === 1 || (lines.length === 2 && lines[1].startsWith('hint: ')),
    `more than an error line and a hint:\n${stderr}`,
  );
  if (pattern) assert.match(lines[0], pattern);
  return lines[0];
}

/** Credentials and region s3rver and the loopback Lambda server accept. */
export const AWS_TEST_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  AWS_PROFILE: undefined,
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
} as const;

/**
 * A project in a temp folder whose config is the Node example's, with deps and the model pointing back at
 * fixtures/node-example (absolute paths), changed by `edit`.
 */
export async function exampleProject(t: TestContextLike, edit: (config: any) => void = () => {}): Promise<string> {
  const dir = await tempDir(t, 'lambda-ml-project-');
  const config = JSON.parse(await readFile(join(NODE_EXAMPLE, 'lambda-ml.config.json'), 'utf8'));
  config.deps = join(NODE_EXAMPLE, 'node_modules');
  for (const model of config.models) {
    model.path = join(NODE_EXAMPLE, model.path);
    model.labels = join(NODE_EXAMPLE, model.labels);
  }
  edit(config);
  await writeFile(join(dir, 'lambda-ml.config.json'), JSON.stringify(config, null, 2) + '\n');
  return dir;
}
