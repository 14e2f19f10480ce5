"""The astropy side of the cutout runner's compatibility tests: reads a JSON request on stdin, prints JSON.

Usage: cutout_astropy.py COMMAND < request.json, COMMAND one of
  inspect          open files with astropy (checksums verified), describe every HDU and hash its data
  make-compressed  write tile-compressed images with astropy's own compressor for our reader to read
  wcs              world -> pixel and pixel -> world with astropy.wcs for a header's cards
  cutouts          astropy Cutout2D on a tile beside our cutout file: shapes, pixels, WCS centre; with
                   "circle_deg" (a diameter), only the pixels within the circle are compared and the rest
                   must be blank (NaN, or BLANK read as NaN)
  lupton           astropy.visualization.make_lupton_rgb on three images
Data hashes are sha256 of the array's big-endian bytes, so both sides hash the same representation.
"""

import base64
import hashlib
import json
import sys
import warnings

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D, NoOverlapError
from astropy.visualization import make_lupton_rgb
from astropy.wcs import WCS


def big_endian_hash(data):
    arr = np.ascontiguousarray(data)
    return hashlib.sha256(arr.astype(arr.dtype.newbyteorder(">")).tobytes()).hexdigest()


def inspect(req):
    out = []
    for path in req["files"]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a checksum or standard warning fails the check
            with fits.open(path, checksum=True) as hdul:
                hdul.verify("exception")
                hdus = []
                for hdu in hdul:
                    entry = {"name": hdu.name, "class": type(hdu).__name__}
                    # A compressed HDU's CHECKSUM/DATASUM belong to the table that stores it; verified
                    # before .data is touched (astropy re-derives that table once the data are read).
                    stored = hdu._bintable if isinstance(hdu, fits.CompImageHDU) else hdu
                    entry["checksum"] = bool(
                        "CHECKSUM" in stored.header and stored.verify_checksum() == 1 and stored.verify_datasum() == 1
                    )
                    if hdu.data is not None and hdu.is_image:
                        entry["shape"] = list(hdu.data.shape)
                        entry["dtype"] = str(hdu.data.dtype.newbyteorder(">"))
                        entry["sha256"] = big_endian_hash(hdu.data)
                        entry["nan"] = int(np.isnan(hdu.data).sum()) if hdu.data.dtype.kind == "f" else 0
                    header = hdu.header
                    entry["cards"] = {k: header[k] for k in req.get("keys", []) if k in header}
                    hdus.append(entry)
        out.append({"path": path, "hdus": hdus})
    return out


def make_compressed(req):
    out = []
    rng = np.random.default_rng(req.get("seed", 1))
    for case in req["cases"]:
        shape = (case["height"], case["width"])
        if case["dtype"] == "float32":
            data = (rng.normal(0, 1, shape) * 3 + 100).astype(np.float32)
            data[0, :7] = 0.0  # zeros: SUBTRACTIVE_DITHER_2 keeps them exactly
            if case.get("nan"):
                data[1, 3] = np.nan
        else:
            data = rng.integers(-3000, 3000, shape).astype(case["dtype"])
        kwargs = {"compression_type": case["compression"]}
        if "quantize" in case:
            kwargs["quantize_method"] = {"NO_DITHER": -1, "SUBTRACTIVE_DITHER_1": 1, "SUBTRACTIVE_DITHER_2": 2}[
                case["quantize"]
            ]
            kwargs["dither_seed"] = case.get("dither_seed", 0)
        if "tile" in case:
            kwargs["tile_shape"] = tuple(case["tile"])
        hdu = fits.CompImageHDU(data=data, name="SCI", **kwargs)
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(case["path"], overwrite=True)
        with fits.open(case["path"]) as hdul:
            back = hdul["SCI"].data
            out.append({"path": case["path"], "sha256": big_endian_hash(back), "dtype": str(back.dtype)})
    return out


def wcs(req):
    out = []
    for case in req["cases"]:
        w = WCS(fits.Header.fromstring("".join(case["cards"])))
        world = np.array(case["world"], dtype=float).reshape(-1, 2)
        pix = np.array(case["pixels"], dtype=float).reshape(-1, 2)
        x, y = w.all_world2pix(world[:, 0], world[:, 1], 0)
        ra, dec = w.all_pix2world(pix[:, 0], pix[:, 1], 0)
        out.append({"pixels": np.stack([x, y], 1).tolist(), "world": np.stack([ra, dec], 1).tolist()})
    return out


def bits_equal(a, b):
    """Equal bit for bit (NaN payloads included) when shapes and dtypes match."""
    if a.shape != b.shape or a.dtype.newbyteorder("=") != b.dtype.newbyteorder("="):
        return False, -1
    av = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("=")).view(np.uint8)
    bv = np.ascontiguousarray(b).astype(b.dtype.newbyteorder("=")).view(np.uint8)
    size = a.dtype.itemsize
    diff = (av.reshape(-1, size) != bv.reshape(-1, size)).any(axis=1)
    return not diff.any(), int(diff.sum())


