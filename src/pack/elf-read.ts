/**
 * What the native audit needs from a binary's header (docs/design.md §6): its format, ELF machine, the newest glibc it
 * references, and the Node addon entry points its dynamic symbol table defines.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

const ELF_MACHINES: Record<number, string> = {
  3: 'x86 (32-bit)',
  40: 'ARM (32-bit)',
  62: 'x86_64',
  183: 'arm64 (aarch64)',
  243: 'RISC-V',
};
const SHT_DYNSYM = 11;

/** How a Node addon registers itself: Node-API (any Node major) or the ABI of one Node major (NODE_MODULE_VERSION). */
export interface NodeAddonAbi {
  readonly napi: boolean;
  /** NNN of an exported `node_register_module_vNNN`, null when it exports none. */
  readonly moduleVersion: number | null;
}

export interface BinaryInfo {
  readonly kind: 'elf' | 'mach-o' | 'pe' | 'other';
  readonly machine: string | null;
  readonly machineId: number | null;
  readonly glibc: [number, number] | null;
  /** From the ELF dynamic symbols; null when the file is not ELF or has no section headers to find them by. */
  readonly addon: NodeAddonAbi | null;
}

const NOT_ELF = (kind: BinaryInfo['kind']): BinaryInfo => ({
  kind,
  machine: null,
  machineId: null,
  glibc: null,
  addon: null,
});
const MACH_O = [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe, 0xbebafeca];

/** Reads a binary's header (and, for ELF, the highest GLIBC_x.y version it references and its addon entry points). */
export function readBinaryInfo(path: string): BinaryInfo {
  const head = Buffer.alloc(64);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 64, 0);
  } finally {
    closeSync(fd);
  }
  const magic = head.readUInt32BE(0);
  if (MACH_O.includes(magic)) return NOT_ELF('mach-o');
  if (head[0] === 0x4d && head[1] === 0x5a) return NOT_ELF('pe');
  if (magic !== 0x7f454c46) return NOT_ELF('other');
  const little = head[5] === 1;
  const machineId = little ? head.readUInt16LE(18) : head.readUInt16BE(18);
  const data = readFileSync(path);
  return {
    kind: 'elf',
    machine: ELF_MACHINES[machineId] ?? `machine ${machineId}`,
    machineId,
    glibc: maxGlibc(data),
    addon: addonAbi(dynamicExports(data)),
  };
}

/** The highest "GLIBC_2.NN" version string in the file (its .gnu.version_r needs live in .dynstr). */
function maxGlibc(data: Buffer): [number, number] | null {
  let best: [number, number] | null = null;
  const needle = Buffer.from('GLIBC_2.');
  for (let at = data.indexOf(needle); at >= 0; at = data.indexOf(needle, at + needle.length)) {
    let end = at + needle.length;
    const isVersionChar = (byte: number) => byte === 0x2e || (byte >= 0x30 && byte <= 0x39); // '.' or a digit
    while (end < data.length && end - at < 16 && isVersionChar(data[end])) end++;
    const [major, minor] = data
      .subarray(at + 6, end)
      .toString('latin1')
      .split('.')
      .map(Number);
    const isNewer = !best || major > best[0] || (major === best[0] && minor > best[1]);
    if (Number.isFinite(major) && Number.isFinite(minor) && isNewer) {
      best = [major, minor];
    }
  }
  return best;
}

function addonAbi(exports: readonly string[] | null): NodeAddonAbi | null {
  if (exports === null) return null;
  const legacy = exports.map((name) => /^node_register_module_v(\d+)$/.exec(name)?.[1]).find((v) => v !== undefined);
  const napi = exports.includes('napi_register_module_v1');
  return { napi, moduleVersion: legacy === undefined ? null : Number(legacy) };
}

/**
 * Names of the symbols the ELF's .dynsym defines (st_shndx != SHN_UNDEF), ELF32 or ELF64, either byte order.
 * Null when there is no section header table (a stripped-headers file) or it does not parse: nothing to tell.
 */
export function dynamicExports(data: Buffer): string[] | null {
  try {
    const is64 = data[4] === 2;
    const le = data[5] === 1;
    const u16 = (at: number) => (le ? data.readUInt16LE(at) : data.readUInt16BE(at));
    const u32 = (at: number) => (le ? data.readUInt32LE(at) : data.readUInt32BE(at));
    const word = (at: number) => (is64 ? Number(le ? data.readBigUInt64LE(at) : data.readBigUInt64BE(at)) : u32(at));
    const shoff = word(is64 ? 0x28 : 0x20);
    const shentsize = u16(is64 ? 0x3a : 0x2e);
    const shnum = u16(is64 ? 0x3c : 0x30);
    if (shoff === 0 || shnum === 0 || shoff + shnum * shentsize > data.length) return null;
    const section = (i: number) => {
      const at = shoff + i * shentsize;
      return {
        type: u32(at + 4),
        offset: word(at + (is64 ? 0x18 : 0x10)),
        size: word(at + (is64 ? 0x20 : 0x14)),
        link: u32(at + (is64 ? 0x28 : 0x18)),
        entsize: word(at + (is64 ? 0x38 : 0x24)),
      };
    };
    const names: string[] = [];
    for (let i = 0; i < shnum; i++) {
      const dynsym = section(i);
      if (dynsym.type !== SHT_DYNSYM || dynsym.link >= shnum) continue;
      const strtab = section(dynsym.link);
      const entsize = dynsym.entsize || (is64 ? 24 : 16);
      const end = Math.min(dynsym.offset + dynsym.size, data.length);
      for (let at = dynsym.offset + entsize; at + entsize <= end; at += entsize) {
        // entry 0 is the null symbol
        const shndx = u16(at + (is64 ? 6 : 14));
        const nameAt = strtab.offset + u32(at);
        if (shndx === 0 || nameAt >= strtab.offset + strtab.size || nameAt >= data.length) continue;
        const nul = data.indexOf(0, nameAt);
        names.push(data.subarray(nameAt, nul < 0 ? data.length : nul).toString('latin1'));
      }
    }
    return names;
  } catch {
    return null; // a truncated header: the machine and glibc checks still apply
  }
}
