// Positions as DESaccess takes them: CSV text with a header line, `RA,DEC[,XSIZE,YSIZE,COLORS_FITS,…]`
// (names case-insensitive), plus an optional ID column echoed to the outputs. A UTF-8 BOM, CRLF or CR line
// ends, quoted fields ("" inside quotes) and blank lines are accepted. A bad row never stops the others: it
// comes back with its reason, for the manifest.

export type SizeUnit = 'arcsec' | 'arcmin' | 'deg' | 'pix';
/** A cutout's shape: an x × y box, or a circle of diameter x (cut as its bounding square). */
export type Shape = 'box' | 'circle';

export interface Limits {
  /** Smallest and largest angular side in arcmin (DES: 0.1 and 12). */
  readonly minArcmin: number;
  readonly maxArcmin: number;
  /** Largest side in pixels when the unit is pix. */
  readonly maxPixels: number;
  /** Most positions in one job; rows beyond it are refused with a reason. */
  readonly maxPositions: number;
}

export const DES_LIMITS: Limits = { minArcmin: 0.1, maxArcmin: 12, maxPixels: 4096, maxPositions: 100_000 };

export interface Position {
  /** 1-based number among the data rows (blank lines not counted): the manifest's key. */
  readonly row: number;
  readonly id: string;
  readonly ra: number;
  readonly dec: number;
  /** Sides in the job's unit (the row's XSIZE/YSIZE or the defaults); a circle's diameter is xsize = ysize. */
  readonly xsize: number;
  readonly ysize: number;
  /** Bands from COLORS_FITS (e.g. "gri"), or undefined for the job's. */
  readonly bands: readonly string[] | undefined;
}

export interface RowError {
  readonly row: number;
  readonly id: string;
  readonly reason: string;
  /** `unmatched`: the row is fine but names nothing to cut (an object ID the catalogue lacks); else failed. */
  readonly status?: 'unmatched';
}

export interface ParsedPositions {
  readonly positions: readonly Position[];
  readonly errors: readonly RowError[];
  /** Header columns this runner does not use (DES options it does not implement yet). */
  readonly ignoredColumns: readonly string[];
}

/** Splits CSV text into records of fields (RFC 4180 quoting; CRLF, LF or CR line ends); `delimiter` for TSV. */
export function csvRecords(text: string, delimiter: ',' | '\t' = ','): { fields: string[]; line: number }[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const endRecord = (): void => {
    fields.push(field);
    out.push({ fields, line: start });
    fields = [];
    field = '';
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field.trim() === '') {
      field = '';
      quoted = true;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else field += c;
  }
  if (field !== '' || fields.length > 0) endRecord();
  return out.filter((r) => !(r.fields.length === 1 && (r.fields[0] ?? '').trim() === ''));
}

const KNOWN = new Set(['RA', 'DEC', 'XSIZE', 'YSIZE', 'COLORS_FITS', 'ID']);

function number(text: string | undefined): number {
  const t = (text ?? '').trim();
  return t === '' ? NaN : Number(t);
}

/** One record of a table: its fields and where it is, for the reasons (`line N`, or `where` when set). */
export interface TableRecord {
  readonly fields: readonly string[];
  readonly line: number;
  /** Where the record is, instead of `line N` (e.g. `result_000002.csv line 7`). */
  readonly where?: string;
  /** Why the record is unusable whatever its fields say (e.g. a field count that does not match its header). */
  readonly error?: string;
  /** Why the record has no position though nothing is wrong with it (settled `unmatched`, e.g. an unknown ID). */
  readonly unmatched?: string;
}

/**
 * Parses positions; `defaults` are the job's sides (in `unit`) used when a row has no XSIZE/YSIZE. For a
 * circle (`shape`), XSIZE is the diameter and YSIZE is ignored (ysize = xsize).
 */
export function parsePositions(
  text: string,
  defaults: { xsize: number; ysize: number; unit: SizeUnit; shape?: Shape },
  limits: Limits = DES_LIMITS,
): ParsedPositions {
  return parseRecords(csvRecords(text), defaults, limits);
}

