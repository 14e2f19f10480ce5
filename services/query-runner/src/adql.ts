// A subset of ADQL 2.1 translated to PostgreSQL, on PostgreSQL's own tokens (libpg-query's scanner), so
// strings, quoted identifiers and comments are never mistaken for ADQL:
//   SELECT TOP n …                                   → … LIMIT n (outermost SELECT, no UNION)
//   CONTAINS(POINT(['ICRS',] ra, dec), CIRCLE(['ICRS',] ra0, dec0, r)) = 1   (or 1 = …, = 0)
//       → the great-circle (haversine) distance ≤ r, and with literal ra0, dec0, r a bounding box on
//         dec and ra first (RA wrapping at 0/360, no RA bound near a pole), which an (ra, dec) index serves
//   DISTANCE(POINT(a, b), POINT(c, d)) or DISTANCE(a, b, c, d) → the haversine distance in degrees
// Any other ADQL geometry (BOX, POLYGON, REGION, INTERSECTS, AREA, COORD1, …), a coordinate system other
// than ICRS, CONTAINS not compared with 0 or 1, or TOP where LIMIT cannot express it is an
// `AdqlUnsupported` error naming the construct and its position. The result is then validated as SQL.

import { scan } from 'libpg-query';
import { QueryValidationError, validateQuery } from './validate.js';

interface Token {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly tokenName: string;
}

const GEOMETRY = [
  'box',
  'polygon',
  'region',
  'intersects',
  'area',
  'centroid',
  'coord1',
  'coord2',
  'coordsys',
  'point',
  'circle',
  'contains',
  'distance',
];

class Source {
  readonly bytes: Buffer;
  constructor(
    readonly sql: string,
    readonly tokens: readonly Token[],
  ) {
    this.bytes = Buffer.from(sql, 'utf8');
  }

  text(from: number, to: number): string {
    return this.bytes.subarray(from, to).toString('utf8');
  }

  /** The token's word, lower-cased, when it is an unquoted identifier or keyword. */
  word(i: number): string | undefined {
    const t = this.tokens[i];
    if (t === undefined || !/^[A-Za-z_]/.test(t.text)) return undefined;
    return t.text.toLowerCase();
  }

  unsupported(construct: string, i: number, why: string): QueryValidationError {
    const before = this.text(0, this.tokens[i]?.start ?? 0).split('\n');
    const line = before.length;
    const column = [...(before.at(-1) ?? '')].length + 1;
    return new QueryValidationError(
      'AdqlUnsupported',
      `ADQL ${construct} at line ${line}, column ${column}: ${why}`,
      construct,
      line,
      column,
    );
  }

  /** Index of the ')' closing the '(' at `open`. */
  close(open: number): number {
    let depth = 0;
    for (let i = open; i < this.tokens.length; i++) {
      const t = this.tokens[i]?.text;
      if (t === '(') depth++;
      if (t === ')' && --depth === 0) return i;
    }
    throw this.unsupported('(', open, 'unbalanced parentheses');
  }

  /** The arguments of the call whose '(' is at `open`: token index ranges [from, to). */
  args(open: number): [number, number][] {
    const end = this.close(open);
    const out: [number, number][] = [];
    let depth = 0;
    let from = open + 1;
    for (let i = open + 1; i < end; i++) {
      const t = this.tokens[i]?.text;
      if (t === '(') depth++;
      if (t === ')') depth--;
      if (t === ',' && depth === 0) {
        out.push([from, i]);
        from = i + 1;
      }
    }
    if (end > open + 1) out.push([from, end]);
    return out;
  }

  /** The source text of tokens [from, to). */
  span([from, to]: [number, number]): string {
    const a = this.tokens[from]?.start ?? 0;
    const b = this.tokens[to - 1]?.end ?? a;
    return this.text(a, b);
  }

  /** The number a token range holds when it is a literal (with an optional sign), else undefined. */
  number([from, to]: [number, number]): number | undefined {
    const parts = this.tokens.slice(from, to);
    const digits = parts.at(-1);
    if (digits === undefined || !['ICONST', 'FCONST'].includes(digits.tokenName)) return undefined;
    if (parts.length > 2 || (parts.length === 2 && !['-', '+'].includes(parts[0]?.text ?? '')))
      return undefined;
    return (parts[0]?.text === '-' ? -1 : 1) * Number(digits.text);
  }
}

interface Geometry {
  readonly args: [number, number][];
  /** Token index just after the call's ')'. */
  readonly next: number;
}

