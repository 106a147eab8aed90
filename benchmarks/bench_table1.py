"""The full Table 1 as ``verify experiment table1`` runs it, against the plain per-layer
torch loop, in the same run.

Part one runs every full-form row of Table 1 (both depth readings, 5 seeds, 1, 16 and 128
filters, the default init gain0.3, GD lr 0.1 to loss 1e-6 or 100 000 steps) through
:func:`numerics.tables.run_ensemble`, the function the command calls for each row (all
seeds of a row trained together by the one trainer's torch backend), and records each
row's wall time (``trainer_s``: training and measuring, as the command spends it), its
training time alone (``trainer_train_s``) and each seed's steps.

Part two times the plain loop a user would otherwise write (one ``nn.Conv2d`` model per
seed, autograd, ``torch.optim.SGD``, the loss read every step; :func:`bench_table2.plain_loop`)
on the same model, images and threads, for ``--sample`` steps per seed (minimum over
``--repeats``), and projects its time on the full table: seconds per step × the steps each
seed took in part one (training only, as the plain loop measures nothing; the same
trajectories: ``tests/test_trainer_reference.py`` and
``tests/test_ensemble.py`` require the trainer to follow the plain loop to 1e-10; this
script also compares both after the first 20 steps).

``--layouts`` times the torch backend's two layouts instead (grouped convolutions, one
graph per member; :func:`numerics.train_conv_ensemble`'s ``layout``) against the plain loop,
all three interleaved on the same rows, seeds and steps: milliseconds per seed and step, the
minimum over ``--repeats`` (the layout ``"auto"`` picks on a CPU is printed with them).

    python benchmarks/bench_table1.py --json           # the full table: about 6 min on 2 cores
    python benchmarks/bench_table1.py --rows L8-F16-gain0.3,L5-F128-gain0.3
    python benchmarks/bench_table1.py --layouts --seeds 3 --sample 150 --repeats 4 --json
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

import numerics._torchtrain as trainer
from numerics import RunConfig, train_conv_ensemble
from numerics._nets import build_model, single_thread, weights_of
from numerics._tablerun import _images
from numerics._torchtrain import auto_layout, conv_chunk
from numerics.tables import GD_LR, TARGET_LOSS, RowSpec, plan, run_ensemble, table1_specs

AGREE_STEPS = 20


def _members(spec: RowSpec, seeds: list[int]) -> tuple[list[Any], list[Any]]:
    """The row's models and images, seed by seed, exactly as the row builds them."""
    p = plan(spec)
    models = [build_model(p.net, init=p.init, seed=s, dtype=torch.float64) for s in seeds]
    xs = [_images(s, spec.train_examples, spec.size, spec.table) for s in seeds]
    return models, xs


def _plain_ms(spec: RowSpec, seeds: list[int], steps: int, repeats: int) -> list[float]:
    """Per seed: the plain loop's milliseconds per step (min over ``repeats`` runs of
    ``steps`` steps from the row's initial weights)."""
    out = []
    for seed in seeds:
        best = float("inf")
        for _ in range(repeats):
            (model,), (x,) = _members(spec, [seed])
            opt = torch.optim.SGD(model.parameters(), lr=GD_LR)
            best = min(best, plain_loop(model, x, opt, steps))
        out.append(1e3 * best)
    return out


def _agreement(spec: RowSpec, seeds: list[int]) -> float:
    """Largest relative weight difference, trainer (all seeds together) vs the plain loop
    (seed by seed), after :data:`AGREE_STEPS` steps from the same init."""
    models, xs = _members(spec, seeds)
    res = train_conv_ensemble(
        models, xs, optimizer="sgd", lr=GD_LR, target=0.0, cap=AGREE_STEPS
    )  # fmt: skip
    worst = 0.0
    for b, seed in enumerate(seeds):
        (model,), (x,) = _members(spec, [seed])
        plain_loop(model, x, torch.optim.SGD(model.parameters(), lr=GD_LR), AGREE_STEPS)
        for w_plain, w_fast in zip(weights_of(model), res.weights[b], strict=True):
            scale = float(np.max(np.abs(w_plain))) or 1.0
            worst = max(worst, float(np.max(np.abs(w_plain - w_fast))) / scale)
    return worst


def bench_row(spec: RowSpec, seeds: list[int], sample: int, repeats: int) -> dict[str, Any]:
    """One row: the trainer's full run (wall time, steps per seed), the plain loop's
    sampled time per step and its projection on the same steps."""
    cfg = RunConfig(quick=False, seeds=tuple(seeds))
    t = time.perf_counter()
    row = run_ensemble(spec, cfg)
    trainer_s = time.perf_counter() - t
    steps = [int(r["iterations"]) for r in row["per_seed"]]
    with single_thread(spec.filters <= 32):  # the thread rule the row ran under
        ms = _plain_ms(spec, seeds, sample, repeats)
        agree = _agreement(spec, seeds)
    plain_s = sum(m * n for m, n in zip(ms, steps, strict=True)) / 1e3
    return {
        "row": spec.key,
        "filters": spec.filters,
        "conv_layers": row["conv_layers"],
        "steps_per_seed": steps,
        "reached": row["reached"],
        "trainer_s": round(trainer_s, 2),
        "trainer_train_s": round(float(row["train_seconds"]), 2),
        "plain_ms_per_step": [round(m, 4) for m in ms],
        "plain_projected_s": round(plain_s, 2),
        "plain_over_trainer": round(plain_s / trainer_s, 2) if trainer_s > 0 else None,
        f"max_rel_weight_diff_after_{AGREE_STEPS}_steps": agree,
    }