/** {@link parsePositions} of records already split: the header first, then one record per data row. */
export function parseRecords(
  records: readonly TableRecord[],
  defaults: { xsize: number; ysize: number; unit: SizeUnit; shape?: Shape },
  limits: Limits = DES_LIMITS,
): ParsedPositions {
  const header = records[0];
  if (header === undefined) throw new PositionsError('positions: no header line (expected RA,DEC,…)');
  const names = header.fields.map((f) => f.trim().toUpperCase());
  const col = (n: string): number => names.indexOf(n);
  if (col('COADD_OBJECT_ID') >= 0 && col('RA') < 0) {
    throw new PositionsError(
      "positions: COADD_OBJECT_ID positions are looked up in the collection's object catalogue (cutout/ids.ts) " +
        'before they are cut; give RA,DEC columns here',
    );
  }
  if (col('RA') < 0 || col('DEC') < 0) {
    throw new PositionsError(
      `positions: the header line must name RA and DEC, got ${JSON.stringify(header.fields)}`,
    );
  }
  const positions: Position[] = [];
  const errors: RowError[] = [];
  records.slice(1).forEach((rec, i) => {
    const row = i + 1;
    const get = (n: string): string | undefined => (col(n) >= 0 ? rec.fields[col(n)] : undefined);
    const id = (get('ID') ?? '').trim();
    const fail = (reason: string): void => {
      errors.push({ row, id, reason: `${rec.where ?? `line ${rec.line}`}: ${reason}` });
    };
    if (row > limits.maxPositions) return fail(`more than ${limits.maxPositions} positions in one job`);
    if (rec.error !== undefined) return fail(rec.error);
    if (rec.unmatched !== undefined) {
      errors.push({ row, id, reason: rec.unmatched, status: 'unmatched' });
      return;
    }
    if (rec.fields.length !== names.length) {
      return fail(`${rec.fields.length} fields, the header has ${names.length}`);
    }
    const ra = number(get('RA'));
    const dec = number(get('DEC'));
    if (!Number.isFinite(ra) || ra < 0 || ra > 360)
      return fail(`RA ${JSON.stringify(get('RA'))} is not in [0, 360]`);
    if (!Number.isFinite(dec) || dec < -90 || dec > 90) {
      return fail(`DEC ${JSON.stringify(get('DEC'))} is not in [-90, 90]`);
    }
    const sides: number[] = [];
    const circle = defaults.shape === 'circle';
    for (const [k, fallback] of circle
      ? ([['XSIZE', defaults.xsize]] as const)
      : ([
          ['XSIZE', defaults.xsize],
          ['YSIZE', defaults.ysize],
        ] as const)) {
      const raw = get(k);
      const v = raw === undefined || raw.trim() === '' ? fallback : number(raw);
      const bad = sizeProblem(v, defaults.unit, limits);
      if (bad !== undefined) return fail(`${k} ${JSON.stringify(raw ?? String(fallback))}: ${bad}`);
      sides.push(v);
    }
    const colors = (get('COLORS_FITS') ?? '').trim();
    positions.push({
      row,
      id,
      ra: ra === 360 ? 0 : ra,
      dec,
      xsize: sides[0] ?? defaults.xsize,
      ysize: circle ? (sides[0] ?? defaults.xsize) : (sides[1] ?? defaults.ysize),
      bands: colors === '' ? undefined : [...colors.replace(/[\s,;]/g, '')],
    });
  });
  return { positions, errors, ignoredColumns: names.filter((n) => !KNOWN.has(n)) };
}

const ARCMIN: Record<Exclude<SizeUnit, 'pix'>, number> = { arcsec: 1 / 60, arcmin: 1, deg: 60 };

/** Why a side is refused, or undefined when it is within the limits. */
export function sizeProblem(v: number, unit: SizeUnit, limits: Limits): string | undefined {
  if (!Number.isFinite(v) || v <= 0) return 'not a positive number';
  if (unit === 'pix') {
    return Number.isInteger(v) && v <= limits.maxPixels
      ? undefined
      : `not a whole number of pixels ≤ ${limits.maxPixels}`;
  }
  const arcmin = v * ARCMIN[unit];
  if (arcmin < limits.minArcmin - 1e-12 || arcmin > limits.maxArcmin + 1e-12) {
    return `outside ${limits.minArcmin}–${limits.maxArcmin} arcmin`;
  }
  return undefined;
}

/** Pixels along one side: angular sizes rounded as astropy's Cutout2D rounds them (half to even). */
export function sidePixels(v: number, unit: SizeUnit, pixelScaleDeg: number): number {
  if (unit === 'pix') return v;
  const deg = (v * ARCMIN[unit]) / 60;
  return Math.max(1, roundHalfEven(deg / pixelScaleDeg));
}

/** A circle's radius in pixels: half the diameter over the pixel scale (not rounded). */
export function radiusPixels(diameter: number, unit: SizeUnit, pixelScaleDeg: number): number {
  if (unit === 'pix') return diameter / 2;
  return (diameter * ARCMIN[unit]) / 60 / pixelScaleDeg / 2;
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

export class PositionsError extends Error {
  readonly code = 'BadPositions';
}
