"""The registry's bookkeeping, field by field: what ``register`` stores, what ``run`` reports
for a missing module, a crash or a slow clock, the JSON form of an outcome, how many
processes ``run_many`` uses and in which, what it reports to ``progress``, and what a dying
or interrupted worker leaves behind. Each test names the behaviour a user scripts against
(``verify all --json``, ``--jobs``)."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from proofs import Evidence, Result, Status, _registry, _z3

TEXTS = {"title": "probe", "statement": "-", "method": "-"}


def _probe(*, quick: bool = False) -> Result:
    """Passes, saying where it ran and whether it was asked to be quick."""
    return Result.verdict(True, Evidence.EXACT, "probe", pid=os.getpid(), quick=quick)


def _proving(*, quick: bool = False) -> Result:
    """Passes by one solver obligation (x + 0 = x over the integers)."""
    import z3

    x = z3.Int("x")
    v = _z3.prove(x + 0 == x, what="x + 0 = x")
    return Result.verdict(v.status == Status.PASS, Evidence.PROOF, "x + 0 = x", pid=os.getpid())


def _naps(*, quick: bool = False) -> Result:
    time.sleep(0.3)
    return _probe(quick=quick)


def _sleeps(*, quick: bool = False) -> Result:
    time.sleep(30)
    return _probe(quick=quick)


def _dies(*, quick: bool = False) -> Result:
    os._exit(3)


def _f5() -> None:
    raise ValueError("deep inside the check")


def _f4() -> None:
    _f5()


def _f3() -> None:
    _f4()


def _f2() -> None:
    _f3()


def _f1() -> None:
    _f2()


def _raises(*, quick: bool = False) -> Result:
    _f1()
    raise AssertionError("unreachable")


#: id → (function, requires)
PROBES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "test.probe-a": (_probe, ()),
    "test.probe-b": (_probe, ()),
    "test.probe-c": (_probe, ()),
    "test.probe-d": (_probe, ()),
    "test.probe-e": (_probe, ()),
    "test.probe-f": (_probe, ()),
    "test.proving": (_proving, ()),
    **{f"test.naps-{i}": (_naps, ()) for i in range(6)},
    "test.heavy-a": (_probe, ("json",)),
    "test.heavy-b": (_probe, ("json",)),
    "test.sleeps-a": (_sleeps, ()),
    "test.sleeps-b": (_sleeps, ()),
    "test.sleeps-c": (_sleeps, ()),
    "test.dies": (_dies, ()),
    "test.raises": (_raises, ()),
    "test.missing": (_probe, ("no_such_module_a", "no_such_module_b")),
}


@pytest.fixture
def probes() -> Iterator[dict[str, _registry.Check]]:
    """The probe checks above, registered for one test."""
    for cid, (func, requires) in PROBES.items():
        _registry.register(cid, evidence="exact", requires=requires, **TEXTS)(func)
    yield {cid: _registry._REGISTRY[cid] for cid in PROBES}
    for cid in PROBES:
        _registry._REGISTRY.pop(cid, None)


@pytest.fixture
def spawn_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``spawn`` the default start method (as ``forkserver`` is from Python 3.14): the
    registry must still fork, or a worker would not know the checks registered here."""
    default = multiprocessing.context._default_context
    monkeypatch.setattr(default, "_actual_context", multiprocessing.get_context("spawn"))


def _pids(outcomes: list[_registry.Outcome]) -> dict[str, int]:
    return {o.check.id: o.result.data["pid"] for o in outcomes}


# ---------------------------------------------------------------------------------- register


def test_register_stores_every_field_with_its_whitespace_folded() -> None:
    func = _registry.register(
        "test.fields",
        title="A title",
        statement="the  claim\n   over two lines",
        method="how   it is\n checked",
        evidence="proof",
        reference="Theorem 1",
        requires=("json",),
        quick_params={"n": 2},
        wrong=({"n": 3},),
        extension=True,
        intuition="the   idea\n in short",
        assumptions=("a  network\n  of depth 2", "data  in general position"),
    )(_probe)
    try:
        c = _registry._REGISTRY["test.fields"]
        assert func is _probe
        assert (c.id, c.title, c.reference, c.requires, c.func) == (
            "test.fields", "A title", "Theorem 1", ("json",), _probe
        )  # fmt: skip
        assert c.statement == "the claim over two lines"
        assert c.method == "how it is checked"
        assert c.evidence is Evidence.PROOF
        assert c.quick_params == {"n": 2} and c.wrong == ({"n": 3},)
        assert c.extension is True
        assert c.intuition == "the idea in short"
        assert c.assumptions == ("a network of depth 2", "data in general position")
    finally:
        _registry._REGISTRY.pop("test.fields", None)


def test_register_defaults_are_empty_not_placeholders(probes) -> None:
    c = probes["test.probe-a"]
    assert (c.reference, c.intuition, c.assumptions) == ("", "", ())
    assert (c.quick_params, c.wrong, c.extension) == ({}, (), False)


