import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCsvResult, type CsvOutputOptions } from './csv-output.js';
import { DelimitedWriter } from './formats/delimited.js';
import type { Column, Row } from './formats/types.js';
import { writeResult } from './output.js';
import { RecordScanner } from './records.js';

const root = mkdtempSync(join(tmpdir(), 'skyport-csv-output-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => mkdtempSync(join(root, `${n++}-`));

const COLUMNS: Column[] = [
  { name: 'id', type: 'int4' },
  { name: 'note, "quoted"', type: 'text' },
  { name: 'tile', type: 'varchar' },
];

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'DES0001-4914', '"', ',', '\t', '\r', '\n', '\r\n', 'é', '東京', ' ', '""'];
function rows(count: number, seed: number): Row[] {
  const r = random(seed);
  const text = (): string | null => {
    const k = Math.floor(r() * 6) - 1;
    if (k < 0) return r() < 0.5 ? null : '';
    return Array.from({ length: k }, () => PIECES[Math.floor(r() * PIECES.length)] as string).join('');
  };
  return Array.from({ length: count }, (_, i) => [i - 5, text(), text()]);
}

/**
 * What `COPY … (FORMAT csv, HEADER)` sends for `rows`: PostgreSQL's CSV quoting is the writer's (a field
 * quoted when it holds the delimiter, a quote, CR or LF, or is the empty string), with LF record ends.
 */
function copyText(rs: readonly Row[], delimiter: ',' | '\t'): Buffer {
  const w = new DelimitedWriter(COLUMNS, delimiter);
  const lf = (b: Uint8Array): Buffer => Buffer.concat([Buffer.from(b).subarray(0, -2), Buffer.from('\n')]);
  return Buffer.concat([lf(w.begin()), ...rs.map((row) => lf(w.rows([row])))]);
}

/** The writer's file for `rows`: what the fast path must reproduce byte for byte. */
async function writerFiles(rs: readonly Row[], opts: Omit<CsvOutputOptions, 'dir'>): Promise<Buffer[]> {
  const dir = fresh();
  // Batches of one row: the writer splits after a batch, the fast path after a record.
  const r = await writeResult(
    COLUMNS,
    rs.map((row) => [row]),
    () => ({ overflow: false }),
    { ...opts, dir },
  );
  return r.files.map((f) => readFileSync(join(dir, f.name)));
}

/** `b` cut into chunks of the given sizes (cycled). */
function chunked(b: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < b.length; i++) {
    const s = sizes[i % sizes.length] as number;
    out.push(b.subarray(at, at + s));
    at += s;
  }
  return out;
}

async function fast(
  chunks: readonly Buffer[],
  opts: Omit<CsvOutputOptions, 'dir'>,
): Promise<{ files: Buffer[]; rows: number; overflow: boolean; names: string[] }> {
  const dir = fresh();
  const r = await writeCsvResult(chunks, { ...opts, dir });
  return {
    files: r.summary.files.map((f) => readFileSync(join(dir, f.name))),
    rows: r.summary.rows,
    overflow: r.overflow,
    names: readdirSync(dir).sort(),
  };
}

describe('RecordScanner', () => {
  it('finds the record ends outside quotes however the stream is chunked', () => {
    const text = copyText(rows(300, 1), ',');
    const whole: number[] = [];
    new RecordScanner().scan(text, whole);
    // Every record end is a line feed; quoted fields hold line feeds too, so there are fewer ends than LFs.
    const lfs = [...text.entries()].filter(([, c]) => c === 0x0a).length;
    expect(whole.length).toBe(301);
    expect(lfs).toBeGreaterThan(301);
    for (const sizes of [[1], [2, 3], [7], [64, 1, 13], [4096]]) {
      const s = new RecordScanner();
      const got: number[] = [];
      let at = 0;
      for (const c of chunked(text, sizes)) {
        const ends: number[] = [];
        s.scan(c, ends);
        got.push(...ends.map((e) => e + at));
        at += c.length;
      }
      expect(got).toEqual(whole);
      expect(s.inQuotes).toBe(false);
    }
  });

  it('says when a chunk ends inside a quoted field', () => {
    const s = new RecordScanner();
    const ends: number[] = [];
    expect(s.scan(Buffer.from('a,"b\n'), ends)).toBe(0);
    expect(s.inQuotes).toBe(true);
    expect(s.scan(Buffer.from('""c"\nd\n'), ends)).toBe(2);
    expect(ends).toEqual([4, 6]);
  });
});

