/**
 * The child process of `invoke --local`: imports the unpacked handler like Lambda's Node runtime does
 * (`index.handler` from LAMBDA_TASK_ROOT), invokes it with a context that has a real deadline, and reports
 * results and timings to the parent over IPC. Handler logs go to this process's stdout, as in Lambda.
 */
import { lambdaContext } from './lambda-context.js';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface RunnerRequest {
  readonly event: unknown;
  readonly repeat: number;
  readonly timeoutMs: number;
}
export interface Invocation {
  readonly ms: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { message: string; type: string };
  readonly maxRssBytes: number;
}
export interface RunnerReport {
  readonly importMs: number;
  readonly invocations: readonly Invocation[];
}

async function run(request: RunnerRequest): Promise<RunnerReport> {
  const taskRoot = process.env.LAMBDA_TASK_ROOT as string;
  const t0 = performance.now();
  const mod = (await import(pathToFileURL(join(taskRoot, 'index.mjs')).href)) as {
    handler: (event: unknown, context: unknown) => Promise<unknown>;
  };
  const importMs = Math.round(performance.now() - t0);
  const invocations: Invocation[] = [];
  for (let i = 0; i < request.repeat; i++) {
    const deadline = Date.now() + request.timeoutMs;
    const context = lambdaContext(deadline);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () =>
          fail(
            Object.assign(new Error(`Task timed out after ${(request.timeoutMs / 1000).toFixed(2)} seconds`), {
              name: 'TimeoutError',
            }),
          ),
        request.timeoutMs,
      );
    });
    try {
      const result = await Promise.race([mod.handler(request.event, context), timeout]);
      invocations.push({
        ms: Math.round(performance.now() - started),
        ok: true,
        result,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
      });
    } catch (error) {
      const e = error as Error;
      invocations.push({
        ms: Math.round(performance.now() - started),
        ok: false,
        error: { message: e.message, type: e.name },
        result: (e as { summary?: unknown }).summary,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
      });
      if (e.name === 'TimeoutError') break;
    } finally {
      clearTimeout(timer);
    }
  }
  return { importMs, invocations };
}

process.once('message', (request: RunnerRequest) => {
  run(request).then(
    (report) => process.send?.({ ok: true, report }, () => process.exit(0)),
    (error: Error) =>
      process.send?.({ ok: false, error: { message: error.message, stack: error.stack } }, () => process.exit(1)),
  );
});
