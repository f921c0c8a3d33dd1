/** `lambda-ml budget`: exit 0 when it fits, 1 when it does not (CI gates on it). */
import { resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { EXIT, type ExitCode } from '../../lib/errors.js';
import { runBudget } from '../../pipeline/budget.js';
import { remoteScanOptions } from '../remote-options.js';
import type { GlobalOptions, Io } from '../io.js';
import { makeColors, showProgress } from '../io.js';
import { appendOutputFile, checkOutputFile } from '../output-file.js';
import { createProgress } from '../progress.js';
import { renderBudget } from '../report/budget-human.js';
import { renderBudgetMarkdown } from '../report/budget-markdown.js';

export interface BudgetFlags extends GlobalOptions {
  readonly markdown?: string | boolean;
  readonly top?: number;             // validated by main (src/cli/flag-values.ts)
  readonly accountLimits?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
}

export async function budgetCommand(io: Io, flags: BudgetFlags): Promise<ExitCode> {
  let config = await loadConfig(io.cwd, flags.config);
  // --markdown FILE resolves against the cwd, and a path that cannot be written fails before the scan.
  const markdownFile = typeof flags.markdown === 'string' ? resolve(io.cwd, flags.markdown) : null;
  if (markdownFile !== null) await checkOutputFile('--markdown', markdownFile, flags.markdown as string);
  const top = flags.top ?? 8;
  const progress = createProgress(io, showProgress(io, flags));
  const remote = await remoteScanOptions(config, flags, io);
  config = remote.config;
  try {
    const { budget } = await runBudget(config, {
      ...remote.scan,
      onStep: (step) => progress.step(`scanning ${step}`),
      onZipProgress: (done, total) => progress.bytes('measuring deps.zip', done, total),
    });
    progress.done();
    if (flags.json) io.stdout.write(JSON.stringify({ schemaVersion: 1, ok: true, ...budget }, null, 2) + '\n');
    else if (flags.markdown !== undefined && flags.markdown !== false) {
      const md = renderBudgetMarkdown(budget, config);
      if (markdownFile !== null) await appendOutputFile('--markdown', markdownFile, flags.markdown as string, md);
      else io.stdout.write(md);
      if (markdownFile !== null && !flags.quiet) {
        io.stdout.write(renderBudget(budget, config, makeColors(io, flags), top));
      }
    } else if (!flags.quiet) io.stdout.write(renderBudget(budget, config, makeColors(io, flags), top));
    else if (!budget.fits) io.stderr.write(`does not fit: ${budget.reason}\n`);
    return budget.fits ? EXIT.OK : EXIT.OVER_BUDGET;
  } finally {
    progress.done();
  }
}
