// TAN WCS against astropy.wcs (wcslib): world → pixel and pixel → world for headers with CD, PC+CDELT and
// CROTA2, tangent points at RA 0 and near both poles, points on both sides of RA 0. Bound: 0.01 px
// (what the cutout issue asks for); the measured worst case is printed.

import { describe, expect, it } from 'vitest';
import { formatCard } from '../src/fits/header.js';
import { Header } from '../src/fits/header.js';
import { TanWcs } from '../src/wcs.js';
import { astropy, astropyPython } from './support/astropy.js';

const S = 0.263 / 3600;

function headers(): string[][] {
  const out: string[][] = [];
  const crvals: [number, number][] = [
    [0, -30],
    [359.95, 2],
    [0.02, 60],
    [123.4, 89.7],
    [250, -89.6],
    [180, 0],
  ];
  crvals.forEach(([ra, dec], k) => {
    const base = [
      formatCard('CTYPE1', 'RA---TAN'),
      formatCard('CTYPE2', 'DEC--TAN'),
      formatCard('CRPIX1', 1024.5 + k * 13.25),
      formatCard('CRPIX2', -300.75 + k * 101),
      formatCard('CRVAL1', ra),
      formatCard('CRVAL2', dec),
    ];
    const rho = 0.17 * k;
    if (k % 3 === 0) {
      out.push([
        ...base,
        formatCard('CD1_1', -S * Math.cos(rho)),
        formatCard('CD1_2', S * Math.sin(rho)),
        formatCard('CD2_1', S * Math.sin(rho)),
        formatCard('CD2_2', S * Math.cos(rho)),
      ]);
    } else if (k % 3 === 1) {
      out.push([
        ...base,
        formatCard('CDELT1', -S * 1.5),
        formatCard('CDELT2', S),
        formatCard('PC1_1', Math.cos(rho)),
        formatCard('PC1_2', -Math.sin(rho)),
        formatCard('PC2_1', Math.sin(rho)),
        formatCard('PC2_2', Math.cos(rho)),
      ]);
    } else {
      out.push([
        ...base,
        formatCard('CDELT1', -S),
        formatCard('CDELT2', S),
        formatCard('CROTA2', rho * 57.29577951308232),
      ]);
    }
  });
  return out;
}

describe('TAN WCS matches astropy.wcs', () => {
  it('world → pixel and pixel → world within 0.01 px for every header', { timeout: 120_000 }, () => {
    const python = astropyPython();
    let worstPix = 0;
    let worstWorld = 0;
    const cases = headers().map((cards) => {
      const w = TanWcs.fromHeader(new Header(cards), 'test');
      // Points spread over ±0.3° around the tangent point (crossing RA 0 where it is near).
      const world: [number, number][] = [];
      const pixels: [number, number][] = [];
      for (let i = 0; i < 60; i++) {
        const [ra, dec] = w.pixelToWorld(-2000 + ((i * 977) % 8000), -2000 + ((i * 613) % 8000));
        world.push([ra, dec]);
        pixels.push([-3000 + ((i * 1231) % 9000) + 0.37, -3000 + ((i * 787) % 9000) - 0.21]);
      }
      return { w, cards, world, pixels };
    });
    const results = astropy<{ pixels: [number, number][]; world: [number, number][] }[]>(python, 'wcs', {
      cases: cases.map(({ cards, world, pixels }) => ({ cards, world, pixels })),
    });
    cases.forEach(({ w, world, pixels }, k) => {
      const got = results[k]!;
      world.forEach(([ra, dec], i) => {
        const [x, y] = w.worldToPixel(ra, dec);
        const [ax, ay] = got.pixels[i]!;
        worstPix = Math.max(worstPix, Math.abs(x - ax), Math.abs(y - ay));
      });
      pixels.forEach(([x, y], i) => {
        // Compare the world point astropy gives by where it lands on our pixel grid (in pixels).
        const [ra, dec] = got.world[i]!;
        const [bx, by] = w.worldToPixel(ra, dec);
        worstWorld = Math.max(worstWorld, Math.abs(bx - x), Math.abs(by - y));
      });
    });
    console.log(
      `TAN vs astropy: worst world→pixel ${worstPix.toExponential(2)} px, pixel→world ${worstWorld.toExponential(2)} px`,
    );
    expect(worstPix).toBeLessThan(0.01);
    expect(worstWorld).toBeLessThan(0.01);
  });
});
