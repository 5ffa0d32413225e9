"""Workshop database throughput: sustained votes per second and tally latency, on SQLite and PostgreSQL.

    .venv/bin/python bench/workshop.py [--seconds 8] [--workers 4] [--runs 3]

Each run: a fresh database (a SQLite file; a throwaway PostgreSQL server started here, as in the tests),
one workshop with 5 options, 4 worker processes each holding 25 participants and re-voting in a loop
(``model.vote``: lock, check, delete, insert, commit), while the main process calls ``model.tally`` every
50 ms and times it. The baseline is the bare database doing the same work without the app: one
process per worker committing a one-row insert in a loop with the raw driver (sqlite3 / psycopg), so the
ratio shows what the model's checks cost. Prints medians of the runs and writes bench/workshop_latest.csv.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OPTIONS = ["Prevention", "Workforce", "Community health on school sites", "Mental health", "Attendance"]


def _voter(url: str, wid: str, tokens: list[str], codes: list[str], until: float, out) -> None:
    from civicdata import store
    from civicdata.workshop import model

    eng = store.engine(url)
    n, i = 0, 0
    while time.time() < until:
        tok = tokens[i % len(tokens)]
        model.vote(wid, tok, [codes[(i + k) % len(codes)] for k in range(3)], eng=eng)
        n, i = n + 1, i + 1
    out.put(n)


def _bare(url: str, until: float, out) -> None:
    """The baseline: the same database, a one-row insert and commit per loop, raw driver."""
    n = 0
    if url.startswith("sqlite"):
        import sqlite3

        con = sqlite3.connect(url.split("///", 1)[1], timeout=30, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        while time.time() < until:
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO bare(v) VALUES (1)")
            con.execute("COMMIT")
            n += 1
    else:
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as con:
            while time.time() < until:
                with con.transaction():
                    con.execute("INSERT INTO bare(v) VALUES (1)")
                n += 1
    out.put(n)


def one_run(url: str, seconds: float, workers: int) -> dict:
    from sqlalchemy import text

    from civicdata import store
    from civicdata.workshop import model

    eng = store.engine(url)
    ws = model.create_workshop("Bench", model.parse_options(OPTIONS), eng=eng)
    codes = [o.code for o in model.get_workshop(ws.id, eng=eng).options]
    tokens = [[model.join(ws.id, f"P{w}-{k}", eng=eng) for k in range(25)] for w in range(workers)]
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bare (v INTEGER)"))
    store.dispose_all()  # no pooled connection crosses the fork

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    until = time.time() + 2.0 + seconds
    procs = [ctx.Process(target=_voter, args=(url, ws.id, tokens[w], codes, until, out)) for w in range(workers)]
    for p in procs:
        p.start()
    time.sleep(2.0)  # workers import and connect
    eng = store.engine(url)
    lat = []
    while time.time() < until:
        t = time.perf_counter()
        model.tally(ws.id, eng=eng)
        lat.append(time.perf_counter() - t)
        time.sleep(0.05)
    votes = sum(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join()
    t = model.tally(ws.id, eng=eng)
    assert sum(o["dots"] for o in t["options"]) == 3 * workers * 25, "every participant holds exactly 3 dots"
    store.dispose_all()

    until = time.time() + 1.0 + seconds
    procs = [ctx.Process(target=_bare, args=(url, until, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    bare = sum(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join()
    return {"votes_per_s": votes / seconds, "bare_commits_per_s": bare / (seconds + 1.0),
            "tally_ms_median": 1000 * statistics.median(lat), "tally_ms_p95": 1000 * sorted(lat)[int(0.95 * (len(lat) - 1))]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from tests.postgres import PostgresServer, new_database

    rows = []
    with tempfile.TemporaryDirectory() as tmp, PostgresServer(port=55000 + os.getpid() % 5000) as pg_url:
        for backend in ("sqlite", "postgresql"):
            runs = []
            for r in range(args.runs):
                if backend == "sqlite":
                    url = f"sqlite:///{tmp}/bench{r}.db"
                else:
                    url = new_database(pg_url, f"bench{r}")
                runs.append(one_run(url, args.seconds, args.workers))
            med = {k: statistics.median(x[k] for x in runs) for k in runs[0]}
            rows.append({"backend": backend, **{k: round(v, 1) for k, v in med.items()},
                         "ratio_to_bare": round(med["votes_per_s"] / med["bare_commits_per_s"], 2)})
    print(f"workshop votes ({args.workers} processes x 25 participants, re-voting 3 dots; medians of {args.runs} "
          f"runs of {args.seconds:g} s; tally polled every 50 ms meanwhile)")
    print(f"{'backend':<11} {'votes/s':>8} {'bare commits/s':>15} {'ratio':>6} {'tally ms p50':>13} {'p95':>6}")
    for r in rows:
        print(f"{r['backend']:<11} {r['votes_per_s']:>8.0f} {r['bare_commits_per_s']:>15.0f} {r['ratio_to_bare']:>6.2f} "
              f"{r['tally_ms_median']:>13.1f} {r['tally_ms_p95']:>6.1f}")
    with open(REPO / "bench" / "workshop_latest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