# --------------------------------------------------------------------------------------- run


def test_a_missing_module_is_skipped_naming_every_module(probes) -> None:
    check = probes["test.missing"]
    o = _registry.run(check)
    assert o.check is check and o.seconds == 0.0 and o.obligations == ()
    assert o.result.status is Status.SKIPPED
    assert o.result.evidence is Evidence.EXACT
    assert o.result.detail == (
        "not run: missing no_such_module_a, no_such_module_b (pip install it to run this)"
    )


def test_a_crash_is_an_error_with_a_six_frame_traceback(probes) -> None:
    o = _registry.run(probes["test.raises"])
    assert o.result.status is Status.ERROR and o.result.evidence is Evidence.EXACT
    assert o.result.detail == "ValueError: deep inside the check"
    tb = o.result.data["traceback"]
    assert tb.count('  File "') == 6  # the outermost six frames of seven
    assert "ValueError: deep inside the check" in tb
    assert 0.0 <= o.seconds < 60


def test_a_check_is_timed_from_its_start(probes) -> None:
    o = _registry.run(probes["test.probe-a"])
    assert 0.0 <= o.seconds < 60
    assert o.result.status is Status.PASS


# ------------------------------------------------------------------------------------ to_json


def test_outcome_json_lists_every_field_rounded_to_four_places(probes) -> None:
    ob = _z3.Obligation(
        "x + 0 = x", "(assert false)", Status.PASS, ("z3", "cvc5"),
        {"z3": 0.123456789, "cvc5": 2.5}, {"z3": "unsat"}, ("x > 0",), "x + 0 == x",
    )  # fmt: skip
    result = Result.verdict(True, Evidence.PROOF, "holds", n=3)
    o = _registry.Outcome(probes["test.probe-a"], result, 1.23456789, (ob,))
    assert o.to_json() == {
        "id": "test.probe-a",
        "title": "probe",
        "status": "pass",
        "evidence": "proof",
        "extension": False,
        "seconds": 1.2346,
        "detail": "holds",
        "data": {"n": 3},
        "obligations": [
            {
                "what": "x + 0 = x",
                "assumptions": ["x > 0"],
                "claim": "x + 0 == x",
                "status": "pass",
                "confirmed_by": ["z3", "cvc5"],
                "seconds": {"z3": 0.1235, "cvc5": 2.5},
            }
        ],
    }


# ------------------------------------------------------------------------------- default_jobs


@pytest.mark.parametrize(("cpus", "jobs"), [(1, 1), (3, 3), (4, 4), (16, 4)])
def test_default_jobs_is_the_usable_cpus_at_most_four(monkeypatch, cpus: int, jobs: int) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    assert _registry.default_jobs() == jobs


@pytest.mark.parametrize(("count", "jobs"), [(None, 1), (1, 1), (3, 3), (16, 4)])
def test_default_jobs_without_affinity_reads_the_cpu_count(
    monkeypatch, count: int | None, jobs: int
) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: count)
    assert _registry.default_jobs() == jobs


# ----------------------------------------------------------------------------- run_many, serial


def test_one_job_runs_in_this_process_reporting_progress_in_order(probes) -> None:
    checks = [probes[c] for c in ("test.probe-a", "test.probe-b", "test.probe-c")]
    seen: list[tuple[int, int, str]] = []
    outcomes = _registry.run_many(checks, quick=True, progress=lambda *a: seen.append(a))
    assert seen == [(1, 3, "test.probe-a"), (2, 3, "test.probe-b"), (3, 3, "test.probe-c")]
    assert [o.check for o in outcomes] == checks
    assert set(_pids(outcomes).values()) == {os.getpid()}  # the default is one job
    assert all(o.result.data["quick"] is True for o in outcomes)
    assert _registry.run_many(checks[:1])[0].result.data["quick"] is False


@pytest.mark.parametrize(
    ("n", "jobs", "forks"), [(2, 1, False), (1, 2, False), (2, 2, True), (3, 3, True)],
    ids=["two-checks-one-job", "one-check-two-jobs", "two-checks-two-jobs", "three-and-three"],
)  # fmt: skip
def test_processes_are_forked_only_for_two_checks_and_two_jobs(
    probes, n: int, jobs: int, forks: bool
) -> None:
    checks = [probes[c] for c in ("test.probe-a", "test.probe-b", "test.probe-c")[:n]]
    pids = set(_pids(_registry.run_many(checks, jobs=jobs)).values())
    assert (os.getpid() not in pids) == forks


# ----------------------------------------------------------------------------- run_many, forked


