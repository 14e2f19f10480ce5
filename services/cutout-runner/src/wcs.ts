// The gnomonic (TAN) world coordinate system of FITS WCS papers I and II: pixel ↔ (RA, Dec) for headers
// with CTYPE RA---TAN / DEC--TAN, CRPIX, CRVAL and a linear part from CDi_j, or PCi_j × CDELTi, or the
// older CDELTi + CROTA2. LONPOLE is the TAN default (180°). Distortion (SIP, TPV, PV terms) is refused by
// name rather than ignored, since ignoring it would put cutouts in the wrong place.
// Pixel coordinates here are 0-based (the first pixel's centre is 0, as in astropy's world_to_pixel).

import { FitsError, type Header } from './fits/header.js';

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

export class TanWcs {
  private readonly inv: readonly [number, number, number, number];
  private readonly sinDec0: number;
  private readonly cosDec0: number;

  constructor(
    /** 1-based reference pixel, as in the header. */
    readonly crpix: readonly [number, number],
    /** Reference point (RA, Dec) in degrees. */
    readonly crval: readonly [number, number],
    /** CD matrix row-major [CD1_1, CD1_2, CD2_1, CD2_2], degrees per pixel. */
    readonly cd: readonly [number, number, number, number],
  ) {
    const [a, b, c, d] = cd;
    const det = a * d - b * c;
    if (!Number.isFinite(det) || det === 0) throw new FitsError('BadWcs', 'the CD matrix is singular');
    this.inv = [d / det, -b / det, -c / det, a / det];
    this.sinDec0 = Math.sin(crval[1] * D2R);
    this.cosDec0 = Math.cos(crval[1] * D2R);
  }

  /** Reads the WCS of an image header; `where` names the file and HDU in errors. */
  static fromHeader(h: Header, where: string): TanWcs {
    const c1 = h.string('CTYPE1', '');
    const c2 = h.string('CTYPE2', '');
    if (c1 !== 'RA---TAN' || c2 !== 'DEC--TAN') {
      throw new FitsError(
        'UnsupportedProjection',
        `${where}: CTYPE1/2 = ${JSON.stringify(c1)}/${JSON.stringify(c2)}; only RA---TAN/DEC--TAN without distortion is supported`,
      );
    }
    if (h.cards.some((c) => /^(PV[12]_\d+|A_ORDER|B_ORDER)\s*=/.test(c))) {
      throw new FitsError(
        'UnsupportedProjection',
        `${where}: distortion terms (PV or SIP) are not supported`,
      );
    }
    for (const k of ['CUNIT1', 'CUNIT2']) {
      const unit = h.get(k);
      if (unit !== undefined && String(unit).trim().toLowerCase() !== 'deg') {
        throw new FitsError('BadWcs', `${where}: ${k} = ${JSON.stringify(unit)}, expected deg`);
      }
    }
    const lonpole = h.get('LONPOLE');
    if (lonpole !== undefined && lonpole !== 180) {
      throw new FitsError(
        'BadWcs',
        `${where}: LONPOLE = ${String(lonpole)}; only the TAN default 180 is supported`,
      );
    }
    const crpix: [number, number] = [h.number('CRPIX1'), h.number('CRPIX2')];
    const crval: [number, number] = [h.number('CRVAL1'), h.number('CRVAL2')];
    return new TanWcs(crpix, crval, linearPart(h));
  }

  /** (RA, Dec) in degrees of 0-based pixel (x, y); RA in [0, 360). */
  pixelToWorld(x: number, y: number): [number, number] {
    const [a, b, c, d] = this.cd;
    const px = x + 1 - this.crpix[0];
    const py = y + 1 - this.crpix[1];
    const xi = (a * px + b * py) * D2R;
    const eta = (c * px + d * py) * D2R;
    const den = this.cosDec0 - eta * this.sinDec0;
    const ra = this.crval[0] + Math.atan2(xi, den) * R2D;
    const dec = Math.atan2(this.sinDec0 + eta * this.cosDec0, Math.hypot(xi, den)) * R2D;
    return [normRa(ra), dec];
  }

  /** 0-based pixel of (RA, Dec) in degrees; NaN for points 90° or more from the tangent point. */
  worldToPixel(ra: number, dec: number): [number, number] {
    const dra = (ra - this.crval[0]) * D2R;
    const sd = Math.sin(dec * D2R);
    const cdec = Math.cos(dec * D2R);
    const cdra = Math.cos(dra);
    const cosc = this.sinDec0 * sd + this.cosDec0 * cdec * cdra;
    if (!(cosc > 0)) return [NaN, NaN];
    const xi = ((cdec * Math.sin(dra)) / cosc) * R2D;
    const eta = ((this.cosDec0 * sd - this.sinDec0 * cdec * cdra) / cosc) * R2D;
    const [ia, ib, ic, id] = this.inv;
    return [ia * xi + ib * eta + this.crpix[0] - 1, ic * xi + id * eta + this.crpix[1] - 1];
  }

  /** Pixel scales along x and y in degrees (as astropy's proj_plane_pixel_scales). */
  pixelScales(): [number, number] {
    const [a, b, c, d] = this.cd;
    return [Math.hypot(a, c), Math.hypot(b, d)];
  }

  /**
   * True when `other` samples the same pixel grid with an integer offset: same tangent point and CD,
   * CRPIX differing by whole pixels. Returns that offset (other's pixel = ours − offset) or undefined.
   */
  gridOffset(other: TanWcs): [number, number] | undefined {
    const same = (p: number, q: number): boolean => Math.abs(p - q) <= 1e-12 * Math.max(1, Math.abs(p));
    if (!this.crval.every((v, i) => same(v, other.crval[i] ?? NaN))) return undefined;
    if (!this.cd.every((v, i) => same(v, other.cd[i] ?? NaN))) return undefined;
    const dx = this.crpix[0] - other.crpix[0];
    const dy = this.crpix[1] - other.crpix[1];
    if (Math.abs(dx - Math.round(dx)) > 1e-9 || Math.abs(dy - Math.round(dy)) > 1e-9) return undefined;
    return [Math.round(dx), Math.round(dy)];
  }
}

/** RA folded into [0, 360). */
export function normRa(ra: number): number {
  const r = ra % 360;
  return r < 0 ? r + 360 : r === 360 ? 0 : r;
}

function linearPart(h: Header): [number, number, number, number] {
  if (['CD1_1', 'CD1_2', 'CD2_1', 'CD2_2'].some((k) => h.has(k))) {
    return [h.number('CD1_1', 0), h.number('CD1_2', 0), h.number('CD2_1', 0), h.number('CD2_2', 0)];
  }
  const s1 = h.number('CDELT1', 1);
  const s2 = h.number('CDELT2', 1);
  if (['PC1_1', 'PC1_2', 'PC2_1', 'PC2_2'].some((k) => h.has(k)) || !h.has('CROTA2')) {
    const pc = [h.number('PC1_1', 1), h.number('PC1_2', 0), h.number('PC2_1', 0), h.number('PC2_2', 1)];
    return [s1 * (pc[0] ?? 1), s1 * (pc[1] ?? 0), s2 * (pc[2] ?? 0), s2 * (pc[3] ?? 1)];
  }
  // CROTA2 (AIPS convention, as WCS paper II §6.1 translates it).
  const rho = h.number('CROTA2') * D2R;
  const cos = Math.cos(rho);
  const sin = Math.sin(rho);
  return [s1 * cos, -s2 * sin, s1 * sin, s2 * cos];
}
