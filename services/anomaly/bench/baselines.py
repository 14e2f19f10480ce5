"""Baseline side of bench:anomaly: isotree, scikit-learn and eif (sahandha/eif) on the same data files.

speed:    python baselines.py speed <data base> <out.json> [--quick]
accuracy: python baselines.py accuracy <odds dir> <out.json> [--quick]

Every library is optional: one that fails to import is reported with its error and the others still run.
Single-threaded throughout (nthreads=1 / n_jobs=1, BLAS and OpenMP threads pinned to 1 by run.sh).
Times are the best run by CPU time (process_time) and by wall time, the same rules speed.ts uses.
"""

import json
import os
import sys
import time
import traceback

import numpy as np

NTREES = 100
PSI = 256


def load_shared(base):
    with open(base + ".json") as f:
        meta = json.load(f)
    x = np.fromfile(base + ".f64", dtype="<f8").reshape(meta["rows"], meta["cols"])
    y = np.fromfile(base + ".y", dtype=np.uint8)
    return np.ascontiguousarray(x), y


def load_odds(path):
    # np.loadtxt reads `.gz` files transparently.
    arr = np.loadtxt(path, delimiter=",", comments="#")
    return np.ascontiguousarray(arr[:, :-1]), arr[:, -1].astype(np.uint8)


def auroc(scores, labels):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def timed(runs, fn, budget_s=8.0):
    """Least CPU (process_time) and least wall time over up to `runs` calls (at least 2, fewer once
    `budget_s` of wall time is spent, so slow baselines do not dominate the bench), and the last result."""
    cpu, wall, last = float("inf"), float("inf"), None
    start = time.perf_counter()
    for i in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        last = fn(i)
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
        if i >= 1 and time.perf_counter() - start > budget_s:
            break
    return cpu, wall, last


# Each factory returns (fit(seed) -> model, score(model, x) -> higher-is-more-anomalous scores).
def isotree_impl(ndim, standardize=False):
    """isotree at ndim columns per split. standardize_data (isotree's default for ndim > 1) standardises
    the chosen columns at every node before the linear combination; it is the like-for-like baseline for
    our standardised fit, and standardize_data=False for our raw fit (ADR 0002)."""
    from isotree import IsolationForest

    def fit(x, seed):
        extra = {} if ndim == 1 else {"coefs": "normal", "standardize_data": standardize}
        m = IsolationForest(
            ntrees=NTREES, sample_size=PSI, ndim=ndim, max_depth="auto", missing_action="fail",
            penalize_range=False, nthreads=1, random_seed=seed, **extra,
        )
        return m.fit(x)

    return fit, lambda m, x: m.predict(x)


def sklearn_impl():
    from sklearn.ensemble import IsolationForest

    def fit(x, seed):
        return IsolationForest(n_estimators=NTREES, max_samples=PSI, n_jobs=1, random_state=seed).fit(x)

    return fit, lambda m, x: -m.score_samples(x)


def eif_impl(ext):
    import eif

    def fit(x, seed):
        return eif.iForest(x, ntrees=NTREES, sample_size=PSI, ExtensionLevel=ext, seed=seed)

    return fit, lambda m, x: m.compute_paths(X_in=x)


def implementations(d):
    """(name, extension class, factory) for every baseline, in print order."""
    return [
        ("isotree ndim=1", "ext0", lambda: isotree_impl(1)),
        ("scikit-learn", "ext0", sklearn_impl),
        ("eif e=0", "ext0", lambda: eif_impl(0)),
        (f"isotree ndim={d}", "full", lambda: isotree_impl(d)),
        (f"isotree ndim={d} (standardised)", "full", lambda: isotree_impl(d, True)),
        (f"eif e={d - 1}", "full", lambda: eif_impl(d - 1)),
    ]


def speed(base, out, quick):
    x, y = load_shared(base)
    fit_runs, score_runs = (3, 2) if quick else (7, 5)
    results = []
    for name, ext, factory in implementations(x.shape[1]):
        try:
            fit, score = factory()
            model = fit(x, 999)  # warm-up: imports, allocator, caches
            score(model, x[:1000])
            fit_cpu, fit_wall, model = timed(fit_runs, lambda i: fit(x, i + 1))
            score_cpu, score_wall, s = timed(score_runs, lambda i: score(model, x))
            n = x.shape[0]
            r = {"name": name, "extension": ext, "fitMs": fit_cpu * 1000, "fitWallMs": fit_wall * 1000,
                 "scoreRate": n / score_cpu, "scoreWallRate": n / score_wall, "auroc": auroc(np.asarray(s), y)}
            print(f"{name:28s} fit {r['fitMs']:7.1f} ms cpu   score {r['scoreRate']:9,.0f} rows/cpu-s "
                  f"({r['scoreWallRate']:,.0f} wall)   AUROC {r['auroc']:.4f}", flush=True)
        except Exception as e:  # noqa: BLE001 - a missing or broken baseline is reported, not fatal
            r = {"name": name, "extension": ext, "error": f"{type(e).__name__}: {e}"}
            print(f"{name:28s} unavailable: {r['error']}", flush=True)
            traceback.print_exc(limit=1, file=sys.stderr)
        results.append(r)
    with open(out, "w") as f:
        json.dump({"rows": int(x.shape[0]), "cols": int(x.shape[1]), "results": results}, f, indent=2)


def accuracy(odds_dir, out, quick):
    seeds = 3 if quick else 10
    rows = []
    for ds in ("shuttle", "mammography"):
        plain = f"{odds_dir}/{ds}.csv"
        x, y = load_odds(plain if os.path.exists(plain) else plain + ".gz")
        d = x.shape[1]
        for name, ext, factory in implementations(d):
            if name == "scikit-learn" or name.endswith("(standardised)"):
                continue  # not part of the accuracy anchors (scikit-learn is axis-parallel only)
            try:
                fit, score = factory()
                aucs = [auroc(np.asarray(score(fit(x, seed), x)), y) for seed in range(seeds)]
                r = {"dataset": ds, "name": name, "extension": ext, "auroc": float(np.mean(aucs))}
                print(f"{ds:12s} {name:18s} mean AUROC {r['auroc']:.4f} over {seeds} seeds", flush=True)
            except Exception as e:  # noqa: BLE001
                r = {"dataset": ds, "name": name, "extension": ext, "error": f"{type(e).__name__}: {e}"}
                print(f"{ds:12s} {name:18s} unavailable: {r['error']}", flush=True)
            rows.append(r)
    with open(out, "w") as f:
        json.dump({"seeds": seeds, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    if len(args) != 3 or args[0] not in ("speed", "accuracy"):
        sys.exit(__doc__)
    (speed if args[0] == "speed" else accuracy)(args[1], args[2], quick)
