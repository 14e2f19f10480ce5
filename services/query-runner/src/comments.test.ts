import { describe, expect, it } from 'vitest';
import { parseComment, withComments } from './comments.js';

describe('column comments', () => {
  it('reads a JSON object comment, or plain text as the description', () => {
    expect(parseComment('{"unit":"mag","ucd":"phot.mag;em.opt.I","description":"i-band MAG_AUTO"}')).toEqual({
      unit: 'mag',
      ucd: 'phot.mag;em.opt.I',
      description: 'i-band MAG_AUTO',
    });
    expect(parseComment('{"unit": "deg", "other": 1}')).toEqual({ unit: 'deg' });
    expect(parseComment('Right ascension {J2000}')).toEqual({ description: 'Right ascension {J2000}' });
    expect(parseComment('{not json')).toEqual({ description: '{not json' });
    expect(parseComment('  ')).toEqual({});
  });

  it('applies comments by (table, column), keeping metadata a column already has', () => {
    const cols = withComments(
      [
        { name: 'ra', type: 'float8' },
        { name: 'x', type: 'float8' },
        { name: 'n', type: 'int4', unit: 'ct' },
      ],
      [{ table: 10, column: 2 }, undefined, { table: 10, column: 3 }],
      new Map([
        ['10:2', '{"unit":"deg"}'],
        ['10:3', '{"unit":"mag","description":"count"}'],
      ]),
    );
    expect(cols).toEqual([
      { name: 'ra', type: 'float8', unit: 'deg' },
      { name: 'x', type: 'float8' },
      { name: 'n', type: 'int4', unit: 'ct', description: 'count' },
    ]);
  });
});
