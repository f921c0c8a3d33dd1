/** The N largest shipped files with their package (`budget --files N`), for every output format. PURE. */
import { formatBytes } from '../lib/bytes.js';
import { classifyFiles, type Classified, type ReportInput, type ReportLimit } from './classify.js';
import { codeSpan, escapeMarkdown } from './markdown.js';

/** One row of the largest-files list; also the `files` field of `budget --json`. */
export interface LargestFile {
  readonly path: string;
  readonly bytes: number;
  readonly package: string | null; // name@version
  readonly artifact: string; // function.zip, deps (sideloaded), model <name>
  readonly limit: ReportLimit; // the limit it counts against
}

/** The `n` largest files that ship (pruned and layer-provided files are left out), biggest first. */
export function largestFiles(input: ReportInput | Classified, n: number): LargestFile[] {
  const classified = 'files' in input && 'artifacts' in input ? input : classifyFiles(input);
  const artifacts = new Map(classified.artifacts.map((a) => [a.id, a]));
  return classified.files
    .filter((f) => artifacts.get(f.artifact)?.limit !== null)
    .sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path))
    .slice(0, Math.max(0, n))
    .map((f) => {
      const artifact = artifacts.get(f.artifact)!;
      return {
        path: f.path,
        bytes: f.bytes,
        package: f.package ? `${f.package.name}@${f.package.version}` : null,
        artifact: artifact.name,
        limit: artifact.limit,
      };
    });
}

const cut = (text: string, n: number) => (text.length <= n ? text : `…${text.slice(text.length - n + 1)}`);

/** For the terminal: one line per file, fits 80 columns (long paths keep their end). */
export function renderLargestFilesText(files: readonly LargestFile[]): string {
  if (files.length === 0) return '';
  const lines = [`Largest files (${files.length})`];
  for (const file of files) lines.push(`  ${formatBytes(file.bytes).padStart(9)}  ${cut(file.path, 66)}`);
  return lines.join('\n') + '\n';
}

/** A markdown table: size, file, package, where. */
export function renderLargestFilesMarkdown(files: readonly LargestFile[], title = 'Largest files'): string {
  if (files.length === 0) return '';
  const rows = files.map((f) => {
    const pkg = f.package ? codeSpan(f.package) : '–';
    return `| ${formatBytes(f.bytes)} | ${codeSpan(f.path)} | ${pkg} | ${escapeMarkdown(f.artifact)} |`;
  });
  return [`**${title}**`, '', '| size | file | package | in |', '|---:|---|---|---|', ...rows].join('\n') + '\n';
}
