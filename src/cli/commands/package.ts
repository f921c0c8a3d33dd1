/** `lambda-ml package [--out DIR] [--prune off|safe|trace] [--strict]`. */
import { relative, resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { formatBytes } from '../../lib/bytes.js';
import { EXIT, inputError, type ExitCode } from '../../lib/errors.js';
import { runPackage } from '../../pipeline/package.js';
import type { PruneMode } from '../../types.js';
import { makeColors, showProgress, type GlobalOptions, type Io } from '../io.js';
import { checkPackageOut } from '../output-file.js';
import { createProgress } from '../progress.js';
import { remoteScanOptions } from '../remote-options.js';
import { kerasConverter } from '../converter.js';
import { shellQuote } from './init/shell-quote.js';

export interface PackageFlags extends GlobalOptions {
  readonly out?: string;
  readonly prune?: string;
  readonly strict?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
}

export async function packageCommand(io: Io, flags: PackageFlags, signal?: AbortSignal): Promise<ExitCode> {
  if (flags.prune !== undefined && !['off', 'safe', 'trace'].includes(flags.prune))
    throw inputError(`--prune must be off, safe or trace (got "${flags.prune}")`, 'e.g. --prune trace');
  const loaded = await loadConfig(io.cwd, flags.config);
  // --out resolves against the cwd; a file at or above it is named now, before the scan.
  const out = flags.out === undefined ? `${loaded.rootDir}/.lambda-ml` : resolve(io.cwd, flags.out);
  if (flags.out !== undefined) await checkPackageOut(out, flags.out, loaded.rootDir);
  const remote = await remoteScanOptions(loaded, flags, io);
  const config = remote.config;
  const progress = createProgress(io, showProgress(io, flags));
  try {
    const run = await runPackage(config, {
      ...remote.scan,
      out,
      prune: flags.prune as PruneMode | undefined,
      strict: flags.strict,
      signal,
      convert: await kerasConverter(),
      env: io.env,
      onInstall: (what) => progress.step(what),
      onStep: (step) => progress.step(`scanning ${step}`),
      onZipProgress: (done, total) => progress.bytes('measuring deps.zip', done, total),
      onPackProgress: (label, done, total) => progress.bytes(`writing ${label}`, done, total),
    });
    progress.done();
    const { manifest } = run;
    if (flags.json) {
      io.stdout.write(
        JSON.stringify(
          {
            schemaVersion: 1,
            ok: true,
            out: run.out,
            manifest,
            prune: { mode: run.prune.mode, savedBytes: run.prune.savedBytes, rules: run.prune.rules },
            warnings: run.budget.warnings,
            binariesAudited: run.binariesAudited,
          },
          null,
          2,
        ) + '\n',
      );
      return EXIT.OK;
    }
    if (flags.quiet) return EXIT.OK;
    const c = makeColors(io, flags);
    const rel = relative(io.cwd, run.out);
    const where = rel === '' ? '.' : rel.startsWith('..') ? run.out : rel;
    const lines = [
      `${c.green('✓')} packaged ${c.bold(config.function.name)} as ${c.bold(manifest.plan)} into ${where}/`,
    ];
    const row = (name: string, zipped: number, unzipped: number, note: string) =>
      lines.push(
        `  ${name.padEnd(22)} ${formatBytes(zipped).padStart(9)} ` +
          `zipped ${formatBytes(unzipped).padStart(9)} unzipped  ${c.dim(note)}`,
      );
    const fn = manifest.artifacts.function;
    row('function.zip', fn.bytes, fn.unzippedBytes, `sha256 ${fn.sha256Base64}`);
    if (manifest.artifacts.deps)
      row(
        manifest.artifacts.deps.file, // deps.tar.br or deps.zip
        manifest.artifacts.deps.bytes,
        manifest.artifacts.deps.unzippedBytes,
        manifest.artifacts.deps.s3 ?? 'inside function.zip',
      );
    for (const m of manifest.artifacts.models) {
      const bytes = formatBytes(m.files.reduce((t, f) => t + f.bytes, 0));
      const where = `${m.files.length} files -> ${m.s3 ?? 'bundled'}`;
      lines.push(`  ${`models/${m.name}/`.padEnd(22)} ${bytes.padStart(9)}  ${c.dim(where)}`);
    }
    if (run.prune.savedBytes > 0)
      lines.push(
        `  pruned (${run.prune.mode}): ${formatBytes(run.prune.savedBytes)} ` +
          `(${run.prune.rules.map((r) => `${r.rule} ${formatBytes(r.bytes)}`).join(', ')})`,
      );
    for (const w of run.budget.warnings) lines.push(`  ${c.yellow('!')} ${w}`);
    // The next commands find this output only with the same --config/--out; paths are quoted when the shell needs it.
    const again = [
      ['--config', flags.config],
      ['--out', flags.out && where],
    ]
      .filter(([, v]) => v)
      .map(([flag, v]) => ` ${flag} ${/^[\w./:@%+=,-]+$/.test(v as string) ? v : shellQuote(v as string)}`)
      .join('');
    lines.push(
      '',
      c.dim(
        `Next: lambda-ml deploy${again} (or lambda-ml invoke --local ` +
          `--s3-local --image <a photo>${again} to try it here)`,
      ),
    );
    io.stdout.write(lines.join('\n') + '\n');
    return EXIT.OK;
  } finally {
    progress.done();
  }
}
