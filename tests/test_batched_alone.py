"""A seed trained beside others follows exactly the trajectory it follows alone (numpy
backend, Table 2): the same steps, bit for bit the same weights and loss. Each member's
arithmetic is chosen per member, never per batch (the gradient method, one batched matmul
per product, segment sums instead of a BLAS product whose rounding depends on the batch)."""

from __future__ import annotations

import numpy as np
import pytest

from numerics._experiment import RunConfig
from numerics._tablespec import table2_specs
from numerics._trainer import ChainMembers
from numerics.tables import run_ensemble
from symconv import conv_stack


@pytest.mark.parametrize(
    ("size", "depth", "n"),
    [(4, 29, 1), (5, 70, 1), (6, 144, 1), (3, 10, 3), (7, 20, 5), (1, 3, 1)],
    ids=["4x4-L29-gather", "5x5-L70", "6x6-L144-shift", "3x3-n3", "7x7-n5-shift", "1x1"],
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_member_steps_alike_alone_and_in_a_batch(size, depth, n, optimizer):
    rng = np.random.default_rng(size * 1000 + depth)
    w = rng.normal(0, 0.15, (3, depth, 9))
    x = rng.normal(size=(3, size * size, n))
    lr = 1e-4 if optimizer == "adam" else 1e-3
    alone = ChainMembers(conv_stack(size, depth), w[1:2], x[1:2], optimizer=optimizer, lr=lr)
    batch = ChainMembers(conv_stack(size, depth), w, x, optimizer=optimizer, lr=lr)
    for step in range(1, 6):
        assert alone.losses()[0] == batch.losses()[1]
        alone.update(step)
        batch.update(step)
    assert np.array_equal(alone.w[:, 0], batch.w[:, 1])


@pytest.mark.slow
@pytest.mark.parametrize("size", [4, 5], ids=["4x4-L29", "5x5-L70"])
def test_a_seed_of_a_table2_row_is_the_same_alone(size):
    spec = next(
        s for s in table2_specs(False, ("cstar",)) if (s.size, s.train_examples) == (size, 1)
    )
    spec = type(spec)(**{**spec.__dict__, "cap": 1500})
    alone = run_ensemble(spec, RunConfig(quick=False, seeds=(1,), log=None))["per_seed"][0]
    row = run_ensemble(spec, RunConfig(quick=False, seeds=(0, 1, 2), log=None))
    beside = row["per_seed"][1]
    assert beside["seed"] == 1
    for field in ("iterations", "loss", "spectrum"):
        assert alone[field] == beside[field]
