/**
 * Dominant colours of an image (in the spirit of colorgram): quantise a small thumbnail, group by nearest CSS colour
 * name.
 */
import { CSS_COLORS } from './css-colors.js';

/** One dominant colour: its nearest CSS name, the mean colour of its pixels, and its share of the image. */
export interface DominantColor {
  readonly name: string;
  readonly hex: string;
  readonly proportion: number;
}

type Lab = readonly [number, number, number];

/** sRGB (0-255) to CIELAB (D65): perceptual distances make "nearest name" match what people call the colour. */
export function rgbToLab(r: number, g: number, b: number): Lab {
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const x = (R * 0.4124 + G * 0.3576 + B * 0.1805) / 0.95047;
  const y = R * 0.2126 + G * 0.7152 + B * 0.0722;
  const z = (R * 0.0193 + G * 0.1192 + B * 0.9505) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const [fx, fy, fz] = [f(x), f(y), f(z)];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const CSS_LAB = CSS_COLORS.map((c) => ({ name: c.name, lab: rgbToLab(...c.rgb) }));

/** The CSS colour name nearest to an sRGB value (Euclidean distance in CIELAB, i.e. CIE76). */
export function nearestCssName(r: number, g: number, b: number): string {
  const [L, A, B] = rgbToLab(r, g, b);
  let best = CSS_LAB[0].name;
  let bestD = Infinity;
  for (const c of CSS_LAB) {
    const d = (c.lab[0] - L) ** 2 + (c.lab[1] - A) ** 2 + (c.lab[2] - B) ** 2;
    if (d < bestD) {
      bestD = d;
      best = c.name;
    }
  }
  return best;
}

const hex2 = (v: number) => Math.round(v).toString(16).padStart(2, '0');

/**
 * Dominant colours of raw interleaved RGB(A) pixels (a ~64x64 thumbnail is plenty).
 * Pixels are quantised to 5 bits per channel; each bin is named once; bins with the same name are merged,
 * so the result never lists the same name twice. Sorted by proportion, at most `count`.
 */
export function dominantColors(pixels: Uint8Array, channels: number, count: number): DominantColor[] {
  const bins = new Map<number, { n: number; r: number; g: number; b: number }>();
  const total = Math.floor(pixels.length / channels);
  for (let i = 0; i < total * channels; i += channels) {
    const r = pixels[i],
      g = pixels[i + 1],
      b = pixels[i + 2];
    const key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    const bin = bins.get(key);
    if (bin) {
      bin.n++;
      bin.r += r;
      bin.g += g;
      bin.b += b;
    } else bins.set(key, { n: 1, r, g, b });
  }
  const named = new Map<string, { n: number; r: number; g: number; b: number }>();
  for (const bin of bins.values()) {
    const name = nearestCssName(bin.r / bin.n, bin.g / bin.n, bin.b / bin.n);
    const acc = named.get(name) ?? { n: 0, r: 0, g: 0, b: 0 };
    acc.n += bin.n;
    acc.r += bin.r;
    acc.g += bin.g;
    acc.b += bin.b;
    named.set(name, acc);
  }
  return [...named.entries()]
    .sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1))
    .slice(0, Math.max(0, count))
    .map(([name, a]) => ({
      name,
      hex: `#${hex2(a.r / a.n)}${hex2(a.g / a.n)}${hex2(a.b / a.n)}`,
      proportion: a.n / total,
    }));
}
