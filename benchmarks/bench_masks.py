"""Forced-zero masks: symconv's certified structure against the approach a user would write.

The baseline pushes the d one-hot images through a torch network with random weights and
reads the nonzero outputs (the Jacobian's support, floating point, one random draw). symconv
computes the exact pattern from the Kronecker structure and certifies every entry with
integer witnesses mod a prime. Both run in this process, on the same machine, now.

    python benchmarks/bench_masks.py            # 32×32, depth 31, 8 filters + the 64×64 case
    python benchmarks/bench_masks.py --repeat 5

It also times whole `verify masks` and `verify depth` processes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def symconv_mask(size: int, depth: int, filters: int) -> np.ndarray:
    from symconv import certify, conv_stack, factored_pattern

    net = conv_stack(size, depth, filters=filters)
    cert = certify(net)
    assert cert.certified
    pat = factored_pattern(net)
    assert pat is not None
    return pat.dense()


def torch_mask(size: int, depth: int, filters: int) -> np.ndarray:
    import torch

    torch.manual_seed(0)
    widths = [1] + [filters] * (depth - 1) + [1]
    model = torch.nn.Sequential(
        *[torch.nn.Conv2d(widths[i], widths[i + 1], 3, padding=1, bias=False) for i in range(depth)]
    )
    d = size * size
    with torch.no_grad():
        basis = torch.eye(d).reshape(d, 1, size, size)
        out = model(basis).reshape(d, d)  # row j = image of input pixel j
    return (out.T != 0).numpy()


def process_seconds(argv: list[str], repeat: int) -> float:
    cmd = [sys.executable, "-m", "proofs", *argv]
    return best_of(lambda: subprocess.run(cmd, check=True, capture_output=True), repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    size, depth, filters = 32, 31, 8
    ours = symconv_mask(size, depth, filters)
    theirs = torch_mask(size, depth, filters)
    same = np.array_equal(ours, theirs)
    t_ours = best_of(lambda: symconv_mask(size, depth, filters), args.repeat)
    t_torch = best_of(lambda: torch_mask(size, depth, filters), args.repeat)
    print(
        f"{size}x{size}, depth {depth}, {filters} filters: symconv certified {t_ours * 1e3:.1f} ms,"
        f" torch one-hot {t_torch * 1e3:.1f} ms, ratio {t_torch / t_ours:.0f}x, "
        f"masks equal: {same}"
    )
    t64 = best_of(lambda: symconv_mask(64, 64, 16), args.repeat)
    print(f"64x64, depth 64, 16 filters: symconv certified {t64 * 1e3:.1f} ms")
    t_cli = process_seconds(
        ["masks", "--size", "32", "--depth", "31", "--filters", "8", "--json"], args.repeat
    )
    print(f"whole process `verify masks --size 32 --depth 31 --filters 8 --json`: {t_cli:.2f} s")
    t_depth = process_seconds(["depth", "--size", "2..1024", "--json"], args.repeat)
    print(f"whole process `verify depth --size 2..1024 --json`: {t_depth:.2f} s")


if __name__ == "__main__":
    main()
