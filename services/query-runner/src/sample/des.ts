// A deterministic DES-like object catalog for the run command, tests and benchmarks: the same seed and
// row number always give the same row, on any machine. Positions are uniform on the sphere inside a
// DES-like footprint (RA 300°–100° through 0, Dec −65° to +5°); i-band magnitudes follow a rising number
// count, colours a normal spread around a galaxy locus, errors grow with magnitude, fainter than a band's
// limit is a non-detection (NULL magnitude and error); stars and galaxies differ in spread_model; the
// tile name is the DES-style name of the 0.7306° tile the object falls in. Not a physical model.

import { formatFloat, type Column, type PgType } from '../formats/index.js';

export const BANDS = ['g', 'r', 'i', 'z', 'y'] as const;

/** 10σ-ish limiting magnitudes per band (DES Y6-like). */
const LIMIT: Readonly<Record<(typeof BANDS)[number], number>> = {
  g: 24.3,
  r: 24.1,
  i: 23.5,
  z: 22.9,
  y: 21.7,
};

const meta = (unit: string | undefined, ucd: string, description: string): string =>
  JSON.stringify({ ...(unit !== undefined && { unit }), ucd, description });

/** The table's columns with their SQL type, width and COMMENT (JSON: unit, UCD, description). */
export const SAMPLE_COLUMNS: readonly (Column & { readonly comment: string })[] = [
  {
    name: 'coadd_object_id',
    type: 'int8',
    comment: meta(undefined, 'meta.id;meta.main', 'Unique identifier of the coadd object'),
  },
  { name: 'ra', type: 'float8', comment: meta('deg', 'pos.eq.ra;meta.main', 'Right ascension (J2000)') },
  { name: 'dec', type: 'float8', comment: meta('deg', 'pos.eq.dec;meta.main', 'Declination (J2000)') },
  ...BANDS.flatMap((b): (Column & { comment: string })[] => [
    {
      name: `mag_auto_${b}`,
      type: 'float4',
      comment: meta('mag', `phot.mag;em.opt.${b.toUpperCase()}`, `MAG_AUTO in ${b}; NULL when not detected`),
    },
    {
      name: `magerr_auto_${b}`,
      type: 'float4',
      comment: meta('mag', `stat.error;phot.mag;em.opt.${b.toUpperCase()}`, `Error of MAG_AUTO in ${b}`),
    },
  ]),
  { name: 'flags', type: 'int2', comment: meta(undefined, 'meta.code', 'SExtractor flags (0 is clean)') },
  {
    name: 'spread_model',
    type: 'float4',
    comment: meta(
      undefined,
      'src.class.starGalaxy',
      'SPREAD_MODEL in i: about 0 for stars, > 0.005 for galaxies',
    ),
  },
  { name: 'tilename', type: 'varchar', width: 12, comment: meta(undefined, 'meta.id', 'Coadd tile name') },
];

const SQL_TYPES: Readonly<Record<PgType, string>> = {
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  float4: 'float4',
  float8: 'float8',
  bool: 'bool',
  text: 'text',
  varchar: 'varchar',
};

/** The DDL for `table` (schema-qualified or not; quoted by the caller when needed). */
export function sampleDdl(table: string): string[] {
  const cols = SAMPLE_COLUMNS.map(
    (c) => `${c.name} ${SQL_TYPES[c.type]}${c.width !== undefined ? `(${c.width})` : ''}`,
  );
  return [`CREATE TABLE ${table} (${cols.join(', ')})`];
}

/** The index and comments, after the load. */
export function sampleIndexAndComments(table: string, index: string): string[] {
  return [
    `CREATE INDEX ${index} ON ${table} (ra, dec)`,
    `ALTER TABLE ${table} ADD PRIMARY KEY (coadd_object_id)`,
    ...SAMPLE_COLUMNS.map(
      (c) => `COMMENT ON COLUMN ${table}.${c.name} IS '${c.comment.replaceAll("'", "''")}'`,
    ),
    `ANALYZE ${table}`,
  ];
}

