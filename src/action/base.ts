/**
 * The base's budget (docs/ci.md): a stored `budget --json`, or the base commit checked out beside the head with
 * `git worktree add`, its deps installed with `npm ci`, and budgeted by the head's lambda-ml.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseBudgetDocument, type BudgetDocument } from '../report/budget-document.js';
import { runBudgetJson } from './budget-run.js';
import type { ActionContext } from './context.js';
import { runCommand } from './exec.js';

export interface BaseBudget {
  readonly doc: BudgetDocument | null;
  /** A file holding the base's JSON, for `budget --base FILE`. */
  readonly file: string | null;
  /** One line for the report: what the delta is against, or why there is none. */
  readonly note: string;
}

/** Budgets the base, or says why there is no base; never fails the Action (the head decides the check). */
export async function budgetBase(ctx: ActionContext, log: (s: string) => void): Promise<BaseBudget> {
  if (ctx.baseJson) {
    const doc = parseBudgetDocument(await readFile(ctx.baseJson, 'utf8'), ctx.baseJson);
    const shown = relative(ctx.workdir, ctx.baseJson) || ctx.baseJson;
    return { doc, file: ctx.baseJson, note: `compared with the stored base budget ${shown}` };
  }
  const none = (note: string): BaseBudget => ({ doc: null, file: null, note });
  if (!ctx.baseRef) return none('no base to compare with (not a pull request, and no base-ref or base-json)');
  const git = (args: string[], cwd: string) => runCommand(['git', ...args], { cwd });
  const top = (await git(['rev-parse', '--show-toplevel'], ctx.workdir)).stdout.trim();
  if (!top) return none(`no base: ${ctx.workdir} is not in a git checkout`);
  const commit = await resolveCommit(ctx.baseRef, top, log);
  if (!commit) return none(`no base: ${ctx.baseRef} could not be fetched`);
  const short = commit.slice(0, 7);
  const tree = join(ctx.outDir, 'base-worktree');
  await removeWorktree(top, tree);
  const added = await git(['worktree', 'add', '--detach', tree, commit], top);
  const why = added.stderr.trim().split('\n')[0];
  if (added.code !== 0) return none(`no base: git worktree add ${short} failed (${why})`);
  try {
    const dir = join(tree, relative(top, ctx.workdir));
    if (existsSync(join(dir, 'package-lock.json'))) {
      log(`npm ci in the base checkout (${short})\n`);
      const installed = await runCommand(['npm', 'ci', '--no-audit', '--no-fund'], { cwd: dir, log });
      if (installed.code !== 0) return none(`no base: npm ci failed in the base checkout (${short})`);
    }
    const ran = await runBudgetJson(ctx.cli, dir, ctx.config ? ['--config', ctx.config] : [], log);
    if (!ran.doc) {
      const first = (ran.error ?? '').split('\n')[0];
      return none(`the base (${short}) could not be budgeted (exit ${ran.code}: ${first})`);
    }
    const file = join(ctx.outDir, 'base.json');
    await writeFile(file, JSON.stringify(ran.doc, null, 2) + '\n');
    return { doc: ran.doc, file, note: `compared with the base ${short}` };
  } finally {
    await removeWorktree(top, tree);
  }
}

/** A commit for `ref`: as it is, as origin/<ref>, else fetched (a shallow checkout has only the head). */
async function resolveCommit(ref: string, top: string, log: (s: string) => void): Promise<string | null> {
  const verify = async (name: string) => {
    const ran = await runCommand(['git', 'rev-parse', '--verify', '--quiet', `${name}^{commit}`], { cwd: top });
    return ran.code === 0 ? ran.stdout.trim() : null;
  };
  const known = (await verify(ref)) ?? (await verify(`origin/${ref}`));
  if (known) return known;
  log(`fetching the base ${ref}\n`);
  const fetched = await runCommand(['git', 'fetch', '--no-tags', '--depth=1', 'origin', ref], { cwd: top, log });
  return fetched.code === 0 ? verify('FETCH_HEAD') : null;
}

async function removeWorktree(top: string, tree: string): Promise<void> {
  if (!existsSync(tree)) return;
  await runCommand(['git', 'worktree', 'remove', '--force', tree], { cwd: top });
  await rm(tree, { recursive: true, force: true });
  await runCommand(['git', 'worktree', 'prune'], { cwd: top });
}
