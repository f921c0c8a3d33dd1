/**
 * The oldest CPython a stable-ABI (`abi3`) extension needs, from its distribution's `*.dist-info/WHEEL` `Tag:` lines
 * (PEP 425/427: `cp313-abi3-manylinux_2_17_x86_64` loads on CPython 3.13 and later).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The oldest [major, minor] the wheel's abi3 tags allow, or null when it has none. */
export function abi3Minimum(wheelText: string): [number, number] | null {
  let best: [number, number] | null = null;
  for (const line of wheelText.split(/\r?\n/)) {
    const tag = /^Tag:\s*(\S+)/.exec(line)?.[1];
    if (!tag) continue;
    const [pythons, abis] = tag.split('-');
    if (!abis?.split('.').includes('abi3')) continue;
    for (const python of pythons.split('.')) {
      const match = /^cp(\d)(\d+)$/.exec(python);
      if (!match) continue;
      const version: [number, number] = [Number(match[1]), Number(match[2])];
      if (!best || version[0] < best[0] || (version[0] === best[0] && version[1] < best[1])) best = version;
    }
  }
  return best;
}

/** (site-packages root, file label, owning dist-info or null) -> the WHEEL of its distribution, or null. */
export type WheelFinder = (
  root: string,
  label: string,
  owner: string | null,
) => { distInfo: string; text: string } | null;

/** Finds the WHEEL of a shipped file, with `label` relative to the site-packages `root`; dist-info listings cached. */
export function wheelFinder(): WheelFinder {
  const listed = new Map<string, string[]>();
  const distInfos = (root: string) => {
    if (!listed.has(root)) {
      let names: string[] = [];
      try {
        names = readdirSync(root)
          .filter((name) => name.endsWith('.dist-info'))
          .sort();
      } catch {
        // no folder to look in: the extension is checked by its file name only
      }
      listed.set(root, names);
    }
    return listed.get(root)!;
  };
  const norm = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '_');
  return (root, label, owner) => {
    // The scan's owner (the dist-info whose RECORD lists the file) first, else a dist-info beside the package.
    if (owner && owner.endsWith('.dist-info')) {
      const text = read(join(root, owner, 'WHEEL'));
      if (text !== null) return { distInfo: owner, text };
    }
    const top = label.split('/')[0].replace(/\..*$/, '');
    for (const distInfo of distInfos(root)) {
      const topLevel = (read(join(root, distInfo, 'top_level.txt')) ?? '').split(/\r?\n/).map((s) => s.trim());
      const named = norm(distInfo.replace(/-[^-]+\.dist-info$/, '')) === norm(top);
      const record = () => (read(join(root, distInfo, 'RECORD')) ?? '').split(/\r?\n/);
      const recorded = () => record().some((line) => line.startsWith(`${label},`));
      if (!named && !topLevel.includes(top) && !recorded()) continue;
      const text = read(join(root, distInfo, 'WHEEL'));
      if (text !== null) return { distInfo, text };
    }
    return null;
  };
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
