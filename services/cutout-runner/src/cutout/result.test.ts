// A QueryJob's result mapped onto the planner's records: columns found by name (exactly, else ignoring case),
// cells passed as written so that the planner settles a bad one with its reason, the query runner's CSV quoting,
// BOM, CRLF, TSV and gzip read, several parts read as one table; whole-result problems name the field.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { planPositions } from './plan.js';
import { DES_LIMITS } from './positions.js';
import { findColumn, resultDelimiter, resultRecords, resultText, ResultError } from './result.js';

const MAP = { raColumn: 'RA', decColumn: 'DEC', idColumn: 'coadd_object_id' };

function plan(files: { name: string; text: string }[], map = MAP) {
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
    const records = resultRecords([{ name: 'result.csv', text }], MAP);
    expect(records.map((r) => r.fields)).toEqual([
      ['RA', 'DEC', 'ID'],
      ['10.5', '-20.25', '1001'],
      ['11', '-21', '1002 "b"'],
      ['', '-22', '1003'],
      ['NaN', '-22', '1004'],
      ['12', 'text', '1005'],
    ]);
    const p = plan([{ name: 'result.csv', text }]);
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
    expect(resultRecords([{ name: 'r.csv', text: csv }], { raColumn: 'RA', decColumn: 'DEC' })).toEqual([
      { fields: ['RA', 'DEC', 'ID'], line: 1 },
      { fields: ['1', '2', ''], line: 2 },
      { fields: ['3', '4', ''], line: 3 },
    ]);
    const tsv = 'ra\tdec\tcoadd_object_id\n5\t6\t"a\tb"\n';
    expect(resultRecords([{ name: 'r.tsv.gz', text: tsv }], MAP)[1]?.fields).toEqual(['5', '6', 'a\tb']);
  });

  it('keeps a row whose field count differs, with that reason, and names the part of a split result', () => {
    const a = { name: 'result_000001.csv', text: 'ra,dec,coadd_object_id\r\n1,2,a\r\n' };
    const b = { name: 'result_000002.csv', text: 'ra,dec,coadd_object_id\r\n3,4\r\n5,6,c\r\n' };
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
    expect(err(() => resultRecords([{ name: 'result.fits', text: '' }], MAP)).message).toBe(
      'files: result.fits: not a format the planner reads (csv or tsv, gzipped or not)',
    );
    expect(err(() => resultRecords([{ name: 'result.csv', text: '' }], MAP)).message).toBe(
      'files: result.csv: no header line',
    );
    const e = err(() => resultRecords([{ name: 'result.csv', text: ok }], { ...MAP, idColumn: 'id' }));
    expect([e.field, e.code]).toEqual(['idColumn', 'BadPositions']);
    expect(e.message).toBe('idColumn: column "id" not in the result; it has "ra", "dec", "coadd_object_id"');
    expect(
      err(() =>
        resultRecords(
          [
            { name: 'result_000001.csv', text: ok },
            { name: 'result_000002.csv', text: 'ra,dec\n1,2\n' },
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

  it('knows CSV and TSV, gzipped or not, and nothing else', () => {
    expect(['result.csv', 'result.csv.gz', 'result_000002.tsv.gz'].map(resultDelimiter)).toEqual([
      ',',
      ',',
      '\t',
    ]);
    expect(['result.fits', 'result.vot', 'result.parquet', 'result.json.gz'].map(resultDelimiter)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