describe('writeCsvResult (COPY text → files)', () => {
  const all = rows(500, 2);
  for (const delimiter of [',', '\t'] as const) {
    const format = delimiter === ',' ? 'csv' : 'tsv';
    it(`${format}: the writer's bytes (CR LF record ends), in any chunking`, async () => {
      const want = await writerFiles(all, { format, stem: 'r' });
      for (const sizes of [[1, 5, 17], [65536]]) {
        const got = await fast(chunked(copyText(all, delimiter), sizes), { format, stem: 'r' });
        expect(got.rows).toBe(all.length);
        expect(got.overflow).toBe(false);
        expect(got.files).toHaveLength(1);
        expect(got.files[0]?.equals(want[0] as Buffer)).toBe(true);
        expect(got.names).toEqual([`r.${format}`]);
      }
    });
  }

  it('splits at record boundaries into whole files, each with the header, as the writer does', async () => {
    const opts = { format: 'csv', stem: 'r', splitMaxBytes: 2000 } as const;
    const want = await writerFiles(all, opts);
    expect(want.length).toBeGreaterThan(3);
    for (const sizes of [[3, 11], [1000], [65536]]) {
      const got = await fast(chunked(copyText(all, ','), sizes), opts);
      expect(got.files.map((f) => f.toString('latin1'))).toEqual(want.map((f) => f.toString('latin1')));
      expect(got.names).toEqual(want.map((_, i) => `r_${String(i + 1).padStart(6, '0')}.csv`).sort());
    }
  });

  it('cuts at maxRecords: the one record past it is the overflow flag and is not written', async () => {
    const max = 200;
    const want = await writerFiles(all.slice(0, max), { format: 'csv', stem: 'r' });
    for (const sizes of [[5, 9], [65536]]) {
      // COPY's LIMIT maxRecords + 1 sends one record more.
      const got = await fast(chunked(copyText(all.slice(0, max + 1), ','), sizes), {
        format: 'csv',
        stem: 'r',
        maxRecords: max,
      });
      expect(got).toMatchObject({ rows: max, overflow: true });
      expect(got.files[0]?.equals(want[0] as Buffer)).toBe(true);
    }
    const exact = await fast([copyText(all.slice(0, max), ',')], {
      format: 'csv',
      stem: 'r',
      maxRecords: max,
    });
    expect(exact).toMatchObject({ rows: max, overflow: false });
  });

  it('gzips like the writer path, and a header-only result is one file with the header', async () => {
    const want = await writerFiles(all, { format: 'csv', stem: 'r', compression: 'gzip' });
    const got = await fast([copyText(all, ',')], { format: 'csv', stem: 'r', compression: 'gzip' });
    expect(got.names).toEqual(['r.csv.gz']);
    expect(gunzipSync(got.files[0] as Buffer).equals(gunzipSync(want[0] as Buffer))).toBe(true);
    const empty = await fast([copyText([], ',')], { format: 'csv', stem: 'r' });
    expect(empty.rows).toBe(0);
    expect(empty.files[0]?.toString()).toBe('id,"note, ""quoted""",tile\r\n');
  });

  it('refuses a stream that ends inside a record and leaves no file', async () => {
    const text = copyText(all.slice(0, 10), ',');
    const dir = fresh();
    await expect(
      writeCsvResult([text.subarray(0, text.length - 3)], { format: 'csv', dir, stem: 'r' }),
    ).rejects.toThrow(/ended inside a record/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
