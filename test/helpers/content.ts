/**
 * Seeded, fast file content for generated fixtures.
 *
 * Real libraries compress about 4x with deflate (Python source) and 2-3x (shared objects). Zeros or
 * one repeated chunk would compress 100x and make every zip-size estimate meaningless, so content is
 * drawn from two pre-generated pools (Python-looking text, ELF-looking binary) several MB long:
 * far larger than deflate's 32 KB window. A file is a few slices of a pool at seeded offsets, which
 * keeps generation at memory-copy speed while staying deterministic.
 */

/** A seeded PRNG (mulberry32): deterministic across platforms, good enough for fixtures. */
export interface Rng {
  /** Uniform integer in [0, 2^32). */
  readonly next: () => number;
  /** Uniform float in [0, 1). */
  readonly float: () => number;
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number;
  /** One element of a non-empty list. */
  readonly pick: <T>(items: readonly T[]) => T;
}

/** Creates a PRNG from a numeric or string seed. */
export function makeRng(seed: number | string): Rng {
  let state = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const float = () => next() / 4_294_967_296;
  const int = (n: number) => Math.floor(float() * n);
  return { next, float, int, pick: (items) => items[int(items.length)] };
}

/** FNV-1a of a string: turns names into seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const KEYWORDS = [
  'def',
  'return',
  'self',
  'import',
  'from',
  'if',
  'else',
  'elif',
  'for',
  'in',
  'not',
  'None',
  'True',
  'False',
  'class',
  'with',
  'as',
  'try',
  'except',
  'raise',
  'lambda',
  'and',
  'or',
  'is',
  'yield',
  'assert',
  'pass',
  'while',
  'break',
  'continue',
  'name',
  'dtype',
  'shape',
  'value',
  'args',
  'kwargs',
];
const SYLLABLES = [
  'ten',
  'sor',
  'op',
  'grad',
  'shape',
  'dim',
  'name',
  'val',
  'in',
  'out',
  'lay',
  'er',
  'weight',
  'batch',
  'ax',
  'is',
  'graph',
  'sess',
  'node',
  'conf',
  'tf',
  'np',
  'arr',
  'ay',
  'size',
  'idx',
  'scope',
  'var',
  'init',
  'kern',
  'el',
  'bias',
  'conv',
  'pool',
  'dense',
  'flat',
  'loss',
  'met',
  'ric',
  'mod',
  'fit',
  'train',
  'eval',
  'pred',
  'data',
  'file',
  'path',
  'read',
  'write',
  'get',
  'set',
  'add',
  'mul',
  'sum',
  'mean',
  'max',
  'min',
  'cast',
  're',
  'cat',
  'split',
  'stack',
  'gath',
  'slice',
  'pad',
  'fill',
  'zero',
  'one',
  'range',
  'check',
  'err',
  'or',
  'warn',
  'log',
  'util',
  'base',
  'core',
  'impl',
  'api',
  'spec',
  'proto',
  'def',
  'buf',
  'ctx',
  'key',
  'map',
  'list',
  'dict',
  'type',
  'num',
  'str',
  'bool',
  'int',
  'float',
  'rank',
  'step',
  'rate',
  'opt',
  'im',
  'age',
];
const SEPARATORS = [' ', ' ', ' ', '.', '(', ')', ', ', ' = ', '[', ']', ': ', '_', ' == ', ' + '];

/** Words for file and folder names. */
export const WORDS: readonly string[] = SYLLABLES;

