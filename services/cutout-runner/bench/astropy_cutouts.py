"""The peer for `npm run bench:cutout`: the same cutouts with astropy's Cutout2D + writeto.

Usage: astropy_cutouts.py JOB.json, JOB = {"out": dir, "nx": n, "ny": n, "hdu": "SCI",
"positions": [[ra, dec, tile_path], ...]}. Each tile is read once (kept in memory, as the runner's cache
does); each cutout is Cutout2D(mode="partial", fill NaN) written as primary + image extension with
checksums. Prints {"seconds", "cutouts", "peak_rss_mib"}; import time is not counted.
"""

import json
import os
import resource
import sys
import time

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS

job = json.load(open(sys.argv[1]))
os.makedirs(job["out"], exist_ok=True)
tiles = {}
t0 = time.perf_counter()
for i, (ra, dec, path) in enumerate(job["positions"]):
    if path not in tiles:
        with fits.open(path) as hdul:
            hdu = hdul[job["hdu"]]
            tiles[path] = (np.array(hdu.data), WCS(hdu.header), hdu.header.copy())
    data, wcs, header = tiles[path]
    cut = Cutout2D(data, SkyCoord(ra * u.deg, dec * u.deg), (job["ny"], job["nx"]), wcs=wcs, mode="partial", fill_value=np.nan)
    h = header.copy()
    h.update(cut.wcs.to_header())
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(cut.data, header=h, name="SCI")]).writeto(
        os.path.join(job["out"], f"{i}.fits"), overwrite=True, checksum=True
    )
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "cutouts": len(job["positions"]), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
