/**
 * `lambda-ml invoke --local (--event FILE | --s3 s3://bucket/key | --s3-local --image FILE...) [--endpoint URL]
 * [--node PATH] [--repeat N]`. Every input and the S3 side are checked before the function starts
 * (docs/design.md, "invoke --local").
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ChalkInstance } from 'chalk';
import { loadConfig, parseJson } from '../../config/load.js';
import { toAwsError } from '../../remote/aws-errors.js';
import { EXIT, inputError, LambdaMlError, type ExitCode } from '../../lib/errors.js';
import { s3EndpointConfig } from '../../lib/s3-endpoint.js';
import { parseS3Object, s3PutEvent } from '../../invoke/events.js';
import { invokeLocal, nodeRuntimeOf, type LocalInvokeReport } from '../../invoke/local-invoke.js';
import { checkNodeFlag, resolveNode, type NodeChoice } from '../../invoke/node-binary.js';
import { checkImages, invokeOffline, type OfflineImage } from '../../invoke/offline-invoke.js';
import { checkCredentials, chooseEndpoint, probeEndpoint } from '../../invoke/s3-endpoint.js';
import { eventProblem } from '../../invoke/validate-event.js';
import { MANIFEST_FILE } from '../../pipeline/package.js';
import type { Manifest } from '../../types.js';
import { wholeNumber } from '../flag-values.js';
import { TIMING_FILE } from './backfill.js';
import { makeColors, type GlobalOptions, type Io } from '../io.js';

export interface InvokeFlags extends GlobalOptions {
  readonly local?: boolean;
  readonly event?: string;
  readonly s3?: string;
  readonly s3Local?: boolean;
  readonly image?: readonly string[];
  readonly out?: string;
  readonly endpoint?: string;
  readonly node?: string;
  readonly repeat?: string | number;
  readonly keep?: boolean;
}

const SOURCES = 'exactly one of --s3-local --image FILE, --s3 s3://bucket/key or --event FILE';
const EXAMPLE = 'e.g. lambda-ml invoke --local --s3-local --image photo.jpg';
const EVENT_HINT = 'give an S3 notification ({"Records": [...]}) or an S3 Batch Operations event (schema 1.0 or 2.0)';

export async function invokeCommand(io: Io, flags: InvokeFlags, signal?: AbortSignal): Promise<ExitCode> {
  const repeat = checkFlags(flags);
  const endpoint = flags.s3Local ? null : chooseEndpoint(flags.endpoint, io.env);
  const flagged = flags.node === undefined ? undefined : await checkNodeFlag(flags.node, io.cwd);
  const images = flags.s3Local ? await checkImages(flags.image ?? [], io.cwd) : null;
  const eventFor = images ? null : await eventOf(flags, io.cwd);
  if (!images) {
    // The S3 side is checked before the manifest is read, so a fresh clone gets the fix for what stops it first.
    await checkCredentials(io.env);
    if (endpoint) await probeEndpoint(endpoint);
  }
  const { manifest, out } = await readManifest(io, flags);
  const runtime = nodeRuntimeOf(manifest);
  const quiet = flags.json || flags.quiet;
  const say = (line: string) => {
    if (!quiet) io.stderr.write(`${line}\n`);
  };
  const node = await resolveNode({ runtime, flagged, env: io.env, onInstall: say });
  signal?.throwIfAborted(); // Ctrl-C during a first-use install
  if (node.warning && !flags.json) io.stderr.write(`warning: ${node.warning}\n`);
  const onLog = flags.verbose && !flags.json ? (line: string) => io.stderr.write(`  | ${line}\n`) : undefined;
  const common = { manifest, outDir: out, repeat, env: io.env, keep: flags.keep, onLog, nodePath: node.path, signal };
  let report: LocalInvokeReport;
  let offline: { endpoint: string; images: readonly OfflineImage[] } | null = null;
  if (images) {
    const result = await invokeOffline({ ...common, images, onStep: flags.verbose ? say : undefined });
    report = result.report;
    offline = { endpoint: result.endpoint, images: result.images };
  } else {
    if (endpoint) await stageModels(manifest, out, endpoint, flags.verbose && !quiet ? say : undefined);
    report = await invokeLocal({ ...common, event: eventFor?.(manifest.region ?? 'us-east-1'), endpoint });
  }
  if (repeat >= 2) await saveTiming(out, report, manifest, node);
  return printResult(io, flags, { report, manifest, node, offline });
}

/** Flag combinations and --repeat; returns the repeat count. */
function checkFlags(flags: InvokeFlags): number {
  const fail = (message: string) => {
    throw inputError(message, EXAMPLE);
  };
  if (!flags.local) fail('only local invocation is supported: pass --local');
  if (flags.image?.length && !flags.s3Local) fail('--image needs --s3-local (it uploads the images to a local S3)');
  const given = [flags.event !== undefined, flags.s3 !== undefined, Boolean(flags.s3Local)].filter(Boolean).length;
  if (given !== 1) fail(`give ${SOURCES}`);
  if (flags.s3Local && !flags.image?.length) fail('--s3-local needs at least one --image FILE');
  if (flags.s3Local && flags.endpoint !== undefined) fail('--s3-local starts its own S3 server: drop --endpoint');
  // main.ts parses --repeat already; a caller of this function may give the text.
  return typeof flags.repeat === 'number' ? flags.repeat : wholeNumber('--repeat', 1, 1000)(String(flags.repeat ?? 1));
}

