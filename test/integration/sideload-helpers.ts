/**
 * Shared set-up of the sideload tests: deps archives in both formats (the real writers: our tar.br writer, the
 * `zip` CLI), a small S3-shaped HTTP server that can throttle or cut a body, a real tmpfs, and child cold starts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveEntry } from '../../src/archive/archive-entry.js';
import { diskUsage } from '../../src/archive/disk-usage.js';
import { writeTarBr } from '../../src/archive/tar-br.js';
import type { SideloadConfig } from '../../src/handler/sideload.js';
import { PROJECT_ROOT } from '../helpers/handler-fixtures.js';

export type Format = 'tar.br' | 'zip';
export const FORMATS: readonly Format[] = ['tar.br', 'zip'];

type TestContext = import('node:test').TestContext;

/** A temp folder removed when the test ends. */
export async function tmp(t: TestContext, name = 'sideload'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `lambda-ml-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A built deps archive: its file and the runtime config's sideload entry that describes it. */
export interface DepsArchive {
  readonly path: string;
  readonly bytes: Buffer;
  readonly config: SideloadConfig;
}

/**
 * A deps tree with a loadable fake package and `files` extra data files of `fileBytes` each (repetitive content:
 * brotli at quality 9 stays quick), written as deps.tar.br (our writer) or deps.zip (`zip -r -y -X`, stored when
 * there are many files so it builds fast).
 */
export async function makeDeps(
  dir: string,
  format: Format,
  options: { files?: number; fileBytes?: number; randomBytes?: number } = {},
): Promise<DepsArchive> {
  const { files = 0, fileBytes = 1024, randomBytes: noise = 0 } = options;
  const src = join(dir, `deps-src-${format.replace('.', '')}`);
  const entries: ArchiveEntry[] = [
    {
      path: 'node_modules/fake-pkg/package.json',
      kind: 'file',
      data: Buffer.from(JSON.stringify({ name: 'fake-pkg', version: '1.2.3', main: 'index.js' })),
    },
    {
      path: 'node_modules/fake-pkg/index.js',
      kind: 'file',
      data: Buffer.from("module.exports = { hello: () => 'hi from the sideloaded fake-pkg' };\n"),
    },
    { path: 'node_modules/.bin/fake', kind: 'symlink', link: '../fake-pkg/index.js' },
    ...Array.from({ length: files }, (_, i) => ({
      path: `node_modules/fake-pkg/data/f${i}.bin`,
      kind: 'file' as const,
      data: Buffer.alloc(fileBytes, `file ${i} of the fake deps; `),
    })),
    // Incompressible bytes, for a download that takes a while even as tar.br.
    ...(noise > 0
      ? [{ path: 'node_modules/fake-pkg/noise.bin', kind: 'file' as const, data: randomBytes(noise) }]
      : []),
  ];
  const name = format === 'zip' ? 'deps.zip' : 'deps.tar.br';
  const path = join(dir, name);
  if (format === 'tar.br') {
    const r = await writeTarBr(entries, path);
    const bytes = await readFile(path);
    const config: SideloadConfig = {
      format,
      archive: name,
      archiveBytes: r.bytes,
      zip: null,
      zipBytes: null,
      s3: null,
      sha256: r.sha256,
      unzippedBytes: r.unpackedBytes,
      files: r.files,
      diskBytes: r.diskBytes,
      entries: r.entries,
    };
    return { path, bytes, config };
  }
  for (const e of entries) {
    const abs = join(src, e.path);
    await mkdir(join(abs, '..'), { recursive: true });
    if (e.kind === 'file') await writeFile(abs, e.data as Buffer);
    else execFileSync('ln', ['-s', e.link as string, abs]);
  }
  execFileSync('zip', ['-r', '-X', '-y', '-q', files > 0 ? '-0' : '-9', path, 'node_modules'], { cwd: src });
  const bytes = await readFile(path);
  const list = execFileSync('unzip', ['-Z', '-t', path], { encoding: 'utf8' });
  const [, count, unzipped] = /(\d+) files, (\d+) bytes uncompressed/.exec(list)!;
  const config: SideloadConfig = {
    format,
    archive: name,
    archiveBytes: bytes.length,
    zip: name,
    zipBytes: bytes.length,
    s3: null,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    unzippedBytes: Number(unzipped),
    files: Number(count),
    diskBytes: diskUsage(entries.map((e) => ({ ...e, bytes: e.data?.length }))),
    entries: Number(count), // zip's count holds its folder entries too
  };
  return { path, bytes, config };
}

/** The same archive, fetched from s3://bucket/key instead of the task root. */
export const fromS3 = (config: SideloadConfig, url: string): SideloadConfig => ({
  ...config,
  archive: null,
  zip: null,
  s3: url,
});

/** A tiny S3-shaped server: GET /bucket/key of the objects it holds, throttled, or cut after some bytes. */
export interface SlowS3 {
  readonly env: Record<string, string>;
  /** GETs of the object so far. */
  readonly requests: () => number;
  /** Serve at this many bytes per second (0: as fast as it can). */
  rate: number;
  /** Close the connection after this many body bytes (null: send it whole). */
  cutAfter: number | null;
}

/** Starts the server on loopback; it stops when the test ends. Any SigV4 signature is accepted. */
export async function startSlowS3(t: TestContext, objects: Record<string, Buffer>): Promise<SlowS3> {
  let requests = 0;
  const state: SlowS3 = {
    env: {},
    requests: () => requests,
    rate: 0,
    cutAfter: null,
  };
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const key = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    const body = objects[key];
    if (req.method !== 'GET' || !body) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>no ${key}</Message></Error>`);
      return;
    }
    requests++;
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream', etag: '"x"' });
    const step = 16 * 1024;
    const started = Date.now();
    for (let sent = 0; sent < body.length;) {
      const limit = state.cutAfter ?? body.length;
      const n = Math.min(step, body.length - sent, limit - sent);
      if (n > 0 && !res.write(body.subarray(sent, sent + n))) await new Promise((r) => res.once('drain', r));
      sent += n;
      if (state.cutAfter !== null && sent >= state.cutAfter) {
        await new Promise((r) => setTimeout(r, 20)); // let the bytes so far arrive, then drop the connection
        res.socket?.destroy();
        return;
      }
      if (state.rate > 0) {
        const due = started + (sent / state.rate) * 1000;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
    }
    res.end();
  };
  const server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  Object.assign(state.env, {
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  return state;
}

/** Whether this process may mount a tmpfs (root, with the capability): else tests fall back or skip. */
export function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = join(tmpdir(), `lambda-ml-tmpfs-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('rmdir', [probe]);
  }
}

/** A real tmpfs of `bytes` (rounded up to pages), unmounted when the test ends. */
export async function mountTmpfs(t: TestContext, bytes: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil(bytes / 4096) * 4096}`, 'tmpfs', dir]);
  t.after(async () => {
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true }); // the bare mount point, or what a late writer left on it
  });
  return dir;
}