/** SplitMix64 on BigInt would be slow; this is mulberry32 seeded per row from (seed, row). */
function rng(seed: number, row: number): () => number {
  let a = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(row + 1, 0xc2b2ae35)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal from two uniforms (Box–Muller). */
function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

const TILE = 0.7306;

/** DES-style tile name of the tile holding (ra, dec): DEShhmm±ddmm of the tile centre. */
export function tileName(ra: number, dec: number): string {
  const dc = Math.round(dec / TILE) * TILE;
  const step = TILE / Math.cos((dc * Math.PI) / 180);
  const rc = (((Math.round(ra / step) * step) % 360) + 360) % 360;
  const minutesRa = Math.floor((rc / 15) * 60 + 1e-9) % (24 * 60);
  const minutesDec = Math.round(Math.abs(dc) * 60);
  const hh = String(Math.floor(minutesRa / 60)).padStart(2, '0');
  const mm = String(minutesRa % 60).padStart(2, '0');
  const sign = dc < 0 ? '-' : '+';
  const dd = String(Math.floor(minutesDec / 60)).padStart(2, '0');
  const am = String(minutesDec % 60).padStart(2, '0');
  return `DES${hh}${mm}${sign}${dd}${am}`;
}

/** Row `n` (0-based) of the catalog for `seed`, in SAMPLE_COLUMNS order. */
export function sampleRow(seed: number, n: number): (number | bigint | string | null)[] {
  const u = rng(seed, n);
  // RA uniform over 160° (300° → 100°), Dec uniform in sin(dec) over −65° … +5°.
  const ra = (300 + 160 * u()) % 360;
  const s0 = Math.sin((-65 * Math.PI) / 180);
  const s1 = Math.sin((5 * Math.PI) / 180);
  const dec = (Math.asin(s0 + (s1 - s0) * u()) * 180) / Math.PI;
  // Number counts rise steeply: i between 16 and 25, most near the faint end.
  const magI = 16 + 9 * Math.pow(u(), 0.35);
  const star = u() < 0.2;
  const colour: Record<(typeof BANDS)[number], number> = {
    g: magI + 0.35 + 0.2 * normal(u) + 0.8 + 0.4 * normal(u),
    r: magI + 0.35 + 0.2 * normal(u),
    i: magI,
    z: magI - 0.15 - 0.1 * normal(u),
    y: magI - 0.2 - 0.15 * normal(u),
  };
  const mags = BANDS.flatMap((b) => {
    const m = colour[b];
    if (m > LIMIT[b] + 0.3 * normal(u)) return [null, null];
    const err = Math.min(1, 0.02 * Math.pow(10, 0.4 * (m - LIMIT[b])) + 0.001);
    return [Math.fround(m + err * normal(u)), Math.fround(err)];
  });
  const f = u();
  const flags = f < 0.9 ? 0 : f < 0.96 ? 2 : f < 0.99 ? 3 : 4;
  const spread = star ? 0.002 * normal(u) : 0.004 + 0.01 * -Math.log(1 - u());
  return [100_000_000n + BigInt(n), ra, dec, ...mags, flags, Math.fround(spread), tileName(ra, dec)];
}

/** Rows [from, to) as PostgreSQL COPY text-format lines (tab separated, \N for NULL), exact floats. */
export function sampleCopyText(seed: number, from: number, to: number): string {
  const lines: string[] = [];
  for (let n = from; n < to; n++) {
    const r = sampleRow(seed, n);
    lines.push(
      r
        .map((v, i) => {
          if (v === null) return '\\N';
          const t = SAMPLE_COLUMNS[i]?.type;
          return typeof v === 'number' && (t === 'float4' || t === 'float8') ? formatFloat(v, t) : String(v);
        })
        .join('\t'),
    );
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
