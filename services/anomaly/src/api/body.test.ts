// Unit tests for body decoding: Content-Encoding, charsets, and linear line splitting under a length cap.

import { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { charsetOf, decodedBody, LineSplitter } from './body.js';
import { HttpError } from './errors.js';
import { parseCsv, RowSink, type ParseOptions } from './parse.js';

function request(body: Uint8Array, encoding?: string): Readable & { headers: Record<string, unknown> } {
  const r = Readable.from([body.subarray(0, 7), body.subarray(7)]) as Readable & {
    headers: Record<string, unknown>;
  };
  r.headers = encoding === undefined ? {} : { 'content-encoding': encoding };
  return r;
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const b of body) parts.push(b);
  return Buffer.concat(parts).toString('utf8');
}

async function error(p: () => Promise<unknown>): Promise<HttpError> {
  try {
    await p();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('expected an HttpError');
}

const CSV = Buffer.from('a,b\n1,2\n3,4\n');

describe('decodedBody', () => {
  it.each([
    ['gzip', gzipSync(CSV)],
    ['x-gzip', gzipSync(CSV)],
    ['deflate', deflateSync(CSV)],
    ['br', brotliCompressSync(CSV)],
    ['GZIP', gzipSync(CSV)],
    // Codings are listed in the order applied: gzip first, then br.
    ['gzip, br', brotliCompressSync(gzipSync(CSV))],
    ['identity', CSV],
  ])('undoes Content-Encoding %s', async (enc, body) => {
    expect(await text(decodedBody(request(body, enc)))).toBe(CSV.toString());
  });
  it('answers 415 naming a coding it does not decode', async () => {
    const e = await error(async () => text(decodedBody(request(CSV, 'gzip, zstd'))));
    expect([e.status, e.code, e.detail.encoding]).toEqual([415, 'UnsupportedContentEncoding', 'zstd']);
    expect(e.message).toMatch(/"zstd" is not supported/);
  });
  it('answers 400 for a body that is not what its coding says', async () => {
    const e = await error(async () => text(decodedBody(request(CSV, 'gzip'))));
    expect([e.status, e.code, e.detail.encoding]).toEqual([400, 'InvalidContentEncoding', 'gzip']);
  });
});

describe('charsetOf', () => {
  it('reads the declared charset, utf-8 by default', () => {
    expect(charsetOf('text/csv')).toBe('utf-8');
    expect(charsetOf('text/csv; charset=UTF-8')).toBe('utf-8');
    expect(charsetOf('text/csv; charset="iso-8859-1"')).toBe('latin1');
    expect(charsetOf('application/x-ndjson;charset=latin1')).toBe('latin1');
  });
  it('answers 415 naming an unsupported charset', () => {
    const e = (() => {
      try {
        charsetOf('text/csv; charset=utf-16le');
      } catch (err) {
        return err as HttpError;
      }
      throw new Error('expected an HttpError');
    })();
    expect([e.status, e.code, e.detail.charset]).toEqual([415, 'UnsupportedCharset', 'utf-16le']);
  });
});

describe('LineSplitter', () => {
  it('decodes latin1 and utf-8, splits across buffers, drops CR', () => {
    const latin = new LineSplitter('latin1');
    expect([
      ...latin.push(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d])),
      ...latin.push(Buffer.from('\nx')),
    ]).toEqual(['café']);
    expect(latin.end()).toBe('x');
    const utf = new LineSplitter('utf-8');
    const bytes = Buffer.from('café,b\n1,2\n');
    // The é (2 bytes) is split between buffers.
    expect([...utf.push(bytes.subarray(0, 4)), ...utf.push(bytes.subarray(4))]).toEqual(['café,b', '1,2']);
    expect(utf.end()).toBeNull();
  });
  it('refuses a line over the cap as soon as it is, naming the line', () => {
    const s = new LineSplitter('utf-8', 10);
    expect(s.push(Buffer.from('1,2\n3,'))).toEqual(['1,2']);
    let e: unknown;
    try {
      s.push(Buffer.from('4444444444'));
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(HttpError);
    expect([(e as HttpError).status, (e as HttpError).code, (e as HttpError).detail]).toEqual([
      413,
      'LineTooLong',
      { line: 2, limit: 10 },
    ]);
  });
});

describe('LineSplitter within one buffer', () => {
  it('splits many lines of one buffer, counting them, and names a long one among them', () => {
    const s = new LineSplitter('utf-8', 10);
    expect(s.push(Buffer.from('a\r\nbb\nccc\nd'))).toEqual(['a', 'bb', 'ccc']);
    expect(s.lines).toBe(3);
    // A region longer than the cap made of short lines is fine.
    expect(s.push(Buffer.from('\n' + '12345678\n'.repeat(4)))).toEqual([
      'd',
      ...Array<string>(4).fill('12345678'),
    ]);
    expect(s.lines).toBe(8);
    let e: unknown;
    try {
      s.push(Buffer.from('1\n22\n' + '3'.repeat(11) + '\n4\n5'));
    } catch (err) {
      e = err;
    }
    expect((e as HttpError).detail).toEqual({ line: 11, limit: 10 });
  });
});

describe('parsing long lines', () => {
  /** Milliseconds to parse (and refuse: it is infinite) one line of `n` digits fed in 16 KiB buffers; best of 3. */
  async function parseMs(n: number): Promise<number> {
    const line = Buffer.alloc(n + 1, '1'.charCodeAt(0));
    line[n] = 10;
    const opts: ParseOptions = { maxBytes: 1 << 30, maxCols: 10, header: 'absent', maxLineBytes: 1 << 30 };
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      async function* body(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < line.length; i += 16_384) {
          await Promise.resolve(); // a real body yields between buffers
          yield line.subarray(i, i + 16_384);
        }
      }
      const t0 = performance.now();
      await parseCsv(body(), opts, new RowSink(10, 10, () => Promise.resolve())).catch(() => undefined);
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  }

  it('takes time linear in the line length (8× the bytes, well under 64× the time)', async () => {
    await parseMs(1 << 18); // warm-up
    const short = await parseMs(1 << 19);
    const long = await parseMs(1 << 22);
    // Linear splitting gives ~8×; re-scanning the partial line on every buffer (as before) gave ~64×.
    expect(long / short).toBeLessThan(24);
  });
});
