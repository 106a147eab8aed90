"""Time and peak memory of the largest request each ``verify`` command accepts.

Each request runs as its own process (``python -m proofs ...``, stdout to /dev/null) under
``/usr/bin/time -v`` when it exists, else with ``resource.getrusage`` of the child. Prints a
Markdown table (the one in ``benchmarks/README.md``). Run from the repository root:

    python benchmarks/bench_limits.py
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

OUT = tempfile.mkdtemp(prefix="bench-limits-")
REQUESTS: list[tuple[str, list[str]]] = [
    ("masks: s = 90, every other argument huge", ["masks", "--size", "90", "--depth",
     "1000000000", "--kernel", "1000001", "--filters", "1000000000", "--json"]),
    ("masks: s = 90 as a PNG", ["masks", "--size", "90", "--depth", "89", "--png",
     os.path.join(OUT, "m.png")]),
    ("depth: the largest range at k = 3", ["depth", "--size", "1..2400", "--json"]),
    ("depth: the largest size", ["depth", "--size", "1000000", "--json"]),
    ("depth --downsample 2: the largest size", ["depth", "--size", "256", "--downsample", "2",
     "--json"]),
    ("matrix: s = 32, numeric", ["matrix", "--size", "32", "--json"]),
    ("matrix: s = 32, symbolic", ["matrix", "--size", "32", "--symbolic", "--json"]),
    ("audit", ["audit", "--json"]),
    ("experiment list", ["experiment", "list", "--json"]),
]  # fmt: skip


def measure(argv: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MiB, exit code) of ``python -m proofs *argv``."""
    cmd = [sys.executable, "-m", "proofs", *argv]
    timer = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    if timer:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [timer, "-v", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        secs = time.perf_counter() - t0
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        rss = int(m[1]) / 1024 if m else float("nan")
        return secs, rss, proc.returncode
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return secs, rss, proc.returncode


def main() -> None:
    print("| request | command | exit | seconds | peak memory (MiB) |")
    print("| --- | --- | --- | --- | --- |")
    for what, argv in REQUESTS:
        secs, rss, code = measure(argv)
        shown = " ".join(a if not a.startswith(OUT) else "OUT/m.png" for a in argv)
        print(f"| {what} | `verify {shown}` | {code} | {secs:.1f} | {rss:.0f} |")
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
