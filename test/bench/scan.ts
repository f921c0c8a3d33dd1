/**
 * Benchmark: `lambda-ml budget` on a node_modules of 30,000+ files against `du -sb` on the same tree, warm cache.
 * The tree is built from the real node_modules of this repo and of the Node example (hard-linked, so it costs no
 * disk), with nested copies to pass 30,000 files. Limits are raised in its config so the plan is decided by the scan
 * alone (no level-9 zip is measured): this times scanning, owning and planning, which is what the target is about.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, GENERATED, ROOT, fmtMs, paired, sh, timeCommand } from './util.js';

export interface ScanBench {
  readonly files: number;
  readonly bytes: number;
  readonly budgetMs: number;
  readonly duMs: number;
  readonly ratio: number;
  readonly scanMs: number;
  readonly scanRatio: number;
  readonly line: string;
}

/** The scan stage alone (walk + package ownership), in a warm process: where the CLI's time goes, not the target. */
function scanStageMs(dir: string): number {
  const script = `const { loadConfig } = await import(${JSON.stringify(`${ROOT}/dist/config/load.js`)});
const { scanProject } = await import(${JSON.stringify(`${ROOT}/dist/scan/scan-project.js`)});
const config = await loadConfig(${JSON.stringify(dir)});
await scanProject(config);
const times = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await scanProject(config);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
console.log(times[2]);`;
  return Number(sh(`node --input-type=module -e '${script.replace(/'/g, "'\\''")}'`).trim());
}

/** Builds (once) the 30k-file tree and its config. */
export function ensureScanTree(): string {
  const dir = join(GENERATED, 'bench-scan');
  const nm = join(dir, 'node_modules');
  if (!existsSync(join(dir, '.complete'))) {
    sh(`rm -rf "${dir}" && mkdir -p "${nm}"`);
    sh(`cp -al "${ROOT}/node_modules/." "${nm}/"`);
    const example = join(ROOT, 'fixtures', 'node-example', 'node_modules');
    if (!existsSync(example))
      throw new Error(
        'fixtures/node-example/node_modules is missing: run npm run demo (or npm ci in fixtures/node-example) first',
      );
    for (const copy of ['nested-a', 'nested-b']) {
      const pkg = join(nm, '@bench', copy);
      mkdirSync(join(pkg, 'node_modules'), { recursive: true });
      writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: `@bench/${copy}`, version: '1.0.0' }));
      sh(`cp -al "${example}/." "${join(pkg, 'node_modules')}/"`);
    }
    writeFileSync(
      join(dir, 'lambda-ml.config.json'),
      JSON.stringify(
        {
          function: { name: 'bench', runtime: 'nodejs20.x' },
          deps: 'node_modules',
          limits: { unzippedBytes: 100_000_000_000, zipDirectBytes: 100_000_000_000 },
        },
        null,
        2,
      ),
    );
    writeFileSync(join(dir, '.complete'), '');
  }
  return dir;
}

export function runScanBench(runs = 7): ScanBench {
  const dir = ensureScanTree();
  const files = Number(sh(`find "${join(dir, 'node_modules')}" -type f | wc -l`).trim());
  const bytes = Number(
    sh(`find "${join(dir, 'node_modules')}" -type f -printf '%s\\n' | awk '{s+=$1} END {printf "%d", s}'`).trim(),
  );
  // warm the page cache and the compiled CLI
  timeCommand('du', ['-sb', 'node_modules'], { cwd: dir });
  timeCommand('node', [BIN, 'budget', '--json'], { cwd: dir });
  const result = paired(
    runs,
    () => timeCommand('node', [BIN, 'budget', '--json'], { cwd: dir }),
    () => timeCommand('du', ['-sb', 'node_modules'], { cwd: dir }),
  );
  const scanMs = scanStageMs(dir);
  const line =
    `scan: budget on ${files.toLocaleString('en-US')} files (${(bytes / 1e6).toFixed(0)} ` +
    `MB): ${fmtMs(result.a)} vs du -sb ${fmtMs(result.b)} = ${result.ratio.toFixed(2)}x du (target <= 1.5x); the ` +
    `scan stage alone in a warm process: ${fmtMs(scanMs)} = ${(scanMs / result.b).toFixed(2)}x du`;
  return {
    files,
    bytes,
    budgetMs: result.a,
    duMs: result.b,
    ratio: result.ratio,
    scanMs,
    scanRatio: scanMs / result.b,
    line,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(runScanBench().line);
