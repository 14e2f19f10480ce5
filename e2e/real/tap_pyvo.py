"""Drives a Catalog's TAP pod with pyvo for e2e/real/catalog-tap.real.test.ts; prints one JSON line.

usage: tap_pyvo.py BASE_URL TOKEN sync|async LANG QUERY

- sync:  TAPService.run_sync(QUERY)
- async: submit_job(QUERY) + run() + wait() + fetch_result(), as a pyvo user would write it.

Every row is printed as a list of its values (integers as text, so 64-bit ids stay exact; floats as floats), with the
column names. Every HTTP request pyvo makes is logged on stderr as it starts and as it ends (`start` / `end` with the
status or the exception's class, `t` the wall clock in seconds), so the test can tell when a blocking WAIT is in flight and what became of it; the
async job's id is printed on stderr (`job <id>`) as soon as it exists.
"""

import json
import sys
import time

import numpy as np
import pyvo
import requests

base, token, mode, lang, query = sys.argv[1:6]


def log(**kw):
    print(json.dumps({**kw, "t": time.time()}), file=sys.stderr, flush=True)


class LoggingSession(requests.Session):
    """A requests session that sends the bearer token and logs each request's start and end."""

    def request(self, method, url, **kw):
        params = kw.get("params") or {}
        wait = params.get("WAIT") if isinstance(params, dict) else None
        log(event="start", method=method, url=url, wait=wait)
        try:
            r = super().request(method, url, **kw)
        except Exception as e:  # the test asserts on what pyvo saw, then pyvo itself decides
            log(event="end", method=method, url=url, wait=wait, error=type(e).__name__)
            raise
        log(event="end", method=method, url=url, wait=wait, status=r.status_code)
        return r


def value(v):
    if np.ma.is_masked(v):
        return None
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, bytes):
        return v.decode()
    return str(v)


def table_rows(table):
    return {"columns": list(table.colnames), "rows": [[value(r[c]) for c in table.colnames] for r in table]}


session = LoggingSession()
session.headers["Authorization"] = f"Bearer {token}"
tap = pyvo.dal.TAPService(base, session=session)

if mode == "sync":
    out = table_rows(tap.run_sync(query, language=lang).to_table())
else:
    job = tap.submit_job(query, language=lang)
    log(event="job", id=job.job_id)
    job.run()
    job.wait(timeout=300)
    phase = job.phase
    job.raise_if_error()
    out = table_rows(job.fetch_result().to_table())
    out.update(job=job.job_id, phase=phase)
print(json.dumps(out))
