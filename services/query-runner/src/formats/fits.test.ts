import { describe, expect, it } from 'vitest';
import { FitsWriter } from './fits.js';
import { stringCards } from './fits-header.js';
import { expectGolden, render } from './testdata/golden.js';
import { FITS_COLUMNS, FITS_ROWS } from './testdata/sample.js';
import type { Column } from './types.js';

/** The header cards of the HDU starting at `at`, up to END, as 80-character strings. */
function cards(file: Buffer, at: number): string[] {
  const out: string[] = [];
  for (let p = at; ; p += 80) {
    const c = file.toString('latin1', p, p + 80);
    out.push(c);
    if (c.startsWith('END ')) return out;
  }
}

function card(all: string[], key: string): string | undefined {
  return all.find((c) => c.startsWith(key.padEnd(8, ' ') + '='));
}

describe('FitsWriter', () => {
  it('writes the sample (golden file) in whole 2880-byte blocks with NAXIS2 patched to the row count', () => {
    const out = render(new FitsWriter(FITS_COLUMNS), [FITS_ROWS.slice(0, 4), FITS_ROWS.slice(4)]);
    expectGolden('sample.fits', out);
    expect(out.length % 2880).toBe(0);
    const ext = cards(out, 2880);
    expect(card(ext, 'NAXIS1')).toContain(`${8 + 2 + 4 + 4 + 8 + 1 + 12} /`);
    expect(card(ext, 'NAXIS2')?.slice(10, 30)).toBe(String(FITS_ROWS.length).padStart(20, ' '));
    expect(card(ext, 'TFORM1')).toContain("'1K      '");
    expect(card(ext, 'TNULL1')).toContain('-9223372036854775808');
    expect(card(ext, 'TFORM7')).toContain("'12A     '");
    expect(card(ext, 'TUNIT5')).toContain("'deg     '");
    expect(card(ext, 'TUCD5')).toContain("'pos.eq.ra;meta.main'");
    expect(card(ext, 'TCOMM2')).toContain("'SExtractor flags (''0'' is clean)'");
  });

  it('stores float64 bit for bit, NULL floats as NaN, NULL integers as TNULL, NULL logicals as 0', () => {
    const cols: Column[] = [
      { name: 'd', type: 'float8' },
      { name: 'e', type: 'float4' },
      { name: 'j', type: 'int4' },
      { name: 'l', type: 'bool' },
    ];
    const out = render(new FitsWriter(cols), [
      [
        [0.1 + 0.2, 0.1, 1, true],
        [null, null, null, null],
      ],
    ]);
    const data = 2 * 2880;
    const row = 8 + 4 + 4 + 1;
    expect(out.readDoubleBE(data)).toBe(0.30000000000000004);
    expect(out.readFloatBE(data + 8)).toBe(Math.fround(0.1));
    expect(out.readInt32BE(data + 12)).toBe(1);
    expect(out[data + 16]).toBe(0x54);
    expect(out.readDoubleBE(data + row)).toBeNaN();
    expect(out.readFloatBE(data + row + 8)).toBeNaN();
    expect(out.readInt32BE(data + row + 12)).toBe(-(2 ** 31));
    expect(out[data + row + 16]).toBe(0);
  });

  it('writes an empty result as a header-only BINTABLE with NAXIS2 = 0, and one row', () => {
    const cols: Column[] = [{ name: 'id', type: 'int8' }];
    const empty = render(new FitsWriter(cols), []);
    expect(empty.length).toBe(2 * 2880);
    expect(card(cards(empty, 2880), 'NAXIS2')).toMatch(/^NAXIS2 {2}= +0 /);
    const one = render(new FitsWriter(cols), [[[2n ** 62n + 1n]]]);
    expect(one.length).toBe(3 * 2880);
    expect(one.readBigInt64BE(2 * 2880)).toBe(2n ** 62n + 1n);
  });

  it('leaves NAXIS2 = -1 (refused by readers) until the patch is applied', () => {
    const w = new FitsWriter([{ name: 'x', type: 'int2' }]);
    const head = Buffer.from(w.begin());
    expect(card(cards(head, 2880), 'NAXIS2')?.slice(10, 30)).toBe('-1'.padStart(20, ' '));
    w.rows([[1], [2], [3]]);
    w.end({ overflow: false });
    const [p] = w.patches();
    expect(p?.offset).toBe(head.indexOf('NAXIS2') + 10);
    expect(Buffer.from(p?.bytes ?? []).toString()).toBe('3'.padStart(20, ' '));
  });

  it('splits a long TCOMM over CONTINUE cards without breaking an escaped quote', () => {
    const text = "a 'quoted' description ".repeat(6).trim();
    const out = stringCards('TCOMM1', text, 'x');
    expect(out.length).toBeGreaterThan(1);
    expect(out.every((c) => c.length === 80)).toBe(true);
    expect(out[1]?.startsWith("CONTINUE  '")).toBe(true);
    const joined = out.map((c) => /'(.*)'/.exec(c)?.[1]?.replace(/&$/, '') ?? '').join('');
    expect(joined.replaceAll("''", "'")).toBe(text);
  });

  it('refuses what FITS cannot hold, naming row, column and reason', () => {
    expect(() => new FitsWriter([{ name: 'note', type: 'text' }])).toThrow(
      "column 1 'note': FITS needs a declared width for text",
    );
    const w = new FitsWriter([
      { name: 's', type: 'varchar', width: 3 },
      { name: 'i', type: 'int2' },
    ]);
    expect(() => w.rows([['abcd', 1]])).toThrow(
      "row 1, column 's': 4 characters exceed the declared width 3",
    );
    expect(() => w.rows([['é', 1]])).toThrow("row 2, column 's': FITS text is printable ASCII only");
    expect(() => w.rows([['a\nb', 1]])).toThrow("row 3, column 's': FITS text is printable ASCII only");
    expect(() => w.rows([['ok', -32768]])).toThrow("row 4, column 'i': -32768 is this type's TNULL in FITS");
    expect(() => new FitsWriter([{ name: 'x', type: 'int2', unit: 'µm' }]).begin()).toThrow(
      "column 1 'x' TUNIT: a FITS header holds printable ASCII only",
    );
  });
});
