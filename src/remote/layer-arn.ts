/** Measures a layer given by ARN: GetLayerVersionByArn, then range reads of its zip's end (docs/design.md §4). */
import { GetLayerVersionByArnCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { toRemoteError } from './remote-error.js';
import { awsError, LambdaMlError } from '../lib/errors.js';
import { rangeReader } from './range-reader.js';
import { checkRemoteLayer } from './remote-layer-check.js';
import { listRemoteZip, MAX_REMOTE_ENTRY_BYTES, readRemoteEntry } from './remote-zip.js';

/** A layer measured remotely; the shape scan turns into a `LayerScan` (entries feed its "provides"). */
export interface RemoteLayer {
  readonly arn: string;
  readonly name: string; // the layer name inside the ARN
  readonly version: number;
  readonly bytes: number; // unzipped: sum of the entries' uncompressed sizes
  readonly zipBytes: number;
  readonly files: number;
  readonly entries: readonly { readonly name: string; readonly bytes: number }[]; // files and symlinks, not folders
  readonly codeSha256: string | null;
  readonly fetchedBytes: number; // what the range reads transferred (<< zipBytes)
  readonly contents: Readonly<Record<string, string>>; // small files asked for through `readFiles`
}

export interface MeasureLayerOptions {
  /** Small entries to read (e.g. `nodejs/node_modules/x/package.json`), each with its own range read. */
  readonly readFiles?: (name: string) => boolean;
  readonly maxFiles?: number;
  readonly fetch?: typeof fetch;
}

const LAYER_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:([a-zA-Z0-9_-]+):(\d+)$/;

/** GetLayerVersionByArn + central-directory range reads of Content.Location; never downloads the zip. */
export async function measureLayerArn(
  lambda: LambdaClient,
  arn: string,
  options: MeasureLayerOptions = {},
): Promise<RemoteLayer> {
  const match = LAYER_ARN.exec(arn);
  if (!match) throw awsError(`${arn}: not a layer version ARN`, 'use arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION');
  let location: string | undefined;
  let codeSha256: string | null = null;
  try {
    const layer = await lambda.send(new GetLayerVersionByArnCommand({ Arn: arn }));
    location = layer.Content?.Location;
    codeSha256 = layer.Content?.CodeSha256 ?? null;
  } catch (error) {
    throw toRemoteError(error, `GetLayerVersionByArn ${arn}`);
  }
  if (!location)
    throw awsError(
      `GetLayerVersionByArn ${arn}: the answer has no Content.Location`,
      'check that the layer version exists and that you may read it (lambda:GetLayerVersion)',
    );
  const reader = rangeReader(location, options.fetch);
  let listing;
  try {
    listing = await listRemoteZip(reader);
  } catch (error) {
    if (error instanceof LambdaMlError) throw error;
    throw awsError(`layer ${arn}: cannot read its zip directory (${(error as Error).message})`, undefined, error);
  }
  await checkRemoteLayer(reader, listing, `layer ${arn}`);
  const contents: Record<string, string> = {};
  if (options.readFiles) {
    const wanted = listing.entries
      .filter(
        (entry) =>
          !entry.isDirectory && entry.compressedBytes <= MAX_REMOTE_ENTRY_BYTES && options.readFiles?.(entry.name),
      )
      .slice(0, options.maxFiles ?? 500);
    // a few reads at a time: they are small, and a layer may have hundreds of package.json files
    for (let i = 0; i < wanted.length; i += 8) {
      await Promise.all(
        wanted.slice(i, i + 8).map(async (entry) => {
          contents[entry.name] = (await readRemoteEntry(reader, entry)).toString('utf8');
        }),
      );
    }
  }
  return {
    arn,
    name: match[1],
    version: Number(match[2]),
    bytes: listing.bytes,
    zipBytes: listing.zipBytes,
    files: listing.files,
    entries: listing.entries
      .filter((entry) => !entry.isDirectory)
      .map((entry) => ({ name: entry.name, bytes: entry.bytes })),
    codeSha256,
    fetchedBytes: reader.fetchedBytes(),
    contents,
  };
}
