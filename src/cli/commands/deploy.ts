/** `lambda-ml deploy [--dry-run]`: package (or reuse --no-package), upload, create/update, publish, alias, trigger. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig, parseJson } from '../../config/load.js';
import { deploy } from '../../deploy/index.js';
import { formatBytes } from '../../lib/bytes.js';
import { EXIT, inputError, type ExitCode } from '../../lib/errors.js';
import { MANIFEST_FILE, runPackage } from '../../pipeline/package.js';
import type { Manifest } from '../../types.js';
import { kerasConverter } from '../converter.js';
import { makeColors, showProgress, type GlobalOptions, type Io } from '../io.js';
import { checkPackageOut } from '../output-file.js';
import { createProgress } from '../progress.js';
import { checkAwsEnv, clientsFor, remoteScanOptions } from '../remote-options.js';

export interface DeployFlags extends GlobalOptions {
  readonly out?: string;
  readonly dryRun?: boolean;
  readonly package?: boolean; // --no-package reuses the manifest in --out
  readonly alias?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
}

export async function deployCommand(io: Io, flags: DeployFlags, signal?: AbortSignal): Promise<ExitCode> {
  const loaded = await loadConfig(io.cwd, flags.config);
  const out = flags.out === undefined ? join(loaded.rootDir, '.lambda-ml') : resolve(io.cwd, flags.out);
  if (flags.out !== undefined && flags.package !== false) await checkPackageOut(out, flags.out, loaded.rootDir);
  checkAwsEnv(loaded, flags, io.env); // before packaging: a bad AWS_ENDPOINT_URL must not cost a package run
  const remote = await remoteScanOptions(loaded, flags, io);
  const config = remote.config;
  const progress = createProgress(io, showProgress(io, flags), 300);
  const log = (line: string) => {
    if (flags.verbose && !flags.json) io.stderr.write(`${line}\n`);
  };
  try {
    let manifest: Manifest;
    if (flags.package === false) {
      const path = join(out, MANIFEST_FILE);
      if (!existsSync(path)) throw inputError(`${path} not found`, 'run lambda-ml package first, or drop --no-package');
      manifest = parseJson(await readFile(path, 'utf8'), path) as Manifest;
    } else {
      manifest = (
        await runPackage(config, {
          ...remote.scan,
          out,
          signal,
          env: io.env,
          onInstall: (what) => progress.step(what),
          convert: await kerasConverter(),
          onPackProgress: (label, done, total) => progress.bytes(`writing ${label}`, done, total),
        })
      ).manifest;
    }
    const { lambda, s3 } = await clientsFor(config, flags, io);
    const result = await deploy(manifest, out, {
      lambda,
      s3,
      dryRun: flags.dryRun,
      alias: flags.alias,
      log,
      onProgress: (event) => {
        if (event.phase === 'upload')
          progress.bytes(`uploading ${event.key.split('/').pop()}`, event.loaded, event.total);
        else progress.step(event.op);
      },
    });
    progress.done();
    if (flags.json) {
      io.stdout.write(JSON.stringify({ schemaVersion: 1, ok: true, ...result }, null, 2) + '\n');
      return EXIT.OK;
    }
    if (flags.quiet) return EXIT.OK;
    const c = makeColors(io, flags);
    const lines: string[] = result.warnings.map((warning) => `${c.yellow('!')} ${warning}`);
    if (result.dryRun) {
      lines.push(c.bold(`Dry run: the calls deploy would make for ${manifest.function.name}`));
      result.calls.forEach((call, i) =>
        lines.push(
          `  ${String(i + 1).padStart(2)}. ${call.write ? call.op : c.dim(call.op)} ${c.dim(summarise(call.params))}`,
        ),
      );
      lines.push('', c.dim('Nothing was changed. Run without --dry-run to apply.'));
    } else if (!result.changed) {
      lines.push(
        `${c.green('✓')} ${manifest.function.name} is up to date ` +
          `(CodeSha256 ${result.codeSha256}); nothing uploaded or changed`,
      );
    } else {
      lines.push(
        `${c.green('✓')} deployed ${manifest.function.name} version ${result.version} (alias ${result.alias})`,
      );
      lines.push(
        `  code     ${formatBytes(manifest.artifacts.function.bytes)} · ${manifest.plan} · ${result.codeSha256}`,
      );
      if (result.uploaded.length)
        lines.push(`  uploaded ${result.uploaded.length} object(s); ${result.skipped.length} already there`);
      lines.push(
        `  writes   ${result.calls
          .filter((call) => call.write)
          .map((call) => call.op)
          .join(', ')}`,
      );
    }
    io.stdout.write(lines.join('\n') + '\n');
    return EXIT.OK;
  } finally {
    progress.done();
  }
}

/** Key parameters of a call on one line. */
function summarise(params: Record<string, unknown>): string {
  const text = Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
