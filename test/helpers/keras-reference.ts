// Test helper: an independent forward pass of a Keras model spec in plain JS (float64, no TF.js), written from
// Keras's documented semantics per layer class, so converted models can be checked against it.
import type { ModelSpec, SpecWeight } from './keras-writer.js';

type Json = Record<string, any>;

/** A dense array, batch first, row-major (channels last). */
export interface Nd {
  readonly shape: number[];
  readonly data: Float64Array;
}

const nd = (shape: number[], data?: ArrayLike<number>): Nd => ({
  shape,
  data: data ? Float64Array.from(data) : new Float64Array(size(shape)),
});
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const strides = (shape: readonly number[]) => {
  const out = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1] * shape[i + 1];
  return out;
};
const map = (x: Nd, fn: (v: number, i: number) => number): Nd => nd([...x.shape], Array.from(x.data, fn));
const f32 = Math.fround;

// ---------------------------------------------------------------- activations
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse; use a series / continued fraction to 1e-12
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    const t2 = t * t;
    for (let n = 1; n < 200; n++) {
      term *= -t2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large t
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

function softmaxLast(x: Nd, axis = -1): Nd {
  const out = nd([...x.shape]);
  const ax = axis < 0 ? x.shape.length + axis : axis;
  const st = strides(x.shape);
  const n = x.shape[ax];
  for (let base = 0; base < x.data.length; base++) {
    if (Math.floor(base / st[ax]) % n !== 0) continue;
    let max = -Infinity;
    for (let k = 0; k < n; k++) max = Math.max(max, x.data[base + k * st[ax]]);
    let sum = 0;
    for (let k = 0; k < n; k++) sum += Math.exp(x.data[base + k * st[ax]] - max);
    for (let k = 0; k < n; k++) out.data[base + k * st[ax]] = Math.exp(x.data[base + k * st[ax]] - max) / sum;
  }
  return out;
}

/** Keras activation by name; `major` picks Keras 2's or Keras 3's hard_sigmoid. */
export function activate(x: Nd, name: string | undefined, major: number): Nd {
  const hardSigmoid3 = (v: number) => Math.min(Math.max(v + 3, 0), 6) / 6;
  switch (name ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return map(x, (v) => Math.max(0, v));
    case 'relu6':
      return map(x, (v) => Math.min(Math.max(0, v), 6));
    case 'elu':
      return map(x, (v) => (v > 0 ? v : Math.exp(v) - 1));
    case 'selu':
      return map(x, (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1)));
    case 'sigmoid':
      return map(x, sigmoid);
    case 'tanh':
      return map(x, Math.tanh);
    case 'softplus':
      return map(x, (v) => Math.log1p(Math.exp(v)));
    case 'softsign':
      return map(x, (v) => v / (1 + Math.abs(v)));
    case 'swish':
    case 'silu':
      return map(x, (v) => v * sigmoid(v));
    case 'mish':
      return map(x, (v) => v * Math.tanh(Math.log1p(Math.exp(v))));
    case 'gelu':
      return map(x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    case 'hard_sigmoid':
      return map(x, major >= 3 ? hardSigmoid3 : (v) => Math.min(Math.max(0.2 * v + 0.5, 0), 1));
    case 'hard_silu':
    case 'hard_swish':
      return map(x, (v) => v * hardSigmoid3(v));
    case 'leaky_relu':
      return map(x, (v) => (v >= 0 ? v : 0.2 * v));
    case 'softmax':
      return softmaxLast(x);
    case 'log_softmax':
      return map(softmaxLast(x), Math.log);
    default:
      throw new Error(`reference: activation ${name}`);
  }
}

// ---------------------------------------------------------------- helpers on Nd
function at(x: Nd, index: number[]): number {
  const st = strides(x.shape);
  let offset = 0;
  for (let i = 0; i < index.length; i++) offset += index[i] * st[i];
  return x.data[offset];
}

/** Iterates every index of `shape`. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const index = new Array(shape.length).fill(0);
  if (shape.some((s) => s === 0)) return;
  for (let n = 0; n < size(shape); n++) {
    yield index;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

const tuple = (value: unknown, rank: number): number[] =>
  Array.isArray(value) ? value.map(Number) : new Array(rank).fill(Number(value ?? 1));

/** Output size and padding before for a conv/pool window (TF's 'valid'/'same'). */
function window(input: number, k: number, s: number, d: number, padding: string): { out: number; before: number } {
  const ek = (k - 1) * d + 1;
  if (padding === 'same') {
    const out = Math.ceil(input / s);
    const total = Math.max((out - 1) * s + ek - input, 0);
    return { out, before: Math.floor(total / 2) };
  }
  return { out: Math.floor((input - ek) / s) + 1, before: 0 };
}

function dense(x: Nd, kernel: Float64Array, units: number, bias?: Float64Array): Nd {
  const inner = x.shape[x.shape.length - 1];
  const rows = x.data.length / inner;
  const out = nd([...x.shape.slice(0, -1), units]);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < units; o++) {
      let sum = bias ? bias[o] : 0;
      for (let i = 0; i < inner; i++) sum += x.data[r * inner + i] * kernel[i * units + o];
      out.data[r * units + o] = sum;
    }
  return out;
}

