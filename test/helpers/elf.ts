/** Tiny native-binary headers for the audit tests: ELF (any machine, glibc needs), Mach-O and PE. */

/** ELF e_machine values the audit knows. */
export const EM = { X86: 3, ARM: 40, X86_64: 62, AARCH64: 183, RISCV: 243 } as const;

/** Options of a generated ELF shared object. */
export interface ElfOptions {
  readonly machine?: number; // e_machine, default x86_64
  readonly bigEndian?: boolean;
  readonly glibc?: readonly string[]; // e.g. ['2.2.5', '2.38']: written as GLIBC_x.y strings, as .dynstr holds them
  readonly padding?: number; // zero bytes before the strings (a real .dynstr is far from the header)
}

/** An ELF64 ET_DYN header for `machine`, followed by the GLIBC_ version strings it references. */
export function makeElf(options: ElfOptions = {}): Buffer {
  const header = Buffer.alloc(64);
  const big = options.bigEndian === true;
  header.write('\x7fELF', 0, 'latin1');
  header[4] = 2; // ELFCLASS64
  header[5] = big ? 2 : 1; // data encoding
  header[6] = 1; // EV_CURRENT
  const u16 = (value: number, at: number) => (big ? header.writeUInt16BE(value, at) : header.writeUInt16LE(value, at));
  u16(3, 16); // ET_DYN
  u16(options.machine ?? EM.X86_64, 18);
  if (big) header.writeUInt32BE(1, 20);
  else header.writeUInt32LE(1, 20);
  u16(64, 52);
  const strings = (options.glibc ?? ['2.2.5', '2.14']).map((v) => `GLIBC_${v}`).join('\0');
  return Buffer.concat([header, Buffer.alloc(options.padding ?? 0), Buffer.from(`\0${strings}\0GLIBCXX_3.4\0`, 'latin1')]);
}

/** A 64-bit Mach-O header as it sits on disk on arm64/x86_64 Macs (magic 0xfeedfacf, little-endian: cf fa ed fe). */
export function makeMachO(options: { bigEndianMagic?: boolean; fat?: boolean } = {}): Buffer {
  const out = Buffer.alloc(64);
  if (options.fat) out.writeUInt32BE(0xcafebabe, 0); // universal binary
  else if (options.bigEndianMagic) out.writeUInt32BE(0xfeedfacf, 0);
  else out.writeUInt32LE(0xfeedfacf, 0);
  out.writeUInt32LE(0x0100000c, 4); // CPU_TYPE_ARM64
  out.writeUInt32LE(6, 12); // MH_DYLIB
  return out;
}

/** A DOS/PE header: 'MZ', e_lfanew at 0x3c pointing at 'PE\0\0' with machine AMD64. */
export function makePe(): Buffer {
  const out = Buffer.alloc(0x80 + 24);
  out.write('MZ', 0, 'latin1');
  out.writeUInt32LE(0x80, 0x3c);
  out.write('PE\0\0', 0x80, 'latin1');
  out.writeUInt16LE(0x8664, 0x84);
  return out;
}
