/**
 * The Action's entry (action.yml runs it with node from the head's node_modules/lambda-ml/dist/action/main.js).
 * Sets the exit code to budget's, so the check fails when budget exits 1 (over) or 2/3/4 (could not run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { readActionContext, type EventPayload } from './context.js';
import { runAction } from './run.js';

async function main(): Promise<number> {
  const eventPath = process.env.GITHUB_EVENT_PATH;
  const hasEvent = eventPath !== undefined && existsSync(eventPath);
  const event = hasEvent ? (JSON.parse(readFileSync(eventPath, 'utf8')) as EventPayload) : null;
  const ctx = readActionContext(process.env, event);
  if (!existsSync(ctx.cli[1])) {
    const fix = "add lambda-ml to the project's devDependencies";
    process.stderr.write(`::error::lambda-ml is not installed in ${ctx.workdir} (${ctx.cli[1]} is missing): ${fix}\n`);
    return 2;
  }
  const outcome = await runAction(ctx, { log: (text) => process.stderr.write(text) });
  const level = outcome.exitCode === 0 ? 'notice' : 'error';
  process.stderr.write(`::${level}::lambda-ml budget ${outcome.headline}\n`);
  return outcome.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`::error::the lambda-ml Action failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 4;
  },
);
