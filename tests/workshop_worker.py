"""A participant in its own process, for the workshop concurrency tests (not a test module).

    python tests/workshop_worker.py DB_URL WORKSHOP_ID START_AT MODE ARGS...

Waits until the wall-clock time START_AT (so that every process acts at once), then:
  join NAME OPTION...            join, vote the options, print the token
  race TOKEN ROUNDS OPT,OPT|...  vote ROUNDS times, alternating between the given vote sets
  hang TOKEN OPTION...           inside one vote transaction, replace the ballot, print "mid", then sleep
                                 (the test kills the process before the commit)
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> int:
    url, wid, start_at, mode, *rest = argv
    from civicdata import store
    from civicdata.workshop import model

    eng = store.engine(url)
    delay = float(start_at) - time.time()
    if delay > 0:
        time.sleep(delay)
    if mode == "join":
        name, *opts = rest
        token = model.join(wid, name, eng=eng)
        model.vote(wid, token, opts, eng=eng)
        print(token, flush=True)
    elif mode in ("race", "racepoints"):
        token, rounds, sets = rest
        if mode == "race":
            choices, act = [s.split(",") for s in sets.split("|")], model.vote
        else:
            choices, act = [dict(p.split("=") for p in s.split(",")) for s in sets.split("|")], model.allocate
        refused = 0
        for i in range(int(rounds)):
            try:
                act(wid, token, choices[i % len(choices)], eng=eng)
            except model.WorkshopError:
                refused += 1
        print(refused, flush=True)
    elif mode in ("points", "matrix"):
        name, sector, *pairs = rest
        token = model.join(wid, name, sector, eng=eng)
        given = dict(p.split("=") for p in pairs)
        if mode == "points":
            model.allocate(wid, token, given, eng=eng)
        else:
            model.place(wid, token, {c: tuple(v.split("/")) for c, v in given.items()}, eng=eng)
        print(token, flush=True)
    elif mode == "hang":
        token, *opts = rest
        with store.writing(eng) as conn:
            row = model._row(conn, wid)
            p = model._participant(conn, wid, token, lock=True)
            model._replace_ballot(conn, row, p["id"], 1, {c: {"amount": opts.count(c)} for c in set(opts)})
            print("mid", flush=True)
            time.sleep(120)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