/** N-d convolution, channels last; kernel [k..., cin, cout]. */
function conv(
  x: Nd,
  kernel: Float64Array,
  kshape: number[],
  stride: number[],
  dilation: number[],
  padding: string,
  bias?: Float64Array,
): Nd {
  const rank = kshape.length - 2;
  const spatial = x.shape.slice(1, 1 + rank);
  const cin = x.shape[x.shape.length - 1];
  const cout = kshape[kshape.length - 1];
  const wins = spatial.map((n, i) => window(n, kshape[i], stride[i], dilation[i], padding));
  const out = nd([x.shape[0], ...wins.map((w) => w.out), cout]);
  const xs = strides(x.shape);
  const ks = strides(kshape);
  const os = strides(out.shape);
  for (let b = 0; b < x.shape[0]; b++)
    for (const o of indices(wins.map((w) => w.out))) {
      for (let co = 0; co < cout; co++) {
        let sum = bias ? bias[co] : 0;
        for (const k of indices(kshape.slice(0, rank))) {
          let offset = b * xs[0];
          let inside = true;
          for (let d = 0; d < rank; d++) {
            const pos = o[d] * stride[d] + k[d] * dilation[d] - wins[d].before;
            if (pos < 0 || pos >= spatial[d]) {
              inside = false;
              break;
            }
            offset += pos * xs[d + 1];
          }
          if (!inside) continue;
          let kOffset = 0;
          for (let d = 0; d < rank; d++) kOffset += k[d] * ks[d];
          for (let ci = 0; ci < cin; ci++) sum += x.data[offset + ci] * kernel[kOffset + ci * ks[rank] + co];
        }
        let outOffset = b * os[0] + co;
        for (let d = 0; d < rank; d++) outOffset += o[d] * os[d + 1];
        out.data[outOffset] = sum;
      }
    }
  return out;
}

/** Transposed convolution; kernel [k..., cout, cin]. */
function convTranspose(
  x: Nd,
  kernel: Float64Array,
  kshape: number[],
  stride: number[],
  padding: string,
  bias?: Float64Array,
): Nd {
  const rank = kshape.length - 2;
  const spatial = x.shape.slice(1, 1 + rank);
  const cout = kshape[rank];
  const cin = kshape[rank + 1];
  const outSpatial = spatial.map((n, d) => (padding === 'same' ? n * stride[d] : (n - 1) * stride[d] + kshape[d]));
  const before = spatial.map((n, d) => (padding === 'same' ? Math.floor(Math.max(kshape[d] - stride[d], 0) / 2) : 0));
  const out = nd([x.shape[0], ...outSpatial, cout]);
  const os = strides(out.shape);
  const xs = strides(x.shape);
  const ks = strides(kshape);
  const windows = kshape.slice(0, rank);
  for (let b = 0; b < x.shape[0]; b++)
    for (const i of indices(spatial))
      for (const k of indices(windows)) {
        let outOffset = b * os[0];
        let inside = true;
        for (let d = 0; d < rank; d++) {
          const pos = i[d] * stride[d] + k[d] - before[d];
          if (pos < 0 || pos >= outSpatial[d]) {
            inside = false;
            break;
          }
          outOffset += pos * os[d + 1];
        }
        if (!inside) continue;
        let xOffset = b * xs[0];
        let kOffset = 0;
        for (let d = 0; d < rank; d++) {
          xOffset += i[d] * xs[d + 1];
          kOffset += k[d] * ks[d];
        }
        for (let co = 0; co < cout; co++)
          for (let ci = 0; ci < cin; ci++) {
            out.data[outOffset + co] += x.data[xOffset + ci] * kernel[kOffset + co * ks[rank] + ci];
          }
      }
  if (bias) for (let n = 0; n < out.data.length; n++) out.data[n] += bias[n % cout];
  return out;
}

function depthwise(
  x: Nd,
  kernel: Float64Array,
  kshape: number[],
  stride: number[],
  dilation: number[],
  padding: string,
): Nd {
  const [kh, kw, cin, mult] = kshape;
  const [, h, w] = x.shape;
  const wh = window(h, kh, stride[0], dilation[0], padding);
  const ww = window(w, kw, stride[1], dilation[1], padding);
  const out = nd([x.shape[0], wh.out, ww.out, cin * mult]);
  for (const [b, i, j, c, m] of indices([x.shape[0], wh.out, ww.out, cin, mult])) {
    let sum = 0;
    for (let a = 0; a < kh; a++)
      for (let e = 0; e < kw; e++) {
        const y = i * stride[0] + a * dilation[0] - wh.before;
        const z = j * stride[1] + e * dilation[1] - ww.before;
        if (y < 0 || y >= h || z < 0 || z >= w) continue;
        sum += x.data[((b * h + y) * w + z) * cin + c] * kernel[((a * kw + e) * cin + c) * mult + m];
      }
    out.data[((b * wh.out + i) * ww.out + j) * cin * mult + c * mult + m] = sum;
  }
  return out;
}

