// A small result with every supported type, NULL in each column and the edge cases (int8 beyond 2^53,
// NaN/±Infinity/-0/subnormal floats, quotes, CR/LF, tab, XML specials and non-ASCII text). The unit
// tests' golden files and the astropy compatibility test both write it.

import type { Column, Row } from '../types.js';

/** Columns FITS can hold (its text is ASCII with a declared width). */
export const FITS_COLUMNS: readonly Column[] = [
  { name: 'coadd_object_id', type: 'int8', ucd: 'meta.id;meta.main', description: 'Unique object id' },
  { name: 'flags', type: 'int2', ucd: 'meta.code', description: "SExtractor flags ('0' is clean)" },
  { name: 'nepochs', type: 'int4', ucd: 'meta.number' },
  { name: 'mag_auto_g', type: 'float4', unit: 'mag', ucd: 'phot.mag;em.opt.B' },
  {
    name: 'ra',
    type: 'float8',
    unit: 'deg',
    ucd: 'pos.eq.ra;meta.main',
    description: 'Right ascension (J2000)',
  },
  { name: 'extended', type: 'bool', ucd: 'meta.code' },
  { name: 'tilename', type: 'varchar', width: 12, ucd: 'meta.id', description: 'Coadd tile' },
];

/** FITS_COLUMNS plus free text, for the formats that hold any Unicode. */
export const COLUMNS: readonly Column[] = [
  ...FITS_COLUMNS,
  { name: 'comment', type: 'text', description: 'Free text <with> "XML" & quotes' },
];

/** Rows for COLUMNS; FITS_ROWS drops the last value of each. */
export const ROWS: readonly Row[] = [
  [1n, 32767, 2147483647, 21.5, 0.30000000000000004, true, 'DES0001-4914', 'plain'],
  [
    2n ** 62n + 1n,
    -32767,
    -2147483647,
    NaN,
    -Infinity,
    false,
    "it's",
    'a "quoted", comma\r\nnew line\ttab <&>',
  ],
  [-(2n ** 63n) + 1n, 0, 0, Infinity, 5e-324, null, '', 'unicode: é 東京 😀'],
  [2n ** 63n - 1n, null, null, null, null, true, null, null],
  [null, -1, 1, -0, 1.7976931348623157e308, false, 'x y', ''],
  [42n, 7, -7, 0.1, -0, true, 'DES2359+0001', ' spaces '],
];

export const FITS_ROWS: readonly Row[] = ROWS.map((r) => r.slice(0, FITS_COLUMNS.length));