def cutouts(req):
    out = []
    cache = {}
    for case in req["cases"]:
        key = (case["tile"], case["hdu"])
        if key not in cache:
            with fits.open(case["tile"]) as hdul:
                hdu = hdul[case["hdu"]]
                cache[key] = (np.array(hdu.data), WCS(hdu.header))
        data, tile_wcs = cache[key]
        pos = SkyCoord(case["ra"] * u.deg, case["dec"] * u.deg, frame="icrs")
        fill = np.nan if data.dtype.kind == "f" else case.get("blank", 0)
        try:
            ref = Cutout2D(data, pos, (case["ny"], case["nx"]), wcs=tile_wcs, mode="partial", fill_value=fill)
        except NoOverlapError:
            out.append({"no_overlap": True, "covered": 0, "equal": True})
            continue
        with fits.open(case["cutout"], checksum=True) as hdul:
            ours = hdul[case["cutout_hdu"]]
            # Verified before .data is read: astropy recomputes sums from scaled (BLANK → NaN) data after.
            checksum_ok = bool(ours.verify_checksum() == 1 and ours.verify_datasum() == 1)
            ours_data = np.array(ours.data)
            ours_wcs = WCS(ours.header)
            cx, cy = ours_wcs.world_to_pixel(pos)
            header = ours.header
        ref_data = ref.data
        if ours_data.dtype.kind == "f" and ref_data.dtype.kind in "iu":
            # astropy reads an integer image with a BLANK card as float32 with NaN for BLANK: compare so.
            ref_data = ref_data.astype(ours_data.dtype)
            ref_data[ref.data == fill] = np.nan
        if "circle_deg" in case:
            out.append(circle_check(case, ours_data, ref, ref_data, fill, (cx, cy), header, checksum_ok))
            continue
        if case.get("mode", "exact") == "exact":
            equal, mismatches = bits_equal(ours_data, ref_data)
            covered = int(ours_data.size)
        else:
            # A mosaic: where this tile has pixels (astropy did not fill), ours must be those bits.
            filled = np.isnan(ref_data) if ref_data.dtype.kind == "f" else ref_data == fill
            sel = ~filled
            equal, mismatches = bits_equal(ours_data[sel], ref_data[sel]) if ours_data.shape == ref_data.shape else (False, -1)
            covered = int(sel.sum())
        out.append(
            {
                "shape": list(ours_data.shape),
                "ref_shape": list(ref.data.shape),
                "equal": equal,
                "mismatches": mismatches,
                "covered": covered,
                "center": [float(cx), float(cy)],
                "ref_center": [float(v) for v in ref.input_position_cutout],
                "dtype": f"{ours_data.dtype.kind}{ours_data.dtype.itemsize}",
                "ref_dtype": f"{ref_data.dtype.kind}{ref_data.dtype.itemsize}",
                "ref_crpix": [float(v) for v in ref.wcs.wcs.crpix],
                "crpix": [header["CRPIX1"], header["CRPIX2"]],
                "crval": [header["CRVAL1"], header["CRVAL2"]],
                "checksum_ok": checksum_ok,
                "nan": int(np.isnan(ours_data).sum()) if ours_data.dtype.kind == "f" else 0,
            }
        )
    return out


def circle_check(case, ours_data, ref, ref_data, fill, centre, header, checksum_ok):
    """A circle cut: astropy's own geometry decides which pixels are inside (centre from astropy's WCS of our
    header, radius from its pixel scale); inside must be Cutout2D's bits, outside NaN."""
    cx, cy = (float(v) for v in centre)
    sx, sy = ref.wcs.proj_plane_pixel_scales()
    radius = case["circle_deg"] / 2 / float(np.sqrt(sx.to_value(u.deg) * sy.to_value(u.deg)))
    yy, xx = np.mgrid[0 : ours_data.shape[0], 0 : ours_data.shape[1]]
    dist = np.hypot(xx - cx, yy - cy)
    # Pixels within 1e-6 px of the rim could fall either way on rounding: counted, judged by neither rule.
    rim = np.abs(dist - radius) < 1e-6
    inside = (dist <= radius) & ~rim
    outside = (dist > radius) & ~rim
    same_shape = ours_data.shape == ref_data.shape
    equal, mismatches = bits_equal(ours_data[inside], ref_data[inside]) if same_shape else (False, -1)
    filled = np.isnan(ref_data) if ref_data.dtype.kind == "f" else ref_data == fill
    return {
        "shape": list(ours_data.shape),
        "ref_shape": list(ref.data.shape),
        "equal": equal,
        "mismatches": mismatches,
        "outside_not_nan": int((~np.isnan(ours_data[outside])).sum()) if ours_data.dtype.kind == "f" else -1,
        "inside": int(inside.sum()),
        "outside": int(outside.sum()),
        "rim": int(rim.sum()),
        "covered_inside": int((inside & ~filled).sum()) if same_shape else -1,
        "radius": radius,
        "center": [cx, cy],
        "ref_center": [float(v) for v in ref.input_position_cutout],
        "cutcen": [header.get("CUTCEN1", -1) - 1, header.get("CUTCEN2", -1) - 1],
        "cutrad": header.get("CUTRAD", -1),
        "cutshape": header.get("CUTSHAPE", ""),
        "checksum_ok": checksum_ok,
        "dtype": f"{ours_data.dtype.kind}{ours_data.dtype.itemsize}",
        "ref_dtype": f"{ref_data.dtype.kind}{ref_data.dtype.itemsize}",
    }


def lupton(req):
    images = []
    for path, hdu in req["images"]:
        with fits.open(path) as hdul:
            images.append(np.array(hdul[hdu].data, dtype=np.float32))
    rgb = make_lupton_rgb(*images, minimum=req["minimum"], stretch=req["stretch"], Q=req["Q"])
    return {"shape": list(rgb.shape), "rgb": base64.b64encode(np.ascontiguousarray(rgb).tobytes()).decode("ascii")}


COMMANDS = {"inspect": inspect, "make-compressed": make_compressed, "wcs": wcs, "cutouts": cutouts, "lupton": lupton}

if __name__ == "__main__":
    print(json.dumps(COMMANDS[sys.argv[1]](json.load(sys.stdin))))