function pool(x: Nd, rank: number, kind: 'max' | 'avg', sizes: number[], stride: number[], padding: string): Nd {
  const spatial = x.shape.slice(1, 1 + rank);
  const c = x.shape[x.shape.length - 1];
  const wins = spatial.map((n, d) => window(n, sizes[d], stride[d], 1, padding));
  const out = nd([x.shape[0], ...wins.map((w) => w.out), c]);
  const xs = strides(x.shape);
  let n = 0;
  for (let b = 0; b < x.shape[0]; b++)
    for (const o of indices(wins.map((w) => w.out)))
      for (let ch = 0; ch < c; ch++) {
        let acc = kind === 'max' ? -Infinity : 0;
        let count = 0;
        for (const k of indices(sizes)) {
          let offset = b * xs[0] + ch;
          let inside = true;
          for (let d = 0; d < rank; d++) {
            const pos = o[d] * stride[d] + k[d] - wins[d].before;
            if (pos < 0 || pos >= spatial[d]) {
              inside = false;
              break;
            }
            offset += pos * xs[d + 1];
          }
          if (!inside) continue;
          acc = kind === 'max' ? Math.max(acc, x.data[offset]) : acc + x.data[offset];
          count++;
        }
        out.data[n++] = kind === 'max' ? acc : acc / count;
      }
  return out;
}

function globalPool(x: Nd, kind: 'max' | 'avg'): Nd {
  const c = x.shape[x.shape.length - 1];
  const per = x.data.length / x.shape[0] / c;
  const out = nd([x.shape[0], c]);
  for (let b = 0; b < x.shape[0]; b++)
    for (let ch = 0; ch < c; ch++) {
      let acc = kind === 'max' ? -Infinity : 0;
      for (let p = 0; p < per; p++) {
        const v = x.data[(b * per + p) * c + ch];
        acc = kind === 'max' ? Math.max(acc, v) : acc + v;
      }
      out.data[b * c + ch] = kind === 'max' ? acc : acc / per;
    }
  return out;
}

/** Half-pixel bilinear / nearest resize (tf.image.resize), optionally after smart_resize's centred crop. */
export function resize(x: Nd, height: number, width: number, interpolation: string, crop: boolean): Nd {
  let [batch, h, w, c] = x.shape;
  let top = 0;
  let left = 0;
  if (crop) {
    const ch = Math.max(1, Math.min(h, Math.trunc(f32(f32(w * height) / width))));
    const cw = Math.max(1, Math.min(w, Math.trunc(f32(f32(h * width) / height))));
    top = Math.trunc(f32(h - ch) / 2);
    left = Math.trunc(f32(w - cw) / 2);
    [h, w] = [ch, cw];
  }
  const src = (b: number, y: number, z: number, ch: number) =>
    x.data[((b * x.shape[1] + y + top) * x.shape[2] + z + left) * c + ch];
  const out = nd([batch, height, width, c]);
  const sy = h / height;
  const sx = w / width;
  for (const [b, i, j, ch] of indices([batch, height, width, c])) {
    let v: number;
    if (interpolation === 'nearest') {
      v = src(b, Math.min(Math.floor((i + 0.5) * sy), h - 1), Math.min(Math.floor((j + 0.5) * sx), w - 1), ch);
    } else {
      const fy = (i + 0.5) * sy - 0.5;
      const fx = (j + 0.5) * sx - 0.5;
      const y0 = Math.max(Math.floor(fy), 0);
      const y1 = Math.min(Math.ceil(fy), h - 1);
      const x0 = Math.max(Math.floor(fx), 0);
      const x1 = Math.min(Math.ceil(fx), w - 1);
      const dy = fy - Math.floor(fy);
      const dx = fx - Math.floor(fx);
      const topV = src(b, y0, x0, ch) + (src(b, y0, x1, ch) - src(b, y0, x0, ch)) * dx;
      const bottom = src(b, y1, x0, ch) + (src(b, y1, x1, ch) - src(b, y1, x0, ch)) * dx;
      v = topV + (bottom - topV) * dy;
    }
    out.data[((b * height + i) * width + j) * c + ch] = v;
  }
  return out;
}

function crop2d(x: Nd, top: number, bottom: number, left: number, right: number): Nd {
  const [b, h, w, c] = x.shape;
  const oh = h - top - bottom;
  const ow = w - left - right;
  const out = nd([b, oh, ow, c]);
  for (const [n, i, j, ch] of indices(out.shape)) {
    out.data[((n * oh + i) * ow + j) * c + ch] = at(x, [n, i + top, j + left, ch]);
  }
  return out;
}

function transpose(x: Nd, perm: number[]): Nd {
  const shape = perm.map((p) => x.shape[p]);
  const out = nd(shape);
  const xs = strides(x.shape);
  let n = 0;
  for (const index of indices(shape)) {
    let offset = 0;
    for (let d = 0; d < perm.length; d++) offset += index[d] * xs[perm[d]];
    out.data[n++] = x.data[offset];
  }
  return out;
}

/** Broadcasting elementwise op (shapes equal, or b broadcast along trailing axes). */
function elementwise(a: Nd, b: Nd | number | number[], fn: (x: number, y: number) => number): Nd {
  if (typeof b === 'number') return map(a, (v) => fn(v, b));
  if (Array.isArray(b)) return map(a, (v, i) => fn(v, b[i % b.length]));
  if (b.data.length === a.data.length) return map(a, (v, i) => fn(v, b.data[i]));
  return map(a, (v, i) => fn(v, b.data[i % b.data.length]));
}

// ---------------------------------------------------------------- recurrent
type Step = (x: Float64Array, state: Float64Array[]) => { out: Float64Array; state: Float64Array[] };
type Cell = { units: number; step: Step; init: () => Float64Array[] };