/** A call to `name` at token i (name, then '('), with its coordinate system checked and dropped. */
function call(src: Source, i: number, name: string, arity: number): Geometry {
  if (src.word(i) !== name || src.tokens[i + 1]?.text !== '(')
    throw src.unsupported(name.toUpperCase(), i, `expected ${name.toUpperCase()}(…)`);
  let args = src.args(i + 1);
  if (args.length === arity + 1) {
    const sys = src.tokens[args[0]?.[0] ?? 0];
    const value = sys?.tokenName === 'SCONST' ? sys.text.slice(1, -1).trim().toUpperCase() : undefined;
    if (value === undefined || !(value === '' || value.startsWith('ICRS'))) {
      throw src.unsupported(
        `${name.toUpperCase()} coordinate system`,
        args[0]?.[0] ?? i,
        'only ICRS is supported',
      );
    }
    args = args.slice(1);
  }
  if (args.length !== arity)
    throw src.unsupported(name.toUpperCase(), i, `takes ${arity} coordinates (after an optional 'ICRS')`);
  return { args, next: src.close(i + 1) + 1 };
}

/** Great-circle distance in degrees between (ra1, dec1) and (ra2, dec2), SQL expressions. */
function haversine(ra1: string, dec1: string, ra2: string, dec2: string): string {
  return (
    `(2 * degrees(asin(sqrt(power(sin(radians((${dec2}) - (${dec1})) / 2), 2) + ` +
    `cos(radians(${dec1})) * cos(radians(${dec2})) * power(sin(radians((${ra2}) - (${ra1})) / 2), 2)))))`
  );
}

/** The bounding box of a cone on literal centre and radius, or '' when it cannot narrow (near a pole). */
function box(ra: string, dec: string, ra0: number, dec0: number, r: number): string {
  const dbox = `(${dec}) BETWEEN ${dec0 - r} AND ${dec0 + r}`;
  if (Math.abs(dec0) + r >= 89.9) return dbox;
  const dra = r / Math.cos(((Math.abs(dec0) + r) * Math.PI) / 180);
  if (dra >= 180) return dbox;
  const lo = ra0 - dra;
  const hi = ra0 + dra;
  if (lo < 0) return `${dbox} AND ((${ra}) >= ${lo + 360} OR (${ra}) <= ${hi})`;
  if (hi >= 360) return `${dbox} AND ((${ra}) >= ${lo} OR (${ra}) <= ${hi - 360})`;
  return `${dbox} AND (${ra}) BETWEEN ${lo} AND ${hi}`;
}

/** The comparison around CONTAINS (tokens i to end): `CONTAINS(…) = 1 | 0` or `1 | 0 = CONTAINS(…)`. */
function comparison(src: Source, i: number, end: number): { from: number; to: number; want: number } {
  const bit = (k: number): boolean => ['0', '1'].includes(src.tokens[k]?.text ?? '');
  if (src.tokens[end]?.text === '=' && bit(end + 1))
    return { from: i, to: end + 2, want: Number(src.tokens[end + 1]?.text) };
  if (src.tokens[i - 1]?.text === '=' && bit(i - 2))
    return { from: i - 2, to: end, want: Number(src.tokens[i - 2]?.text) };
  throw src.unsupported('CONTAINS', i, 'must be compared with 1 or 0 (CONTAINS(…) = 1)');
}

/** CONTAINS at token i: the predicate, and the token range it replaces (with its comparison). */
function contains(src: Source, i: number): { from: number; to: number; sql: string } {
  if (src.tokens[i + 1]?.text !== '(') throw src.unsupported('CONTAINS', i, 'expected CONTAINS(…)');
  const outer = src.args(i + 1);
  if (outer.length !== 2) throw src.unsupported('CONTAINS', i, 'takes a POINT and a CIRCLE');
  const [pArg, cArg] = outer as [[number, number], [number, number]];
  const p = call(src, pArg[0], 'point', 2);
  if (src.word(cArg[0]) !== 'circle')
    throw src.unsupported(
      `CONTAINS(POINT, ${src.word(cArg[0])?.toUpperCase() ?? '…'})`,
      cArg[0],
      'only a CIRCLE is supported',
    );
  const c = call(src, cArg[0], 'circle', 3);
  if (p.next !== pArg[1] || c.next !== cArg[1])
    throw src.unsupported('CONTAINS', i, 'expected POINT(…), CIRCLE(…)');
  const [ra, dec] = p.args.map((a) => src.span(a)) as [string, string];
  const [cra, cdec, cr] = c.args.map((a) => src.span(a)) as [string, string, string];
  const end = src.close(i + 1) + 1;
  const { from, to, want } = comparison(src, i, end);
  const within = `${haversine(ra, dec, cra, cdec)} <= (${cr})`;
  const [ra0, dec0, r] = c.args.map((a) => src.number(a));
  const narrowed =
    ra0 !== undefined && dec0 !== undefined && r !== undefined
      ? `${box(ra, dec, ra0, dec0, r)} AND ${within}`
      : within;
  return { from, to, sql: want === 1 ? `(${narrowed})` : `(NOT (${within}))` };
}

