// A QueryJob's result mapped onto the planner's records: columns found by name (exactly, else ignoring case),
// cells passed as written so that the planner settles a bad one with its reason, the query runner's CSV quoting,
// BOM, CRLF, TSV and gzip read, several parts read as one table; whole-result problems name the field.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatCard } from '../fits/header.js';
import { planPositions } from './plan.js';
import { DES_LIMITS } from './positions.js';
import {
  findColumn,
  resultFormat,
  resultRecords,
  resultText,
  ResultError,
  type ColumnMap,
  type ResultFile,
} from './result.js';

const MAP = { raColumn: 'RA', decColumn: 'DEC', idColumn: 'coadd_object_id' };

function plan(files: ResultFile[], map: ColumnMap = MAP) {
  return planPositions({
    csv: resultRecords(files, map),
    size: { x: 1, y: 1, unit: 'arcmin' },
    shards: 1,
    limits: DES_LIMITS,
    footprints: undefined,
  });
}

describe('findColumn', () => {
  it('prefers the exact name, else the only match ignoring case', () => {
    expect(findColumn(['ra', 'RA', 'dec'], 'RA', 'raColumn')).toBe(1);
    expect(findColumn(['coadd_object_id', 'ra', 'dec'], 'RA', 'raColumn')).toBe(1);
  });

  it('names the field, the column and the columns the result has', () => {
    expect(() => findColumn(['ra_deg', 'dec_deg'], 'ra', 'raColumn')).toThrow(
      'raColumn: column "ra" not in the result; it has "ra_deg", "dec_deg"',
    );
    expect(() => findColumn(['Ra', 'rA'], 'ra', 'raColumn')).toThrow(
      'raColumn: column "ra" matches "Ra", "rA" ignoring case; name one exactly',
    );
    const many = Array.from({ length: 50 }, (_, i) => `c${i}`);
    expect(() => findColumn(many, 'x', 'decColumn')).toThrow(/"c39" and 10 more$/);
  });
});

describe('resultRecords', () => {
  it('maps RA, Dec and ID of a query runner CSV (CRLF, quotes, NULL as empty) and echoes the ID', () => {
    const text = [
      'coadd_object_id,ra,dec,"mag, auto"',
      '1001,10.5,-20.25,21.5',
      '"1002 ""b""",11,-21,22',
      '1003,,-22,23',
      '1004,NaN,-22,23',
      '1005,12,text,23',
      '',
    ].join('\r\n');
    const records = resultRecords([{ name: 'result.csv', data: text }], MAP);
    expect(records.map((r) => r.fields)).toEqual([
      ['RA', 'DEC', 'ID'],
      ['10.5', '-20.25', '1001'],
      ['11', '-21', '1002 "b"'],
      ['', '-22', '1003'],
      ['NaN', '-22', '1004'],
      ['12', 'text', '1005'],
    ]);
    const p = plan([{ name: 'result.csv', data: text }]);
    expect(p.positions).toBe(5);
    expect(p.shards[0]?.csv).toBe(
      'RA,DEC,XSIZE,YSIZE,COLORS_FITS,ID\n10.5,-20.25,1,1,,1001\n11,-21,1,1,,"1002 ""b"""\n',
    );
    expect(p.settled).toEqual([
      { row: 3, id: '1003', ra: '', dec: '', status: 'failed', reason: 'line 4: RA "" is not in [0, 360]' },
      {
        row: 4,
        id: '1004',
        ra: '',
        dec: '',
        status: 'failed',
        reason: 'line 5: RA "NaN" is not in [0, 360]',
      },
      {
        row: 5,
        id: '1005',
        ra: '',
        dec: '',
        status: 'failed',
        reason: 'line 6: DEC "text" is not in [-90, 90]',
      },
    ]);
  });

  it('reads a BOM, LF or CR line ends, a TSV, and leaves the ID empty without idColumn', () => {
    const csv = '\uFEFFRA,DEC\n1,2\r3,4\n';
    expect(resultRecords([{ name: 'r.csv', data: csv }], { raColumn: 'RA', decColumn: 'DEC' })).toEqual([
      { fields: ['RA', 'DEC', 'ID'], line: 1 },
      { fields: ['1', '2', ''], line: 2 },
      { fields: ['3', '4', ''], line: 3 },
    ]);
    const tsv = 'ra\tdec\tcoadd_object_id\n5\t6\t"a\tb"\n';
    expect(resultRecords([{ name: 'r.tsv.gz', data: tsv }], MAP)[1]?.fields).toEqual(['5', '6', 'a\tb']);
  });

  it('keeps a row whose field count differs, with that reason, and names the part of a split result', () => {
    const a = { name: 'result_000001.csv', data: 'ra,dec,coadd_object_id\r\n1,2,a\r\n' };
    const b = { name: 'result_000002.csv', data: 'ra,dec,coadd_object_id\r\n3,4\r\n5,6,c\r\n' };
    const p = plan([a, b]);
    expect(p.positions).toBe(3);
    expect(p.shards[0]?.rows).toEqual([1, 3]);
    expect(p.settled).toEqual([
      {
        row: 2,
        id: '',
        ra: '',
        dec: '',
        status: 'failed',
        reason: 'result_000002.csv line 2: 2 fields, the header has 3',
      },
    ]);
  });

  it('refuses what makes the whole result unusable, naming the field', () => {
    const ok = 'ra,dec,coadd_object_id\n1,2,3\n';
    const err = (fn: () => unknown): ResultError => {
      try {
        fn();
      } catch (e) {
        if (e instanceof ResultError) return e;
        throw e;
      }
      throw new Error('no error');
    };
    expect(err(() => resultRecords([], MAP)).message).toBe('files: the QueryJob lists no result file');
    expect(err(() => resultRecords([{ name: 'result.vot', data: '' }], MAP)).message).toBe(
      'files: result.vot: not a format the planner reads (csv, tsv or fits (gzipped or not))',
    );
    expect(err(() => resultRecords([{ name: 'result.csv', data: '' }], MAP)).message).toBe(
      'files: result.csv: no header line',
    );
    const e = err(() => resultRecords([{ name: 'result.csv', data: ok }], { ...MAP, idColumn: 'id' }));
    expect([e.field, e.code]).toEqual(['idColumn', 'BadPositions']);
    expect(e.message).toBe('idColumn: column "id" not in the result; it has "ra", "dec", "coadd_object_id"');
    expect(
      err(() =>
        resultRecords(
          [
            { name: 'result_000001.csv', data: ok },
            { name: 'result_000002.csv', data: 'ra,dec\n1,2\n' },
          ],
          MAP,
        ),
      ).message,
    ).toBe("files: result_000002.csv: its columns differ from the first file's");
  });
});

