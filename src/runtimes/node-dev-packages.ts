/**
 * Packages npm installed only for devDependencies, which never ship (docs/design.md, measuring): read from npm's
 * hidden lockfile `node_modules/.package-lock.json` (npm >= 7), where they carry `"dev": true`. A devDependency on
 * a local folder (`file:../lambda-ml`, what `init` writes for a clone) is a link whose target is marked instead:
 * the link escapes the tree and would otherwise be refused. Without that file (yarn, pnpm) nothing is excluded.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';

interface LockEntry {
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly resolved?: string;
}

/** Paths to skip, relative to `nodeModules` and '/'-separated: "lambda-ml", "@s/x", "a/node_modules/b", ".bin/t". */
export function devOnlyPaths(nodeModules: string): Set<string> {
  let packages: Record<string, LockEntry>;
  try {
    packages = JSON.parse(readFileSync(join(nodeModules, '.package-lock.json'), 'utf8')).packages ?? {};
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  for (const [key, entry] of Object.entries(packages)) {
    if (!key.startsWith('node_modules/')) continue;
    const target = entry.link === true && entry.resolved !== undefined ? packages[entry.resolved] : undefined;
    const isDev = entry.dev === true || target?.dev === true;
    if (isDev) out.add(key.slice('node_modules/'.length));
  }
  if (out.size > 0) for (const bin of devBins(nodeModules, out)) out.add(bin);
  return out;
}

/** `.bin/<tool>` links into excluded packages, which would dangle in the zip. */
function devBins(nodeModules: string, excluded: ReadonlySet<string>): string[] {
  let names: string[];
  try {
    names = readdirSync(join(nodeModules, '.bin'));
  } catch {
    return [];
  }
  const bins: string[] = [];
  for (const name of names) {
    let target: string;
    try {
      target = readlinkSync(join(nodeModules, '.bin', name))
        .split('\\')
        .join('/');
    } catch {
      continue; // a real file (Windows .cmd shims): left as it is
    }
    const inside = posix.normalize(posix.join('.bin', target));
    if ([...excluded].some((pkg) => inside === pkg || inside.startsWith(`${pkg}/`))) bins.push(`.bin/${name}`);
  }
  return bins;
}
