// The operator's port of the runner's positions parser (operator/src/controllers/cutoutjob/positions.ts) and the
// runner's own (services/cutout-runner/src/cutout/positions.ts) give the same rows, reasons and refusals on the
// same inputs. Both are loaded by path: the two workspaces share no code.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../cluster/index.js';

type Parse = (
  text: string,
  defaults: { xsize: number; ysize: number; unit: string },
  limits: { minArcmin: number; maxArcmin: number; maxPixels: number; maxPositions: number },
) => unknown;
let operatorParse: Parse;
let runnerParse: Parse;

beforeAll(async () => {
  const load = async (p: string) =>
    ((await import(pathToFileURL(join(repoRoot, p)).href)) as { parsePositions: Parse }).parsePositions;
  operatorParse = await load('operator/src/controllers/cutoutjob/positions.ts');
  runnerParse = await load('services/cutout-runner/src/cutout/positions.ts');
});

function outcome(
  parse: Parse,
  text: string,
  limits = { minArcmin: 0.1, maxArcmin: 12, maxPixels: 4096, maxPositions: 5 },
) {
  try {
    return parse(text, { xsize: 1, ysize: 1, unit: 'arcmin' }, limits);
  } catch (e) {
    return { refused: e instanceof Error ? e.message : String(e) };
  }
}

const INPUTS: Record<string, string> = {
  'BOM, CRLF, quotes, blank lines': '\uFEFFRA,DEC,ID\r\n1,2,"a, b"\r\n\r\n"3","-4","say ""hi"""\r\n',
  'CR only': 'ra,dec\r5,6\r7,8',
  'bad coordinates': 'RA,DEC\nNaN,1\n361,0\n-1,0\n1,91\n1,\n,1\nInfinity,0\n360,-90\n',
  'sizes and fields':
    'RA,DEC,XSIZE,YSIZE,COLORS_FITS\n1,1,0.05,1,gri\n1,1,13,,\n1,1,,12.0,g r\n1,1\n1,1,1,1,1,1\n',
  'too many positions': 'RA,DEC\n' + Array.from({ length: 8 }, (_, i) => `${i},0`).join('\n'),
  'unknown DES columns': 'RA,DEC,MAKE_FITS,RGB_STIFF_COLORS\n1,2,true,gri\n',
  'no RA/DEC header': 'X,Y\n1,2\n',
  'COADD_OBJECT_ID only': 'COADD_OBJECT_ID\n123\n',
  empty: '',
};

describe('positions parity (operator port vs runner)', () => {
  for (const [name, text] of Object.entries(INPUTS)) {
    it(name, () => {
      const ours = outcome(operatorParse, text);
      expect(ours).toEqual(outcome(runnerParse, text));
    });
  }
  it('pixel sizes under a collection limit', () => {
    const limits = { minArcmin: 0.1, maxArcmin: 12, maxPixels: 100, maxPositions: 10 };
    const text = 'RA,DEC,XSIZE,YSIZE\n1,1,100,100\n1,1,101,1\n1,1,10.5,1\n';
    const pix = (p: Parse) => p(text, { xsize: 50, ysize: 50, unit: 'pix' }, limits);
    expect(pix(operatorParse)).toEqual(pix(runnerParse));
    expect(JSON.stringify(pix(operatorParse))).toContain('not a whole number of pixels ≤ 100');
  });
});
