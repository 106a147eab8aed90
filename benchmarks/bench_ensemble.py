"""Seed ensembles: ten seeds of a Table 2 row set trained together vs one after the other.

The rows are Table 2's quick set (2×2 / 3 layers and 3×3 / 9 layers with gradient descent,
3×3 with 3 images / 10 layers, 4×4 / 29 layers with Adam), each with the table's init
(the constant c*) and optimizer, and each member (seed) with its own standard-normal
training images. Every row runs a fixed number of steps (the loss target is set to 0, so no
member stops early and all three runs do the same work):

* ``one_seed_s``: seed 0 alone, by :func:`numerics.train_chain_ensemble` (the trainer a
  Table 2 row runs on a CPU, here with one member: what one seed of
  ``verify experiment table2`` costs);
* ``sequential_s``: the ``--seeds`` seeds one after the other, the same way;
* ``batched_s``: all seeds at once, by the same call with all of them (what a row runs).

All three run in the same process, interleaved, and each is the minimum over ``--repeats``.
The script also checks that both reach the same weights after the first 20 steps.

``--table1`` measures Table 1's rows (3×3 images, 2 of them; 3, 5, 8 conv layers with 1 and
16 filters, GD lr 0.1) the same way with :func:`numerics.train_conv_ensemble` (the trainer's
torch backend: one grouped convolution per layer), and the plain per-layer torch loop
(``torch.optim`` on one ``nn.Conv2d`` model, :func:`bench_table2.plain_loop`) for one seed
and for the seeds one by one.

    python benchmarks/bench_ensemble.py --json             # about a minute on a CPU
    python benchmarks/bench_ensemble.py --table1 --json    # about a minute

``--parts`` times the parts of one step of the numpy backend on the Table 2 rows, one seed
and ``--seeds`` seeds, each part alone (best of ``--repeats`` loops of 2000 calls, µs): the
whole step, writing the layer matrices, the forward pass, the backward products, the weight
gradient (the backward pass less its products) and the optimizer update.

    python benchmarks/bench_ensemble.py --parts --json     # about 30 s

``--floor`` (with ``--table1``) times, for each Table 1 row, the arithmetic alone: every
matrix product of one gradient step (per conv layer the forward product, the weight
gradient, and the input gradient past the first layer), for one seed and for ``--seeds``
seeds, each product one ``torch.bmm`` over the seeds with a seed's two images side by side as
columns (the fewest, largest calls the arithmetic allows; no unfolding, loss or update),
over ``--steps`` steps, beside the trainer's and the plain loop's one seed measured in the
same run. ``ten_seed_products_over_budget`` is the products' time over 1.5× the trainer's one
seed: above 1 the goal is out of reach for the row whatever the rest of a step costs.
``ratio_with_one_seeds_other_costs`` is the ratio a batched form would reach if everything
but the products (unfolding, loss, update, the calls themselves) cost ten seeds what it costs
one: an estimate of the best case, not a bound.

    python benchmarks/bench_ensemble.py --table1 --floor --json    # about 10 s
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
from bench_table2 import plain_loop

from numerics import train_chain_ensemble, train_conv_ensemble
from numerics._nets import Init, build_model
from numerics.tables import ADAM_ABOVE_DEPTH, ADAM_LR, GD_LR, critical_constant
from symconv import conv_stack

ROWS = [(2, 1, 3), (3, 1, 9), (3, 3, 10), (4, 1, 29)]  # (size, images, conv layers)
AGREE_STEPS = 20
TABLE1 = [(3, 1), (5, 1), (8, 1), (3, 16), (5, 16), (8, 16)]  # (conv layers, filters)


def _row_inputs(size: int, n: int, depth: int, seeds: int) -> tuple[Any, np.ndarray, np.ndarray]:
    net = conv_stack(size, depth)
    w = np.full((seeds, depth, 9), critical_constant(size))
    x = np.stack(
        [
            np.random.default_rng([seed, size, n]).standard_normal((n, size, size))
            for seed in range(seeds)
        ]
    )
    return net, w, x


def _optimizer(depth: int) -> tuple[str, float]:
    return ("adam", ADAM_LR) if depth > ADAM_ABOVE_DEPTH else ("sgd", GD_LR)


def table2(seeds: int, steps: int, repeats: int) -> dict[str, Any]:
    inputs = [_row_inputs(s, n, L, seeds) for s, n, L in ROWS]

    def one(members: int) -> tuple[float, list]:
        t = time.perf_counter()
        out = []
        for (_, _, depth), (net, w, x) in zip(ROWS, inputs, strict=True):
            opt, lr = _optimizer(depth)
            for b in range(members):
                res = train_chain_ensemble(
                    net, w[b : b + 1], x[b : b + 1], optimizer=opt, lr=lr, target=0.0, cap=steps
                )
                out.append(res.weights[0])
        return time.perf_counter() - t, out

    def batched() -> tuple[float, list]:
        t = time.perf_counter()
        out = []
        for (_, _, depth), (net, w, x) in zip(ROWS, inputs, strict=True):
            opt, lr = _optimizer(depth)
            res = train_chain_ensemble(net, w, x, optimizer=opt, lr=lr, target=0.0, cap=steps)
            out.extend(res.weights)
        return time.perf_counter() - t, out

    best = {"one_seed_s": np.inf, "batched_s": np.inf, "sequential_s": np.inf}
    for _ in range(repeats):
        t, _w = one(1)
        best["one_seed_s"] = min(best["one_seed_s"], t)
        t, _w = batched()
        best["batched_s"] = min(best["batched_s"], t)
        t, _w = one(seeds)
        best["sequential_s"] = min(best["sequential_s"], t)
    # same trajectories: both ways after the first AGREE_STEPS steps (longer runs of the
    # gradient-descent rows amplify round-off, as the conv loop does against itself)
    diff = 0.0
    for (_, _, depth), (net, w, x) in zip(ROWS, inputs, strict=True):
        opt, lr = _optimizer(depth)
        res = train_chain_ensemble(net, w, x, optimizer=opt, lr=lr, target=0.0, cap=AGREE_STEPS)
        for b in range(seeds):
            alone = train_chain_ensemble(
                net, w[b : b + 1], x[b : b + 1], optimizer=opt, lr=lr, target=0.0,
                cap=AGREE_STEPS,
            ).weights[0]  # fmt: skip
            rel = np.max(np.abs(alone - res.weights[b])) / np.max(np.abs(alone))
            diff = max(diff, float(rel))
    return {
        "seeds": seeds,
        **{k: round(v, 3) for k, v in best.items()},
        "batched_over_one": round(best["batched_s"] / best["one_seed_s"], 2),
        "sequential_over_batched": round(best["sequential_s"] / best["batched_s"], 2),
        "steps": steps,
        "rows": [f"{s}x{s}-n{n}-L{L}" for s, n, L in ROWS],
        f"max_rel_weight_diff_after_{AGREE_STEPS}_steps": diff,
    }


def _table1_models(depth: int, filters: int, seeds: int) -> tuple[list, list]:
    """A Table 1 row's models (its init) and two 3×3 images per seed, seeds 0..seeds-1."""
    net = conv_stack(3, depth, filters=filters)
    init = Init("uniform", float(f"{1 / np.sqrt(3 * filters):.6g}"))
    ms = [build_model(net, init=init, seed=s, dtype=torch.float64) for s in range(seeds)]
    xs = [
        torch.randn(2, 1, 3, 3, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
        for s in range(seeds)
    ]
    return ms, xs


def table1(seeds: int, steps: int, repeats: int) -> dict[str, Any]:
    def models(depth: int, filters: int) -> tuple[list, list]:
        return _table1_models(depth, filters, seeds)

    def plain(ms: list, xs: list) -> None:
        for m, x in zip(ms, xs, strict=True):
            plain_loop(m, x, torch.optim.SGD(m.parameters(), lr=GD_LR), steps)

    def trainer(ms: list, xs: list) -> None:
        train_conv_ensemble(ms, xs, optimizer="sgd", lr=GD_LR, target=0.0, cap=steps)

    runs = {  # name: (how, members)
        "plain_one_seed_s": (plain, 1),
        "one_seed_s": (trainer, 1),
        "batched_s": (trainer, seeds),
        "plain_sequential_s": (plain, seeds),
    }
    out: dict[str, Any] = {"seeds": seeds, "steps": steps, "rows": {}}
    torch.set_num_threads(1)
    for how, members in runs.values():  # warm-up: torch.optim's first step imports its parts
        how(*(v[:members] for v in models(3, 1)))
    for depth, filters in TABLE1:
        best = dict.fromkeys(runs, np.inf)
        for _ in range(repeats):
            for name, (how, members) in runs.items():
                ms, xs = models(depth, filters)
                t = time.perf_counter()
                how(ms[:members], xs[:members])
                best[name] = min(best[name], time.perf_counter() - t)
        out["rows"][f"L{depth}-F{filters}"] = {k: round(v, 3) for k, v in best.items()}
    for name in runs:
        out[name] = round(sum(r[name] for r in out["rows"].values()), 3)
    out["batched_over_one"] = round(out["batched_s"] / out["one_seed_s"], 2)
    return out


def _products_s(net: Any, members: int, steps: int, repeats: int) -> float:
    """Seconds for ``steps`` steps of ``net``'s matrix products alone, ``members`` seeds,
    two 3×3 images, one ``torch.bmm`` per product (see ``--floor``)."""
    shapes = []
    for i, c in enumerate(net.layers):
        k, cols = 9 * c.in_channels, 9 * 2  # a 3×3 filter's taps × channels; 9 pixels × 2 images
        shapes += [(c.out_channels, k, cols), (c.out_channels, cols, k)]
        shapes += [(k, c.out_channels, cols)] if i else []
    args = [
        (torch.randn(members, m, k, dtype=torch.float64),
         torch.randn(members, k, n, dtype=torch.float64),
         torch.empty(members, m, n, dtype=torch.float64))
        for m, k, n in shapes
    ]  # fmt: skip

    def step() -> None:
        for a, b, o in args:
            torch.bmm(a, b, out=o)

    return _best_us(step, repeats, calls=steps) * steps / 1e6


def _floor_ratios(t: dict[str, Any]) -> None:
    """Add the two ``--floor`` ratios to ``t`` (a row's times or the six rows' sums)."""
    one = t["trainer_one_seed_s"]
    t["ten_seed_products_over_budget"] = t["products_seeds_s"] / (1.5 * one)
    t["ratio_with_one_seeds_other_costs"] = (
        one - t["products_one_seed_s"] + t["products_seeds_s"]
    ) / one


def table1_floor(seeds: int, steps: int, repeats: int) -> dict[str, Any]:
    """Table 1: ten seeds' matrix products alone against one seed's whole step (``--floor``)."""
    torch.set_num_threads(1)
    rows: dict[str, Any] = {}
    for depth, filters in [TABLE1[0], *TABLE1]:  # the first row twice: a warm-up, then timed
        net = conv_stack(3, depth, filters=filters)
        one = plain_one = float("inf")
        for _ in range(repeats):
            (m,), (x,) = _table1_models(depth, filters, 1)
            t = time.perf_counter()
            train_conv_ensemble([m], [x], optimizer="sgd", lr=GD_LR, target=0.0, cap=steps)
            one = min(one, time.perf_counter() - t)
            (m,), (x,) = _table1_models(depth, filters, 1)
            t = time.perf_counter()
            plain_loop(m, x, torch.optim.SGD(m.parameters(), lr=GD_LR), steps)
            plain_one = min(plain_one, time.perf_counter() - t)
        row = {
            "trainer_one_seed_s": one,
            "plain_one_seed_s": plain_one,
            "products_one_seed_s": _products_s(net, 1, steps, repeats),
            "products_seeds_s": _products_s(net, seeds, steps, repeats),
        }
        _floor_ratios(row)
        rows[f"L{depth}-F{filters}"] = {k: round(v, 3) for k, v in row.items()}
    times = ("trainer_one_seed_s", "plain_one_seed_s", "products_one_seed_s", "products_seeds_s")
    total = {k: sum(r[k] for r in rows.values()) for k in times}
    _floor_ratios(total)
    return {
        "seeds": seeds,
        "steps": steps,
        "rows": rows,
        **{k: round(v, 3) for k, v in total.items()},
    }


def _best_us(f: Any, repeats: int, calls: int = 2000) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            f()
        best = min(best, (time.perf_counter() - t) / calls)
    return best * 1e6


def parts(seeds: int, repeats: int) -> dict[str, Any]:
    """µs per step of each part of the numpy backend's step, one seed and ``seeds``."""
    from numerics._trainer import ChainMembers, _member_images, optimizer_step

    out: dict[str, Any] = {}
    for size, n, depth in ROWS:
        for members in (1, seeds):
            net, w, x = _row_inputs(size, n, depth, members)
            opt, lr = _optimizer(depth)
            m = ChainMembers(net, w, _member_images(x, members, size * size), optimizer=opt, lr=lr)
            chain = m.chain
            m.losses()
            g, w2 = chain.gw.copy(), m.w.copy()

            def products(chain: Any = chain) -> None:
                for f, a, b, o in chain._bwd:
                    f(a, b, out=o)

            def step(m: Any = m) -> None:
                m.losses()
                m.update(3)

            def adam(m: Any = m, g: Any = g, w2: Any = w2, opt: str = opt) -> None:
                optimizer_step(opt, g, w2, m.m, m.v, m.t, lr=0.0, step=5)

            t = {
                "step": _best_us(step, repeats),
                "write_matrices": _best_us(lambda m=m: m.chain.set_weights(m.w), repeats),
                "forward": _best_us(lambda m=m: m.chain.forward(m.x), repeats),
                "backward_products": _best_us(products, repeats),
                "backward": _best_us(chain.backward, repeats),
                "optimizer": _best_us(adam, repeats),
            }
            t["weight_gradient"] = t.pop("backward") - t["backward_products"]
            out[f"{size}x{size}-n{n}-L{depth}-seeds{members}"] = {
                k: round(v, 1) for k, v in t.items()
            }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument(
        "--steps", type=int, default=0, help="steps per row (default 4000; 300 with --table1)"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--table1", action="store_true", help="Table 1's conv nets instead")
    ap.add_argument("--parts", action="store_true", help="the parts of a numpy-backend step")
    ap.add_argument("--floor", action="store_true", help="with --table1: the products alone")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.floor and not args.table1:
        ap.error("--floor: measures Table 1's rows only; add --table1")
    if args.parts:
        res = parts(args.seeds, args.repeats)
    elif args.table1 and args.floor:
        res = table1_floor(args.seeds, args.steps or 300, args.repeats)
    elif args.table1:
        res = table1(args.seeds, args.steps or 300, args.repeats)
    else:
        res = table2(args.seeds, args.steps or 4000, args.repeats)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
