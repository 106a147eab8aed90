"""The explorer page in headless Chromium: load-and-draw time, and the cost of one change.

    python benchmarks/bench_explore.py              # s = 64 (4096×4096 mask), 5 loads
    python benchmarks/bench_explore.py --size 32 --repeat 10

Needs Debian's chromium (/usr/bin/chromium) and the playwright package; nothing is
downloaded. Times are from navigation start to the page's "drawn" mark
(``body[data-ready]``), best and median of the repeats, plus in-page timings of
``symconv.mask`` (all d rows as strings) and of a redraw after moving the depth slider.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from _browser import browser_context, open_page  # noqa: E402

from verifier.cli import main  # noqa: E402


def run(size: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "explore.html"
        assert main(["explore", "--out", str(page_file), "--size", str(size)], io.StringIO()) == 0
        gen = iter(browser_context())
        ctx = next(gen)
        loads = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            page, watch = open_page(ctx, page_file)
            page.wait_for_selector("body[data-ready='1']")
            loads.append(time.perf_counter() - t0)
            assert not watch.errors and not watch.network
            page.close()
        page, _ = open_page(ctx, page_file)
        page.wait_for_selector("body[data-ready='1']")
        in_page = page.evaluate(
            """(s) => {
              let t = performance.now(); const m = symconv.mask({size: s, depth: s - 2});
              const mask = performance.now() - t;
              const sl = document.getElementById('depth-slider');
              t = performance.now(); sl.value = String(s - 3);
              sl.dispatchEvent(new Event('input')); const redraw = performance.now() - t;
              return {mask, redraw, rows: m.length};
            }""",
            size,
        )
        page.close()
        try:
            next(gen)
        except StopIteration:
            pass
    d = size * size
    print(f"s = {size} ({d}×{d} mask), {repeat} loads from file://")
    print(f"  load + draw: best {min(loads):.2f} s, median {statistics.median(loads):.2f} s")
    print(f"  symconv.mask (all {in_page['rows']} rows as strings): {in_page['mask']:.0f} ms")
    print(f"  redraw after a slider move: {in_page['redraw']:.0f} ms")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    run(a.size, a.repeat)
