"""A stand-in experiment for the rows-on-disk tests: three rows, each a short sleep.

Registered as ``tiny-test`` only by the tests (``TINY_ENV`` in a child process). A row's
``value`` is a pure function of the key and the seed, so a resumed run can be compared with
a fresh one; ``TINY_INTERRUPT_AT=K`` raises KeyboardInterrupt in row K (as Ctrl-C would);
``TINY_HOLD=PATH`` makes rows after the first wait for PATH to exist; ``TINY_CALLS=PATH``
appends each computed key to PATH (to see what was recomputed); ``TINY_DIE_ONCE=PATH``
kills the process computing row r1 the first time (PATH marks that it happened).
"""

from __future__ import annotations

import os
import time

from numerics._experiment import Experiment, RunConfig

KEYS = ("r0", "r1", "r2")


def _row(key: str, cfg: RunConfig):
    def thunk() -> dict:
        if os.environ.get("TINY_INTERRUPT_AT") == key:
            raise KeyboardInterrupt
        die = os.environ.get("TINY_DIE_ONCE")  # the process computing r1 dies, the first time
        if die and key == "r1" and not os.path.exists(die):
            open(die, "w").close()
            os._exit(1)
        calls = os.environ.get("TINY_CALLS")
        if calls:
            with open(calls, "a") as fh:
                fh.write(key + "\n")
        time.sleep(float(os.environ.get("TINY_SLEEP", "0")))
        hold = os.environ.get("TINY_HOLD")  # wait (at most 60 s) until this file exists
        deadline = time.monotonic() + 60
        while key != "r0" and hold and not os.path.exists(hold) and time.monotonic() < deadline:
            time.sleep(0.02)
        return {"value": (int(key[1:]) + 1) * 1000 + cfg.seed, "quick": cfg.quick}

    return thunk


def _rows(cfg: RunConfig):
    return [(k, _row(k, cfg)) for k in KEYS]


# it declares one image so that --images (part of the run's identity) is accepted
EXPERIMENTS = [
    Experiment("tiny-test", "three quick rows for the storage tests", _rows, images_needed=1)
]


def _ensemble_row(key: str, cfg: RunConfig):
    def thunk() -> dict:
        old = {p["seed"]: p for p in cfg.previous.get(key, {}).get("per_seed", [])}
        per = []
        for s in cfg.seeds:
            if s not in old:
                calls = os.environ.get("TINY_CALLS")
                if calls:
                    with open(calls, "a") as fh:
                        fh.write(f"{key}:{s}\n")
            per.append(old.get(s) or {"seed": s, "value": (int(key[1:]) + 1) * 1000 + s})
        return {"seeds": list(cfg.seeds), "per_seed": per, "total": sum(p["value"] for p in per)}

    return thunk


def _ensemble_rows(cfg: RunConfig):
    return [(k, _ensemble_row(k, cfg)) for k in KEYS]


EXPERIMENTS.append(
    Experiment(
        "tiny-ensemble",
        "three seed-ensemble rows for the cluster tests",
        _ensemble_rows,
        ensembles=True,
    )
)
