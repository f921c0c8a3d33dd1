/**
 * A child process of `backfill --local`: one Lambda-like execution environment. It imports the unpacked handler
 * once (`index.handler` from LAMBDA_TASK_ROOT, as Lambda's Node runtime does) and then answers one invocation per
 * IPC message, warm, until the parent ends it. Handler logs go to stdout, as in Lambda.
 */
import { lambdaContext } from '../invoke/lambda-context.js';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Parent → child. */
export interface WorkerInvoke {
  readonly type: 'invoke';
  readonly id: number;
  readonly event: unknown;
  readonly timeoutMs: number;
}
/** Child → parent. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly importMs: number }
  | { readonly type: 'load-error'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly result: unknown; readonly ms: number }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly ok: false;
      readonly error: { type: string; message: string };
      readonly ms: number;
    };

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const send = (message: WorkerMessage) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

async function load(): Promise<Handler | null> {
  const t0 = performance.now();
  try {
    const taskRoot = process.env.LAMBDA_TASK_ROOT as string;
    const mod = (await import(pathToFileURL(join(taskRoot, 'index.mjs')).href)) as { handler?: Handler };
    if (typeof mod.handler !== 'function') throw new Error('index.mjs exports no function "handler"');
    await send({ type: 'ready', importMs: Math.round(performance.now() - t0) });
    return mod.handler;
  } catch (error) {
    await send({ type: 'load-error', message: (error as Error).message });
    process.exit(1);
  }
}

const ready = load();

process.on('message', async (message: WorkerInvoke) => {
  if (message?.type !== 'invoke') return;
  const handler = await ready;
  if (!handler) return;
  const deadline = Date.now() + message.timeoutMs;
  const context = lambdaContext(deadline);
  const t0 = performance.now();
  try {
    const result = await handler(message.event, context);
    await send({ type: 'result', id: message.id, ok: true, result, ms: Math.round(performance.now() - t0) });
  } catch (error) {
    const e = error as Error;
    const failure = { type: e?.name ?? 'Error', message: e?.message ?? String(error) };
    await send({ type: 'result', id: message.id, ok: false, error: failure, ms: Math.round(performance.now() - t0) });
  }
});
