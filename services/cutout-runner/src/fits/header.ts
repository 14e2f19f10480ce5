// FITS headers (FITS 4.0 §4): 80-character cards kept verbatim, so a header read and written back is the
// same bytes; values are parsed on demand (strings with '' escapes and CONTINUE long strings, logicals,
// integers, reals with E or D exponents). Cards that are changed are formatted in fixed format.

export const BLOCK = 2880;
export const CARD = 80;

/** A FITS file or header that cannot be read; `code` is stable, the message names what and where. */
export class FitsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'FitsError';
  }
}

export type CardValue = string | number | boolean | null;

/** The keyword of a card image (columns 1–8, blanks trimmed). */
export function cardKey(card: string): string {
  return card.slice(0, 8).trimEnd();
}

function hasValue(card: string): boolean {
  return card.slice(8, 10) === '= ';
}

/** Parses the value field of a card (columns 11–80); returns the value and where the comment starts. */
function parseValue(card: string, where: string): { value: CardValue; rest: string } {
  const field = card.slice(10);
  const text = field.trimStart();
  if (text.startsWith("'")) {
    let i = 1;
    let out = '';
    for (;;) {
      const q = text.indexOf("'", i);
      if (q < 0) throw new FitsError('BadCard', `${where}: unterminated string in ${JSON.stringify(card)}`);
      out += text.slice(i, q);
      if (text[q + 1] === "'") {
        out += "'";
        i = q + 2;
        continue;
      }
      // Trailing blanks are not significant in FITS strings; leading ones are.
      return { value: out.trimEnd(), rest: text.slice(q + 1) };
    }
  }
  const slash = text.indexOf('/');
  const raw = (slash < 0 ? text : text.slice(0, slash)).trim();
  const rest = slash < 0 ? '' : text.slice(slash);
  if (raw === '') return { value: null, rest };
  if (raw === 'T' || raw === 'F') return { value: raw === 'T', rest };
  const num = Number(raw.replace(/[dD]/, 'E'));
  if (!Number.isFinite(num) && raw !== 'NaN') {
    throw new FitsError('BadCard', `${where}: cannot read the value of ${JSON.stringify(card)}`);
  }
  return { value: num, rest };
}

/** A real number as a FITS fixed-format value: the shortest decimal that reads back, with `.` and `E`. */
export function formatReal(x: number): string {
  if (!Number.isFinite(x)) throw new FitsError('BadValue', `a FITS real must be finite, got ${x}`);
  let s = String(x).toUpperCase();
  if (!/[.E]/.test(s)) s += '.0';
  else if (s.includes('E') && !s.slice(0, s.indexOf('E')).includes('.')) s = s.replace('E', '.0E');
  return s;
}

function ascii(text: string, what: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) {
    throw new FitsError('NotAscii', `${what}: a FITS header holds printable ASCII only`);
  }
  return text;
}

/** Formats one card; strings longer than a card are not supported here (use the CONTINUE writer). */
export function formatCard(key: string, value: CardValue, comment = ''): string {
  if (!/^[A-Z0-9_-]{1,8}$/.test(key)) {
    throw new FitsError('BadKeyword', `${JSON.stringify(key)}: a keyword is 1–8 of A–Z, 0–9, _ and -`);
  }
  const k = key.padEnd(8, ' ');
  let v: string;
  if (typeof value === 'string') {
    const escaped = ascii(value, key).replaceAll("'", "''");
    if (escaped.length > 68) throw new FitsError('TooLong', `${key}: string value longer than one card`);
    v = `'${escaped.padEnd(8, ' ')}'`.padEnd(20, ' ');
  } else if (typeof value === 'boolean') v = (value ? 'T' : 'F').padStart(20, ' ');
  else if (value === null) v = ''.padEnd(20, ' ');
  else v = (Number.isInteger(value) ? String(value) : formatReal(value)).padStart(20, ' ');
  const c = comment ? ` / ${ascii(comment, key)}` : '';
  return `${k}= ${v}${c}`.padEnd(CARD, ' ').slice(0, CARD);
}

/** A header: the card images in order (END excluded), with lookups by keyword. */
export class Header {
  readonly cards: string[];

