/** HTTP range reads of a (pre-signed) URL: the only way remote zips are read, so they are never downloaded whole. */
import { awsError } from '../lib/errors.js';

/** A URL read by byte ranges; counts what was transferred so callers can report (and tests can prove) it. */
export interface RangeReader {
  /** Total size of the remote file, known after the first read. */
  size(): number | null;
  /** Bytes transferred so far. */
  fetchedBytes(): number;
  /** Reads [start, end] (inclusive). */
  read(start: number, end: number): Promise<Buffer>;
  /** Reads the last `length` bytes (or the whole file when it is smaller). */
  readTail(length: number): Promise<{ readonly body: Buffer; readonly size: number }>;
}

/** What the URL is called in errors (never the signed query string, which is a credential). */
const redact = (url: string) => url.split('?')[0];

/** Makes a reader that issues `Range` GETs with fetch; a server that ignores Range is an error, not a full download. */
export function rangeReader(url: string, fetchImpl: typeof fetch = fetch): RangeReader {
  let total: number | null = null;
  let fetched = 0;
  async function get(range: string): Promise<{ body: Buffer; start: number; size: number }> {
    let res: Response;
    try {
      res = await fetchImpl(url, { headers: { Range: `bytes=${range}` } });
    } catch (error) {
      throw awsError(
        `cannot read ${redact(url)}: ${(error as Error).message}`,
        'check the network and the endpoint',
        error,
      );
    }
    if (res.status !== 206) {
      await res.body?.cancel();
      if (res.status === 403)
        throw awsError(
          `reading ${redact(url)} was refused (HTTP 403): the pre-signed URL expired or is not allowed`,
          'run the command again (the URL is only valid for a few minutes)',
        );
      if (res.status === 200)
        throw awsError(
          `${redact(url)} ignored the byte range request (HTTP 200): refusing to download the whole file`,
          'the layer location must support HTTP Range (S3 pre-signed URLs do)',
        );
      throw awsError(`reading ${redact(url)} failed: HTTP ${res.status}`, undefined);
    }
    const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    const body = Buffer.from(await res.arrayBuffer());
    fetched += body.length;
    if (!match || match[3] === '*')
      throw awsError(`${redact(url)} answered a range request without a usable Content-Range`, undefined);
    total = Number(match[3]);
    return { body, start: Number(match[1]), size: total };
  }
  return {
    size: () => total,
    fetchedBytes: () => fetched,
    async read(start, end) {
      const { body } = await get(`${start}-${end}`);
      return body;
    },
    async readTail(length) {
      const { body, size } = await get(`-${length}`);
      return { body, size };
    },
  };
}
