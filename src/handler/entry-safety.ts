/**
 * What an archive entry may do when extracted (deps.zip and deps.tar.br alike): stay under the destination, and
 * point its symlinks inside the tree. A hostile or broken archive is refused, never half-trusted.
 */
import { isAbsolute, relative, resolve, dirname } from 'node:path';

/**
 * Rejects absolute paths, drive letters, NUL and `..` segments: a malicious archive must not write outside `dest`
 * (zip-slip). Returns the absolute target path.
 */
export function safeEntryPath(dest: string, name: string, label = 'deps.zip'): string {
  const clean = name.replace(/\\/g, '/');
  if (clean.startsWith('/') || /^[a-zA-Z]:/.test(clean) || clean.split('/').includes('..') || clean.includes('\0')) {
    throw new Error(`${label}: refusing unsafe entry path "${name}" (absolute or "..")`);
  }
  const target = resolve(dest, clean);
  const rel = relative(dest, target);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new Error(`${label}: refusing entry "${name}": it escapes the destination`);
  return target;
}

/**
 * Rejects a symlink whose target is absolute or resolves outside `root` from where the link sits, and one that sits
 * under another symlink of the archive (through `a -> .`, a link `a/b -> ../x` would land one level higher than it
 * reads). `links` holds the absolute paths of every symlink in the archive.
 */
export function checkLinkTarget(
  root: string,
  path: string,
  target: string,
  links: ReadonlySet<string>,
  label = 'deps.zip',
): void {
  const name = relative(root, path);
  const landing = resolve(dirname(path), target);
  const rel = relative(root, landing);
  if (target === '' || isAbsolute(target) || target.includes('\0') || rel.startsWith('..') || isAbsolute(rel))
    throw new Error(`${label}: symlink ${name} -> ${target} points outside the extracted tree`);
  for (let up = dirname(path); up.length > root.length; up = dirname(up)) {
    if (links.has(up))
      throw new Error(`${label}: symlink ${name} sits under another symlink (${relative(root, up)}): refused`);
  }
}
