/** Native binary audit (SPEC §6): every .node/.so must be an ELF for the target architecture and runtime glibc. */
import { closeSync, openSync, readSync, readFileSync } from 'node:fs';
import { inputError } from '../lib/errors.js';
import type { Architecture } from '../types.js';

const ELF_MACHINES: Record<number, string> = { 3: 'x86 (32-bit)', 40: 'ARM (32-bit)', 62: 'x86_64', 183: 'arm64 (aarch64)', 243: 'RISC-V' };
const TARGET_MACHINE: Record<Architecture, number> = { x86_64: 62, arm64: 183 };
const NPM_CPU: Record<Architecture, string> = { x86_64: 'x64', arm64: 'arm64' };
const PIP_PLATFORM: Record<Architecture, string> = { x86_64: 'manylinux2014_x86_64', arm64: 'manylinux2014_aarch64' };

/** Amazon Linux 2 runtimes ship glibc 2.26; Amazon Linux 2023 runtimes (nodejs20.x+, python3.12+) ship 2.34. */
export function runtimeGlibc(runtime: string): [number, number] {
  const node = /^nodejs(\d+)\.x$/.exec(runtime);
  if (node) return Number(node[1]) >= 20 ? [2, 34] : [2, 26];
  const py = /^python3\.(\d+)$/.exec(runtime);
  if (py) return Number(py[1]) >= 12 ? [2, 34] : [2, 26];
  return [2, 26];
}

export interface BinaryInfo {
  readonly kind: 'elf' | 'mach-o' | 'pe' | 'other';
  readonly machine: string | null;
  readonly machineId: number | null;
  readonly glibc: [number, number] | null;
}

/** Reads a binary's header (and, for ELF, the highest GLIBC_x.y version it references). */
export function readBinaryInfo(path: string): BinaryInfo {
  const head = Buffer.alloc(64);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 64, 0);
  } finally {
    closeSync(fd);
  }
  const magic = head.readUInt32BE(0);
  if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe, 0xbebafeca].includes(magic)) return { kind: 'mach-o', machine: null, machineId: null, glibc: null };
  if (head[0] === 0x4d && head[1] === 0x5a) return { kind: 'pe', machine: null, machineId: null, glibc: null };
  if (magic !== 0x7f454c46) return { kind: 'other', machine: null, machineId: null, glibc: null };
  const little = head[5] === 1;
  const machineId = little ? head.readUInt16LE(18) : head.readUInt16BE(18);
  return { kind: 'elf', machine: ELF_MACHINES[machineId] ?? `machine ${machineId}`, machineId, glibc: maxGlibc(readFileSync(path)) };
}

/** The highest "GLIBC_2.NN" version string in the file (its .gnu.version_r needs live in .dynstr). */
function maxGlibc(data: Buffer): [number, number] | null {
  let best: [number, number] | null = null;
  const needle = Buffer.from('GLIBC_2.');
  for (let at = data.indexOf(needle); at >= 0; at = data.indexOf(needle, at + needle.length)) {
    let end = at + needle.length;
    while (end < data.length && end - at < 16 && (data[end] === 0x2e || (data[end] >= 0x30 && data[end] <= 0x39))) end++;
    const [major, minor] = data.subarray(at + 6, end).toString('latin1').split('.').map(Number);
    if (Number.isFinite(major) && Number.isFinite(minor) && (!best || major > best[0] || (major === best[0] && minor > best[1]))) best = [major, minor];
  }
  return best;
}

export interface AuditTarget { readonly architecture: Architecture; readonly runtime: string }

/** Throws an input error for the first binary that cannot load on the target. `files` are [label, absolute path]. */
export function auditBinaries(files: readonly (readonly [string, string])[], target: AuditTarget): { audited: number } {
  const [gMajor, gMinor] = runtimeGlibc(target.runtime);
  const python = target.runtime.startsWith('python');
  const fix = python
    ? `pip install -t DIR --platform ${PIP_PLATFORM[target.architecture]} --only-binary=:all: ...`
    : `npm install --os=linux --cpu=${NPM_CPU[target.architecture]} (or npm ci on a linux/${NPM_CPU[target.architecture]} machine)`;
  let audited = 0;
  for (const [label, path] of files) {
    if (!/\.(node|so)(\.\d+)*$/.test(label)) continue;
    const info = readBinaryInfo(path);
    audited++;
    if (info.kind === 'mach-o') throw inputError(`${label} is a macOS (Mach-O) binary; Lambda runs Linux`, `reinstall the deps for Lambda: ${fix}`);
    if (info.kind === 'pe') throw inputError(`${label} is a Windows (PE) binary; Lambda runs Linux`, `reinstall the deps for Lambda: ${fix}`);
    if (info.kind === 'other') continue; // a linker script or data file named .so: nothing to load
    if (info.machineId !== TARGET_MACHINE[target.architecture]) {
      throw inputError(`${label} is a Linux ${info.machine} binary; the function is ${target.architecture}`, `reinstall the deps for ${target.architecture}: ${fix}, or set function.architecture`);
    }
    if (info.glibc && (info.glibc[0] > gMajor || (info.glibc[0] === gMajor && info.glibc[1] > gMinor))) {
      throw inputError(`${label} needs glibc ${info.glibc.join('.')}; ${target.runtime} has glibc ${gMajor}.${gMinor}`, `use a build made for older glibc (manylinux2014 wheels, or npm packages' linux-gnu prebuilds), or a newer runtime`);
    }
  }
  return { audited };
}
