/** `lambda-ml invoke --local (--event FILE | --s3 s3://bucket/key) [--endpoint URL] [--repeat N]`. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadConfig, parseJson } from '../../config/load.js';
import { EXIT, inputError, type ExitCode } from '../../lib/errors.js';
import { parseS3Object, s3PutEvent } from '../../invoke/events.js';
import { invokeLocal, type LocalInvokeReport } from '../../invoke/local-invoke.js';
import { MANIFEST_FILE } from '../../pipeline/package.js';
import type { Manifest } from '../../types.js';
import { makeColors, type GlobalOptions, type Io } from '../io.js';
import type { ChalkInstance } from 'chalk';

export interface InvokeFlags extends GlobalOptions {
  readonly local?: boolean;
  readonly event?: string;
  readonly s3?: string;
  readonly out?: string;
  readonly endpoint?: string;
  readonly repeat?: string;
  readonly keep?: boolean;
}

export async function invokeCommand(io: Io, flags: InvokeFlags): Promise<ExitCode> {
  if (!flags.local) throw inputError('only local invocation is supported: pass --local', 'lambda-ml invoke --local --s3 s3://bucket/key');
  if (!flags.event === !flags.s3) throw inputError('give exactly one of --event FILE or --s3 s3://bucket/key', 'e.g. lambda-ml invoke --local --s3 s3://dam-assets/images/cat.jpg');
  const repeat = Number(flags.repeat ?? 1);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1000) throw inputError(`--repeat must be an integer 1–1000 (got "${flags.repeat}")`, 'e.g. --repeat 5');
  const config = await loadConfig(io.cwd, flags.config);
  const out = flags.out ? resolve(io.cwd, flags.out) : join(config.rootDir, '.lambda-ml');
  const manifestPath = join(out, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw inputError(`${manifestPath} not found`, 'run lambda-ml package first (or pass --out DIR)');
  const manifest = parseJson(await readFile(manifestPath, 'utf8'), manifestPath) as Manifest;
  let event: unknown;
  if (flags.s3) {
    const target = parseS3Object(flags.s3);
    if (!target) throw inputError(`--s3 "${flags.s3}" is not s3://bucket/key`, 'e.g. --s3 s3://dam-assets/images/cat.jpg');
    event = s3PutEvent(target.bucket, target.key, 0, manifest.region ?? 'us-east-1');
  } else {
    const file = resolve(io.cwd, flags.event as string);
    event = parseJson(await readFile(file, 'utf8').catch(() => { throw inputError(`${file}: cannot read the event file`, 'give a JSON file with an S3 or S3 Batch Operations event'); }), file);
  }
  const endpoint = flags.endpoint ?? io.env.AWS_ENDPOINT_URL_S3 ?? io.env.AWS_ENDPOINT_URL ?? null;
  if (endpoint) {
    const { S3Client } = await import('@aws-sdk/client-s3');
    const { stageToEndpoint } = await import('../../invoke/stage-local.js');
    const s3 = new S3Client({ endpoint, forcePathStyle: true, region: manifest.region ?? 'us-east-1', requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const staged = await stageToEndpoint(s3, manifest, out);
    if (staged.length && flags.verbose && !flags.json) io.stderr.write(`staged ${staged.length} object(s) at ${endpoint}\n`);
  }
  const report = await invokeLocal({ manifest, outDir: out, event, repeat, endpoint, env: io.env, keep: flags.keep, onLog: flags.verbose && !flags.json ? (line) => io.stderr.write(`  | ${line}\n`) : undefined });
  const failed = report.invocations.some((i) => !i.ok);
  if (flags.json) io.stdout.write(JSON.stringify({ schemaVersion: 1, ok: !failed, function: manifest.function.name, plan: manifest.plan, ...summarise(report), unpackMs: report.unpackMs, importMs: report.importMs, ...(flags.keep ? { taskRoot: report.taskRoot } : {}), invocations: report.invocations, logs: report.logs }, null, 2) + '\n');
  else if (!flags.quiet) io.stdout.write(renderInvoke(report, manifest, makeColors(io, flags), flags.keep));
  if (failed) {
    const first = report.invocations.find((i) => !i.ok);
    if (!flags.json) io.stderr.write(`error: the handler failed: ${first?.error?.message}\n`);
    return EXIT.REMOTE;
  }
  return EXIT.OK;
}

/** Cold-start and warm latency figures. */
export function summarise(report: LocalInvokeReport) {
  const cold = report.logs.find((l) => l.coldStart)?.coldStart as Record<string, unknown> | undefined;
  const warm = report.invocations.slice(1).map((i) => i.ms).sort((a, b) => a - b);
  const pct = (p: number) => (warm.length ? warm[Math.min(warm.length - 1, Math.ceil((p / 100) * warm.length) - 1)] : null);
  const coldStart: Record<string, unknown> = { firstInvocationMs: report.invocations[0]?.ms ?? null, ...cold };
  return { coldStart, warm: { count: warm.length, p50Ms: pct(50), p95Ms: pct(95) } };
}

