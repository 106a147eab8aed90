"""Time and peak memory of the largest request each ``verify`` command accepts.

Each request runs as its own process (``python -m proofs ...``, stdout to /dev/null) under
``/usr/bin/time -v`` when it exists, else with ``resource.getrusage`` of the child. Prints a
Markdown table (the one in ``benchmarks/README.md``). Run from the repository root:

    python benchmarks/bench_limits.py            # every request
    python benchmarks/bench_limits.py --images   # those whose description has the word
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
    # the training alone, then the largest accepted --images of each kind on the same run
    ("experiment: the smallest training that takes --images", ["experiment", "initialization",
     "--quick", "--out", os.path.join(OUT, "e0")]),
    ("--images: one 5792×5792 PNG (2²⁵ pixels)", ["experiment", "initialization", "--quick",
     "--images", os.path.join(OUT, "big"), "--out", os.path.join(OUT, "e1")]),
    ("--images: 10 000 PNG files", ["experiment", "initialization", "--quick", "--images",
     os.path.join(OUT, "many"), "--out", os.path.join(OUT, "e2")]),
]  # fmt: skip


def make_images() -> None:
    """OUT/big: one smooth 5792×5792 PNG (the largest picture accepted); OUT/many: 10 000
    8×8 PNGs (the most files accepted)."""
    import numpy as np
    from PIL import Image

    os.makedirs(os.path.join(OUT, "big"))
    os.makedirs(os.path.join(OUT, "many"))
    ramp = np.linspace(0, 255, 5792, dtype=np.float32)
    plane = (np.add.outer(ramp, ramp) / 2).astype(np.uint8)
    Image.fromarray(np.stack([plane, plane.T, 255 - plane], -1)).save(
        os.path.join(OUT, "big", "a.png")
    )
    rng = np.random.default_rng(0)
    for i in range(10_000):
        pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(os.path.join(OUT, "many", f"{i:05d}.png"))


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
    """All requests, or those whose description contains one of the words given."""
    words = sys.argv[1:]
    chosen = [(w, a) for w, a in REQUESTS if not words or any(x in w for x in words)]
    if any("--images" in a for _, a in chosen):
        make_images()
    print("| request | command | exit | seconds | peak memory (MiB) |")
    print("| --- | --- | --- | --- | --- |")
    for what, argv in chosen:
        secs, rss, code = measure(argv)
        shown = " ".join(a if not a.startswith(OUT) else "OUT" + a[len(OUT) :] for a in argv)
        print(f"| {what} | `verify {shown}` | {code} | {secs:.1f} | {rss:.0f} |")
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
