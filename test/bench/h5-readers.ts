// Benchmark (issue 6): which HDF5 library reads a 150 MB Keras H5 faster and in less memory, h5wasm or jsfive.
// Each library reads the generated ~151 MB Keras 2 H5 (test/bench/convert.ts) in a fresh child process, so its
// peak RSS is its own: model_config, model_weights/layer_names, weight_names, and every weight dataset's
// shape, dtype and full float32 values (summed as a checksum that must agree across libraries).
// `h5wasm-sliced` is h5wasm read the way write-tfjs.ts reads plain float32 weights (slices of ~4 MB).
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDenseStackH5 } from './convert.js';
import type { H5Library, H5ReadResult } from './h5-read-child.js';
import { GENERATED, ROOT, median } from './util.js';

const MiB = 1_048_576;
const LIBRARIES: readonly H5Library[] = ['h5wasm', 'jsfive', 'h5wasm-sliced'];

/** Median figures of one library over the runs. */
export interface H5ReaderSummary {
  readonly library: H5Library;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssBytes: number;
  readonly baselineRssBytes: number;
  readonly ratio: number;
  readonly checksum: number;
  readonly runs: readonly H5ReadResult[];
}

/** Runs every library `runs` times (interleaved, each in a fresh process) and returns medians and report lines. */
export async function runH5ReadersBench(
  runs = 3,
): Promise<{ lines: string[]; summaries: H5ReaderSummary[]; fileBytes: number }> {
  await mkdir(GENERATED, { recursive: true });
  const input = join(GENERATED, 'dense-stack-150mb.h5');
  if (!existsSync(input)) await writeDenseStackH5(input);
  const fileBytes = (await stat(input)).size;
  await warmPageCache(input); // the first child should not pay for the disk read alone
  const script = compileChild();
  const results = new Map<H5Library, H5ReadResult[]>(LIBRARIES.map((library) => [library, []]));
  for (let run = 0; run < runs; run++) {
    for (const library of LIBRARIES) {
      const stdout = execFileSync(process.execPath, [script, library, input], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 24,
      });
      results.get(library)!.push(JSON.parse(stdout.trim().split('\n').pop()!) as H5ReadResult);
    }
  }
  const summaries = LIBRARIES.map((library): H5ReaderSummary => {
    const all = results.get(library)!;
    const checksums = new Set(all.map((result) => result.checksum));
    if (checksums.size !== 1)
      throw new Error(`${library}: checksum differs between runs (${[...checksums].join(', ')})`);
    const peakRssBytes = median(all.map((result) => result.peakRssBytes));
    return {
      library,
      wallMs: median(all.map((result) => result.wallMs)),
      cpuMs: median(all.map((result) => result.cpuMs)),
      peakRssBytes,
      baselineRssBytes: median(all.map((result) => result.baselineRssBytes)),
      ratio: peakRssBytes / fileBytes,
      checksum: all[0].checksum,
      runs: all,
    };
  });
  const reference = summaries[0];
  for (const summary of summaries) {
    if (summary.checksum !== reference.checksum || summary.runs[0].elements !== reference.runs[0].elements) {
      throw new Error(
        `${summary.library} read different weights: checksum ${summary.checksum} (${summary.runs[0].elements} ` +
          `values) vs ${reference.library} ${reference.checksum} (${reference.runs[0].elements} values)`,
      );
    }
  }
  const mb = Math.round(fileBytes / 1e6);
  const lines = summaries.map(
    (summary) =>
      `read ${mb} MB h5 with ${summary.library}: ${(summary.wallMs / 1000).toFixed(2)} s ` +
      `(CPU ${(summary.cpuMs / 1000).toFixed(2)} s), peak ${Math.round(summary.peakRssBytes / MiB)} MB ` +
      `(${summary.ratio.toFixed(1)}x file; ${Math.round(summary.baselineRssBytes / MiB)} MB with the library ` +
      `loaded), median of ${runs}`,
  );
  lines.push(
    `checksum ${reference.checksum} over ${reference.runs[0].datasets} datasets ` +
      `/ ${reference.runs[0].elements} values: identical for ${LIBRARIES.join(', ')}`,
  );
  return { lines, summaries, fileBytes };
}

async function warmPageCache(path: string): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) void chunk;
}

/**
 * Compiles the child (and the src/convert files it imports) to plain JS: under tsx the child would also
 * count tsx's transform of h5wasm's 4 MB module, which the built CLI never pays.
 */
function compileChild(): string {
  const outDir = join(GENERATED, 'bench-h5-readers');
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--outDir',
      outDir,
      '--rootDir',
      ROOT,
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      '--esModuleInterop',
      '--types',
      'node',
      join(ROOT, 'test', 'bench', 'h5-read-child.ts'),
    ],
    { stdio: 'inherit' },
  );
  return join(outDir, 'test', 'bench', 'h5-read-child.js');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of (await runH5ReadersBench()).lines) console.log(line);
}
