"""``verify experiment --workers N``: rows and seed groups as tasks on a local Dask cluster.

The cluster is real: a ``LocalCluster`` of two worker processes, started once for the
module. The stand-in experiments of ``tests/_tiny_experiment.py`` are pure functions of
their key and seed, so a cluster run must give exactly the single-process rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("distributed")

import numerics._experiment as experiment
from numerics import RunConfig
from verifier.cli import main
from verifier.cluster import Cluster, _groups, _merged
from verifier.runner import run_experiment

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "tests"))
    # the workers are new processes: they find the stand-in module through PYTHONPATH
    path = os.pathsep.join(p for p in (str(ROOT / "tests"), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    for name in ("tiny-test", "tiny-ensemble"):
        monkeypatch.setitem(experiment.EXPERIMENT_MODULES, name, "_tiny_experiment")


@pytest.mark.parametrize(
    ("seeds", "workers", "want"),
    [
        ((0, 1, 2, 3), 2, [(0, 1), (2, 3)]),
        ((0, 1, 2), 2, [(0, 1), (2,)]),
        ((5,), 4, [(5,)]),
        ((0, 1, 2), 8, [(0,), (1,), (2,)]),
    ],
    ids=["even", "uneven", "one-seed", "more-workers-than-seeds"],
)
def test_seed_groups_cover_every_seed_once_in_order(seeds, workers, want):
    assert _groups(seeds, workers) == want


def test_merged_keeps_every_groups_seeds_and_the_finished_ones():
    parts = [{"key": "r0", "per_seed": [{"seed": 0}]}, {"key": "r0", "per_seed": [{"seed": 2}]}]
    merged = _merged(parts, {"per_seed": [{"seed": 7}]})
    assert sorted(p["seed"] for p in merged["per_seed"]) == [0, 2, 7]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tiny-test", "tiny-ensemble"])
def test_a_cluster_run_equals_a_local_run_and_only_the_coordinator_writes(name, tmp_path):
    seeds = "0..3" if name == "tiny-ensemble" else None
    local = run_experiment(name, seeds=seeds, out=tmp_path / "local", log=None)
    calls = tmp_path / "calls.txt"
    os.environ["TINY_CALLS"] = str(calls)
    try:
        dask = run_experiment(
            name, seeds=seeds, out=tmp_path / "dask", log=None, cluster=Cluster(workers=2)
        )
    finally:
        del os.environ["TINY_CALLS"]
    assert dask["rows"] == local["rows"]
    on_disk = json.loads((tmp_path / "dask" / f"{name}.json").read_text())
    assert on_disk["rows"] == local["rows"]
    assert sorted(p.name for p in (tmp_path / "dask").iterdir()) == [
        f".{name}.lock",
        f"{name}.json",
    ]
    computed = calls.read_text().split()
    assert len(computed) == len(set(computed))  # nothing computed twice (groups, then assembly)


@pytest.mark.slow
def test_the_real_table1_on_the_cluster_equals_the_local_run(tmp_path):
    """Table 1's torch backend, seeds 0-3 cut into two groups of two: every number of every
    row (the losses to the last bit too) as in one process, where they train as one group."""

    def numbers(v: object) -> object:  # the rows without their timings
        if isinstance(v, dict):
            return {k: numbers(x) for k, x in v.items() if k not in ("seconds", "train_seconds")}
        return [numbers(x) for x in v] if isinstance(v, list) else v

    local = run_experiment("table1", quick=True, seeds="0..3", out=tmp_path / "a", log=None)
    dask = run_experiment(
        "table1", quick=True, seeds="0..3", out=tmp_path / "b", log=None,
        cluster=Cluster(workers=2),
    )  # fmt: skip
    assert len(local["rows"]) == 12
    assert numbers(dask["rows"]) == numbers(local["rows"])


@pytest.mark.slow
def test_a_resumed_cluster_run_trains_only_the_missing_seeds(tmp_path):
    run_experiment("tiny-ensemble", seeds="0..1", out=tmp_path, log=None)
    calls = tmp_path / "calls.txt"
    os.environ["TINY_CALLS"] = str(calls)
    try:
        res = run_experiment(
            "tiny-ensemble", seeds="0..3", out=tmp_path, resume=True, log=None,
            cluster=Cluster(workers=2),
        )  # fmt: skip
    finally:
        del os.environ["TINY_CALLS"]
    assert sorted(calls.read_text().split()) == sorted(
        f"r{i}:{s}" for i in range(3) for s in (2, 3)
    )
    assert [r["total"] for r in res["rows"]] == [
        sum(k * 1000 + s for s in range(4)) for k in (1, 2, 3)
    ]


@pytest.mark.slow
def test_a_worker_that_dies_costs_only_its_task(tmp_path, monkeypatch):
    marker = tmp_path / "died"
    monkeypatch.setenv("TINY_DIE_ONCE", str(marker))
    res = run_experiment("tiny-test", out=tmp_path / "o", log=None, cluster=Cluster(workers=2))
    assert marker.exists()  # a worker process did die computing r1
    assert [r["value"] for r in res["rows"]] == [1000, 2000, 3000]


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--workers", "0"], "--workers: must be an integer in 1..64"),
        (["--workers", "two"], "--workers: must be an integer in 1..64"),
        (["--workers", "2", "--scheduler", "tcp://x:1"], "not allowed with argument"),
        (["--scheduler", " "], "--scheduler: an address"),
    ],
    ids=["zero", "not-a-number", "both", "blank-address"],
)
def test_bad_cluster_flags_are_one_line_and_exit_2(flags, needle, tmp_path, capsys):
    import io

    err = io.StringIO()
    code = main(
        ["experiment", "tiny-test", *flags, "--out", str(tmp_path / "o")], io.StringIO(), err
    )
    assert code == 2 and needle in err.getvalue() and err.getvalue().count("\n") == 1


CHILD = (
    "import sys, numerics._experiment as e; "
    "e.EXPERIMENT_MODULES['tiny-test'] = '_tiny_experiment'; "
    "from verifier.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _session(sid: int) -> list[int]:
    """The processes left in session ``sid`` (its leader excluded)."""
    import subprocess

    ps = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True).stdout
    return [int(p) for p, s in (line.split() for line in ps.splitlines()) if int(s) == sid
            and int(p) != sid]  # fmt: skip


@pytest.mark.slow
def test_sigterm_stops_the_workers_and_keeps_the_finished_rows(tmp_path):
    """SIGTERM once row r0 is on disk (r1 and r2 held on the two workers): one line, exit
    130, r0 kept in the rows file, and no worker process left behind."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "o"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
           "TINY_HOLD": str(tmp_path / "never")}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, "experiment", "tiny-test", "--out", str(out),
         "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    rows = out / "tiny-test.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        rows.exists() and json.loads(rows.read_text())["rows"]
    ):
        time.sleep(0.05)
    assert _session(proc.pid), "the workers should be running"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    # the workers are gone when it exits; multiprocessing's resource tracker follows once
    # the pipe from its parent closes
    deadline = time.monotonic() + 10
    while (left := _session(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    shown = subprocess.run(["ps", "-o", "args=", *map(str, left)], capture_output=True,
                           text=True).stdout if left else ""  # fmt: skip
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 130 and err.splitlines() == [
        f"verify: interrupted; 1 finished row(s) of tiny-test kept in {rows}; "
        "rerun the same command with --resume to continue"
    ], err
    assert [r["key"] for r in json.loads(rows.read_text())["rows"]] == ["r0"]
    assert left == [], shown


def test_a_signal_while_deferred_is_raised_when_the_block_ends():
    """What the cluster's start and close run under: the signal waits, then interrupts."""
    import signal

    from verifier.interrupts import deferred, signals_interrupt

    reached = []
    with pytest.raises(KeyboardInterrupt), signals_interrupt(False):
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append("after the signal, inside the block")
        reached.append("never: the block's end raised")
    assert reached == ["after the signal, inside the block"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


class _FakeFuture:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def result(self):
        return self.fn(*self.args)


class _FakeClient:
    """Records what is submitted, in order, with its priority; computes on ``result()``."""

    def __init__(self):
        self.submitted = []

    def scheduler_info(self, n_workers):
        return {"workers": {"w0": {}, "w1": {}}}

    def submit(self, fn, *args, retries, pure, priority):
        self.submitted.append((args[3], args[2]["seeds"], priority))
        return _FakeFuture(fn, args)


def test_the_largest_rows_are_submitted_first_and_the_rows_stay_the_same(monkeypatch):
    """Longest first: tasks go out by decreasing estimated row cost, each with a lower
    priority than the one before (Dask runs higher priorities first); the rows handed on
    are those of a local run."""
    from contextlib import contextmanager
    from dataclasses import replace

    import distributed

    import verifier.cluster as cluster
    from numerics import RunConfig

    client = _FakeClient()

    @contextmanager
    def fake_connect(_cluster):
        yield client

    monkeypatch.setattr(cluster, "connect", fake_connect)
    monkeypatch.setattr(distributed, "as_completed", iter)
    exp = cluster._experiment("_tiny_experiment", "tiny-ensemble")
    exp = replace(exp, cost=lambda cfg: {"r0": 1.0, "r1": 3.0, "r2": 2.0})
    cfg = RunConfig(seeds=(0, 1, 2, 3), log=None)
    rows = []
    cluster.run_on_cluster(exp, cfg, {}, Cluster(workers=2), rows.append)
    assert [(k, s) for k, s, _ in client.submitted] == [
        ("r1", (0, 1)), ("r1", (2, 3)), ("r2", (0, 1)), ("r2", (2, 3)),
        ("r0", (0, 1)), ("r0", (2, 3)),
    ]  # fmt: skip
    priorities = [p for _, _, p in client.submitted]
    assert priorities == sorted(priorities, reverse=True) and len(set(priorities)) == 6
    local = {k: {"key": k, **thunk()} for k, thunk in exp.rows(cfg)}
    assert sorted(rows, key=lambda r: r["key"]) == [local[k] for k in sorted(local)]


def test_a_resumed_row_is_cut_by_the_seeds_it_has_left():
    """Only the seeds a resumed row lacks are cut into groups (before, all its seeds were,
    so that with seeds 0–1 finished one worker trained both missing seeds and the other
    none); the rows go out by the work left, and a finished row is one task that only
    assembles it."""
    from dataclasses import replace

    import verifier.cluster as cluster
    from numerics import RunConfig

    exp = cluster._experiment("_tiny_experiment", "tiny-ensemble")
    exp = replace(exp, cost=lambda cfg: {"r0": 1.0, "r1": 1.0, "r2": 1.0})
    cfg = RunConfig(seeds=(0, 1, 2, 3), log=None)
    done = {
        "r0": {"key": "r0", "per_seed": [{"seed": s} for s in (0, 1)]},
        "r2": {"key": "r2", "per_seed": [{"seed": s} for s in (0, 1, 2, 3)]},
    }
    assert cluster._plan(exp, cfg, done, 2) == [
        ("r1", (0, 1)), ("r1", (2, 3)), ("r0", (2,)), ("r0", (3,)), ("r2", (0, 1, 2, 3)),
    ]  # fmt: skip


def test_largest_first_orders_by_cost_and_keeps_ties_in_order():
    from verifier.cluster import largest_first

    assert largest_first(["a", "b", "c", "d"], {"b": 2.0, "c": 5.0, "d": 2.0}) == [
        "c", "b", "d", "a",
    ]  # fmt: skip
    assert largest_first(["x", "y"], {}) == ["x", "y"]


def test_the_tables_rank_their_largest_rows_first():
    """The cost estimate of Tables 1–2: 8 × 128 filters leads Table 1; the 7×7 rows with 5
    images and 350 layers lead Table 2, the 2×2 rows come last."""
    from numerics.tables import EXPERIMENTS, row_cost, table2_specs
    from verifier.cluster import largest_first

    exps = {e.name: e for e in EXPERIMENTS}
    cfg = RunConfig(quick=False)
    for name, first in [("table1", "L8-F128-gain0.3"), ("table2", "s7-n5-L350")]:
        costs = exps[name].cost(cfg)
        assert set(costs) == {k for k, _ in exps[name].rows(cfg)}
        order = largest_first(list(costs), costs)
        assert order[0].startswith(first)
    last = largest_first(list(costs), costs)[-1]
    assert last.startswith("s2-n1-L3")
    spec = next(s for s in table2_specs(False) if s.key.startswith("s3-n3-L10"))
    assert row_cost(spec) == 10 * 81 * 3 * spec.cap  # the chain's 9×9 matrices, 3 images


def test_a_local_cluster_sends_each_worker_one_task_at_a_time():
    """The local scheduler runs with worker-saturation 1: a single-threaded worker holds
    one task, so the queued tasks go out largest first as workers free up."""
    from verifier.cluster import SATURATION, connect

    assert SATURATION == 1.0
    with connect(Cluster(workers=1)) as client:
        got = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION)
    assert got == 1.0
