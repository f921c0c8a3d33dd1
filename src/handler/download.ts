/**
 * The deps archive's bytes as they arrive: counted, hashed and deadline-checked in the same pass that extracts them.
 * A download cut mid-way says what, how far it got and that the next invocation retries, not a bare `aborted`.
 */
import { createHash, type Hash } from 'node:crypto';

/** One transfer of the archive: what it is, how long it must be, what arrived so far and its running sha256. */
export interface DownloadState {
  readonly what: string; // "deps.tar.br from s3://bucket/key"
  readonly expected: number;
  readonly hash: Hash;
  received: number;
  /** Set for a download (S3): the rate so far must bring the rest before the invocation's deadline. */
  deadline?: { readonly remainingMs: () => number; readonly safetyMs: number };
}

/** A fresh transfer of `expected` bytes. */
export const startDownload = (what: string, expected: number): DownloadState => ({
  what,
  expected,
  hash: createHash('sha256'),
  received: 0,
});

/** An error this module worded itself (passed through as it is). */
class TransferError extends Error {
  override name = 'TransferError';
}

const destroy = (body: AsyncIterable<Uint8Array>) => (body as { destroy?: () => void }).destroy?.();

/** Why the transfer stopped, for the message: the cause's own words and code. */
function reasonOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException | null;
  if (!e) return 'the body ended early';
  const code = e.code && !e.message?.includes(e.code) ? ` ${e.code}` : '';
  return `${e.message ?? String(e)}${code}`;
}

/** The clear error for a transfer that stopped short. */
export function cutError(state: DownloadState, cause: unknown): Error {
  const verb = state.deadline ? 'the download was cut' : 'reading it stopped';
  return new Error(
    `${state.what}: ${verb} after ${state.received} of ${state.expected} bytes (${reasonOf(cause)}); ` +
      'nothing was kept, and the next invocation retries it',
    { cause },
  );
}

/**
 * When the projection may fail a transfer: after PROJECT_AFTER_MS of evidence (the first chunks measure latency and
 * TCP slow start, not the rate: projecting from the first 100 ms failed healthy cold starts under load), and only
 * when even a rest PROJECT_SLACK times faster than so far would miss the deadline. Past the deadline it always fails.
 */
export const PROJECT_AFTER_MS = 1000;
export const PROJECT_SLACK = 1.5;

/** Why the transfer cannot finish in time, or null: at `now`, `received` of `expected` after `elapsed` ms. */
export function outOfTime(
  progress: { readonly received: number; readonly expected: number; readonly elapsedMs: number },
  leftMs: number,
): { readonly etaMs: number } | null {
  const { received, expected, elapsedMs } = progress;
  if (received >= expected) return null;
  const etaMs = received > 0 ? ((expected - received) * elapsedMs) / received : Number.POSITIVE_INFINITY;
  if (leftMs <= 0) return { etaMs };
  if (elapsedMs < PROJECT_AFTER_MS) return null;
  return etaMs / PROJECT_SLACK > leftMs ? { etaMs } : null;
}

/**
 * Yields `body` chunk by chunk while hashing and counting it. Fails fast when, at the rate so far, the rest would
 * not arrive before the invocation's deadline (outOfTime); fails with cutError when the body errors or ends short.
 */
export async function* downloadTap(body: AsyncIterable<Uint8Array>, state: DownloadState): AsyncGenerator<Uint8Array> {
  const t0 = performance.now();
  const { deadline } = state;
  const deadlineAt = deadline ? t0 + deadline.remainingMs() - deadline.safetyMs : Number.POSITIVE_INFINITY;
  let complete = false;
  try {
    for await (const chunk of body) {
      state.hash.update(chunk);
      state.received += chunk.length;
      if (state.received > state.expected)
        throw new TransferError(`${state.what}: more than the ${state.expected} bytes it was packaged with: refused`);
      const now = performance.now();
      const elapsedMs = now - t0;
      const late = deadline ? outOfTime({ ...state, elapsedMs }, deadlineAt - now) : null;
      if (deadline && late) {
        throw new TransferError(
          `${state.what}: the download would not finish in time (${state.received} of ${state.expected} bytes ` +
            `after ${Math.round(elapsedMs)} ms, about ${Math.round(late.etaMs)} ms to go, ` +
            `${Math.round(deadline.remainingMs())} ms left in this invocation). Raise function.timeoutS, or use ` +
            'the sideload-bundled plan so the archive ships inside the function zip.',
        );
      }
      yield chunk;
    }
    complete = true;
  } catch (error) {
    if (error instanceof TransferError) throw error;
    throw cutError(state, error);
  } finally {
    if (!complete) destroy(body); // stopped early (our error, or the reader gave up): close the socket
  }
  if (state.received < state.expected) throw cutError(state, null);
}
