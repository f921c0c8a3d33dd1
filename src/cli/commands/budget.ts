/** `lambda-ml budget`: exit 0 when it fits, 1 when it does not (CI gates on it). */
import { join, resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { EXIT, type ExitCode } from '../../lib/errors.js';
import { formatUsd } from '../../cost/format.js';
import { budgetCost, readMeasuredTiming } from '../../pipeline/backfill-cost.js';
import { runBudget } from '../../pipeline/budget.js';
import { listBinaries } from '../../report/binaries.js';
import { parseBudgetDocument, type BudgetDocument } from '../../report/budget-document.js';
import { classifyFiles } from '../../report/classify.js';
import { budgetDelta } from '../../report/delta.js';
import { renderDeltaText } from '../../report/delta-render.js';
import { renderHtml } from '../../report/html.js';
import { largestFiles, renderLargestFilesText } from '../../report/largest-files.js';
import { buildReportTree } from '../../report/tree.js';
import { remoteScanOptions } from '../remote-options.js';
import type { GlobalOptions, Io } from '../io.js';
import { makeColors, showProgress } from '../io.js';
import { appendOutputFile, checkOutputFile } from '../output-file.js';
import { createProgress } from '../progress.js';
import { renderBudget } from '../report/budget-human.js';
import { renderBudgetMarkdown } from '../report/budget-markdown.js';
import { withSoftBudget } from '../report/soft-budget.js';
import { readFlagFile, writeReportFile } from '../report/write-report-file.js';

export interface BudgetFlags extends GlobalOptions {
  readonly markdown?: string | boolean;
  readonly top?: number; // validated by main (src/cli/flag-values.ts)
  readonly files?: number; // --files N, validated by main
  readonly base?: string; // --base FILE: an earlier `budget --json`
  readonly html?: string; // --html FILE
  readonly accountLimits?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
}

/** The largest files the HTML report lists when --files is not given. */
const HTML_FILES = 20;

export async function budgetCommand(io: Io, flags: BudgetFlags): Promise<ExitCode> {
  let config = await loadConfig(io.cwd, flags.config);
  // Output paths resolve against the cwd, and a path that cannot be written fails before the scan; so does --base.
  const markdownFile = typeof flags.markdown === 'string' ? resolve(io.cwd, flags.markdown) : null;
  if (markdownFile !== null) await checkOutputFile('--markdown', markdownFile, flags.markdown as string);
  const htmlFile = flags.html !== undefined ? resolve(io.cwd, flags.html) : null;
  if (htmlFile !== null) await checkOutputFile('--html', htmlFile, flags.html as string);
  const base = flags.base !== undefined ? await readBase(io, flags.base) : null;
  const top = flags.top ?? 8;
  const { warnAtPercent } = config;
  const progress = createProgress(io, showProgress(io, flags));
  const remote = await remoteScanOptions(config, flags, io);
  config = remote.config;
  try {
    const run = await runBudget(config, {
      ...remote.scan,
      env: io.env,
      onInstall: (what) => progress.step(what),
      onStep: (step) => progress.step(`scanning ${step}`),
      onZipProgress: (done, total) => progress.bytes('measuring deps.zip', done, total),
    });
    progress.done();
    const { budget } = run;
    // The soft budget's warnings lead the human and markdown reports; JSON readers have warnAtPercent and the checks.
    const shown = withSoftBudget(budget, warnAtPercent);
    const classified = classifyFiles(run);
    const binaries = listBinaries(classified);
    const files = flags.files !== undefined ? largestFiles(classified, flags.files) : undefined;
    // `binaries` is always written: the next run's --base flags new native and .wasm files from it.
    const head: BudgetDocument = {
      schemaVersion: 1,
      ok: true,
      ...budget,
      warnAtPercent,
      binaries,
      ...(files && { files }),
    };
    const delta = base ? budgetDelta(base, head) : null;
    const doc: BudgetDocument = delta ? { ...head, delta } : head;
    if (htmlFile !== null) {
      const html = renderHtml({
        budget: doc,
        tree: buildReportTree(run),
        delta,
        files: files ?? largestFiles(classified, HTML_FILES),
        name: config.function.name,
        warnAtPercent,
      });
      await writeReportFile('--html', htmlFile, flags.html as string, html);
    }
    const extras = { warnAtPercent, files, delta };
    // What a backfill of 1,000,000 images would cost (docs/backfill.md, "What it costs"); measured by invoke --repeat.
    const measured = await readMeasuredTiming(join(config.rootDir, '.lambda-ml'));
    const backfill = budgetCost(
      config,
      measured,
      run.budget.components.models.map((m) => m.backend),
    );
    const cost = { images: 1_000_000, time: backfill.time, estimates: backfill.cost };
    if (flags.json) io.stdout.write(JSON.stringify({ ...doc, cost }, null, 2) + '\n');
    else if (flags.markdown !== undefined && flags.markdown !== false) {
      const md = renderBudgetMarkdown(shown, config, extras);
      if (markdownFile !== null) await appendOutputFile('--markdown', markdownFile, flags.markdown as string, md);
      else io.stdout.write(md);
      if (markdownFile !== null && !flags.quiet) io.stdout.write(humanReport());
    } else if (!flags.quiet) io.stdout.write(humanReport());
    else if (!budget.fits) io.stderr.write(`does not fit: ${budget.reason}\n`);
    // --quiet prints nothing when it fits, also above the soft budget (the other formats show it).
    return budget.fits ? EXIT.OK : EXIT.OVER_BUDGET;

    function humanReport(): string {
      const [x86, arm] = backfill.cost;
      // within 80 columns: the details are in `--json` (cost) and `backfill --dry-run`
      const time = backfill.time.estimated ? 'time estimated' : `${backfill.time.msOnOneCpu} ms/image`;
      const costLine =
        `backfill: ${formatUsd(x86.totalUsd)} per 1M images on x86_64, ` +
        `${formatUsd(arm.totalUsd)} on arm64 (est.); ${time}`;
      const sections = [files ? renderLargestFilesText(files) : '', delta ? renderDeltaText(delta) : '', costLine];
      return renderBudget(shown, config, makeColors(io, flags), top, warnAtPercent, sections);
    }
  } finally {
    progress.done();
  }
}

/** `--base FILE`: an earlier `budget --json` (e.g. the main branch's); unreadable or not a budget is exit 2. */
async function readBase(io: Io, shown: string): Promise<BudgetDocument> {
  const hint = "pass a file an earlier `lambda-ml budget --json` wrote, e.g. the main branch's";
  const text = await readFlagFile('--base', resolve(io.cwd, shown), shown, hint);
  return parseBudgetDocument(text, `--base ${shown}`);
}
