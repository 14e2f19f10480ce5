"""The benchmark's baseline: pandas read_sql (SQLAlchemy + psycopg2) of the query, then each format
written the way a pandas user would: to_csv, to_parquet (pyarrow), astropy Table -> FITS.

Usage: pandas_baseline.py URL QUERY OUTDIR. Prints JSON {"rows", "read_s", "write_s": {fmt: seconds}}.
"""

import json
import os
import sys
import time

import pandas as pd
from astropy.table import Table
from sqlalchemy import create_engine


def main():
    url, query, out = sys.argv[1], sys.argv[2], sys.argv[3]
    engine = create_engine(url.replace("postgres://", "postgresql+psycopg2://", 1))
    t0 = time.perf_counter()
    with engine.connect() as conn:
        df = pd.read_sql(query, conn)
    read_s = time.perf_counter() - t0
    write_s = {}
    t = time.perf_counter()
    df.to_csv(os.path.join(out, "pandas.csv"), index=False)
    write_s["csv"] = time.perf_counter() - t
    t = time.perf_counter()
    df.to_parquet(os.path.join(out, "pandas.parquet"), engine="pyarrow", index=False)
    write_s["parquet"] = time.perf_counter() - t
    t = time.perf_counter()
    Table.from_pandas(df).write(os.path.join(out, "pandas.fits"), format="fits", overwrite=True)
    write_s["fits"] = time.perf_counter() - t
    json.dump({"rows": len(df), "read_s": read_s, "write_s": write_s}, sys.stdout)


main()
