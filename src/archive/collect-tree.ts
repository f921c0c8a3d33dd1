import { lstat, readdir, readlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LambdaMlError, fsError, inputError } from '../lib/errors.js';
import type { ZipEntry } from './zip-entry.js';

/** Walks `root` without following symlinks into zip entries (folders, files, symlinks that stay inside root). */
export async function collectTree(root: string): Promise<ZipEntry[]> {
  const base = resolve(root);
  const out: ZipEntry[] = [];
  try {
    const stats = await lstat(base);
    if (!stats.isDirectory()) throw inputError(`${root}: not a folder`, 'point at the folder to package');
    await walk(base, '', out);
  } catch (error) {
    if (error instanceof LambdaMlError) throw error;
    throw fsError(error, root);
  }
  return out;
}

async function walk(base: string, prefix: string, out: ZipEntry[]): Promise<void> {
  const folder = join(base, prefix);
  const dirents = await readdir(folder, { withFileTypes: true }).catch((error: unknown) => {
    throw fsError(error, folder);
  });
  await Promise.all(
    dirents.map(async (dirent) => {
      const path = prefix === '' ? dirent.name : `${prefix}/${dirent.name}`;
      const source = join(base, path);
      if (dirent.isDirectory()) {
        out.push({ path, kind: 'dir' });
        return walk(base, path, out);
      }
      if (dirent.isSymbolicLink()) {
        out.push({ path, kind: 'symlink', link: await checkedLink(base, source) });
        return;
      }
      if (!dirent.isFile())
        throw inputError(
          `${source}: not a file, folder or symlink`,
          'remove sockets, pipes and device files from the package folder',
        );
      const stats = await lstat(source).catch((error: unknown) => {
        throw fsError(error, source);
      });
      // Any x bit counts: zips normalise to 0755/0644, so group/other-only bits must not be lost.
      out.push({ path, kind: 'file', source, bytes: stats.size, executable: (stats.mode & 0o111) !== 0 });
    }),
  );
}

// A link that escapes the folder would point at nothing (or at something else) once unzipped in Lambda.
async function checkedLink(base: string, source: string): Promise<string> {
  const target = await readlink(source).catch((error: unknown) => {
    throw fsError(error, source);
  });
  if (isAbsolute(target)) {
    throw inputError(
      `${source}: symlink to an absolute path (${target})`,
      'make the link relative, or copy the file it points to into the package',
    );
  }
  const rel = relative(base, resolve(dirname(source), target));
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw inputError(
      `${source}: symlink points outside the package folder (${target})`,
      'copy the file it points to into the package, or remove the link',
    );
  }
  return target;
}
