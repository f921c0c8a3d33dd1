/**
 * The demo: the whole product on this machine, with assets npm packages ship. Budget and package the Node example,
 * start s3rver on loopback, upload the model and photos, invoke the packaged handler locally on them, read the tags.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { inputError } from '../lib/errors.js';
import type { Config } from '../types.js';
import { loadConfig } from '../config/load.js';
import { runPackage, type PackageRun } from '../pipeline/package.js';
import { runBudget, type BudgetRun } from '../pipeline/budget.js';
import { stageToEndpoint } from '../invoke/stage-local.js';
import { invokeLocal, type LocalInvokeReport } from '../invoke/local-invoke.js';
import { encodeS3EventKey } from '../invoke/events.js';
import { resolveNode } from '../invoke/node-binary.js';
import { localS3Env, startLocalS3 } from '../invoke/s3-local.js';
import { runtimeOf } from '../runtimes/table.js';
import { baboonPhoto } from './nsfwjs-model.js';
import { ensureNodeExample } from './node-example.js';

export interface DemoOptions {
  readonly images?: string;
  readonly log: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}
export interface DemoPhoto {
  readonly key: string;
  readonly tags: { Key: string; Value: string }[];
}
export interface DemoResult {
  readonly config: Config;
  readonly budget: BudgetRun;
  readonly packaged: PackageRun;
  readonly invoke: LocalInvokeReport;
  readonly photos: readonly DemoPhoto[];
  readonly endpoint: string;
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);
const BUCKET = 'lambda-ml-demo-assets';

/** Photos to classify: yours from --images, else the baboon from baboon-image-uri and two made here with sharp. */
async function demoPhotos(images?: string): Promise<{ key: string; body: Buffer }[]> {
  if (images) {
    const names = (
      await readdir(images).catch(() => {
        throw inputError(`--images ${images}: not a readable folder`, 'give a folder of .jpg/.png/.webp photos');
      })
    )
      .filter((n) => IMAGE_EXT.has(extname(n).toLowerCase()))
      .sort();
    if (names.length === 0) throw inputError(`--images ${images}: no .jpg/.png/.webp files`, 'give a folder of photos');
    return Promise.all(
      names.map(async (name) => ({ key: `images/${name}`, body: await readFile(join(images, name)) })),
    );
  }
  const sharp = (await import('sharp')).default;
  const sky = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 70, g: 130, b: 180 } } })
    .composite([
      {
        input: await sharp({ create: { width: 320, height: 80, channels: 3, background: { r: 34, g: 139, b: 34 } } })
          .png()
          .toBuffer(),
        top: 160,
        left: 0,
      },
    ])
    .jpeg()
    .toBuffer();
  const sunset = await sharp(
    Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><defs><linearGradient id="g" ' +
        'x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#ff8c00"/><stop offset="1" ' +
        'stop-color="#8b0000"/></linearGradient></defs><rect width="320" height="240" ' +
        'fill="url(#g)"/><circle cx="160" cy="150" r="40" fill="#ffd700"/></svg>',
    ),
  )
    .png()
    .toBuffer();
  return [
    { key: 'images/baboon.png', body: baboonPhoto() },
    { key: 'images/meadow and sky.jpg', body: sky },
    { key: 'images/sunset.png', body: sunset },
  ];
}

/** Runs the demo end to end; the caller prints. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const photos = await demoPhotos(options.images); // a bad --images fails before minutes of packaging
  const dir = await ensureNodeExample(options.log);
  const config = await loadConfig(dir);
  options.log('budget…');
  const budget = await runBudget(config);
  options.log('package…');
  const packaged = await runPackage(config, { out: join(dir, '.lambda-ml') });
  // The handler runs on the runtime's Node major, as invoke --local does (installed into a cache on first use).
  const node = await resolveNode({
    runtime: runtimeOf(packaged.manifest.function.runtime),
    env: options.env,
    onInstall: (what) => options.log(`${what}…`), // a whole line already: "installing X into DIR, once"
  });
  if (node.warning) options.log(`warning: ${node.warning}`);
  const local = await startLocalS3('us-east-1');
  const { endpoint, client: s3 } = local;
  try {
    options.log(`s3rver on ${endpoint}: uploading the model and the photos…`);
    await stageToEndpoint(s3, packaged.manifest, packaged.out);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const photo of photos)
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: photo.key, Body: photo.body }));
    // A user's own tag, to show that the handler merges instead of replacing.
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: BUCKET,
        Key: photos[0].key,
        Tagging: { TagSet: [{ Key: 'owner', Value: 'marketing' }] },
      }),
    );
    const event = {
      Records: photos.map((p) => ({
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        awsRegion: 'us-east-1',
        s3: {
          bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
          object: { key: encodeS3EventKey(p.key), size: p.body.length },
        },
      })),
    };
    options.log(`invoking the packaged handler on ${photos.length} photo(s)…`);
    const env = { ...localS3Env(options.env, endpoint), AWS_REGION: 'us-east-1' };
    const invoke = await invokeLocal({
      manifest: packaged.manifest,
      outDir: packaged.out,
      event,
      endpoint,
      env,
      nodePath: node.path,
    });
    const tagged: DemoPhoto[] = [];
    for (const photo of photos) {
      const { TagSet } = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: photo.key }));
      tagged.push({ key: photo.key, tags: (TagSet ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })) });
    }
    return { config, budget, packaged, invoke, photos: tagged, endpoint };
  } finally {
    await local.stop();
  }
}