  constructor(cards: readonly string[]) {
    this.cards = cards.map((c) => c.padEnd(CARD, ' ').slice(0, CARD));
  }

  /** Reads the cards from header bytes (up to and excluding END); `where` names the HDU in errors. */
  static parse(bytes: Uint8Array, where: string): { header: Header; length: number } {
    const cards: string[] = [];
    for (let at = 0; at + CARD <= bytes.length; at += CARD) {
      const card = Buffer.from(bytes.buffer, bytes.byteOffset + at, CARD).toString('latin1');
      if (cardKey(card) === 'END') {
        return { header: new Header(cards), length: Math.ceil((at + CARD) / BLOCK) * BLOCK };
      }
      cards.push(card);
    }
    throw new FitsError('NoEnd', `${where}: header has no END card`);
  }

  index(key: string): number {
    return this.cards.findIndex((c) => cardKey(c) === key && hasValue(c));
  }

  has(key: string): boolean {
    return this.index(key) >= 0;
  }

  /** The value of `key` (a long string joined from its CONTINUE cards), or undefined when absent. */
  get(key: string): CardValue | undefined {
    const i = this.index(key);
    if (i < 0) return undefined;
    const card = this.cards[i] ?? '';
    const { value } = parseValue(card, key);
    if (typeof value !== 'string' || !value.endsWith('&')) return value;
    let out = value;
    for (let j = i + 1; out.endsWith('&') && cardKey(this.cards[j] ?? '') === 'CONTINUE'; j++) {
      const next = parseValue(`CONTINUE= ${(this.cards[j] ?? '').slice(10)}`, key).value;
      out = out.slice(0, -1) + (typeof next === 'string' ? next : '');
    }
    return out;
  }

  number(key: string, fallback?: number): number {
    const v = this.get(key);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number') {
      throw new FitsError('MissingKeyword', `${key}: expected a number, got ${JSON.stringify(v ?? null)}`);
    }
    return v;
  }

  string(key: string, fallback?: string): string {
    const v = this.get(key);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string') {
      throw new FitsError('MissingKeyword', `${key}: expected a string, got ${JSON.stringify(v ?? null)}`);
    }
    return v;
  }

  /** Replaces the card of `key` in place (keeping its comment) or appends it. */
  set(key: string, value: CardValue, comment?: string): void {
    const i = this.index(key);
    if (i < 0) {
      this.cards.push(formatCard(key, value, comment ?? ''));
      return;
    }
    const old = this.cards[i] ?? '';
    const keep =
      comment ??
      parseValue(old, key)
        .rest.trimStart()
        .replace(/^\/\s?/, '')
        .trimEnd();
    this.cards[i] = formatCard(key, value, keep);
  }

  /** Inserts a card after the card of `after` (or at the end when `after` is absent). */
  insertAfter(after: string, key: string, value: CardValue, comment = ''): void {
    const card = formatCard(key, value, comment);
    const i = this.index(after);
    if (i < 0) this.cards.push(card);
    else this.cards.splice(i + 1, 0, card);
  }

  /** Appends a commentary card (HISTORY or COMMENT); text beyond one card is cut. */
  addCommentary(key: 'HISTORY' | 'COMMENT', text: string): void {
    this.cards.push(`${key.padEnd(8, ' ')}${ascii(text, key)}`.padEnd(CARD, ' ').slice(0, CARD));
  }

  delete(key: string): void {
    const i = this.index(key);
    if (i >= 0) this.cards.splice(i, 1);
  }

  clone(): Header {
    return new Header(this.cards);
  }

  /** The header's bytes: the cards, END, blanks to the next 2880-byte block. */
  bytes(): Buffer {
    const text = [...this.cards, 'END'.padEnd(CARD, ' ')].join('');
    return Buffer.from(text.padEnd(Math.ceil(text.length / BLOCK) * BLOCK, ' '), 'latin1');
  }
}

/** Bytes per element of each BINTABLE TFORM type code (P and Q: the array descriptor in the row). */
export const TFORM_BYTES: Readonly<Record<string, number>> = {
  L: 1,
  X: 1,
  B: 1,
  I: 2,
  J: 4,
  K: 8,
  A: 1,
  E: 4,
  D: 8,
  C: 8,
  M: 16,
  P: 8,
  Q: 16,
};