def test_forked_outcomes_carry_check_time_obligations_and_progress(
    probes, spawn_by_default
) -> None:
    ids = ["test.probe-a", "test.proving", "test.heavy-a", "test.probe-b", "test.heavy-b"]
    checks = [probes[c] for c in ids]
    seen: list[tuple[int, int, str]] = []
    with _z3.using_solvers(("z3",)):
        outcomes = _registry.run_many(
            checks, quick=True, jobs=2, progress=lambda *a: seen.append(a)
        )
    assert [o.check for o in outcomes] == checks
    assert all(o.result.status is Status.PASS for o in outcomes)
    assert sorted(i for i, _, _ in seen) == [1, 2, 3, 4, 5]
    assert {n for _, n, _ in seen} == {5} and sorted(c for _, _, c in seen) == sorted(ids)
    assert all(isinstance(o.seconds, float) and 0 <= o.seconds < 60 for o in outcomes)
    pids = _pids(outcomes)
    assert os.getpid() not in pids.values()
    assert pids["test.heavy-a"] == pids["test.heavy-b"]  # checks that need a module: one process
    assert outcomes[0].result.data["quick"] is True
    proving = outcomes[1].obligations
    assert [ob.what for ob in proving] == ["x + 0 = x"]
    assert proving[0].confirmed_by == ("z3",)  # the parent's solvers, not the default
    assert outcomes[0].obligations == ()


def test_never_more_processes_than_jobs(probes, monkeypatch) -> None:
    for name in ("cpu_count", "process_cpu_count"):
        monkeypatch.setattr(os, name, lambda: 8, raising=False)
    checks = [probes[f"test.naps-{i}"] for i in range(6)]  # long enough to overlap
    outcomes = _registry.run_many(checks, jobs=2)
    assert 1 <= len(set(_pids(outcomes).values())) <= 2


def test_a_dying_process_is_error_and_the_others_are_reported_once(
    probes, spawn_by_default
) -> None:
    # the naps are running or queued when the process dies: they are rerun, still quick
    ids = ["test.probe-a", "test.dies", "test.naps-0", "test.naps-1", "test.probe-b"]
    seen: list[str] = []
    outcomes = _registry.run_many(
        [probes[c] for c in ids], quick=True, jobs=2, progress=lambda i, n, c: seen.append(c)
    )
    assert sorted(seen) == sorted(ids)  # each check once, the reruns included
    status = {o.check.id: o.result.status for o in outcomes}
    assert status == {c: Status.ERROR if c == "test.dies" else Status.PASS for c in ids}
    died = outcomes[1].result
    assert died.evidence is Evidence.EXACT
    assert died.detail.startswith("the process running this check died (BrokenProcessPool: ")
    assert all(o.result.data["quick"] is True for o in outcomes if o.check.id != "test.dies")


def test_rerun_alone_gives_each_check_its_own_process(probes, spawn_by_default) -> None:
    parts: list[_registry._Part] = []
    left = [probes["test.dies"], probes["test.probe-a"]]
    context = multiprocessing.get_context("fork")
    _registry._rerun_alone(left, True, ("z3",), context, parts.extend)
    assert [p[0] for p in parts] == ["test.dies", "test.probe-a"]
    _, died, seconds, log = parts[0]
    assert (seconds, log) == (0.0, ())
    assert died["status"] == "error" and died["evidence"] == "exact"
    assert died["detail"].startswith("the process running this check died (BrokenProcessPool: ")
    assert parts[1][1]["status"] == "pass" and parts[1][1]["data"]["quick"] is True
    assert parts[1][1]["data"]["pid"] != os.getpid()


def test_ctrl_c_cancels_the_queue_and_stops_the_workers(probes) -> None:
    """An interrupt while results come in (here raised by ``progress``) stops at once: the
    running checks (30 s each) are not waited for and no worker is left."""
    ids = ["test.probe-a", "test.sleeps-a", "test.sleeps-b", "test.sleeps-c"]

    def interrupt(i: int, n: int, cid: str) -> None:
        raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _registry.run_many([probes[c] for c in ids], jobs=2, progress=interrupt)
    assert time.monotonic() - start < 15
    deadline = time.monotonic() + 5
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []


# ------------------------------------------------------------------------------------ workers


class _FakeTorch:
    def __init__(self) -> None:
        self.threads: list[int] = []

    def set_num_threads(self, n: int) -> None:
        self.threads.append(n)


def test_a_worker_runs_its_group_in_order_under_the_given_solvers(probes, monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    parts = _registry._run_group(["test.probe-a", "test.proving"], True, ("z3",))
    assert [p[0] for p in parts] == ["test.probe-a", "test.proving"]
    assert parts[0][1]["status"] == "pass" and parts[0][1]["data"]["quick"] is True
    assert isinstance(parts[0][2], float) and parts[0][3] == ()
    assert [ob.confirmed_by for ob in parts[1][3]] == [("z3",)]


def test_a_worker_keeps_torch_to_one_thread(probes, monkeypatch) -> None:
    fake = _FakeTorch()
    monkeypatch.setitem(sys.modules, "torch", fake)
    _registry._run_group(["test.probe-a"], False, ("z3",))
    assert fake.threads == [1]