/** Python-looking text: Zipf-distributed tokens from a seeded vocabulary, with indentation and comments. */
export function makeTextPool(seed: number | string, bytes: number): Buffer {
  const rng = makeRng(seed);
  const vocab: string[] = [...KEYWORDS];
  while (vocab.length < 4000) {
    const parts = 1 + rng.int(3);
    let word = '';
    for (let i = 0; i < parts; i++) word += (i > 0 && rng.int(3) === 0 ? '_' : '') + rng.pick(SYLLABLES);
    vocab.push(rng.int(12) === 0 ? word[0].toUpperCase() + word.slice(1) : word);
  }
  const cdf = zipfCdf(vocab.length, 1.25);
  // Code reuses the identifiers of its surrounding block: a small recent window gives deflate real matches.
  const recent: string[] = [];
  const token = () => {
    if (recent.length > 8 && rng.int(100) < 35) return recent[recent.length - 1 - rng.int(recent.length)];
    const word = vocab[lowerBound(cdf, rng.float())];
    recent.push(word);
    if (recent.length > 24) recent.shift();
    return word;
  };
  const out = Buffer.allocUnsafe(bytes + 512);
  let pos = 0;
  let indent = 0;
  const lines: string[] = [];
  while (pos < bytes) {
    const roll = rng.int(20);
    if (lines.length > 16 && rng.int(100) < 50) {
      // Near-duplicate of a recent line, as in real code (similar calls, arguments, asserts).
      const words = lines[lines.length - 1 - rng.int(16)].split(' ');
      words[rng.int(words.length)] = token();
      pos += out.write(words.join(' ') + '\n', pos, 'latin1');
      continue;
    }
    if (roll === 0) indent = 0;
    else if (roll < 4) indent = Math.min(indent + 1, 4);
    else if (roll < 6) indent = Math.max(indent - 1, 0);
    let line = '    '.repeat(indent);
    if (roll === 6) line += `# ${token()} ${token()} ${token()} ${token()} ${token()}`;
    else if (roll === 7) line += `def ${token()}(self, ${token()}, ${token()}=None):`;
    else if (roll === 8) line += `return ${token()}.${token()}(${token()})`;
    else {
      const count = 2 + rng.int(9);
      for (let i = 0; i < count; i++) line += (i > 0 ? SEPARATORS[rng.int(SEPARATORS.length)] : '') + token();
      if (rng.int(9) === 0) line += ` + ${rng.int(100_000)}`;
    }
    lines.push(line);
    if (lines.length > 32) lines.shift();
    pos += out.write(line + '\n', pos, 'latin1');
  }
  return out.subarray(0, bytes);
}

/** ELF-looking bytes: a mix of machine-code-like, incompressible, string-table and sparse table blocks. */
export function makeBinaryPool(seed: number | string, bytes: number, text: Buffer): Buffer {
  const rng = makeRng(seed);
  const out = Buffer.allocUnsafe(bytes);
  const opcodes = zipfCdf(256, 1.6);
  let pos = 0;
  while (pos < bytes) {
    const len = Math.min(bytes - pos, 512 + rng.int(8192));
    const kind = rng.int(100);
    if (kind < 7) {
      for (let i = 0; i < len; i++) out[pos + i] = rng.next() & 0xff;
    } else if (kind < 40) {
      for (let i = 0; i < len; i++) out[pos + i] = lowerBound(opcodes, rng.float());
    } else if (kind < 66) {
      const from = rng.int(text.length - len);
      text.copy(out, pos, from, from + len);
      for (let i = rng.int(24); i < len; i += 4 + rng.int(40)) out[pos + i] = 0;
    } else {
      out.fill(0, pos, pos + len);
      for (let i = 0; i < len; i += 8) {
        if (rng.int(3) !== 0) continue;
        const value = rng.next() & 0xfffff;
        // The last word of a chunk may be cut short: write only the bytes that fit (little-endian, as writeUInt32LE).
        for (let k = 0; k < 4 && i + k < len; k++) out[pos + i + k] = (value >>> (8 * k)) & 0xff;
      }
    }
    pos += len;
  }
  return out;
}

/** A valid little-endian ELF64 x86_64 (e_machine 62) shared-object header plus the glibc versions it asks for. */
export function makeElfHeader(): Buffer {
  const header = Buffer.alloc(64);
  header.write('\x7fELF', 0, 'latin1');
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little endian
  header[6] = 1; // EV_CURRENT
  header.writeUInt16LE(3, 16); // ET_DYN
  header.writeUInt16LE(62, 18); // EM_X86_64
  header.writeUInt32LE(1, 20); // e_version
  header.writeUInt16LE(64, 52); // e_ehsize
  header.writeUInt16LE(56, 54); // e_phentsize
  header.writeUInt16LE(64, 58); // e_shentsize
  // manylinux1-era symbol versions: all older than the Lambda runtimes' glibc.
  return Buffer.concat([header, Buffer.from('\0GLIBC_2.2.5\0GLIBC_2.4\0GLIBC_2.14\0GLIBCXX_3.4\0', 'latin1')]);
}

/** Slices of `pool` totalling `size` bytes, at seeded offsets (no copy). */
export function poolSlices(pool: Buffer, size: number, rng: Rng): Buffer[] {
  const slices: Buffer[] = [];
  let left = size;
  while (left > 0) {
    // At most half the pool per slice, so a big file is not the same pool repeated at the same offset.
    const len = Math.min(left, pool.length >>> 1);
    const from = rng.int(pool.length - len + 1);
    slices.push(pool.subarray(from, from + len));
    left -= len;
  }
  return slices;
}

function zipfCdf(n: number, exponent: number): Float64Array {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / Math.pow(i + 1, exponent);
  for (let i = 0; i < n; i++) cdf[i] /= total;
  return cdf;
}

function lowerBound(cdf: Float64Array, x: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