const READ_ERRORS: Record<string, string> = { ENOENT: 'not found', EISDIR: 'is a folder' };

/** The event of --s3 (given the function's region) or --event, checked for the shape the handler reads. */
async function eventOf(flags: InvokeFlags, cwd: string): Promise<(region: string) => unknown> {
  if (flags.s3 !== undefined) {
    const target = parseS3Object(flags.s3);
    if (!target) throw inputError(`--s3 "${flags.s3}" is not s3://bucket/key`, 'e.g. --s3 s3://assets/images/cat.jpg');
    return (region) => s3PutEvent(target.bucket, target.key, 0, region);
  }
  const file = resolve(cwd, flags.event as string);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    const why = READ_ERRORS[error.code ?? ''] ?? `cannot be read (${error.code})`;
    throw inputError(`--event ${flags.event}: ${why}`, EVENT_HINT);
  });
  let event: unknown;
  try {
    event = parseJson(text, file);
  } catch (error) {
    throw inputError(`--event ${error instanceof LambdaMlError ? error.message : String(error)}`, EVENT_HINT);
  }
  const problem = eventProblem(event);
  if (problem) throw inputError(`--event ${flags.event}: ${problem}`, EVENT_HINT);
  return () => event;
}

async function readManifest(io: Io, flags: InvokeFlags): Promise<{ manifest: Manifest; out: string }> {
  const root = flags.out ? null : (await loadConfig(io.cwd, flags.config)).rootDir;
  const out = root === null ? resolve(io.cwd, flags.out as string) : join(root, '.lambda-ml');
  const manifestPath = join(out, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    throw inputError(`${manifestPath} not found`, 'run lambda-ml package first (or pass --out DIR)');
  }
  return { manifest: parseJson(await readFile(manifestPath, 'utf8'), manifestPath) as Manifest, out };
}

