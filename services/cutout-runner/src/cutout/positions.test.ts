import { describe, expect, it } from 'vitest';
import { csvRecords, DES_LIMITS, parsePositions, radiusPixels, sidePixels } from './positions.js';

const D = { xsize: 1, ysize: 1, unit: 'arcmin' as const };

describe('positions CSV', () => {
  it('accepts a BOM, CRLF and CR line ends, quotes with "" and blank lines', () => {
    const text = '\ufeffRA,DEC,ID\r\n10.5,-20,"obj, ""one"""\r\n\r\n  \n11,-21,two\r12,-22,three';
    const p = parsePositions(text, D);
    expect(p.errors).toEqual([]);
    expect(p.positions.map((x) => [x.row, x.id, x.ra, x.dec])).toEqual([
      [1, 'obj, "one"', 10.5, -20],
      [2, 'two', 11, -21],
      [3, 'three', 12, -22],
    ]);
  });

  it('gives every bad row its reason and keeps the good ones', () => {
    const text = [
      'ra,dec,xsize,ysize,colors_fits,rgb_stiff_colors',
      '10,-20,,,gri,x',
      'NaN,5,,,,',
      '10,95,,,,',
      '361,0,,,,',
      '10,0,0.05,1,,',
      '10,0,1,13,,',
      '10,0,1',
      '360,0,2,3,,',
    ].join('\n');
    const p = parsePositions(text, D);
    expect(p.positions.map((x) => [x.row, x.ra, x.xsize, x.ysize, x.bands?.join('')])).toEqual([
      [1, 10, 1, 1, 'gri'],
      [8, 0, 2, 3, undefined],
    ]);
    expect(p.errors.map((e) => [e.row, e.reason])).toEqual([
      [2, 'line 3: RA "NaN" is not in [0, 360]'],
      [3, 'line 4: DEC "95" is not in [-90, 90]'],
      [4, 'line 5: RA "361" is not in [0, 360]'],
      [5, 'line 6: XSIZE "0.05": outside 0.1–12 arcmin'],
      [6, 'line 7: YSIZE "13": outside 0.1–12 arcmin'],
      [7, 'line 8: 3 fields, the header has 6'],
    ]);
    expect(p.ignoredColumns).toEqual(['RGB_STIFF_COLORS']);
  });

  it('refuses a header without RA/DEC, and object IDs it cannot resolve, as a whole', () => {
    expect(() => parsePositions('X,Y\n1,2', D)).toThrow(/RA and DEC/);
    expect(() => parsePositions('COADD_OBJECT_ID\n123', D)).toThrow(/catalogue/);
    expect(() => parsePositions('', D)).toThrow(/header/);
  });

  it('caps the positions per job with a per-row reason', () => {
    const p = parsePositions('RA,DEC\n1,1\n2,2\n3,3', D, { ...DES_LIMITS, maxPositions: 2 });
    expect(p.positions).toHaveLength(2);
    expect(p.errors[0]!.reason).toMatch(/more than 2 positions/);
  });

  it('checks sizes in each unit and converts them to pixels as Cutout2D does', () => {
    expect(parsePositions('RA,DEC,XSIZE\n1,1,700', { ...D, unit: 'arcsec' }).errors[0]!.reason).toMatch(
      /outside/,
    );
    expect(parsePositions('RA,DEC,XSIZE\n1,1,0.2', { xsize: 0.1, ysize: 0.1, unit: 'deg' }).errors).toEqual(
      [],
    );
    expect(parsePositions('RA,DEC,XSIZE\n1,1,10.5', { ...D, unit: 'pix' }).errors[0]!.reason).toMatch(
      /whole number/,
    );
    const s = 0.263 / 3600;
    expect(sidePixels(1, 'arcmin', s)).toBe(228); // 228.14
    expect(sidePixels(0.5, 'arcmin', s)).toBe(114);
    expect(sidePixels(100, 'pix', s)).toBe(100);
    expect(sidePixels(2.5 * 0.263, 'arcsec', s)).toBe(2); // half to even, as numpy rounds
  });

  it('csvRecords keeps newlines inside quotes', () => {
    expect(csvRecords('a,"b\nc"\nd,e').map((r) => r.fields)).toEqual([
      ['a', 'b\nc'],
      ['d', 'e'],
    ]);
  });

  it('a circle: XSIZE is the diameter, YSIZE is not used (nor checked); the radius is not rounded', () => {
    const text = 'RA,DEC,XSIZE,YSIZE\n10,0,0.5,13\n11,0,,0.2\n12,0,0.05,\n';
    const p = parsePositions(text, { ...D, shape: 'circle' });
    expect(p.positions.map((x) => [x.row, x.xsize, x.ysize])).toEqual([
      [1, 0.5, 0.5],
      [2, 1, 1],
    ]);
    expect(p.errors.map((e) => e.reason)).toEqual(['line 4: XSIZE "0.05": outside 0.1–12 arcmin']);
    // 30″ at 0.263″/px: 114.07 px across, radius 57.03 px; pixels: half the diameter.
    expect(radiusPixels(30, 'arcsec', 0.263 / 3600)).toBeCloseTo(30 / 0.263 / 2, 12);
    expect(radiusPixels(75, 'pix', 1)).toBe(37.5);
  });
});
