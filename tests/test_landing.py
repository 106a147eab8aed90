"""An honest "landed" (issue 16, item 4): a zero output is not a training image, and a net
that did not train is shown as such, never as landed (``numerics._metrics.LANDING_RULE``)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from numerics._experiment import RunConfig  # noqa: E402
from numerics._metrics import (  # noqa: E402
    DID_NOT_TRAIN,
    MIN_NORM,
    VANISHED,
    honest_landing,
    lands,
    memorization_metrics,
    output_metrics,
)

TRAIN = np.random.default_rng(0).uniform(0, 1, size=(2, 3, 4, 4))


def test_zero_output_is_not_landed() -> None:
    m = output_metrics(np.zeros((5, 3, 4, 4)), TRAIN)
    assert m["landed"] == 0.0 and m["landed_exact"] == 0.0
    assert m["vanished"] == 1.0


def test_tiny_multiple_vanishes_but_a_tenth_lands() -> None:
    norm = np.linalg.norm(TRAIN[0])
    small = output_metrics(1e-4 * TRAIN[:1], TRAIN)
    assert small["landed"] == 0.0 and small["vanished"] == 1.0
    tenth = output_metrics(1.01 * MIN_NORM * TRAIN[:1], TRAIN)
    assert tenth["landed"] == 1.0 and tenth["vanished"] == 0.0
    assert not lands([0.0], [0.99 * MIN_NORM * norm], [norm])[0]


def test_zero_map_iterates_to_vanished_outputs() -> None:
    x = torch.tensor(TRAIN[:1], dtype=torch.float32)
    m = memorization_metrics(lambda z: 0.0 * z, torch.randn((4, 3, 4, 4)), x)
    assert m["landed"] == 0.0 and m["iterated_landed"] == 0.0 and m["iterated_vanished"] == 1.0
    shown = honest_landing(m, did_train=True)
    assert shown["landed"] == VANISHED and shown["iterated_landed"] == VANISHED
    assert shown["landed_fraction"] == 0.0


def test_untrained_net_is_labelled_and_keeps_its_numbers() -> None:
    m = {"landed": 1.0, "iterated_landed": 0.5, "vanished": 0.0, "iterated_vanished": 0.0}
    shown = honest_landing(m, did_train=False)
    assert shown["landed"] == DID_NOT_TRAIN and shown["iterated_landed"] == DID_NOT_TRAIN
    assert shown["landed_fraction"] == 1.0 and shown["iterated_landed_fraction"] == 0.5
    assert honest_landing(shown, did_train=False) == shown  # idempotent


def test_dead_network_row_says_did_not_train(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from numerics._autoencoder import autoencoder_row, io_figure
    from numerics._nets import Init
    from numerics.nonlinear import fig4_network, white_square
    from verifier.store import OutFolder

    cfg = RunConfig(quick=True, out=OutFolder(tmp_path))
    row = autoencoder_row(
        cfg, name="dead", key="zero", net=fig4_network(4, 5), train_x=white_square(4, 2),
        init=Init("constant", 0.0), nonlinearity="leaky_relu", iterations=3, lr=1e-3, test_count=4,
        held_out=False,
    )  # fmt: skip
    assert row["trained"] is False
    for m in row["metrics"].values():
        assert m["landed"] == DID_NOT_TRAIN and m["iterated_landed"] == DID_NOT_TRAIN
        assert m["output_norm_median"] == 0.0
    assert io_figure(cfg, "dead", {"key": "zero", **row}, "zero net") is not None
