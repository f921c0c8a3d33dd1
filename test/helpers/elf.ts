/** Tiny native-binary headers for the audit tests: ELF (any machine, glibc needs, dynamic symbols), Mach-O and PE. */

/** ELF e_machine values the audit knows. */
export const EM = { X86: 3, ARM: 40, X86_64: 62, AARCH64: 183, RISCV: 243 } as const;

/** Options of a generated ELF shared object. */
export interface ElfOptions {
  readonly machine?: number; // e_machine, default x86_64
  readonly bigEndian?: boolean;
  readonly glibc?: readonly string[]; // e.g. ['2.2.5', '2.38']: written as GLIBC_x.y strings, as .dynstr holds them
  readonly padding?: number; // zero bytes before the strings (a real .dynstr is far from the header)
  /** Symbols .dynsym defines (e.g. napi_register_module_v1); with `imports`, adds a section header table. */
  readonly exports?: readonly string[];
  /** Symbols .dynsym references but does not define (st_shndx = SHN_UNDEF), e.g. napi_create_function. */
  readonly imports?: readonly string[];
}

/**
 * An ELF64 ET_DYN header for `machine`, followed by the GLIBC_ version strings it references. With exports/imports,
 * also a .dynstr and a .dynsym section (24-byte Elf64_Sym entries, entry 0 the null symbol) and the section headers
 * (null, .dynstr, .dynsym, .text: defined symbols point at .text) that find them, as a linker lays them out.
 */
export function makeElf(options: ElfOptions = {}): Buffer {
  const header = Buffer.alloc(64);
  const big = options.bigEndian === true;
  header.write('\x7fELF', 0, 'latin1');
  header[4] = 2; // ELFCLASS64
  header[5] = big ? 2 : 1; // data encoding
  header[6] = 1; // EV_CURRENT
  const u16 = (buf: Buffer, value: number, at: number) =>
    big ? buf.writeUInt16BE(value, at) : buf.writeUInt16LE(value, at);
  const u32 = (buf: Buffer, value: number, at: number) =>
    big ? buf.writeUInt32BE(value, at) : buf.writeUInt32LE(value, at);
  const u64 = (buf: Buffer, value: number, at: number) =>
    big ? buf.writeBigUInt64BE(BigInt(value), at) : buf.writeBigUInt64LE(BigInt(value), at);
  u16(header, 3, 16); // ET_DYN
  u16(header, options.machine ?? EM.X86_64, 18);
  u32(header, 1, 20);
  u16(header, 64, 52);
  const strings = (options.glibc ?? ['2.2.5', '2.14']).map((v) => `GLIBC_${v}`).join('\0');
  const body = Buffer.concat([
    header,
    Buffer.alloc(options.padding ?? 0),
    Buffer.from(`\0${strings}\0GLIBCXX_3.4\0`, 'latin1'),
  ]);
  if (options.exports === undefined && options.imports === undefined) return body;

  const symbols = [
    ...(options.exports ?? []).map((name) => ({ name, defined: true })),
    ...(options.imports ?? []).map((name) => ({ name, defined: false })),
  ];
  const names: number[] = [];
  let dynstrText = '\0';
  for (const symbol of symbols) {
    names.push(dynstrText.length);
    dynstrText += `${symbol.name}\0`;
  }
  const dynstr = Buffer.from(dynstrText, 'latin1');
  const dynsym = Buffer.alloc(24 * (symbols.length + 1));
  symbols.forEach((symbol, i) => {
    const at = 24 * (i + 1);
    u32(dynsym, names[i], at); // st_name
    dynsym[at + 4] = (1 << 4) | 2; // STB_GLOBAL, STT_FUNC
    u16(dynsym, symbol.defined ? 3 : 0, at + 6); // st_shndx: .text, or SHN_UNDEF
  });
  const dynstrAt = body.length;
  const dynsymAt = dynstrAt + dynstr.length;
  const shoff = dynsymAt + dynsym.length;
  const sections = Buffer.alloc(64 * 4);
  const section = (i: number, type: number, offset: number, size: number, link: number, entsize: number) => {
    const at = 64 * i;
    u32(sections, type, at + 4);
    u64(sections, offset, at + 0x18);
    u64(sections, size, at + 0x20);
    u32(sections, link, at + 0x28);
    u64(sections, entsize, at + 0x38);
  };
  section(1, 3, dynstrAt, dynstr.length, 0, 0); // SHT_STRTAB
  section(2, 11, dynsymAt, dynsym.length, 1, 24); // SHT_DYNSYM, linked to .dynstr
  section(3, 1, 0, 0, 0, 0); // SHT_PROGBITS (.text)
  u64(body, shoff, 0x28); // e_shoff
  u16(body, 64, 0x3a); // e_shentsize
  u16(body, 4, 0x3c); // e_shnum
  return Buffer.concat([body, dynstr, dynsym, sections]);
}

/** A 64-bit Mach-O header as it sits on disk on arm64/x86_64 Macs (magic 0xfeedfacf, little-endian: cf fa ed fe). */
export function makeMachO(options: { bigEndianMagic?: boolean; fat?: boolean } = {}): Buffer {
  const out = Buffer.alloc(64);
  if (options.fat)
    out.writeUInt32BE(0xcafebabe, 0); // universal binary
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