const matvec = (x: Float64Array, kernel: Float64Array, cols: number, offset = 0, width = cols): Float64Array => {
  const out = new Float64Array(width);
  for (let o = 0; o < width; o++) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * kernel[i * cols + offset + o];
    out[o] = s;
  }
  return out;
};
const act1 = (v: Float64Array, name: string, major: number) => activate(nd([v.length], v), name, major).data;

function makeCell(cls: string, cfg: Json, w: Float64Array[], major: number): Cell {
  const units = cfg.units as number;
  const a = cfg.activation ?? 'tanh';
  const ra = cfg.recurrent_activation ?? 'sigmoid';
  const useBias = cfg.use_bias !== false;
  if (cls === 'SimpleRNN' || cls === 'SimpleRNNCell') {
    const [k, rk, bias] = w;
    return {
      units,
      init: () => [new Float64Array(units)],
      step: (x, [h]) => {
        const z = matvec(x, k, units);
        const r = matvec(h, rk, units);
        const pre = z.map((v, i) => v + r[i] + (useBias ? bias[i] : 0));
        const out = act1(pre, a, major);
        return { out, state: [out] };
      },
    };
  }
  if (cls === 'LSTM' || cls === 'LSTMCell') {
    const [k, rk, bias] = w;
    const n4 = 4 * units;
    return {
      units,
      init: () => [new Float64Array(units), new Float64Array(units)],
      step: (x, [h, c]) => {
        const z = matvec(x, k, n4);
        const r = matvec(h, rk, n4);
        const g = z.map((v, i) => v + r[i] + (useBias ? bias[i] : 0));
        const gate = (part: number, name: string) => act1(g.slice(part * units, (part + 1) * units), name, major);
        const i = gate(0, ra);
        const f = gate(1, ra);
        const cc = gate(2, a);
        const o = gate(3, ra);
        const c2 = c.map((v, j) => f[j] * v + i[j] * cc[j]);
        const h2 = act1(c2, a, major).map((v, j) => o[j] * v);
        return { out: h2, state: [h2, c2] };
      },
    };
  }
  if (cls === 'GRU' || cls === 'GRUCell') {
    const [k, rk, bias] = w;
    const n3 = 3 * units;
    const resetAfter = cfg.reset_after !== false;
    return {
      units,
      init: () => [new Float64Array(units)],
      step: (x, [h]) => {
        const bIn = useBias ? (resetAfter ? bias.slice(0, n3) : bias) : new Float64Array(n3);
        const bRec = useBias && resetAfter ? bias.slice(n3) : new Float64Array(n3);
        const xz = matvec(x, k, n3).map((v, i) => v + bIn[i]);
        let hh: Float64Array;
        const rec = matvec(h, rk, n3, 0, 2 * units).map((v, i) => v + bRec[i]);
        const z = act1(
          xz.slice(0, units).map((v, i) => v + rec[i]),
          ra,
          major,
        );
        const r = act1(
          xz.slice(units, 2 * units).map((v, i) => v + rec[units + i]),
          ra,
          major,
        );
        if (resetAfter) {
          const rh = matvec(h, rk, n3, 2 * units, units).map((v, i) => v + bRec[2 * units + i]);
          hh = act1(
            xz.slice(2 * units).map((v, i) => v + r[i] * rh[i]),
            a,
            major,
          );
        } else {
          const rh = matvec(
            h.map((v, i) => v * r[i]),
            rk,
            n3,
            2 * units,
            units,
          );
          hh = act1(
            xz.slice(2 * units).map((v, i) => v + rh[i]),
            a,
            major,
          );
        }
        const out = h.map((v, i) => z[i] * v + (1 - z[i]) * hh[i]);
        return { out, state: [out] };
      },
    };
  }
  throw new Error(`reference: cell ${cls}`);
}

function runRnn(x: Nd, cell: Cell, cfg: Json): Nd {
  const [batch, steps, features] = x.shape;
  const seq = cfg.return_sequences === true;
  const out = nd(seq ? [batch, steps, cell.units] : [batch, cell.units]);
  for (let b = 0; b < batch; b++) {
    let state = cell.init();
    for (let s = 0; s < steps; s++) {
      const t = cfg.go_backwards ? steps - 1 - s : s;
      const input = x.data.slice((b * steps + t) * features, (b * steps + t + 1) * features);
      const result = cell.step(input, state);
      state = result.state;
      if (seq) out.data.set(result.out, (b * steps + s) * cell.units);
      else if (s === steps - 1) out.data.set(result.out, b * cell.units);
    }
  }
  return out;
}

function stacked(cells: Cell[]): Cell {
  return {
    units: cells[cells.length - 1].units,
    init: () => cells.flatMap((cell) => cell.init()),
    step: (x, state) => {
      let input = x;
      const next: Float64Array[] = [];
      let offset = 0;
      for (const cell of cells) {
        const n = cell.init().length;
        const result = cell.step(input, state.slice(offset, offset + n));
        next.push(...result.state);
        input = result.out;
        offset += n;
      }
      return { out: input, state: next };
    },
  };
}