/** Puts the models (and an S3 deps.zip) on the endpoint; SDK failures are one line (exit 3). */
async function stageModels(manifest: Manifest, out: string, endpoint: string, say?: (line: string) => void) {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { stageToEndpoint } = await import('../../invoke/stage-local.js');
  const s3 = new S3Client({
    ...s3EndpointConfig(endpoint),
    region: manifest.region ?? 'us-east-1',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const staged = await stageToEndpoint(s3, manifest, out).catch((error) => {
      throw toAwsError(error, `staging the models at ${endpoint}`);
    });
    if (staged.length) say?.(`staged ${staged.length} object(s) at ${endpoint}`);
  } finally {
    s3.destroy();
  }
}

interface InvokeResult {
  readonly report: LocalInvokeReport;
  readonly manifest: Manifest;
  readonly node: NodeChoice;
  readonly offline: { endpoint: string; images: readonly OfflineImage[] } | null;
}

function printResult(io: Io, flags: InvokeFlags, result: InvokeResult): ExitCode {
  const { report, manifest, node, offline } = result;
  const failed = report.invocations.some((i) => !i.ok);
  if (flags.json) {
    const { path, version, source, warning } = node;
    const body = {
      schemaVersion: 1,
      ok: !failed,
      function: manifest.function.name,
      plan: manifest.plan,
      node: { path, version, source, ...(warning ? { warning } : {}) },
      ...summarise(report),
      unpackMs: report.unpackMs,
      importMs: report.importMs,
      ...(flags.keep ? { taskRoot: report.taskRoot } : {}),
      ...(offline ? { s3Local: offline } : {}),
      invocations: report.invocations,
      logs: report.logs,
    };
    io.stdout.write(JSON.stringify(body, null, 2) + '\n');
  } else if (!flags.quiet) {
    io.stdout.write(renderInvoke(result, makeColors(io, flags), flags.keep));
  }
  if (!failed) return EXIT.OK;
  const first = report.invocations.find((i) => !i.ok);
  if (!flags.json) io.stderr.write(`error: the handler failed: ${first?.error?.message}\n`);
  return EXIT.REMOTE;
}

/**
 * The warm p50 `backfill` and `budget` use for the cost per image (docs/backfill.md, "What it costs"): after
 * `--repeat N` (N ≥ 2) with every invocation answered, `<out>/invoke-timing.json`, written through a temp
 * file and a rename so a reader never sees half of it.
 */
async function saveTiming(out: string, report: LocalInvokeReport, manifest: Manifest, node: NodeChoice): Promise<void> {
  const { warm } = summarise(report);
  if (warm.count === 0 || warm.p50Ms === null || report.invocations.some((i) => !i.ok)) return;
  // The cost model wants the time per image: an event of k images (--image a --image b) counts k times.
  const records = report.logs.filter((l) => l.msg === 'lambda-ml record').length;
  const perInvocation = Math.max(1, Math.round(records / report.invocations.length));
  const per = (ms: number | null) => (ms === null ? null : Math.round(ms / perInvocation));
  const body = {
    warm: { p50Ms: per(warm.p50Ms), p95Ms: per(warm.p95Ms), count: warm.count },
    imagesPerInvocation: perInvocation,
    memoryMb: manifest.function.memoryMb,
    node: node.version,
    measuredAt: new Date().toISOString(),
  };
  const path = join(out, TIMING_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(body, null, 2) + '\n');
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Cold-start and warm latency figures. */
export function summarise(report: LocalInvokeReport) {
  const cold = report.logs.find((l) => l.coldStart)?.coldStart as Record<string, unknown> | undefined;
  const warm = report.invocations
    .slice(1)
    .map((i) => i.ms)
    .sort((a, b) => a - b);
  const pct = (p: number) =>
    warm.length ? warm[Math.min(warm.length - 1, Math.ceil((p / 100) * warm.length) - 1)] : null;
  const coldStart: Record<string, unknown> = { firstInvocationMs: report.invocations[0]?.ms ?? null, ...cold };
  return { coldStart, warm: { count: warm.length, p50Ms: pct(50), p95Ms: pct(95) } };
}

type Timings = { download?: number; decode?: number; infer?: Record<string, number>; tag?: number; total?: number };
type Tag = { Key: string; Value: string };

function coldStartLine(report: LocalInvokeReport, coldStart: Record<string, unknown>): string {
  const part = (label: string, v: unknown) => (typeof v === 'number' ? `${label} ${v} ms` : null);
  const loads =
    coldStart.modelLoad && typeof coldStart.modelLoad === 'object'
      ? Object.entries(coldStart.modelLoad as Record<string, number>).map(([m, ms]) => `load ${m} ${ms} ms`)
      : [];
  const parts = [
    part('unpack', report.unpackMs),
    part('import', report.importMs),
    part('extract deps', coldStart.extract),
    part('backend', coldStart.backendInit),
    ...loads,
  ];
  return `  cold start ${report.invocations[0]?.ms ?? '?'} ms: ${parts.filter(Boolean).join(', ')}`;
}

function renderInvoke(result: InvokeResult, c: ChalkInstance, keep = false): string {
  const { report, manifest, node, offline } = result;
  const lines: string[] = [];
  const { coldStart, warm } = summarise(report);
  const mark = report.invocations[0]?.ok ? c.green('✓') : c.red('✗');
  const how = [manifest.plan, coldStart.backend, `Node ${node.version}`].filter(Boolean).join(', ');
  lines.push(`${mark} invoked ${c.bold(manifest.function.name)} locally (${how})`, coldStartLine(report, coldStart));
  const stored = new Map((offline?.images ?? []).map((image) => [`${image.bucket}/${image.key}`, image]));
  for (const log of report.logs.filter((l) => l.msg === 'lambda-ml record').slice(0, 50)) {
    const t = (log.timings ?? {}) as Timings;
    const infer = Object.entries(t.infer ?? {}).map(([m, ms]) => `infer ${m} ${ms}`);
    const steps = [`download ${t.download ?? '-'}`, `decode ${t.decode ?? '-'}`, ...infer, `tag ${t.tag ?? '-'}`].join(
      ', ',
    );
    const image = stored.get(`${log.bucket}/${log.key}`);
    const status =
      log.status === 'tagged'
        ? c.green('tagged')
        : log.status === 'skipped'
          ? c.yellow(`skipped (${log.reason})`)
          : c.red(`failed (${log.reason})`);
    const where = image ? image.file : `s3://${log.bucket}/${log.key}`;
    lines.push(`  ${where}  ${status} ${c.dim(`${t.total ?? '?'} ms: ${steps}`)}`);
    // With --s3-local, the tags as the local S3 holds them afterwards; else as the handler logged writing them.
    const tags = image
      ? Object.entries(image.tags).map(([Key, Value]) => ({ Key, Value }))
      : ((log.tags as Tag[] | undefined) ?? []);
    const ours = tags.filter((tag) => tag.Key.startsWith(manifest.runtime.tags.prefix));
    for (const tag of ours) lines.push(`    ${tag.Key} = ${tag.Value}`);
    if (Array.isArray(log.dropped) && log.dropped.length) {
      lines.push(c.yellow(`    not written (no room among 10 tags): ${log.dropped.join(', ')}`));
    }
  }
  if (warm.count > 0) lines.push(`  warm: ${warm.count} invocation(s), p50 ${warm.p50Ms} ms, p95 ${warm.p95Ms} ms`);
  if (offline) lines.push(c.dim(`  on a local S3 (s3rver, ${offline.endpoint}), stopped and removed afterwards`));
  const tmp = join(dirname(report.taskRoot), 'tmp');
  if (keep) lines.push(c.dim(`  kept the task root ${report.taskRoot} and its /tmp ${tmp}`));
  return lines.join('\n') + '\n';
}
