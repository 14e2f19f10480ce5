// FITS header cards (FITS 4.0 §4): 80-character ASCII cards, fixed-format values starting in column 11,
// long strings split over CONTINUE cards (the long-string convention astropy and cfitsio read), headers
// padded with blanks to 2880-byte blocks.

import { FormatError } from './types.js';

export const BLOCK = 2880;
const CARD = 80;

/** Refuses what a FITS header cannot hold: only printable ASCII (0x20–0x7E) is allowed. */
function ascii(text: string, what: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) {
    throw new FormatError(
      'NotAscii',
      `${what}: a FITS header holds printable ASCII only, got ${JSON.stringify(text)}`,
    );
  }
  return text;
}

function keyword(key: string): string {
  return key.padEnd(8, ' ');
}

/** A card with a fixed-format integer (right-justified in columns 11–30). */
export function intCard(key: string, value: number | bigint | 'T' | 'F', comment = ''): string {
  const card = `${keyword(key)}= ${String(value).padStart(20, ' ')}` + (comment ? ` / ${comment}` : '');
  return card.padEnd(CARD, ' ').slice(0, CARD);
}

export function boolCard(key: string, value: boolean, comment = ''): string {
  return intCard(key, value ? 'T' : 'F', comment);
}

/** One or more cards holding a string; `what` names the value in errors (e.g. `column 3 'ra' TUNIT`). */
export function stringCards(key: string, value: string, what: string): string[] {
  const escaped = ascii(value, what).replaceAll("'", "''");
  // A quoted string with its closing quote fits in columns 11–80 (70 characters): 68 of content, or
  // 67 plus the '&' that says the value continues on the next card.
  if (escaped.length <= 68) return [`${keyword(key)}= '${escaped.padEnd(8, ' ')}'`.padEnd(CARD, ' ')];
  const cards: string[] = [];
  let rest = value;
  let prefix = `${keyword(key)}= `;
  while (rest.length > 0) {
    let n = Math.min(rest.length, 67);
    // Never end a piece between the two quotes of an escaped quote: count the piece once escaped.
    while (rest.slice(0, n).replaceAll("'", "''").length > 67) n--;
    const piece = rest.slice(0, n).replaceAll("'", "''");
    rest = rest.slice(n);
    cards.push(`${prefix}'${piece}${rest.length > 0 ? '&' : ''}'`.padEnd(CARD, ' '));
    prefix = 'CONTINUE  ';
  }
  return cards;
}

/** The header's bytes: the cards, END, blanks to the next 2880-byte block. */
export function headerBytes(cards: readonly string[]): Buffer {
  const text = [...cards, 'END'.padEnd(CARD, ' ')].join('');
  const size = Math.ceil(text.length / BLOCK) * BLOCK;
  return Buffer.from(text.padEnd(size, ' '), 'latin1');
}

/** The primary HDU of a file whose data are all in extensions. */
export function primaryHeader(): Buffer {
  return headerBytes([
    boolCard('SIMPLE', true, 'conforms to FITS standard'),
    intCard('BITPIX', 8),
    intCard('NAXIS', 0),
    boolCard('EXTEND', true),
  ]);
}
