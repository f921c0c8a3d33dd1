/** Child of the handler bench: one backend, fresh process, so cold-start timings are real. Prints one JSON line. */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { selectBackend, type Tf } from '../../src/handler/backend.js';
import { classify } from '../../src/handler/classify.js';
import { decodeImage, toModelInput, type Sharp } from '../../src/handler/image.js';
import { loadModelFromDir, type ModelSpec } from '../../src/handler/models.js';
import { requireFrom } from '../../src/handler/require-from.js';

const [backend, modelDir, runsArg] = process.argv.slice(2);
const t0 = performance.now();
const req = requireFrom([join(process.cwd(), 'node_modules')]);
const tf = req<Tf>('@tensorflow/tfjs');
const sharp = req<Sharp>('sharp');
const requireMs = performance.now() - t0;
const choice = await selectBackend(tf, req, backend as 'wasm' | 'cpu');
const spec = {
  name: 'content',
  tag: 'content',
  format: 'tfjs-layers',
  dir: modelDir,
  s3: null,
  files: [],
  labels: ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'],
  input: { width: 224, height: 224, range: [0, 1] },
  topK: 3,
  threshold: 0,
} as unknown as ModelSpec;
const model = await loadModelFromDir(tf, spec, modelDir);
const baboon = (createRequire(import.meta.url)('baboon-image-uri') as string).split(',')[1];
const photo = Buffer.from(baboon, 'base64');
const input = await toModelInput(await decodeImage(sharp, photo), 224, 224, [0, 1]);
let t = performance.now();
const first = await classify(tf, model, input);
const firstMs = performance.now() - t;
const warm: number[] = [];
for (let i = 0; i < Number(runsArg); i++) {
  t = performance.now();
  await classify(tf, model, input);
  warm.push(performance.now() - t);
}
console.log(
  JSON.stringify({
    backend: choice.active,
    requireMs,
    backendMs: choice.ms,
    loadMs: model.timings.load,
    firstMs,
    warm,
    top: first[0],
  }),
);