function convLstm(x: Nd, cfg: Json, w: Float64Array[], wshape: number[][], major: number): Nd {
  const [batch, steps, h, wd, cin] = x.shape;
  const f = cfg.filters as number;
  const [k, rk, bias] = w;
  const kshape = wshape[0];
  const rshape = wshape[1];
  const stride = tuple(cfg.strides, 2);
  const dil = tuple(cfg.dilation_rate, 2);
  const padding = cfg.padding ?? 'valid';
  const a = cfg.activation ?? 'tanh';
  const ra = cfg.recurrent_activation ?? 'hard_sigmoid';
  let outH = 0;
  let outW = 0;
  let seqOut: Nd | undefined;
  const outs: Nd[] = [];
  for (let b = 0; b < batch; b++) {
    let hState: Nd | undefined;
    let cState: Nd | undefined;
    for (let t = 0; t < steps; t++) {
      const frameSize = h * wd * cin;
      const frame = nd([1, h, wd, cin], x.data.slice((b * steps + t) * frameSize, (b * steps + t + 1) * frameSize));
      const zx = conv(frame, k, kshape, stride, dil, padding, cfg.use_bias === false ? undefined : bias);
      [outH, outW] = [zx.shape[1], zx.shape[2]];
      hState ??= nd([1, outH, outW, f]);
      cState ??= nd([1, outH, outW, f]);
      const zh = conv(hState, rk, rshape, [1, 1], [1, 1], 'same');
      const g = map(zx, (v, i) => v + zh.data[i]);
      const gate = (p: number) =>
        Array.from({ length: outH * outW * f }, (_, i) => g.data[Math.floor(i / f) * 4 * f + p * f + (i % f)]);
      const part = (p: number, name: string) => activate(nd([1, outH, outW, f], gate(p)), name, major);
      const ig = part(0, ra);
      const fg = part(1, ra);
      const cc = part(2, a);
      const og = part(3, ra);
      cState = map(cState, (v, i) => fg.data[i] * v + ig.data[i] * cc.data[i]);
      const ac = activate(cState, a, major);
      hState = map(ac, (v, i) => og.data[i] * v);
      if (cfg.return_sequences) outs.push(hState);
    }
    if (!cfg.return_sequences) outs.push(hState!);
  }
  const per = outH * outW * f;
  seqOut = nd(cfg.return_sequences ? [batch, steps, outH, outW, f] : [batch, outH, outW, f]);
  outs.forEach((o, i) => seqOut!.data.set(o.data, i * per));
  return seqOut;
}

// ---------------------------------------------------------------- layers
function depthwiseOf(x: Nd, cfg: Json, kernel: Float64Array, weight: SpecWeight): Nd {
  const [stride, dilation] = [tuple(cfg.strides, 2), tuple(cfg.dilation_rate, 2)];
  return depthwise(x, kernel, [...weight.shape], stride, dilation, cfg.padding ?? 'valid');
}