/** DISTANCE at token i: (POINT, POINT) or four coordinates. */
function distance(src: Source, i: number): { from: number; to: number; sql: string } {
  if (src.tokens[i + 1]?.text !== '(') throw src.unsupported('DISTANCE', i, 'expected DISTANCE(…)');
  const outer = src.args(i + 1);
  const to = src.close(i + 1) + 1;
  if (outer.length === 4) {
    const [a, b, c, d] = outer.map((x) => src.span(x)) as [string, string, string, string];
    return { from: i, to, sql: haversine(a, b, c, d) };
  }
  if (outer.length !== 2) throw src.unsupported('DISTANCE', i, 'takes two POINTs or four coordinates');
  const [p1, p2] = outer.map(([from]) => call(src, from, 'point', 2));
  const [a, b] = (p1?.args ?? []).map((x) => src.span(x)) as [string, string];
  const [c, d] = (p2?.args ?? []).map((x) => src.span(x)) as [string, string];
  return { from: i, to, sql: haversine(a, b, c, d) };
}

/** TOP n of the outermost SELECT: the tokens to drop and the limit, or undefined. */
function top(src: Source): { from: number; to: number; n: string } | undefined {
  let depth = 0;
  let found: { from: number; to: number; n: string } | undefined;
  for (let i = 0; i < src.tokens.length; i++) {
    const t = src.tokens[i]?.text;
    if (t === '(') depth++;
    if (t === ')') depth--;
    const w = src.word(i);
    if (w === 'top' && ['select', 'distinct', 'all'].includes(src.word(i - 1) ?? '')) {
      const n = src.tokens[i + 1];
      if (n?.tokenName !== 'ICONST') throw src.unsupported('TOP', i, 'takes an integer');
      if (depth > 0 || found !== undefined) throw src.unsupported('TOP', i, 'only in the outermost SELECT');
      found = { from: i, to: i + 2, n: n.text };
    }
    if (depth === 0 && found !== undefined && ['union', 'intersect', 'except', 'limit'].includes(w ?? '')) {
      throw src.unsupported(`TOP with ${w?.toUpperCase()}`, i, 'TOP becomes a LIMIT on the whole query');
    }
  }
  return found;
}

/** Translates the ADQL subset to PostgreSQL and validates the result (validate.ts). */
export async function adqlToSql(adql: string): Promise<string> {
  let tokens: Token[];
  try {
    tokens = (await scan(adql)).tokens.filter(
      (t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT',
    );
  } catch (err) {
    throw new QueryValidationError('QuerySyntax', String((err as Error).message));
  }
  const src = new Source(adql, tokens);
  const edits: { from: number; to: number; sql: string }[] = [];
  const t = top(src);
  if (t !== undefined) edits.push({ ...t, sql: '' });
  for (let i = 0; i < tokens.length; i++) {
    const w = src.word(i);
    if (w === undefined || src.tokens[i + 1]?.text !== '(' || !GEOMETRY.includes(w)) continue;
    if (w !== 'contains' && w !== 'distance')
      throw src.unsupported(w.toUpperCase(), i, 'not supported by this service');
    const e = w === 'contains' ? contains(src, i) : distance(src, i);
    edits.push(e);
    i = e.to - 1;
  }
  // Apply from the end so earlier byte offsets stay valid.
  let out = src.bytes;
  for (const e of [...edits].sort((a, b) => b.from - a.from)) {
    const a = tokens[e.from]?.start ?? 0;
    const b = tokens[e.to - 1]?.end ?? a;
    out = Buffer.concat([out.subarray(0, a), Buffer.from(e.sql), out.subarray(b)]);
  }
  let sql = out.toString('utf8').trim().replace(/;\s*$/, '');
  if (t !== undefined) sql = `${sql}\nLIMIT ${t.n}`;
  await validateQuery(sql);
  return sql;
}
