import { describe, expect, it } from 'vitest';
import { formatCard, Header } from './fits/header.js';
import { normRa, TanWcs } from './wcs.js';

const S = 0.263 / 3600;

describe('TAN WCS', () => {
  it('the reference pixel maps to CRVAL and back, also across RA 0', () => {
    for (const crval of [
      [0, -30],
      [359.9999, 10],
      [180, 89.9],
      [45, -89.5],
    ] as const) {
      const w = new TanWcs([100.5, 200.25], crval, [-S, 0, 0, S]);
      const [ra, dec] = w.pixelToWorld(99.5, 199.25);
      expect(Math.abs(((ra - crval[0] + 540) % 360) - 180)).toBeLessThan(1e-10);
      expect(dec).toBeCloseTo(crval[1], 10);
      const [x, y] = w.worldToPixel(crval[0], crval[1]);
      expect(x).toBeCloseTo(99.5, 8);
      expect(y).toBeCloseTo(199.25, 8);
    }
  });

  it('pixel → world → pixel round-trips to 1e-8 px over a 4000-px field with rotation and a flip', () => {
    const th = 0.3;
    const w = new TanWcs(
      [2000, 2000],
      [0.01, -45],
      [-S * Math.cos(th), S * Math.sin(th), S * Math.sin(th), S * Math.cos(th)],
    );
    for (let x = -500; x <= 4500; x += 250) {
      for (let y = -500; y <= 4500; y += 250) {
        const [ra, dec] = w.pixelToWorld(x, y);
        expect(ra).toBeGreaterThanOrEqual(0);
        expect(ra).toBeLessThan(360);
        const [px, py] = w.worldToPixel(ra, dec);
        expect(Math.abs(px - x)).toBeLessThan(1e-8);
        expect(Math.abs(py - y)).toBeLessThan(1e-8);
      }
    }
  });

  it('east is left: RA grows towards smaller x with a negative CD1_1', () => {
    const w = new TanWcs([1, 1], [10, 0], [-S, 0, 0, S]);
    expect(w.pixelToWorld(-10, 0)[0]).toBeGreaterThan(10);
    expect(w.worldToPixel(190, 0)).toEqual([NaN, NaN]); // the far hemisphere has no TAN pixel
  });

  it('reads CD, PC+CDELT and CROTA2 headers to the same matrix', () => {
    const base = [
      formatCard('CTYPE1', 'RA---TAN'),
      formatCard('CTYPE2', 'DEC--TAN'),
      formatCard('CRPIX1', 1),
      formatCard('CRPIX2', 1),
      formatCard('CRVAL1', 1),
      formatCard('CRVAL2', 2),
    ];
    const rho = 0.2;
    const cd = new Header([
      ...base,
      formatCard('CD1_1', -S * Math.cos(rho)),
      formatCard('CD1_2', -S * Math.sin(rho)),
      formatCard('CD2_1', -S * Math.sin(rho)),
      formatCard('CD2_2', S * Math.cos(rho)),
    ]);
    const pc = new Header([
      ...base,
      formatCard('CDELT1', -S),
      formatCard('CDELT2', S),
      formatCard('PC1_1', Math.cos(rho)),
      formatCard('PC1_2', Math.sin(rho)),
      formatCard('PC2_1', -Math.sin(rho)),
      formatCard('PC2_2', Math.cos(rho)),
    ]);
    const crota = new Header([
      ...base,
      formatCard('CDELT1', -S),
      formatCard('CDELT2', S),
      formatCard('CROTA2', (rho * 180) / Math.PI),
    ]);
    const a = TanWcs.fromHeader(cd, 'cd').cd;
    for (const h of [pc, crota])
      TanWcs.fromHeader(h, 'x').cd.forEach((v, i) => expect(v).toBeCloseTo(a[i]!, 15));
  });

  it('refuses distortion, other projections and other units by name', () => {
    const h = (extra: string[]): Header =>
      new Header([
        formatCard('CTYPE1', 'RA---TAN'),
        formatCard('CTYPE2', 'DEC--TAN'),
        formatCard('CRPIX1', 1),
        formatCard('CRPIX2', 1),
        formatCard('CRVAL1', 1),
        formatCard('CRVAL2', 2),
        ...extra,
      ]);
    expect(() => TanWcs.fromHeader(h([formatCard('PV2_1', 1)]), 'tile.fits[SCI]')).toThrow(
      /tile.fits\[SCI\].*distortion/,
    );
    expect(() =>
      TanWcs.fromHeader(
        new Header([formatCard('CTYPE1', 'RA---SIN'), formatCard('CTYPE2', 'DEC--SIN')]),
        't',
      ),
    ).toThrow(/RA---SIN/);
    expect(() => TanWcs.fromHeader(h([formatCard('CUNIT1', 'arcsec')]), 't')).toThrow(/CUNIT1/);
  });

  it('finds the integer offset between tiles on one grid, and none otherwise', () => {
    const a = new TanWcs([1024.5, 1024.5], [0, -30], [-S, 0, 0, S]);
    expect(a.gridOffset(new TanWcs([-1023.5, 3072.5], [0, -30], [-S, 0, 0, S]))).toEqual([2048, -2048]);
    expect(a.gridOffset(new TanWcs([-1023.2, 3072.5], [0, -30], [-S, 0, 0, S]))).toBeUndefined();
    expect(a.gridOffset(new TanWcs([1024.5, 1024.5], [0.1, -30], [-S, 0, 0, S]))).toBeUndefined();
  });

  it('normRa folds into [0, 360)', () => {
    expect([normRa(-0.5), normRa(360), normRa(725), normRa(0)]).toEqual([359.5, 0, 5, 0]);
  });
});