/** Runs one layer of class `cls` (Keras 2 style config) on its inputs; `w` are its weights in save order. */
function runLayer(cls: string, cfg: Json, inputs: Nd[], w: SpecWeight[], major: number, kwargs: Json): Nd {
  const x = inputs[0];
  const values = w.map((weight) => Float64Array.from(weight.values as ArrayLike<number>));
  const act = (y: Nd) => activate(y, cfg.activation, major);
  const bias = (index: number) => (cfg.use_bias === false ? undefined : values[index]);
  switch (cls) {
    case 'InputLayer':
      return x;
    case 'Dense':
      return act(dense(x, values[0], cfg.units, bias(1)));
    case 'Activation':
      return act(x);
    case 'Embedding': {
      const dim = w[0].shape[1];
      const out = nd([...x.shape, dim]);
      x.data.forEach((v, i) => out.data.set(values[0].slice(v * dim, (v + 1) * dim), i * dim));
      return out;
    }
    case 'Masking': {
      const c = x.shape[x.shape.length - 1];
      const mv = cfg.mask_value ?? 0;
      return map(x, (v, i) => {
        const row = Math.floor(i / c) * c;
        let keep = false;
        for (let k = 0; k < c; k++) if (x.data[row + k] !== mv) keep = true;
        return keep ? v : 0;
      });
    }
    case 'Flatten':
      return nd([x.shape[0], x.data.length / x.shape[0]], x.data);
    case 'Reshape':
      return nd([x.shape[0], ...cfg.target_shape], x.data);
    case 'Permute':
      return transpose(x, [0, ...cfg.dims]);
    case 'RepeatVector': {
      const [b, n] = x.shape;
      const out = nd([b, cfg.n, n]);
      for (let i = 0; i < b; i++)
        for (let r = 0; r < cfg.n; r++) {
          out.data.set(x.data.slice(i * n, (i + 1) * n), (i * cfg.n + r) * n);
        }
      return out;
    }
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D': {
      const rank = Number(cls[4]);
      const [stride, dilation] = [tuple(cfg.strides, rank), tuple(cfg.dilation_rate, rank)];
      return act(conv(x, values[0], [...w[0].shape], stride, dilation, cfg.padding ?? 'valid', bias(1)));
    }
    case 'Conv2DTranspose':
    case 'Conv3DTranspose': {
      const rank = Number(cls[4]);
      const stride = tuple(cfg.strides, rank);
      return act(convTranspose(x, values[0], [...w[0].shape], stride, cfg.padding ?? 'valid', bias(1)));
    }
    case 'DepthwiseConv2D': {
      const y = depthwiseOf(x, cfg, values[0], w[0]);
      const b = bias(1);
      return act(b ? map(y, (v, i) => v + b[i % b.length]) : y);
    }
    case 'SeparableConv2D': {
      const y = depthwiseOf(x, cfg, values[0], w[0]);
      return act(conv(y, values[1], [...w[1].shape], [1, 1], [1, 1], 'valid', bias(2)));
    }
    case 'MaxPooling1D':
    case 'MaxPooling2D':
    case 'MaxPooling3D':
    case 'AveragePooling1D':
    case 'AveragePooling2D':
    case 'AveragePooling3D': {
      const rank = Number(cls[cls.length - 2]);
      const sizes = tuple(cfg.pool_size, rank);
      const kind = cls.startsWith('Max') ? 'max' : 'avg';
      return pool(x, rank, kind, sizes, tuple(cfg.strides ?? sizes, rank), cfg.padding ?? 'valid');
    }
    case 'GlobalMaxPooling1D':
    case 'GlobalMaxPooling2D':
      return globalPool(x, 'max');
    case 'GlobalAveragePooling1D':
    case 'GlobalAveragePooling2D':
      return globalPool(x, 'avg');
    case 'Cropping2D': {
      const [[t, b], [l, r]] = cfg.cropping;
      return crop2d(x, t, b, l, r);
    }
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = cfg.padding;
      const [n, h, wd, c] = x.shape;
      const out = nd([n, h + t + b, wd + l + r, c]);
      for (const [i, y, z, ch] of indices(x.shape)) {
        out.data[((i * (h + t + b) + y + t) * (wd + l + r) + z + l) * c + ch] = at(x, [i, y, z, ch]);
      }
      return out;
    }
    case 'UpSampling2D': {
      const [sy, sx] = tuple(cfg.size, 2);
      const [n, h, wd] = x.shape;
      if (cfg.interpolation === 'bilinear') return resize(x, h * sy, wd * sx, 'bilinear', false);
      const out = nd([n, h * sy, wd * sx, x.shape[3]]);
      for (const [i, y, z, ch] of indices(out.shape)) {
        const source = at(x, [i, Math.floor(y / sy), Math.floor(z / sx), ch]);
        out.data[((i * h * sy + y) * wd * sx + z) * x.shape[3] + ch] = source;
      }
      return out;
    }
    case 'BatchNormalization': {
      const c = x.shape[x.shape.length - 1];
      let k = 0;
      const gamma = cfg.scale === false ? undefined : values[k++];
      const beta = cfg.center === false ? undefined : values[k++];
      const mean = values[k++];
      const variance = values[k++];
      const eps = cfg.epsilon ?? 1e-3;
      return map(x, (v, i) => {
        const ch = i % c;
        return ((v - mean[ch]) / Math.sqrt(variance[ch] + eps)) * (gamma ? gamma[ch] : 1) + (beta ? beta[ch] : 0);
      });
    }
    case 'LayerNormalization': {
      const c = x.shape[x.shape.length - 1];
      const [gamma, beta] = values;
      const eps = cfg.epsilon ?? 1e-3;
      const out = nd([...x.shape]);
      for (let r = 0; r < x.data.length / c; r++) {
        const row = x.data.slice(r * c, (r + 1) * c);
        const mean = row.reduce((s, v) => s + v, 0) / c;
        const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / c;
        for (let i = 0; i < c; i++) {
          out.data[r * c + i] = ((row[i] - mean) / Math.sqrt(variance + eps)) * gamma[i] + beta[i];
        }
      }
      return out;
    }
    case 'ReLU':
      return map(x, (v) => Math.min(Math.max(v, 0), cfg.max_value ?? Infinity));
    case 'LeakyReLU':
      return map(x, (v) => (v >= 0 ? v : (cfg.alpha ?? 0.3) * v));
    case 'PReLU':
      return map(x, (v, i) => (v >= 0 ? v : values[0][i % values[0].length] * v));
    case 'ELU':
      return map(x, (v) => (v > 0 ? v : (cfg.alpha ?? 1) * (Math.exp(v) - 1)));
    case 'ThresholdedReLU':
      return map(x, (v) => (v > (cfg.theta ?? 1) ? v : 0));
    case 'Softmax':
      return softmaxLast(x, Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1));
    case 'Add':
      return inputs.slice(1).reduce((s, y) => elementwise(s, y, (p, q) => p + q), x);
    case 'Subtract':
      return elementwise(x, inputs[1], (p, q) => p - q);
    case 'Multiply':
      return inputs.slice(1).reduce((s, y) => elementwise(s, y, (p, q) => p * q), x);
    case 'Average': {
      const sum = inputs.slice(1).reduce((s, y) => elementwise(s, y, (p, q) => p + q), x);
      return map(sum, (v) => v / inputs.length);
    }
    case 'Maximum':
      return inputs.slice(1).reduce((s, y) => elementwise(s, y, Math.max), x);
    case 'Minimum':
      return inputs.slice(1).reduce((s, y) => elementwise(s, y, Math.min), x);
    case 'Concatenate': {
      const axis = (cfg.axis ?? -1) < 0 ? x.shape.length + (cfg.axis ?? -1) : cfg.axis;
      const shape = [...x.shape];
      shape[axis] = inputs.reduce((s, y) => s + y.shape[axis], 0);
      const out = nd(shape);
      const outer = size(shape.slice(0, axis));
      let offset = 0;
      for (let o = 0; o < outer; o++)
        for (const y of inputs) {
          const chunk = size(y.shape.slice(axis));
          out.data.set(y.data.slice(o * chunk, (o + 1) * chunk), offset);
          offset += chunk;
        }
      return out;
    }
    case 'Dot': {
      const [a, b] = inputs;
      const n = a.shape[1];
      const out = nd([a.shape[0], 1]);
      for (let i = 0; i < a.shape[0]; i++) {
        let s = 0;
        let na = 0;
        let nb = 0;
        for (let k = 0; k < n; k++) {
          s += a.data[i * n + k] * b.data[i * n + k];
          na += a.data[i * n + k] ** 2;
          nb += b.data[i * n + k] ** 2;
        }
        out.data[i] = cfg.normalize ? s / Math.max(Math.sqrt(na), 1e-12) / Math.max(Math.sqrt(nb), 1e-12) : s;
      }
      return out;
    }
    case 'SimpleRNN':
    case 'LSTM':
    case 'GRU':
      return runRnn(x, makeCell(cls, cfg, values, major), cfg);
    case 'RNN': {
      const cellCfg = cfg.cell as Json;
      if (cellCfg.class_name === 'StackedRNNCells') {
        let offset = 0;
        const cells = (cellCfg.config.cells as Json[]).map((cell) => {
          offset += 3;
          return makeCell(cell.class_name, cell.config, values.slice(offset - 3, offset), major);
        });
        return runRnn(x, stacked(cells), cfg);
      }
      return runRnn(x, makeCell(cellCfg.class_name, cellCfg.config, values, major), cfg);
    }
    case 'ConvLSTM2D':
      return convLstm(
        x,
        cfg,
        values,
        w.map((weight) => [...weight.shape]),
        major,
      );
    case 'Bidirectional': {
      const inner = cfg.layer as Json;
      const half = values.length / 2;
      const fwd = runRnn(x, makeCell(inner.class_name, inner.config, values.slice(0, half), major), inner.config);
      const backward = makeCell(inner.class_name, inner.config, values.slice(half), major);
      const bwdRaw = runRnn(x, backward, { ...inner.config, go_backwards: !inner.config.go_backwards });
      let bwd = bwdRaw;
      if (inner.config.return_sequences) {
        const [b, s, u] = bwdRaw.shape;
        bwd = nd([b, s, u]);
        for (let i = 0; i < b; i++)
          for (let t = 0; t < s; t++) {
            bwd.data.set(bwdRaw.data.slice((i * s + s - 1 - t) * u, (i * s + s - t) * u), (i * s + t) * u);
          }
      }
      return runLayer('Concatenate', { axis: -1 }, [fwd, bwd], [], major, {});
    }
    case 'TimeDistributed': {
      const inner = cfg.layer as Json;
      const [b, s] = x.shape;
      const per = size(x.shape.slice(2));
      const frame = (i: number) => nd([1, ...x.shape.slice(2)], x.data.slice(i * per, (i + 1) * per));
      const frames = Array.from({ length: b * s }, (_, i) =>
        runLayer(inner.class_name, inner.config, [frame(i)], w, major, {}),
      );
      const out = nd([b, s, ...frames[0].shape.slice(1)]);
      frames.forEach((frame, i) => out.data.set(frame.data, i * frame.data.length));
      return out;
    }
    case 'Rescaling':
      return elementwise(
        elementwise(x, cfg.scale, (p, q) => p * q),
        cfg.offset ?? 0,
        (p, q) => p + q,
      );
    case 'CategoryEncoding': {
      const tokens = cfg.num_tokens as number;
      const mode = cfg.output_mode ?? 'multi_hot';
      const rows = x.shape.length === 1 ? x.data.length : x.shape[0];
      const per = x.data.length / rows;
      const out = nd([rows, tokens]);
      for (let r = 0; r < rows; r++)
        for (let k = 0; k < per; k++) {
          const t = x.data[r * per + k];
          out.data[r * tokens + t] = mode === 'count' ? out.data[r * tokens + t] + 1 : 1;
        }
      return out;
    }
    case 'Normalization': {
      const mean = cfg.mean != null ? ([cfg.mean].flat(9) as number[]) : Array.from(values[0]);
      const variance = cfg.variance != null ? ([cfg.variance].flat(9) as number[]) : Array.from(values[1]);
      const s = (i: number) => Math.max(Math.sqrt(variance[i % variance.length]), 1e-7);
      return map(x, (v, i) => (cfg.invert ? mean[i % mean.length] + v * s(i) : (v - mean[i % mean.length]) / s(i)));
    }
    case 'CenterCrop': {
      const [, h, wd] = x.shape;
      if (h < cfg.height || wd < cfg.width) return resize(x, cfg.height, cfg.width, 'bilinear', true);
      const top = Math.trunc((h - cfg.height) / 2);
      const left = Math.trunc((wd - cfg.width) / 2);
      return crop2d(x, top, h - cfg.height - top, left, wd - cfg.width - left);
    }
    case 'Resizing':
      return resize(x, cfg.height, cfg.width, cfg.interpolation ?? 'bilinear', cfg.crop_to_aspect_ratio === true);
    case 'RandomCrop':
      return major >= 3 ? x : resize(x, cfg.height, cfg.width, 'bilinear', true);
    case 'TFOpLambda':
    case 'ops.Add':
    case 'ops.Subtract':
    case 'ops.Multiply':
    case 'ops.TrueDivide':
    case 'ops.Divide': {
      const fn = cls === 'TFOpLambda' ? String(cfg.function) : cls;
      const other = fn === 'nn.bias_add' ? kwargs.bias : kwargs.y;
      const [a, b] = kwargs.constantFirst === undefined ? [x, other] : [kwargs.constantFirst, x];
      type Op = (p: number, q: number) => number;
      const op: Op = /add/i.test(fn)
        ? (p, q) => p + q
        : /subtract/i.test(fn)
          ? (p, q) => p - q
          : /multiply/i.test(fn)
            ? (p, q) => p * q
            : (p, q) => p / q;
      if (typeof a === 'number' || Array.isArray(a)) return elementwise(b as Nd, a, (p, q) => op(q, p));
      return elementwise(a as Nd, b as Nd | number, op);
    }
    case 'SlicingOpLambda': {
      const c = x.shape[x.shape.length - 1];
      return map(x, (_, i) => x.data[i - (i % c) + (c - 1 - (i % c))]);
    }
    default:
      throw new Error(`reference: no forward pass for ${cls}`);
  }
}

