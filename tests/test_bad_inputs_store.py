"""Rows on disk: resume only the same configuration, one writer per file, no partial reads,
Ctrl-C keeps every finished row and a resume recomputes nothing.

The runs use ``tiny-test`` (``tests/_tiny_experiment.py``): three rows, each a short sleep,
registered here only. Two real processes share one ``--out`` for the writer tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _cli import run

import numerics._experiment as experiment
from verifier import UsageError, write_atomic
from verifier.store import FILE_FORMAT, RowStore

ROOT = Path(__file__).resolve().parents[1]
CHILD = (
    "import sys, numerics._experiment as e; "
    "e.EXPERIMENT_MODULES['tiny-test'] = '_tiny_experiment'; "
    "from verifier.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.fixture(autouse=True)
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "tests"))
    monkeypatch.setitem(experiment.EXPERIMENT_MODULES, "tiny-test", "_tiny_experiment")
    for var in ("TINY_INTERRUPT_AT", "TINY_CALLS", "TINY_SLEEP"):
        monkeypatch.delenv(var, raising=False)


def child(*argv: str, **env: str) -> subprocess.Popen[str]:
    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell that starts this suite in the background ignores SIGINT, and a child
        # inherits that; restore the default so Python installs its Ctrl-C handler as in a
        # terminal
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stored(out: Path) -> dict:
    return json.loads((out / "tiny-test.json").read_text())


def test_the_file_records_the_configuration(tmp_path: Path) -> None:
    code, _, err = run("experiment", "tiny-test", "--quick", "--seed", "7", "--out", str(tmp_path))
    assert code == 0, err
    obj = stored(tmp_path)
    assert (obj["experiment"], obj["format"]) == ("tiny-test", FILE_FORMAT)
    assert obj["config"] == {
        "experiment": "tiny-test",
        "row_format": experiment.ROW_FORMAT,
        "quick": True,
        "seed": 7,
        "images": None,
        "reading": [],
    }
    assert [r["value"] for r in obj["rows"]] == [1007, 2007, 3007]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tiny-test.lock", "tiny-test.json"]


@pytest.mark.parametrize(
    ("second", "differs"),
    [
        (["--seed", "1"], "seed: 0 there, 1 now"),
        ([], "quick: True there, False now"),  # a full run on a quick run's folder
    ],
    ids=["other-seed", "full-after-quick"],
)
def test_resume_refuses_another_configuration(
    tmp_path: Path, second: list[str], differs: str
) -> None:
    assert run("experiment", "tiny-test", "--quick", "--out", str(tmp_path))[0] == 0
    before = (tmp_path / "tiny-test.json").read_bytes()
    quick = ["--quick"] if second else []
    code, out, err = run("experiment", "tiny-test", *quick, *second, "--out", str(tmp_path),
                         "--resume")  # fmt: skip
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "--resume" in err and differs in err, err
    assert (tmp_path / "tiny-test.json").read_bytes() == before  # untouched


def test_resume_refuses_images_that_changed(tmp_path: Path) -> None:
    from PIL import Image

    imgs = tmp_path / "imgs"
    imgs.mkdir()
    Image.new("RGB", (8, 8)).save(imgs / "a.png")
    out = tmp_path / "out"
    assert run("experiment", "tiny-test", "--out", str(out), "--images", str(imgs))[0] == 0
    Image.new("RGB", (9, 9), "white").save(imgs / "b.png")
    code, _, err = run("experiment", "tiny-test", "--out", str(out), "--images", str(imgs),
                       "--resume")  # fmt: skip
    assert code == 2 and "images" in err and len(err.splitlines()) == 1, err


def test_a_table2_file_is_not_resumed_as_table1(tmp_path: Path) -> None:
    ident = experiment.RunConfig(quick=True).identity("table1")
    (tmp_path / "table1.json").write_text(
        json.dumps({"experiment": "table2", "format": FILE_FORMAT, "config": ident, "rows": []})
    )
    code, _, err = run("experiment", "table1", "--quick", "--out", str(tmp_path), "--resume")
    assert code == 2 and "'table2'" in err and len(err.splitlines()) == 1, err


def test_interrupt_keeps_rows_and_resume_recomputes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    calls = tmp_path / "calls"
    monkeypatch.setenv("TINY_CALLS", str(calls))
    monkeypatch.setenv("TINY_INTERRUPT_AT", "r2")
    code, _, err = run("experiment", "tiny-test", "--out", str(out))
    assert code == 130
    assert err.splitlines() == [
        f"verify: interrupted; 2 finished row(s) of tiny-test kept in {out / 'tiny-test.json'}; "
        "rerun the same command with --resume to continue"
    ]
    kept = stored(out)["rows"]
    assert [r["key"] for r in kept] == ["r0", "r1"]
    monkeypatch.delenv("TINY_INTERRUPT_AT")
    code, res, err = run("experiment", "tiny-test", "--out", str(out), "--resume", "--json")
    assert code == 0, err
    rows = json.loads(res)["rows"]
    assert rows[:2] == kept  # identical, not recomputed
    assert calls.read_text().split() == ["r0", "r1", "r2"]  # r0, r1 computed once in all
    assert stored(out)["rows"] == rows


def test_interrupt_without_out_says_nothing_was_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINY_INTERRUPT_AT", "r0")
    code, _, err = run("experiment", "tiny-test")
    assert code == 130 and len(err.splitlines()) == 1 and "no --out" in err


def test_resumed_rows_not_reached_yet_stay_on_disk(tmp_path: Path) -> None:
    ident = experiment.RunConfig(quick=True).identity("tiny-test")
    rows = [{"key": k, "value": v} for k, v in (("r0", 1), ("r1", 2), ("r2", 3))]
    with RowStore.open(tmp_path, "tiny-test", ident, resume=False) as store:
        store.write(rows)
    with RowStore.open(tmp_path, "tiny-test", ident, resume=True) as store:
        assert store.done == {r["key"]: r for r in rows}
        store.write(rows[:1])  # an interrupted resume writes what it reached ...
        assert stored(tmp_path)["rows"] == rows  # ... and keeps the rest


def test_atomic_write_leaves_no_temporary_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    write_atomic(target, b"{}")

    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert target.read_bytes() == b"{}"


def test_lock_refuses_a_second_writer_in_process(tmp_path: Path) -> None:
    ident = experiment.RunConfig().identity("tiny-test")
    with RowStore.open(tmp_path, "tiny-test", ident, resume=False):
        with pytest.raises(UsageError, match="another run is writing"):
            with RowStore.open(tmp_path, "tiny-test", ident, resume=False):
                pass
    with RowStore.open(tmp_path, "tiny-test", ident, resume=False):  # released
        pass


def test_two_processes_on_one_out_never_mix(tmp_path: Path) -> None:
    """The second run is refused with one line while the first holds the folder; the first
    finishes with its own three rows; a reader polling the file never sees a partial one."""
    out = tmp_path / "shared"
    hold = tmp_path / "go-on"
    first = child("experiment", "tiny-test", "--quick", "--out", str(out), "--json",
                  TINY_HOLD=str(hold))  # fmt: skip
    path = out / "tiny-test.json"
    deadline = time.monotonic() + 60
    while not path.exists():  # the first row is on disk: the first run holds the lock
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second = child("experiment", "tiny-test", "--out", str(out), "--seed", "5")
    _, err2 = second.communicate(timeout=60)  # refused while the first holds the lock
    hold.touch()
    reads = 0
    while first.poll() is None:
        obj = json.loads(path.read_text())  # always complete JSON
        assert obj["config"]["seed"] == 0
        reads += 1
        time.sleep(0.01)
    out1, err1 = first.communicate(timeout=60)
    assert first.returncode == 0, err1
    assert second.returncode == 2, err2
    assert len(err2.splitlines()) == 1 and "--out" in err2 and "another run" in err2, err2
    assert reads > 0
    final = stored(out)
    assert [r["value"] for r in final["rows"]] == [1000, 2000, 3000]
    assert json.loads(out1)["rows"] == final["rows"]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signal")
def test_real_sigint_prints_one_line_and_keeps_rows(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = child("experiment", "tiny-test", "--out", str(out), TINY_SLEEP="1.5")
    path = out / "tiny-test.json"
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "1 finished row(s)" in err and "--resume" in err
    assert [r["key"] for r in stored(out)["rows"]] == ["r0"]


def test_a_second_report_on_one_folder_is_refused(tmp_path: Path) -> None:
    from verifier.store import folder_lock

    with folder_lock(str(tmp_path), tmp_path, "report", what="a report"):
        code, out, err = run("report", "--quick", "--out", str(tmp_path))
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert "--out" in err and "another run is writing a report" in err
