// scanHdus over in-memory ranged reads finds the HDUs FitsFile.open finds on disk, reading headers only: the sample
// survey's plain and Rice files, a header longer than one read, a truncated file and one with no END card.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSurvey, type Survey } from '../survey/generate.js';
import { BLOCK, formatCard } from './header.js';
import { emptyPrimary, hduBytes } from './image.js';
import { FitsFile } from './read.js';
import { HEADER_READ_BLOCKS, scanHdus, type ReadRange } from './scan.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-scan-'));
let survey: Survey;
beforeAll(() => {
  survey = generateSurvey({ dir, tileSize: 64, tilesPerSide: 2, bands: ['g'], starsPerTile: 1 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Ranged reads of `bytes`, recorded as [offset, length]. */
function reader(bytes: Uint8Array): { read: ReadRange; calls: [number, number][] } {
  const calls: [number, number][] = [];
  return {
    calls,
    read: (offset, length) => {
      calls.push([offset, length]);
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}

describe('scanHdus', () => {
  it('finds the HDUs FitsFile.open finds, plain and Rice-compressed, each read starting at a header', async () => {
    expect(survey.files.some((f) => f.endsWith('.fz'))).toBe(true);
    for (const name of survey.files) {
      const bytes = readFileSync(join(dir, name));
      const { read, calls } = reader(bytes);
      const scan = await scanHdus(read, bytes.length, name);
      const f = FitsFile.open(join(dir, name));
      f.close();
      const view = (h: (typeof f.hdus)[number]) => ({
        index: h.index,
        kind: h.kind,
        name: h.name,
        dataOffset: h.dataOffset,
        dataBytes: h.dataBytes,
        cards: h.header.cards,
      });
      expect(scan.hdus.map(view), name).toEqual(f.hdus.map(view));
      expect(scan.reads).toBe(calls.length);
      // No read starts inside a data area; none is longer than the header window.
      for (const [offset, length] of calls) {
        expect(length).toBeLessThanOrEqual(HEADER_READ_BLOCKS * BLOCK);
        expect(f.hdus.some((h) => offset >= h.dataOffset && offset < h.dataOffset + h.dataBytes)).toBe(false);
      }
      // One window a header here (each fits in one): tiny next to a real tile, whatever the image size.
      expect(scan.reads).toBe(f.hdus.length);
      expect(scan.bytesRead).toBeLessThanOrEqual(f.hdus.length * HEADER_READ_BLOCKS * BLOCK);
    }
  });

  it('reads a header longer than one read in several, and refuses a truncated file or one without END', async () => {
    // A primary header of 200 cards (6 blocks) and a small image.
    const extra = Array.from({ length: 200 }, (_, i) => formatCard(`HIST${i}`, i));
    const primary = hduBytes(emptyPrimary(extra), new Uint8Array(0));
    expect(primary.length).toBeGreaterThan(HEADER_READ_BLOCKS * BLOCK);
    const file = join(dir, 'long.fits');
    writeFileSync(file, primary);
    const bytes = readFileSync(file);
    const { read, calls } = reader(bytes);
    const scan = await scanHdus(read, bytes.length, 'long.fits');
    expect(scan.hdus).toHaveLength(1);
    expect(scan.hdus[0]?.header.get('HIST199')).toBe(199);
    expect(calls.length).toBe(2);

    const survey0 = readFileSync(join(dir, survey.files[0] ?? ''));
    const cut = survey0.subarray(0, survey0.length - BLOCK);
    await expect(scanHdus(reader(cut).read, cut.length, 'cut')).rejects.toThrow(/data run past the end/);
    const noEnd = Buffer.alloc(2 * BLOCK, ' ');
    noEnd.write(formatCard('SIMPLE', true), 0, 'latin1');
    await expect(scanHdus(reader(noEnd).read, noEnd.length, 'noend')).rejects.toThrow(/no END card/);
  });
});
