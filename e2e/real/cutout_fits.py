"""Reads a CutoutJob's FITS cutouts with astropy for e2e/real/cutoutjob.real.test.ts: a JSON list on stdin, JSON out.

Each request item: {"path": cutout, "tile": source tile file, "ra": deg, "dec": deg}. For every image HDU of the
cutout (opened with checksums verified, warnings as errors): its shape and NaN count, the pixel astropy's WCS of the
cutout's header puts the requested RA/Dec at, the pixel astropy's own Cutout2D of the source tile (same HDU, same
shape) puts it at, and whether the pixels equal Cutout2D's bit for bit (null when the box leaves the tile).
"""

import json
import sys
import warnings

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D, PartialOverlapError
from astropy.wcs import WCS


def check(item):
    sky = SkyCoord(item["ra"] * u.deg, item["dec"] * u.deg, frame="icrs")
    hdus = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(item["path"], checksum=True) as cut, fits.open(item["tile"]) as tile:
            cut.verify("exception")
            for hdu in cut:
                if hdu.data is None or not hdu.is_image:
                    continue
                ny, nx = hdu.data.shape
                x, y = WCS(hdu.header).world_to_pixel(sky)
                src = tile[hdu.name]
                ref = Cutout2D(src.data, sky, (ny, nx), wcs=WCS(src.header), mode="partial", fill_value=0)
                rx, ry = ref.wcs.world_to_pixel(sky)
                try:
                    strict = Cutout2D(src.data, sky, (ny, nx), wcs=WCS(src.header), mode="strict")
                    same = bool(np.array_equal(strict.data, hdu.data))
                except PartialOverlapError:
                    same = None
                nan = int(np.isnan(hdu.data).sum()) if hdu.data.dtype.kind == "f" else 0
                hdus.append(
                    {
                        "name": hdu.name,
                        "shape": [nx, ny],
                        "nan": nan,
                        "pixel": [float(x), float(y)],
                        "reference": [float(rx), float(ry)],
                        "same": same,
                    }
                )
    return {"path": item["path"], "hdus": hdus}


if __name__ == "__main__":
    json.dump([check(item) for item in json.load(sys.stdin)], sys.stdout)