function renderInvoke(report: LocalInvokeReport, manifest: Manifest, c: ChalkInstance, keep = false): string {
  const lines: string[] = [];
  const { coldStart, warm } = summarise(report);
  const first = report.invocations[0];
  lines.push(`${first?.ok ? c.green('✓') : c.red('✗')} invoked ${c.bold(manifest.function.name)} locally (${manifest.plan}${coldStart.backend ? `, ${coldStart.backend}` : ''})`);
  const part = (label: string, v: unknown) => (typeof v === 'number' ? `${label} ${v} ms` : null);
  const modelLoad = coldStart.modelLoad && typeof coldStart.modelLoad === 'object' ? Object.entries(coldStart.modelLoad as Record<string, number>).map(([m, ms]) => `load ${m} ${ms} ms`) : [];
  lines.push(`  cold start ${first?.ms ?? '?'} ms: ${[part('unpack', report.unpackMs), part('import', report.importMs), part('extract deps', coldStart.extract), part('backend', coldStart.backendInit), ...modelLoad].filter(Boolean).join(', ')}`);
  for (const log of report.logs.filter((l) => l.msg === 'lambda-ml record').slice(0, 50)) {
    const t = (log.timings ?? {}) as { download?: number; decode?: number; infer?: Record<string, number>; tag?: number; total?: number };
    const steps = [`download ${t.download ?? '-'}`, `decode ${t.decode ?? '-'}`, ...Object.entries(t.infer ?? {}).map(([m, ms]) => `infer ${m} ${ms}`), `tag ${t.tag ?? '-'}`].join(', ');
    lines.push(`  s3://${log.bucket}/${log.key}  ${log.status === 'tagged' ? c.green('tagged') : log.status === 'skipped' ? c.yellow(`skipped (${log.reason})`) : c.red(`failed (${log.reason})`)} ${c.dim(`${t.total ?? '?'} ms: ${steps}`)}`);
    for (const tag of (log.tags as { Key: string; Value: string }[] | undefined) ?? []) if (tag.Key.startsWith(manifest.runtime.tags.prefix)) lines.push(`    ${tag.Key} = ${tag.Value}`);
    if (Array.isArray(log.dropped) && log.dropped.length) lines.push(c.yellow(`    not written (no room among 10 tags): ${log.dropped.join(', ')}`));
  }
  if (warm.count > 0) lines.push(`  warm: ${warm.count} invocation(s), p50 ${warm.p50Ms} ms, p95 ${warm.p95Ms} ms`);
  if (keep) lines.push(c.dim(`  kept the task root ${report.taskRoot} and its /tmp ${join(dirname(report.taskRoot), 'tmp')}`));
  return lines.join('\n') + '\n';
}
