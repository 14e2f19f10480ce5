import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { asinhRgb, luptonRgb, percentile, rgbPng } from './lupton.js';

describe('colour images', () => {
  it('PNG: width × height, RGB, FITS row 0 at the bottom', () => {
    // 3 × 2 image: bottom row (FITS row 0) red, top row blue.
    const rgb = Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255]);
    const png = PNG.sync.read(rgbPng(rgb, 3, 2));
    expect([png.width, png.height]).toEqual([3, 2]);
    expect(Array.from(png.data.subarray(0, 4))).toEqual([0, 0, 255, 255]); // top-left: blue
    expect(Array.from(png.data.subarray(12, 16))).toEqual([255, 0, 0, 255]); // bottom-left: red
  });

  it('lupton: black below the minimum, saturated colour keeps its hue, channels in r, g, b order', () => {
    const out = luptonRgb([0, 1e5, 10], [0, 0, 10], [0, 0, 10]);
    expect(Array.from(out.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(out.subarray(3, 6))).toEqual([255, 0, 0]);
    const grey = Array.from(out.subarray(6, 9));
    expect(grey[0]).toBe(grey[1]);
    expect(grey[1]).toBe(grey[2]);
    expect(grey[0]).toBeGreaterThan(0);
  });

  it('asinh: each band between its percentiles; NaN is black', () => {
    expect(percentile([1, 2, 3, 4, NaN], 0.5)).toBe(2.5);
    const band = Array.from({ length: 101 }, (_, i) => i);
    const out = asinhRgb([band, band, [...band.slice(0, 100), NaN]], 0, 100);
    expect(out[0]).toBe(0);
    expect(out[100 * 3]).toBe(255);
    expect(out[100 * 3 + 2]).toBe(0);
  });
});
