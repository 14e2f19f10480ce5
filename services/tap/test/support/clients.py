"""Drives the TAP service with the clients astronomers use -- pyvo and astroquery's TapPlus -- and prints
what they got as JSON: each table's rows as [id (text), ra, dec, mag_auto_i or null, tilename], column
units and UCDs, overflow flags, job ids, the error a refused query raised, the table names /tables lists.

usage: clients.py BASE_URL TOKEN QUERY   (QUERY: ADQL returning coadd_object_id, ra, dec, mag_auto_i, tilename)
"""

import http.client
import json
import sys
import warnings

import numpy as np
import pyvo
import requests
from astroquery.utils.tap.conn.tapconn import TapConn
from astroquery.utils.tap.core import TapPlus

base, token, query = sys.argv[1:4]


def rows(table):
    out = []
    for r in table:
        mag = r["mag_auto_i"]
        out.append([
            str(int(r["coadd_object_id"])),
            float(r["ra"]),
            float(r["dec"]),
            None if np.ma.is_masked(mag) or np.isnan(mag) else float(np.float32(mag)),
            str(r["tilename"]),
        ])
    return out


def meta(table):
    return {c: {"unit": None if table[c].unit is None else str(table[c].unit),
                "ucd": table[c].meta.get("ucd") if hasattr(table[c], "meta") else None}
            for c in table.colnames}


out = {}
session = requests.Session()
session.headers["Authorization"] = f"Bearer {token}"
tap = pyvo.dal.TAPService(base, session=session)

res = tap.run_sync(query)
out["pyvo_sync"] = rows(res.to_table())
out["pyvo_sync_units"] = {f.name: f.unit and str(f.unit) for f in res.fielddescs}
out["pyvo_sync_ucds"] = {f.name: f.ucd for f in res.fielddescs}

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    small = tap.run_sync(query, maxrec=7)
out["pyvo_overflow"] = {"rows": len(small), "status": small.query_status,
                        "warned": any(issubclass(w.category, pyvo.dal.DALOverflowWarning) for w in caught)}

out["pyvo_async"] = rows(tap.run_async(query).to_table())

job = tap.submit_job(query, maxrec=20)
out["pyvo_job_phase_before"] = job.phase
job.run()
job.wait(timeout=120)
out["pyvo_job_phase_after"] = job.phase
job.raise_if_error()
out["pyvo_job"] = rows(job.fetch_result().to_table())
out["pyvo_job_id"] = job.job_id
job.delete()

try:
    tap.run_sync("SELECT * FROM des_sample WHERE INTERSECTS(POINT(ra, dec), BOX(0, 0, 1, 1)) = 1")
    out["pyvo_error"] = None
except pyvo.dal.DALQueryError as e:
    out["pyvo_error"] = str(e)

tables = tap.tables
out["pyvo_tables"] = {name: {c.name: {"unit": c.unit and str(c.unit), "ucd": c.ucd, "datatype": c.datatype.content}
                             for c in tables[name].columns}
                      for name in tables.keys()}


class AuthConnection(http.client.HTTPConnection):
    """What a deployment's proxy or a TapPlus subclass would do: the bearer token on every request."""

    def request(self, method, url, body=None, headers=None, **kw):
        headers = dict(headers or {})
        headers["Authorization"] = f"Bearer {token}"
        return super().request(method, url, body, headers, **kw)


class AuthHandler:
    def __init__(self, host, port):
        self.host, self.port = host, port

    def get_connection(self, *, ishttps=False, cookie=None, verbose=False):
        return AuthConnection(self.host, self.port)


_, _, hostport, context = base.split("/", 3)
host, port = hostport.split(":")
conn = TapConn(False, host, server_context=context, port=int(port), connhandler=AuthHandler(host, int(port)))
plus = TapPlus(url=base, connhandler=conn)
out["astroquery_sync"] = rows(plus.launch_job(query).get_results())
ajob = plus.launch_job_async(query)
out["astroquery_async"] = rows(ajob.get_results())
out["astroquery_async_id"] = ajob.jobid
out["astroquery_jobs"] = [j.jobid for j in plus.list_async_jobs()]

print(json.dumps(out))
