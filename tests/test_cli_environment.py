"""The program in hostile environments, as real processes: an ASCII-only or C locale, a
closed or full stdout, SIGTERM and a double Ctrl-C. Every failure is one line on stderr with
a documented exit code (2, or 130 for a signal), never a traceback; SIGTERM stops the worker
processes of ``verify all --jobs 2`` as Ctrl-C does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHILD = (
    "import sys, numerics._experiment as e; "
    "e.EXPERIMENT_MODULES['tiny-test'] = '_tiny_experiment'; "
    "from verifier.cli import main; sys.exit(main(sys.argv[1:]))"
)
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and file descriptors")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TINY_", "LC_", "PYTHONIO"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    env.update(extra)
    return env


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*argv: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        cwd=ROOT,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out.decode("ascii", "replace"), err.decode("ascii", "replace")


def wait_for_file(proc: subprocess.Popen[bytes], path: Path) -> None:
    """Wait (at most 60 s) until the running ``proc`` has written ``path``."""
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None, finish(proc)
        assert time.monotonic() < deadline
        time.sleep(0.02)


ASCII_ENVS = {
    "pythonioencoding-ascii": {"PYTHONIOENCODING": "ascii"},
    "c-locale-no-utf8": {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
}


@pytest.mark.parametrize("env", ASCII_ENVS.values(), ids=ASCII_ENVS.keys())
@pytest.mark.parametrize(
    "argv",
    [["masks", "--size", "5", "--depth", "3"], ["depth", "--size", "2..6"], ["audit"]],
    ids=["masks", "depth", "audit"],
)
def test_output_falls_back_to_ascii(env: dict[str, str], argv: list[str]) -> None:
    code, out, err = finish(start(*argv, **env))
    assert code == 0, err
    assert err == ""
    assert out.isascii() and "?" not in out.split("\n", 1)[0]
    if argv[0] == "masks":
        assert "3x3 filters" in out and "5x5 images" in out


@pytest.mark.parametrize("env", ASCII_ENVS.values(), ids=ASCII_ENVS.keys())
def test_an_error_line_falls_back_to_ascii(env: dict[str, str]) -> None:
    code, out, err = finish(start("masks", "--size", "5", "--depth", "3", "--kernel", "2", **env))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "--kernel" in err and "Traceback" not in err


@posix
def test_a_closed_stdout_is_one_line() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m verifier list >&-",
        shell=True,
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "stdout is closed" in proc.stderr


@posix
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["list"], ["depth", "--size", "1..2000", "--json"]])
def test_a_full_stdout_is_one_line(argv: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "verifier", *argv],
            cwd=ROOT,
            env=_env(),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr


def _children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(p) for p in text.split()}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@posix
@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs /proc")
def test_sigterm_stops_verify_all_and_its_workers() -> None:
    proc = start("all", "--jobs", "2")
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2:
        assert proc.poll() is None, finish(proc)
        assert time.monotonic() < deadline
        workers = _children(proc.pid)
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    code, _, err = finish(proc)
    assert code == 130, err
    assert err.strip() == "verify: interrupted", err
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)


@posix
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_two_signals_50_ms_apart_still_exit_130(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "out"
    proc = start("experiment", "tiny-test", "--out", str(out), TINY_SLEEP="1.5")
    wait_for_file(proc, out / "tiny-test.json")
    proc.send_signal(sig)
    time.sleep(0.05)
    proc.send_signal(sig)
    code, _, err = finish(proc)
    assert code == 130, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "1 finished row(s) of tiny-test kept in" in err


@posix
def test_an_interrupt_before_any_row_names_no_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start("experiment", "tiny-test", "--out", str(out), TINY_SLEEP="30")
    wait_for_file(proc, out / ".tiny-test.lock")
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    code, _, err = finish(proc)
    assert code == 130, err
    assert len(err.splitlines()) == 1, err
    assert "no row of tiny-test had finished" in err
    assert not (out / "tiny-test.json").exists()


def test_an_unwritable_matplotlib_config_folder_prints_nothing(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "m.png"
    code, _, err = finish(
        start("masks", "--size", "4", "--depth", "2", "--png", str(png), MPLCONFIGDIR="/proc/none")
    )
    assert code == 0 and err == "", err
    assert png.read_bytes()[:4] == b"\x89PNG"
