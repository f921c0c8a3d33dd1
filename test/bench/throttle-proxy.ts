/**
 * Bench helper: s3rver on loopback behind a small HTTP proxy that paces every response body to one shared rate (the
 * function's network link: concurrent downloads share it), and notes when each tag write (PUT ?tagging) was answered,
 * on this process's performance.now() clock.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform, pipeline, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startS3, type S3Server } from '../helpers/s3rver.js';

export interface ThrottledS3 {
  /** The proxy's URL: what the function is given as its S3 endpoint. */
  readonly endpoint: string;
  /** s3rver itself, with a client that bypasses the proxy (staging, reading tags back). */
  readonly s3: S3Server;
  /** performance.now() when each tag write's response was sent, in order. */
  readonly tagWrites: number[];
  /** Body bytes sent through the proxy so far. */
  readonly sentBytes: () => number;
  stop(): Promise<void>;
}

const SLICE = 64 * 1024;
const BURST_MS = 20;

/** Starts s3rver and the proxy; `bytesPerSecond` null passes bodies through unpaced. */
export async function startThrottledS3(bytesPerSecond: number | null): Promise<ThrottledS3> {
  const s3 = await startS3();
  const upstream = new URL(s3.endpoint);
  const tagWrites: number[] = [];
  let sent = 0;
  let nextFree = 0; // when the shared link is free again (performance.now() ms)

  const pace = () =>
    new Transform({
      transform(chunk: Buffer, _enc, done: TransformCallback) {
        (async () => {
          for (let at = 0; at < chunk.length; at += SLICE) {
            const slice = chunk.subarray(at, at + SLICE);
            if (bytesPerSecond !== null) {
              // A token bucket of BURST_MS: a timer that fires late (a loaded machine) is made up for within it.
              const now = performance.now();
              nextFree = Math.max(nextFree, now - BURST_MS) + (slice.length / bytesPerSecond) * 1000;
              if (nextFree - now > 1) await sleep(nextFree - now);
            }
            sent += slice.length;
            this.push(slice);
          }
        })().then(() => done(), done);
      },
    });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const isTagWrite = req.method === 'PUT' && /[?&]tagging(=|&|$)/.test(req.url ?? '');
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (isTagWrite) res.on('finish', () => tagWrites.push(performance.now()));
        pipeline(answer, pace(), res, () => {});
      },
    );
    up.on('error', () => res.destroy());
    pipeline(req, up, () => {});
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    s3,
    tagWrites,
    sentBytes: () => sent,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await s3.stop();
    },
  };
}