/** Classes that are identities at inference (for these references: Keras's training=False). */
const IDENTITIES = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'AlphaDropout',
  'GaussianDropout',
  'GaussianNoise',
  'ActivityRegularization',
  'Identity',
  'RandomFlip',
  'RandomRotation',
  'RandomZoom',
  'RandomContrast',
  'RandomTranslation',
  'RandomBrightness',
  'RandomHeight',
  'RandomWidth',
  'RandomColorDegeneration',
  'RandomColorJitter',
  'RandomElasticTransform',
  'RandomErasing',
  'RandomGaussianBlur',
  'RandomGrayscale',
  'RandomHue',
  'RandomInvert',
  'RandomPerspective',
  'RandomPosterization',
  'RandomSaturation',
  'RandomSharpness',
  'RandomShear',
  'AugMix',
  'CutMix',
  'MixUp',
  'RandAugment',
]);

const layerList = (entry: Json): Json[] => (Array.isArray(entry.config) ? entry.config : entry.config.layers);
const nameOf = (entry: Json): string => entry.config?.name ?? entry.name;

/** Runs a model entry (Sequential or Functional, nested ones included) on its inputs. */
function runModel(entry: Json, inputs: Nd[], spec: ModelSpec, prefix: string[], major: number): Nd[] {
  const layers = layerList(entry);
  const weightsOf = (name: string) => spec.weights[[...prefix, name].join('/')] ?? [];
  const call = (layer: Json, xs: Nd[], kwargs: Json = {}): Nd => {
    const name = nameOf(layer);
    if (MODELS.includes(layer.class_name)) return runModel(layer, xs, spec, [...prefix, name], major)[0];
    if (IDENTITIES.has(layer.class_name)) return xs[0];
    return runLayer(layer.class_name, layer.config, xs, [...weightsOf(name)], major, kwargs);
  };
  if (entry.class_name === 'Sequential') {
    let x = inputs[0];
    for (const layer of layers) x = call(layer, [x]);
    return [x];
  }
  const outputs = new Map<string, Nd[]>(); // layer name -> outputs per node
  const inputNames: string[] = (entry.config.input_layers as unknown[][]).map((ref) => String(ref[0]));
  // nested models have an inner node 0 in Keras 2 configs, so their calls are nodes 1, 2, ...
  const get = (ref: unknown[]) => {
    const name = String(ref[0]);
    return outputs.get(name)![Number(ref[1]) - (isModel(layers, name) ? 1 : 0)];
  };
  for (const layer of layers) {
    const name = nameOf(layer);
    if (layer.class_name === 'InputLayer') {
      outputs.set(name, [inputs[inputNames.indexOf(name)]]);
      continue;
    }
    const results: Nd[] = [];
    for (const node of layer.inbound_nodes as unknown[][][]) {
      const kwargs = { ...((node[0][3] as Json) ?? {}) };
      if (node[0][0] === '_CONSTANT_VALUE') {
        kwargs.constantFirst = node[0][2];
        results.push(call(layer, [get(kwargs.y as unknown[])], kwargs));
        continue;
      }
      if (Array.isArray(kwargs.y) && typeof kwargs.y[0] === 'string') kwargs.y = get(kwargs.y);
      results.push(call(layer, node.map(get), kwargs));
    }
    outputs.set(name, results);
  }
  return (entry.config.output_layers as unknown[][]).map(get);
}

const MODELS = ['Sequential', 'Model', 'Functional'];
const isModel = (layers: Json[], name: string) =>
  layers.some((layer) => nameOf(layer) === name && MODELS.includes(layer.class_name));

/** The reference outputs of a model spec for the given inputs (Keras `major` decides hard_sigmoid and RandomCrop). */
export function referenceForward(spec: ModelSpec, inputs: Nd[], major: number): Nd[] {
  return runModel(spec.config, inputs, spec, [], major);
}

export { nd };
