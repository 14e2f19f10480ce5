"""Reads a result file with astropy (pyarrow for Parquet, h5py for HDF5) and prints what it sees, as JSON,
for the compatibility test.

Usage: read_astropy.py FORMAT PATH, FORMAT one of csv, tsv, fits, votable, votable-binary2, parquet, hdf5. Each column becomes
{name, dtype, unit, ucd, description, values}; a value is null when masked, a float as the hex of its
IEEE-754 big-endian float64 bytes (exact, NaN and -0 included), an integer as a decimal string, a bool,
or text. For FITS the UCD and description come from the TUCDn / TCOMMn header keywords, which astropy's
Table does not carry; for VOTable, the QUERY_STATUS INFOs are listed too. Parquet: pyarrow's nulls are
null, the column metadata come from the footer's `skyport.columns` key. HDF5: the compound dataset
`result` read by h5py, a value equal to the column's FIELD_<i>_NULL attribute (and NaN, and '') null.
"""

import json
import struct
import sys
import warnings

import numpy as np
from astropy.io import ascii, fits, votable
from astropy.table import Table


def value(v, masked):
    if masked:
        return None
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("ascii")
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return struct.pack(">d", float(v)).hex()
    return str(v)


def columns(table):
    out = []
    for col in table.columns.values():
        mask = getattr(col, "mask", None)
        vals = [value(col[i], bool(mask[i]) if mask is not None else False) for i in range(len(col))]
        out.append(
            {
                "name": col.name,
                "dtype": str(col.dtype),
                "unit": None if col.unit is None else str(col.unit),
                "ucd": col.meta.get("ucd"),
                "description": col.description,
                "values": vals,
            }
        )
    return out


def read_parquet(path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    kv = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    meta = {c["name"]: c for c in json.loads(kv["skyport.columns"])}
    cols = []
    for field in table.schema:
        m = meta[field.name]
        values = table.column(field.name).to_pylist()
        cols.append(
            {
                "name": field.name,
                "dtype": str(field.type),
                "unit": m.get("unit"),
                "ucd": m.get("ucd"),
                "description": m.get("description"),
                "values": [value(v, v is None) for v in values],
            }
        )
    pf = pq.ParquetFile(path)
    return {
        "columns": cols,
        "query_status": [kv["skyport.query_status"]],
        "row_groups": pf.metadata.num_row_groups,
    }


def read_hdf5(path):
    import h5py

    with h5py.File(path, "r") as f:
        ds = f["result"]
        data = ds[:]
        attrs = dict(ds.attrs)
        text = lambda k: None if k not in attrs else (attrs[k].decode() if isinstance(attrs[k], bytes) else str(attrs[k]))
        cols = []
        for i, name in enumerate(ds.dtype.names):
            assert text(f"FIELD_{i}_NAME") == name, (i, name)
            null = attrs.get(f"FIELD_{i}_NULL")
            kind = ds.dtype[name].kind
            vals = []
            for v in data[name]:
                if kind == "S":
                    s = v.decode("utf-8")
                    vals.append(None if s == "" else s)
                elif kind == "f":
                    vals.append(value(v, bool(np.isnan(v))))
                elif text(f"FIELD_{i}_DATATYPE") == "bool":
                    vals.append(None if v == null else bool(v))
                else:
                    vals.append(value(v, bool(v == null)))
            cols.append(
                {
                    "name": name,
                    "dtype": ds.dtype[name].str,
                    "unit": text(f"FIELD_{i}_UNIT"),
                    "ucd": text(f"FIELD_{i}_UCD"),
                    "description": text(f"FIELD_{i}_DESCRIPTION"),
                    "values": vals,
                }
            )
        return {
            "columns": cols,
            "query_status": [text("QUERY_STATUS")],
            "chunks": list(ds.chunks),
            "maxshape": [None if m is None else int(m) for m in ds.maxshape],
        }


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    # Any warning astropy raises about the file is a finding: turn them into errors.
    warnings.simplefilter("error")
    result = {}
    if fmt in ("csv", "tsv"):
        # astropy's "tab" reader, unlike "csv" with a tab delimiter, does not strip the tabs of empty fields.
        table = ascii.read(path, format="csv" if fmt == "csv" else "tab")
        result["columns"] = columns(table)
    elif fmt == "fits":
        # Table.read turns a NULL logical (a 0 byte) into False, with a warning; the raw bytes keep it.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*contains NULL \\(undefined\\) values")
            table = Table.read(path, format="fits")
        result["columns"] = columns(table)
        with fits.open(path, logical_as_bytes=True) as hdul:
            raw = hdul[1].data
            for col in result["columns"]:
                if col["dtype"] == "bool":
                    col["values"] = [{b"T": True, b"F": False, b"": None}[v] for v in raw[col["name"]]]
        header = fits.getheader(path, 1)
        for i, col in enumerate(result["columns"], start=1):
            col["ucd"] = header.get(f"TUCD{i}")
            col["description"] = header.get(f"TCOMM{i}")
        result["naxis2"] = header["NAXIS2"]
    elif fmt in ("votable", "votable-binary2"):
        table = Table.read(path, format="votable")
        result["columns"] = columns(table)
        resource = votable.parse(path).resources[0]
        result["query_status"] = [i.value for i in resource.infos if i.name == "QUERY_STATUS"]
    elif fmt == "parquet":
        result.update(read_parquet(path))
    elif fmt == "hdf5":
        result.update(read_hdf5(path))
    else:
        raise SystemExit(f"unknown format {fmt}")
    json.dump(result, sys.stdout)


main()
