import { describe, expect, it } from 'vitest';
import { canonicalId, foundObjects, idRecords, isIdPositions, parseIdPositions } from './ids.js';
import { planPositions } from './plan.js';
import { DES_LIMITS, parsePositions, PositionsError } from './positions.js';

describe('ID positions', () => {
  it('are recognised by a header with COADD_OBJECT_ID and neither RA nor DEC', () => {
    expect(isIdPositions('COADD_OBJECT_ID\n1\n')).toBe(true);
    expect(isIdPositions('\ufeff"coadd_object_id",XSIZE,YSIZE\r\n1,1,1')).toBe(true);
    expect(isIdPositions('COADD_OBJECT_ID,RA,DEC\n1,2,3')).toBe(false);
    expect(isIdPositions('RA,DEC\n1,2')).toBe(false);
    expect(isIdPositions('')).toBe(false);
    // The runner's shard never takes them: they are looked up first.
    expect(() => parsePositions('COADD_OBJECT_ID\n1', { xsize: 1, ysize: 1, unit: 'arcmin' })).toThrow(
      PositionsError,
    );
  });

  it('take 64-bit integers only, in canonical form', () => {
    expect(canonicalId(' +007 ')).toBe('7');
    expect(canonicalId('-0')).toBe('0');
    expect(canonicalId('9223372036854775807')).toBe('9223372036854775807');
    expect(canonicalId('-9223372036854775808')).toBe('-9223372036854775808');
    for (const bad of ['9223372036854775808', '1.5', '1e3', '', '0x10', "1'); DROP TABLE t; --", '١٢'])
      expect(canonicalId(bad)).toBeUndefined();
  });

  it('list each usable ID once, in order of first appearance, within maxPositions', () => {
    const text = ['COADD_OBJECT_ID,XSIZE', '30,', '10,0.5', 'abc,', '030,2', '20', '40,'].join('\n');
    const p = parseIdPositions(text, { ...DES_LIMITS, maxPositions: 5 });
    expect(p.ids).toEqual(['30', '10']);
    expect(p.rows.map((r) => [r.id, r.error])).toEqual([
      ['30', undefined],
      ['10', undefined],
      [undefined, 'COADD_OBJECT_ID "abc" is not a 64-bit integer'],
      ['30', undefined],
      [undefined, '1 fields, the header has 2'],
      ['40', undefined],
    ]);
  });

  it('map every row back to its object with its own size and colours; unknown IDs unmatched, never fatal', () => {
    const text = [
      'COADD_OBJECT_ID,XSIZE,YSIZE,COLORS_FITS',
      '101,0.5,0.25,gr',
      '999,,,',
      '102,,,',
      'x1,,,',
      '101,,,', // a duplicate: its own row, its own (default) size
      '103,,,', // not looked up: beyond what the lookups held
      '104,20,,', // XSIZE beyond the limits: the usual reason
    ].join('\r\n');
    const parsed = parseIdPositions(text, DES_LIMITS);
    expect(parsed.ids).toEqual(['101', '999', '102', '103', '104']);
    const found = foundObjects([
      { fields: ['RA', 'DEC', 'ID'], line: 1 },
      { fields: ['0.01', '-30.02', '101'], line: 2 },
      { fields: ['0.03', '-29.97', '102'], line: 3 },
      { fields: ['5', '5', '102'], line: 4 }, // the catalogue holds 102 twice: the first row counts
      { fields: ['0.04', '-30', '104'], line: 5 },
    ]);
    const records = idRecords(parsed, { found, queried: 3, where: 'Catalog des table "y6"' });
    // Footprints of a 2-degree square tile round RA 0, Dec -30; the planner settles what has no position.
    const plan = planPositions({
      csv: records,
      size: { x: 1, y: 1, unit: 'arcmin' },
      shards: 2,
      limits: DES_LIMITS,
      footprints: [{ tile: 'T', raMin: 359, raMax: 1, decMin: -31, decMax: -29 }],
    });
    expect(plan.positions).toBe(7);
    expect(plan.settled.map((r) => [r.row, r.id, r.status, r.reason])).toEqual([
      [2, '999', 'unmatched', 'not-in-catalogue: COADD_OBJECT_ID 999 is not in Catalog des table "y6"'],
      [4, 'x1', 'failed', 'line 5: COADD_OBJECT_ID "x1" is not a 64-bit integer'],
      [
        6,
        '103',
        'failed',
        'line 7: COADD_OBJECT_ID 103 not looked up: one job looks up its first 3 distinct IDs; submit the rest as another job',
      ],
      [7, '104', 'failed', 'line 8: XSIZE "20": outside 0.1–12 arcmin'],
    ]);
    const csv = plan.shards.map((s) => s.csv).join('');
    const lines = csv.split('\n').filter((l) => l !== '' && !l.startsWith('RA,'));
    expect(lines.sort()).toEqual([
      '0.01,-30.02,0.5,0.25,gr,101',
      '0.01,-30.02,1,1,,101',
      '0.03,-29.97,1,1,,102',
    ]);
    expect(plan.shards.flatMap((s) => s.rows).sort()).toEqual([1, 3, 5]);
  });
});
