// IEEE 754 half precision <-> float32, table driven (Node 20 has no Float16Array or Math.f16round).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> float16 bits, rounding to nearest even; overflow goes to infinity, NaN stays NaN. */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  return halfBitsOf(u32[0]);
}

/** float16 bits of a float32 given by its bit pattern (so whole arrays convert through a Uint32Array view). */
function halfBitsOf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // too small even for a subnormal
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // a carry out of the mantissa correctly bumps the exponent (and may give infinity)
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

/** Encodes float32 values as float16 bits, into `into` (at least as long) when given. */
export function floatToHalf(values: Float32Array, into?: Uint16Array): Uint16Array {
  const out = into ? into.subarray(0, values.length) : new Uint16Array(values.length);
  const bits = bitsOf(values);
  for (let index = 0; index < bits.length; index++) out[index] = halfBitsOf(bits[index]);
  return out;
}

/**
 * The float32 values TF.js decodes from `values` stored as float16, into `out` (at least as long; may be `values`
 * itself: each value is read before its slot is written).
 */
export function roundToHalf(values: Float32Array, out: Float32Array): Float32Array {
  table ??= buildTable();
  const target = out.subarray(0, values.length);
  const bits = bitsOf(values);
  for (let index = 0; index < bits.length; index++) target[index] = table[halfBitsOf(bits[index])];
  return target;
}

let table: Float32Array | undefined;

/** Decodes float16 bits to float32. */
export function halfToFloat(bits: Uint16Array): Float32Array {
  table ??= buildTable();
  const out = new Float32Array(bits.length);
  for (let index = 0; index < bits.length; index++) out[index] = table[bits[index]];
  return out;
}

function buildTable(): Float32Array {
  const out = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) out[bits] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) out[bits] = mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else out[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}
