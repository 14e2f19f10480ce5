// Colour images from three bands. `lupton` is the Lupton et al. (2004) scheme as astropy 8's
// make_lupton_rgb computes it: subtract `minimum`, intensity I = (r+g+b)/3, f(I) = asinh(I·Q/stretch) ·
// 0.1/asinh(0.1·Q), each band scaled by f(I)/I (0 where I ≤ 0) and clipped at 0, pixels whose largest
// band exceeds 1 scaled down by it, then ×255 truncated to 8 bits. `asinh` stretches each band on its own
// between two percentiles: y = asinh(x/a)/asinh(1/a) with a = 0.1 (astropy's AsinhStretch).
// Rows are flipped for PNG: FITS row 0 is the bottom of the image, PNG row 0 the top. A circle cutout's PNG
// is RGBA: alpha 0 (and black) outside the circle, 255 inside.

import { PNG } from 'pngjs';

export interface LuptonOptions {
  readonly minimum: number;
  readonly stretch: number;
  readonly Q: number;
}

/** DESaccess's defaults (minimum 1.0, stretch 50, Q 10). */
export const DES_LUPTON: LuptonOptions = { minimum: 1.0, stretch: 50, Q: 10 };

/** Interleaved RGB bytes, FITS row order (row 0 = bottom), as make_lupton_rgb returns them. */
export function luptonRgb(
  r: ArrayLike<number>,
  g: ArrayLike<number>,
  b: ArrayLike<number>,
  o: LuptonOptions = DES_LUPTON,
): Uint8Array {
  const n = r.length;
  if (g.length !== n || b.length !== n) throw new RangeError('lupton: the three images differ in size');
  let Q = o.Q;
  if (Math.abs(Q) < 2 ** -23) Q = 0.1;
  else if (Q > 1e10) Q = 1e10;
  const slope = 0.1 / Math.asinh(0.1 * Q);
  const soften = Q / o.stretch;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    // Float32 arithmetic where astropy's is float32 (the input images are float32).
    const x = [
      Math.fround((r[i] ?? 0) - o.minimum),
      Math.fround((g[i] ?? 0) - o.minimum),
      Math.fround((b[i] ?? 0) - o.minimum),
    ];
    const I = Math.fround(Math.fround(Math.fround(x[0]! + x[1]!) + x[2]!) / 3);
    const fI = Math.fround(Math.fround(Math.asinh(Math.fround(I * soften))) * slope);
    const norm = I <= 0 ? 0 : Math.fround(fI / I);
    let max = 0;
    for (let c = 0; c < 3; c++) {
      const v = Math.fround(x[c]! * norm);
      x[c] = v > 0 ? v : 0; // NaN becomes 0 here too
      if (x[c]! > max) max = x[c]!;
    }
    for (let c = 0; c < 3; c++) {
      const v = max > 1 ? Math.fround(x[c]! / max) : x[c]!;
      out[i * 3 + c] = Math.min(255, Math.trunc(Math.fround(v * 255)));
    }
  }
  return out;
}

/** The value at fraction p (0–1) of the sorted finite values, linear between neighbours (numpy's default). */
export function percentile(values: ArrayLike<number>, p: number): number {
  const v = Array.from(values)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const at = p * (v.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, v.length - 1);
  return (v[lo] ?? 0) + ((v[hi] ?? 0) - (v[lo] ?? 0)) * (at - lo);
}

/** Per-band asinh stretch between the `lower` and `upper` percentiles (in %). */
export function asinhRgb(
  bands: readonly [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>],
  lower = 0.5,
  upper = 99.5,
  a = 0.1,
): Uint8Array {
  const n = bands[0].length;
  const out = new Uint8Array(n * 3);
  bands.forEach((img, c) => {
    const lo = percentile(img, lower / 100);
    const hi = percentile(img, upper / 100);
    const span = hi - lo;
    for (let i = 0; i < n; i++) {
      const x = span > 0 ? Math.min(1, Math.max(0, ((img[i] ?? NaN) - lo) / span)) : 0;
      const y = Math.asinh(x / a) / Math.asinh(1 / a);
      out[i * 3 + c] = Number.isFinite(y) ? Math.min(255, Math.trunc(y * 255)) : 0;
    }
  });
  return out;
}

/**
 * An 8-bit PNG of interleaved RGB bytes in FITS row order (flipped so north-up images stay so): RGB, or RGBA
 * when `alpha` (one byte per pixel, FITS row order) is given — a circle cutout's outside is transparent.
 */
export function rgbPng(rgb: Uint8Array, width: number, height: number, alpha?: Uint8Array): Buffer {
  const channels = alpha === undefined ? 3 : 4;
  const colorType = alpha === undefined ? 2 : 6;
  const png = new PNG({
    width,
    height,
    colorType,
    inputColorType: colorType,
    inputHasAlpha: alpha !== undefined,
  });
  const data = Buffer.alloc(width * channels * height);
  for (let y = 0; y < height; y++) {
    const src = (height - 1 - y) * width;
    if (alpha === undefined) {
      data.set(rgb.subarray(src * 3, (src + width) * 3), y * width * 3);
      continue;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      data[o] = rgb[(src + x) * 3] ?? 0;
      data[o + 1] = rgb[(src + x) * 3 + 1] ?? 0;
      data[o + 2] = rgb[(src + x) * 3 + 2] ?? 0;
      data[o + 3] = alpha[src + x] ?? 0;
    }
  }
  png.data = data;
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: alpha !== undefined });
}
