"""Table 2 training: the plain per-layer torch loop vs the trainer ``verify experiment table2``
runs.

Both train the same deep single-filter linear net of each Table 2 row (same init, same
optimizer as the table: gradient descent lr 0.1 up to 10 layers, Adam lr 1e-4 above, float64,
the loss read every step as the stopping rule needs) in the same run. The plain loop is
``nn.Conv2d`` layers with torch's autograd, ``MSELoss``-style mean and ``torch.optim``; the
other is what a Table 2 row runs on a CPU: :func:`numerics.train_chain_ensemble` (the one
trainer's loop with its numpy backend, here for one seed). The script prints each
one's time per training step (the minimum over interleaved repeats, since shared machines
are noisy), the ratio, the sum over the nine rows (one step each) and its ratio, and checks
that both reach the same weights after the first 20 steps.

    python benchmarks/bench_table2.py            # about 20 s on a CPU
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from numerics import train_chain_ensemble
from numerics._nets import Init, build_model, weights_of
from numerics.tables import ADAM_ABOVE_DEPTH, ADAM_LR, GD_LR, critical_constant
from symconv import conv_stack

AGREE_STEPS = 20  # steps after which both paths' weights are compared

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


def plain_loop(model: Any, x: Any, opt: Any, n: int) -> float:
    """Seconds per step of the plain loop: ``n`` steps of torch.optim on the conv model,
    reading the loss before each step as the stopping rule needs."""
    t = time.perf_counter()
    for _ in range(n):
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(x) - x) ** 2)
        float(loss.item())
        loss.backward()
        opt.step()
    return (time.perf_counter() - t) / n


def _trainer_steps(net: Any, w: np.ndarray, x: np.ndarray, how: dict, n: int) -> tuple:
    """Seconds per step of the trainer from the weights ``w``, and the trained weights."""
    t = time.perf_counter()
    res = train_chain_ensemble(net, w[None], x[None], target=0.0, cap=n, **how)
    return (time.perf_counter() - t) / n, res.weights[0]


def bench(size: int, n: int, depth: int, skip: int, *, steps: int, repeats: int) -> dict:
    """Time both on one row from the same init; min over ``repeats`` interleaved runs."""
    net = conv_stack(size, depth, skip_every=skip)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, size, size, generator=gen, dtype=torch.float64)
    c = critical_constant(size) * (0.7 if skip else 1.0)  # Table 2's init rule
    plain = build_model(net, init=Init("constant", c), seed=0, dtype=torch.float64)
    w0 = np.stack([w.reshape(-1) for w in weights_of(plain)])
    adam = depth > ADAM_ABOVE_DEPTH
    how = {"optimizer": "adam" if adam else "sgd", "lr": ADAM_LR if adam else GD_LR}
    opt = (torch.optim.Adam if adam else torch.optim.SGD)(plain.parameters(), lr=how["lr"])
    # warm-up, and the trajectory check: the same steps from the same init, before timing
    # (the 3x3 three-image GD row is chaotic, so later steps separate at round-off level)
    plain_loop(plain, x, opt, AGREE_STEPS)
    _, w_fast = _trainer_steps(net, w0, x.numpy(), how, AGREE_STEPS)
    w_plain = np.stack([w.reshape(-1) for w in weights_of(plain)])
    diff = float(np.max(np.abs(w_plain - w_fast)) / np.max(np.abs(w_plain)))
    best = {"plain": float("inf"), "fast": float("inf")}
    for _ in range(repeats):
        best["plain"] = min(best["plain"], plain_loop(plain, x, opt, steps))
        best["fast"] = min(best["fast"], _trainer_steps(net, w0, x.numpy(), how, steps)[0])
    return {
        "size": size,
        "n": n,
        "layers": depth,
        "skip_every": skip,
        "optimizer": f"{'adam' if adam else 'gd'} {how['lr']:g}",
        "plain_ms": 1e3 * best["plain"],
        "fast_ms": 1e3 * best["fast"],
        "ratio": best["plain"] / best["fast"],
        "weight_rel_diff": diff,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--steps", type=int, default=50, help="training steps per timing")
    ap.add_argument("--repeats", type=int, default=7, help="interleaved timings (min kept)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (plain loop)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, numpy {np.__version__}, cpu, torch threads "
        f"{torch.get_num_threads()}, float64, Table 2's init and optimizers, "
        f"{args.steps} steps x {args.repeats} interleaved repeats (min)"
    )
    total = {"plain": 0.0, "fast": 0.0}
    for size, n, depth, skip in CONFIGS:
        r = bench(size, n, depth, skip, steps=args.steps, repeats=args.repeats)
        total["plain"] += r["plain_ms"]
        total["fast"] += r["fast_ms"]
        print(
            f"{size}x{size} n={n} {depth:>3} layers skip={skip:<2} {r['optimizer']:<11} "
            f"plain {r['plain_ms']:7.3f} ms/step  fast {r['fast_ms']:7.3f} ms/step  "
            f"ratio {r['ratio']:5.1f}x  (weights agree to {r['weight_rel_diff']:.1e} rel)"
        )
    print(
        f"all nine rows, one step each: plain {total['plain']:.2f} ms, "
        f"fast {total['fast']:.2f} ms, ratio {total['plain'] / total['fast']:.1f}x"
    )


if __name__ == "__main__":
    main()
