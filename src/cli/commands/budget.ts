/** `lambda-ml budget`: exit 0 when it fits, 1 when it does not (CI gates on it). */
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../../config/load.js';
import { EXIT, type ExitCode } from '../../lib/errors.js';
import { runBudget } from '../../pipeline/budget.js';
import { remoteScanOptions } from '../remote-options.js';
import type { GlobalOptions, Io } from '../io.js';
import { makeColors, showProgress } from '../io.js';
import { createProgress } from '../progress.js';
import { renderBudget } from '../report/budget-human.js';
import { renderBudgetMarkdown } from '../report/budget-markdown.js';

export interface BudgetFlags extends GlobalOptions {
  readonly markdown?: string | boolean;
  readonly top?: string;
  readonly accountLimits?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
}

export async function budgetCommand(io: Io, flags: BudgetFlags): Promise<ExitCode> {
  let config = await loadConfig(io.cwd, flags.config);
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
      if (typeof flags.markdown === 'string') await writeFile(flags.markdown, md, { flag: 'a' });
      else io.stdout.write(md);
      if (typeof flags.markdown === 'string' && !flags.quiet) io.stdout.write(renderBudget(budget, config, makeColors(io, flags), Number(flags.top ?? 8)));
    } else if (!flags.quiet) io.stdout.write(renderBudget(budget, config, makeColors(io, flags), Number(flags.top ?? 8)));
    else if (!budget.fits) io.stderr.write(`does not fit: ${budget.reason}\n`);
    return budget.fits ? EXIT.OK : EXIT.OVER_BUDGET;
  } finally {
    progress.done();
  }
}