def bench_layouts(spec: RowSpec, seeds: list[int], steps: int, repeats: int) -> dict[str, Any]:
    """One row: ms per seed-step of the plain loop (seed after seed), of each torch layout
    with all seeds in one batch, and of the trainer as a row runs it (``auto``: the layout
    it picks, in chunks of seeds where the weights are large), interleaved, the minimum
    over ``repeats``."""
    best = dict.fromkeys(("plain", "grouped", "models", "trainer"), float("inf"))
    whole = 1 << 62  # no chunks: every seed in one batch
    with single_thread(spec.filters <= 32):
        for _ in range(repeats):
            for how in best:
                models, xs = _members(spec, seeds)
                t = time.perf_counter()
                if how == "plain":
                    for m, x in zip(models, xs, strict=True):
                        plain_loop(m, x, torch.optim.SGD(m.parameters(), lr=GD_LR), steps)
                else:
                    layout = "auto" if how == "trainer" else how
                    budget, trainer.CHUNK_BYTES = (
                        trainer.CHUNK_BYTES,
                        (trainer.CHUNK_BYTES if how == "trainer" else whole),
                    )
                    try:
                        train_conv_ensemble(models, xs, optimizer="sgd", lr=GD_LR, target=0.0,
                                            cap=steps, layout=layout)  # fmt: skip
                    finally:
                        trainer.CHUNK_BYTES = budget
                ms = 1e3 * (time.perf_counter() - t) / (steps * len(seeds))
                best[how] = min(best[how], ms)
    p = plan(spec)
    convs = [m for m in _members(spec, seeds[:1])[0][0].modules() if isinstance(m, torch.nn.Conv2d)]
    return {
        "row": spec.key,
        **{f"{k}_ms_per_seed_step": round(v, 3) for k, v in best.items()},
        "auto": auto_layout(convs, "cpu"),
        "chunk": conv_chunk(p.net.n_params, 8, len(seeds), "cpu"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per row (default 5)")
    ap.add_argument("--rows", default="", help="comma-separated row keys (default: all)")
    ap.add_argument("--sample", type=int, default=200, help="plain-loop steps timed per seed")
    ap.add_argument("--repeats", type=int, default=2, help="plain-loop timings per seed (min)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument(
        "--layouts", action="store_true",
        help="time the two torch layouts against the plain loop (default rows: 5 and 8 layers)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    specs = table1_specs(False)
    if args.rows:
        wanted = set(args.rows.split(","))
        unknown = wanted - {s.key for s in specs}
        if unknown:
            ap.error(f"--rows: not a full-form Table 1 row: {', '.join(sorted(unknown))}")
        specs = [s for s in specs if s.key in wanted]
    elif args.layouts:
        specs = [s for s in specs if s.layers in (5, 8)]
    seeds = list(range(args.seeds))
    if args.layouts:
        out = [bench_layouts(spec, seeds, args.sample, args.repeats) for spec in specs]
        print(json.dumps(out, indent=1) if args.json else "\n".join(map(str, out)))
        return 0
    # warm-up (torch's first convolutions, imports), not timed
    run_ensemble(table1_specs(True)[0], RunConfig(quick=True, seeds=(0,)))
    t0 = time.perf_counter()
    rows = []
    for spec in specs:
        rows.append(bench_row(spec, seeds, args.sample, args.repeats))
        if not args.json:
            r = rows[-1]
            line = f"{r['row']:22} trainer {r['trainer_s']:8.1f} s   plain (projected) "
            print(f"{line}{r['plain_projected_s']:8.1f} s   {r['plain_over_trainer']}x", flush=True)
    total_t = sum(r["trainer_s"] for r in rows)
    total_p = sum(r["plain_projected_s"] for r in rows)
    summary = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "seeds": args.seeds,
        "target": TARGET_LOSS,
        "sample_steps": args.sample,
        "rows": rows,
        "trainer_total_s": round(total_t, 1),
        "plain_projected_total_s": round(total_p, 1),
        "plain_over_trainer": round(total_p / total_t, 2) if total_t else None,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        ratio, wall = summary["plain_over_trainer"], summary["wall_s"]
        print(f"all {len(rows)} rows: trainer {total_t:.1f} s, plain loop (projected) "
              f"{total_p:.1f} s, {ratio}x; wall {wall} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
