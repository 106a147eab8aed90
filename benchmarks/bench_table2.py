"""Table 2 training: the plain per-layer torch loop vs the fast matrix-chain path.

Both train the same deep single-filter linear net (same init, same Adam steps, float64) on
the same device in the same run; the script prints each one's time per training step (the
minimum over interleaved repeats, since shared machines are noisy), the ratio, the config,
and checks that both ended with the same weights.

    python benchmarks/bench_table2.py                 # CPU, Table 2's 5x5/70 and 7x7/267 nets
    python benchmarks/bench_table2.py --device cuda   # the same on a GPU
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from numerics._fastlinear import FastLinearChain
from numerics._nets import build_model, weights_of
from numerics.tables import critical_constant
from symconv import conv_stack

CONFIGS = [  # (size, training images, conv layers, skip every): the nine rows of Table 2
    (2, 1, 3, 0),
    (3, 1, 9, 0),
    (4, 1, 29, 0),
    (5, 1, 70, 0),
    (6, 1, 144, 10),
    (7, 1, 267, 10),
    (3, 3, 10, 0),
    (5, 5, 200, 10),
    (7, 5, 345, 10),
]


def _steps(model, x, opt, n: int, device: str) -> float:  # type: ignore[no-untyped-def]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n):
        opt.zero_grad(set_to_none=True)
        loss = ((model(x) - x) ** 2).mean()
        loss.backward()
        opt.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / n


def bench(
    size: int, n: int, depth: int, skip: int, *, device: str, steps: int, repeats: int
) -> dict:
    net = conv_stack(size, depth, skip_every=skip)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, size, size, generator=gen, dtype=torch.float64).to(device)
    c = critical_constant(size) * (0.7 if skip else 1.0)  # Table 2's init rule
    plain = build_model(net, init=f"constant:{c}", seed=0, dtype=torch.float64, device=device)
    fast = FastLinearChain(net, weights_of(plain)).to(device)
    opts = {
        "plain": torch.optim.Adam(plain.parameters(), lr=1e-4),
        "fast": torch.optim.Adam(fast.parameters(), lr=1e-4),
    }
    models = {"plain": plain, "fast": fast}
    best = {"plain": float("inf"), "fast": float("inf")}
    for name in best:  # warm-up
        _steps(models[name], x, opts[name], 3, device)
    for _ in range(repeats):
        for name in best:
            best[name] = min(best[name], _steps(models[name], x, opts[name], steps, device))
    w_plain = torch.stack([torch.as_tensor(w).reshape(-1) for w in weights_of(plain)])
    diff = (w_plain - fast.weight.detach().cpu()).abs().max().item()
    return {
        "size": size,
        "n": n,
        "layers": depth,
        "skip_every": skip,
        "plain_ms": 1e3 * best["plain"],
        "fast_ms": 1e3 * best["fast"],
        "ratio": best["plain"] / best["fast"],
        "max_weight_diff": diff,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=50, help="training steps per timing")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved timings (min kept)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (both paths)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
        f"float64, Adam lr 1e-4, Table 2's init (constant c*, 0.7 c* with skips), "
        f"{args.steps} steps x {args.repeats} repeats (min)"
    )
    total = {"plain": 0.0, "fast": 0.0}
    for size, n, depth, skip in CONFIGS:
        r = bench(size, n, depth, skip, device=args.device, steps=args.steps, repeats=args.repeats)
        total["plain"] += r["plain_ms"]
        total["fast"] += r["fast_ms"]
        print(
            f"{r['size']}x{r['size']} n={r['n']} {r['layers']:>3} layers skip={r['skip_every']:<2} "
            f"plain {r['plain_ms']:7.3f} ms/step  fast {r['fast_ms']:7.3f} ms/step  "
            f"ratio {r['ratio']:5.1f}x  (weights agree to {r['max_weight_diff']:.1e})"
        )
    print(
        f"all nine rows, one step each: plain {total['plain']:.2f} ms, "
        f"fast {total['fast']:.2f} ms, "
        f"ratio {total['plain'] / total['fast']:.1f}x"
    )


if __name__ == "__main__":
    main()
