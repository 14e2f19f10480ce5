import { describe, expect, it } from 'vitest';
import { expectGolden, render } from './testdata/golden.js';
import { COLUMNS, ROWS } from './testdata/sample.js';
import type { Column } from './types.js';
import { VotableWriter } from './votable.js';

/** The decoded BINARY2 stream of a VOTable document. */
function stream(doc: Buffer): Buffer {
  const m = /<STREAM encoding="base64">([^<]*)<\/STREAM>/.exec(doc.toString());
  return Buffer.from(m?.[1] ?? '', 'base64');
}

describe('VotableWriter', () => {
  it('writes the sample as TABLEDATA and BINARY2 (golden files)', () => {
    expectGolden('sample.tabledata.vot', render(new VotableWriter(COLUMNS, 'tabledata'), [ROWS]));
    expectGolden('sample.binary2.vot', render(new VotableWriter(COLUMNS, 'binary2'), [ROWS]));
  });

  it('encodes the same BINARY2 bytes however rows are batched (base64 carried across batches)', () => {
    const whole = stream(render(new VotableWriter(COLUMNS, 'binary2'), [ROWS]));
    for (const cut of [1, 2, 5]) {
      const split = render(new VotableWriter(COLUMNS, 'binary2'), [ROWS.slice(0, cut), [], ROWS.slice(cut)]);
      expect(stream(split).equals(whole)).toBe(true);
    }
  });

  it('writes BINARY2 rows as the null bitmap then big-endian values', () => {
    const cols: Column[] = [
      { name: 'i', type: 'int2' },
      { name: 'k', type: 'int8' },
      { name: 'b', type: 'bool' },
      { name: 's', type: 'text' },
    ];
    const bytes = stream(
      render(new VotableWriter(cols, 'binary2'), [
        [
          [7, 2n ** 62n + 1n, true, 'é😀'],
          [null, null, null, null],
        ],
      ]),
    );
    const row1 = Buffer.concat([
      Buffer.from([0x00, 0x00, 0x07]),
      Buffer.from('4000000000000001', 'hex'),
      Buffer.from('T'),
      Buffer.from([0, 0, 0, 3]),
      Buffer.from('00e9d83dde00', 'hex'),
    ]);
    const row2 = Buffer.concat([
      Buffer.from([0xf0, 0, 0]),
      Buffer.alloc(8),
      Buffer.from('?'),
      Buffer.alloc(4),
    ]);
    expect(bytes.toString('hex')).toBe(Buffer.concat([row1, row2]).toString('hex'));
  });

  it('writes TABLEDATA with XML escaping, VOTable infinities and empty cells for NULL', () => {
    const cols: Column[] = [
      { name: 'a<b', type: 'text', description: 'x & "y"' },
      { name: 'f', type: 'float8', unit: 'deg', ucd: 'pos.eq.ra' },
    ];
    const doc = render(new VotableWriter(cols), [
      [
        ['<&>\r\n"', Infinity],
        [null, -Infinity],
        ['', NaN],
      ],
    ]).toString();
    expect(doc).toContain(
      '<FIELD name="a&lt;b" datatype="unicodeChar" arraysize="*"><DESCRIPTION>x &amp; "y"</DESCRIPTION></FIELD>',
    );
    expect(doc).toContain('<FIELD name="f" datatype="double" unit="deg" ucd="pos.eq.ra"/>');
    expect(doc).toContain(
      '<TR><TD>&lt;&amp;&gt;&#13;\n"</TD><TD>+Inf</TD></TR>\n<TR><TD/><TD>-Inf</TD></TR>\n<TR><TD></TD><TD>NaN</TD></TR>',
    );
  });

  it('says OK before the table and, on overflow, OVERFLOW after it; an empty result has no rows', () => {
    const cols: Column[] = [{ name: 'x', type: 'int4' }];
    const ok = render(new VotableWriter(cols), []).toString();
    expect(ok).toContain('<INFO name="QUERY_STATUS" value="OK"/>\n<TABLE>');
    expect(ok).toContain('<DATA><TABLEDATA>\n</TABLEDATA></DATA>');
    expect(ok).not.toContain('OVERFLOW');
    const over = render(new VotableWriter(cols, 'binary2'), [[[1]]], { overflow: true }).toString();
    expect(over).toContain('</TABLE>\n<INFO name="QUERY_STATUS" value="OVERFLOW"/>\n</RESOURCE>');
    expect(stream(Buffer.from(over)).toString('hex')).toBe('0000000001');
  });

  it('refuses characters XML 1.0 cannot hold, naming row and column', () => {
    const w = new VotableWriter([{ name: 's', type: 'text' }]);
    w.rows([['fine\ttab']]);
    expect(() => w.rows([['bell\u0007']])).toThrow("row 2, column 's': holds a character XML 1.0 cannot");
    expect(() => new VotableWriter([{ name: 's', type: 'text', unit: '\u0000' }]).begin()).toThrow(
      "column 1 's' unit: holds a character XML 1.0 cannot",
    );
    const b = new VotableWriter([{ name: 's', type: 'text' }], 'binary2');
    expect(() => b.rows([['\ud800']])).toThrow("row 1, column 's': holds a lone UTF-16 surrogate");
  });
});
