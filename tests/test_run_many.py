"""``verify all`` in several processes: the same outcomes, in the same order, and a process
that dies gives ``error`` for its check alone, never a pass or a hang."""

from __future__ import annotations

import os

import pytest

from proofs import Evidence, Result, Status, _registry

FAST = ["premise.single-layer", "cor.depth2", "kernel.depth-formula", "thm4.filters-invariant"]


def _summary(outcomes: list[_registry.Outcome]) -> list[tuple[str, str, str, str]]:
    return [(o.check.id, str(o.result.status), o.result.detail, repr(o.result.to_json()["data"]))
            for o in outcomes]  # fmt: skip


def test_processes_change_nothing_but_time() -> None:
    checks = [_registry.get(cid) for cid in FAST]
    one = _registry.run_many(checks, quick=True, jobs=1)
    seen: list[str] = []
    two = _registry.run_many(
        checks, quick=True, jobs=2, progress=lambda i, n, cid: seen.append(cid)
    )
    assert _summary(one) == _summary(two)
    assert [o.check.id for o in two] == FAST
    assert sorted(seen) == sorted(FAST)  # progress reports each check once


def _dies(*, quick: bool = False) -> Result:
    os._exit(3)


def _fine(*, quick: bool = False) -> Result:
    return Result.verdict(True, Evidence.EXACT, "fine")


@pytest.fixture
def killer():
    """A check whose process exits abruptly, and one that passes, registered for one test."""
    ids = {"test.dies": _dies, "test.fine": _fine}
    for cid, func in ids.items():
        texts = {"title": cid, "statement": "-", "method": "-"}
        _registry.register(cid, evidence="exact", wrong=({},), **texts)(func)
    yield [_registry._REGISTRY[cid] for cid in ids]
    for cid in ids:
        _registry._REGISTRY.pop(cid, None)


def test_a_dying_process_is_an_error_for_its_check_alone(killer) -> None:
    checks = [*killer, _registry.get("premise.single-layer")]
    outcomes = _registry.run_many(checks, quick=True, jobs=2)
    status = {o.check.id: o.result.status for o in outcomes}
    assert status == {
        "test.dies": Status.ERROR,
        "test.fine": Status.PASS,
        "premise.single-layer": Status.PASS,
    }
    assert "died" in outcomes[0].result.detail


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_ctrl_c_stops_every_process_at_once() -> None:
    """SIGINT to the command's process group (a terminal's Ctrl-C): exit 130 in seconds, one
    line, no worker left behind, although most checks were still queued."""
    import signal
    import subprocess
    import sys
    import time

    def default_sigint() -> None:  # a backgrounded suite's children inherit an ignored SIGINT
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    proc = subprocess.Popen(
        [sys.executable, "-m", "proofs", "all", "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    time.sleep(2.5)  # the workers are running checks by now
    os.killpg(proc.pid, signal.SIGINT)
    start = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - start < 5
    assert err.strip().splitlines()[-1] == "verify: interrupted"
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # nothing of the process group is left
