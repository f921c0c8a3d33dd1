/** The native binaries and WebAssembly files that ship: what a pull request should not add unnoticed. PURE. */
import { classifyFiles, type Classified, type ReportInput } from './classify.js';

/** One `.node` / `.so` / `.wasm` file; also the `binaries` field of `budget --json`. */
export interface BinaryFile {
  readonly path: string;
  readonly bytes: number;
  readonly kind: 'native' | 'wasm';
  readonly package: string | null; // name@version
}

const NATIVE = /\.(?:node|so(?:\.\d+)*)$/;
const WASM = /\.wasm$/;

/** The kind of a binary by its name, or null. */
export function binaryKind(path: string): BinaryFile['kind'] | null {
  return NATIVE.test(path) ? 'native' : WASM.test(path) ? 'wasm' : null;
}

/** Every shipped binary (pruned and layer-provided files are not shipped), sorted by path. */
export function listBinaries(input: ReportInput | Classified): BinaryFile[] {
  const classified = 'files' in input && 'artifacts' in input ? input : classifyFiles(input);
  const shipped = new Set(classified.artifacts.filter((a) => a.limit !== null).map((a) => a.id));
  const out: BinaryFile[] = [];
  for (const file of classified.files) {
    const kind = binaryKind(file.path);
    if (kind === null || !shipped.has(file.artifact)) continue;
    const pkg = file.package ? `${file.package.name}@${file.package.version}` : null;
    out.push({ path: file.path, bytes: file.bytes, kind, package: pkg });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