describe('result files', () => {
  it('gunzips by the gzip magic, whatever the name', () => {
    const text = 'ra,dec\n1,2\n';
    expect(resultText(gzipSync(text))).toBe(text);
    expect(resultText(Buffer.from(text))).toBe(text);
  });

  it('knows CSV, TSV and FITS, gzipped or not, and nothing else', () => {
    expect(
      ['result.csv', 'result.csv.gz', 'result_000002.tsv.gz', 'result.fits.gz'].map(resultFormat),
    ).toEqual(['csv', 'csv', 'tsv', 'fits']);
    expect(['result.vot', 'result.parquet', 'result.h5', 'result.json.gz'].map(resultFormat)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('FITS results', () => {
  const golden = (name: string): Buffer =>
    readFileSync(
      fileURLToPath(new URL(`../../../query-runner/src/formats/__golden__/${name}`, import.meta.url)),
    );

  it("reads the query runner's FITS result as its CSV: every type, int64 beyond 2^53, NULLs (float NULL is NaN)", () => {
    const fits = golden('sample.fits');
    const csv = golden('sample.csv').toString('utf8');
    const cols = ['coadd_object_id', 'flags', 'nepochs', 'mag_auto_g', 'ra', 'extended', 'tilename'];
    for (let i = 0; i < cols.length; i += 3) {
      const map = {
        raColumn: cols[i]!,
        decColumn: cols[i + 1] ?? cols[0]!,
        idColumn: cols[i + 2] ?? cols[1]!,
      };
      const fromFits = resultRecords([{ name: 'result.fits', data: fits }], map).map((r) => r.fields);
      const fromCsv = resultRecords([{ name: 'result.csv', data: csv }], map).map((r) => r.fields);
      // FITS has no float NULL: the writer stores NaN, read back as "NaN" (the planner refuses both alike).
      const floatNull = (v: string, k: number, row: number): string =>
        v === '' && ['mag_auto_g', 'ra'].includes(Object.values(map)[k]!) && row > 0 ? 'NaN' : v;
      expect(fromFits).toEqual(fromCsv.map((f, row) => f.map((v, k) => floatNull(v, k, row))));
    }
    const ids = resultRecords([{ name: 'r.fits', data: fits }], MAP_FITS).map((r) => r.fields[2]);
    expect(ids).toEqual([
      'ID',
      '1',
      '4611686018427387905',
      '-9223372036854775807',
      '9223372036854775807',
      '',
      '42',
    ]);
  });

  it('plans a gzipped FITS table, reasons naming the row; refuses a column that is not one number per row', () => {
    const table = bintable(
      [
        { name: 'ID', tform: '1K', tnull: -1n },
        { name: 'RA', tform: '1D' },
        { name: 'DEC', tform: '1E' },
        { name: 'FLUX', tform: '2E' },
      ],
      [
        [7n, 10, -20.5, 0],
        [8n, NaN, -20, 0],
        [-1n, 11, -21, 0],
      ],
    );
    const p = plan([{ name: 'result.fits.gz', data: gzipSync(table) }], {
      raColumn: 'ra',
      decColumn: 'dec',
      idColumn: 'id',
    });
    expect(p.shards[0]?.csv).toBe('RA,DEC,XSIZE,YSIZE,COLORS_FITS,ID\n10,-20.5,1,1,,7\n11,-21,1,1,,\n');
    expect(p.settled).toEqual([
      { row: 2, id: '8', ra: '', dec: '', status: 'failed', reason: 'row 2: RA "NaN" is not in [0, 360]' },
    ]);
    expect(() =>
      resultRecords([{ name: 'r.fits', data: table }], { raColumn: 'FLUX', decColumn: 'DEC' }),
    ).toThrow('raColumn: column "FLUX": its FITS format 2E is not one number per row');
    const primaryOnly = table.subarray(0, 2880);
    expect(() => resultRecords([{ name: 'r.fits', data: primaryOnly }], MAP)).toThrow(
      'files: r.fits: no BINTABLE extension',
    );
  });
});

const MAP_FITS = { raColumn: 'ra', decColumn: 'ra', idColumn: 'coadd_object_id' };

/** A FITS file: an empty primary HDU and one BINTABLE of scalar and 2-element columns, big-endian. */
function bintable(
  cols: { name: string; tform: string; tnull?: bigint }[],
  rows: (number | bigint)[][],
): Buffer {
  const block = (cards: string[], fill: string): Buffer => {
    const text = [...cards, 'END'.padEnd(80, ' ')].join('');
    return Buffer.from(text.padEnd(Math.ceil(text.length / 2880) * 2880, fill), 'latin1');
  };
  const size = (tform: string): number =>
    Number(tform.slice(0, -1)) * { K: 8, D: 8, E: 4 }[tform.slice(-1) as 'K'];
  const rowBytes = cols.reduce((n, c) => n + size(c.tform), 0);
  const data = Buffer.alloc(Math.ceil((rowBytes * rows.length) / 2880) * 2880);
  const view = new DataView(data.buffer, data.byteOffset);
  rows.forEach((row, r) => {
    let at = r * rowBytes;
    cols.forEach((c, i) => {
      const v = row[i] ?? 0;
      for (let k = 0; k < Number(c.tform.slice(0, -1)); k++) {
        if (c.tform.endsWith('K')) view.setBigInt64(at, BigInt(v));
        else if (c.tform.endsWith('D')) view.setFloat64(at, Number(v));
        else view.setFloat32(at, Number(v));
        at += size(`1${c.tform.slice(-1)}`);
      }
    });
  });
  const primary = block([formatCard('SIMPLE', true), formatCard('BITPIX', 8), formatCard('NAXIS', 0)], ' ');
  const ext = block(
    [
      formatCard('XTENSION', 'BINTABLE'),
      formatCard('BITPIX', 8),
      formatCard('NAXIS', 2),
      formatCard('NAXIS1', rowBytes),
      formatCard('NAXIS2', rows.length),
      formatCard('PCOUNT', 0),
      formatCard('GCOUNT', 1),
      formatCard('TFIELDS', cols.length),
      ...cols.flatMap((c, i) => [
        formatCard(`TTYPE${i + 1}`, c.name),
        formatCard(`TFORM${i + 1}`, c.tform),
        ...(c.tnull === undefined ? [] : [formatCard(`TNULL${i + 1}`, Number(c.tnull))]),
      ]),
    ],
    ' ',
  );
  return Buffer.concat([primary, ext, data]);
}