/** The script a child cold start runs: ensureDeps on the given config, its result as the last stdout line. */
export const childScript = (
  config: SideloadConfig,
  taskRoot: string,
  tmpDir: string,
  fetcher: 'default' | 'sdk' = 'default',
) => `
import { ensureDeps } from ${JSON.stringify(join(PROJECT_ROOT, 'src/handler/sideload.ts'))};
${fetcher === 'sdk' ? sdkFetcherSource : 'const fetchZip = undefined;'}
const r = await ensureDeps({ config: ${JSON.stringify(config)}, taskRoot: ${JSON.stringify(taskRoot)},
  tmpDir: ${JSON.stringify(tmpDir)}, fetchZip, remainingMs: () => 60_000 });
console.log(JSON.stringify(r));
`;

const sdkFetcherSource = `
import * as sdk from '@aws-sdk/client-s3';
import { makeS3BodyFetcher, makeS3Client } from ${JSON.stringify(join(PROJECT_ROOT, 'src/handler/s3.ts'))};
const fetchZip = makeS3BodyFetcher(sdk, makeS3Client(sdk, process.env));
`;

/** A running child cold start. */
export interface Child {
  readonly child: import('node:child_process').ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
}

/** Runs a script in a child Node (through tsx), as a separate Lambda runtime process would. */
export function runChild(script: string, env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    err += c;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, done };
}

/** The last JSON line a child printed. */
export const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1) ?? 'null');
