"""Figure 1 as an experiment: the U-Net's parts, the verdict rule on constructed rows, and the
quick form end to end (JSON rows, the PNG, --resume)."""

from __future__ import annotations

import json
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from numerics import figure1  # noqa: E402
from numerics._metrics import DID_NOT_TRAIN, VANISHED  # noqa: E402
from numerics._unet import build_unet, init_unet  # noqa: E402
from verifier import UsageError  # noqa: E402
from verifier.runner import run_experiment  # noqa: E402

nn = torch.nn


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_unet_has_the_parts_the_paper_names(depth: int) -> None:
    """Encoder of max-pooled levels with doubling channels, a decoder that upsamples and
    concatenates the skip, a ReLU-family nonlinearity, the output the input's size."""
    net = build_unet(width=4, depth=depth)
    pools = [m for m in net.modules() if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 1 and pools[0].kernel_size == 2  # one module, used once per level
    assert len(net.down) == len(net.up) == len(net.decode) == depth
    assert [blk[0].out_channels for blk in net.down] == [4 * 2**lv for lv in range(depth)]
    assert net.bottleneck[0].out_channels == 4 * 2**depth
    for up, dec in zip(net.up, net.decode, strict=True):
        assert isinstance(up, nn.ConvTranspose2d) and up.stride == (2, 2)
        assert dec[0].in_channels == 2 * up.out_channels  # the skip is concatenated
    assert any(isinstance(m, nn.ReLU) for m in net.modules())
    assert net.head.kernel_size == (1, 1) and net.head.out_channels == 3
    x = torch.rand((2, 3, 16, 16))
    assert net(x).shape == x.shape


def test_skip_concatenation_carries_the_input_detail() -> None:
    """Zeroing the top-level skip (the first encoder block) changes the output: it is used."""
    torch.manual_seed(0)
    net = build_unet(width=4, depth=2)
    x = torch.rand((1, 3, 8, 8))
    y = net(x)
    with torch.no_grad():
        for p in net.down[0].parameters():
            p.zero_()
    assert not torch.allclose(net(x), y)


def test_unet_readings_nearest_leaky_and_he_normal() -> None:
    net = build_unet(width=4, depth=2, nonlinearity="leaky_relu", upsample="nearest")
    assert any(isinstance(m, nn.LeakyReLU) for m in net.modules())
    assert not any(isinstance(m, nn.ReLU) for m in net.modules())
    assert all(isinstance(u[0], nn.Upsample) for u in net.up)
    init_unet(net, "he-normal", seed=0)
    conv = net.down[1][0]  # 4 -> 8 channels, fan-in 36
    assert float(conv.bias.detach().abs().max()) == 0.0
    assert float(conv.weight.detach().std()) == pytest.approx((2 / 36) ** 0.5, rel=0.25)
    with pytest.raises(ValueError, match="nonlinearity"):
        build_unet(nonlinearity="tanh")


def _seed(landed: float, *, trained: bool = True, label: float | str | None = None) -> dict:
    sets = {
        s: {"landed": landed if label is None else label, "landed_fraction": landed}
        for s in figure1.SETS
    }
    return {"seed": 0, "trained": trained, "reached": trained, "sets": sets}


def test_verdict_memorized_rows_agree() -> None:
    v = figure1.row_verdict([_seed(1.0), _seed(0.9), _seed(0.85)], quick=False)
    assert v["verdict"] == "agrees" and v["outcome"] == "memorizes"


def test_verdict_rows_that_do_not_land_differ() -> None:
    v = figure1.row_verdict([_seed(0.0), _seed(0.1), _seed(0.2)], quick=False)
    assert v["verdict"] == "differs" and v["outcome"] == "does not memorize"
    one_set = [_seed(1.0) for _ in range(3)]
    for p in one_set:  # one input set missing the image is enough to differ
        p["sets"]["gaussian"] = {"landed": 0.0, "landed_fraction": 0.0}
    assert figure1.row_verdict(one_set, quick=False)["verdict"] == "differs"


def test_verdict_untrained_nets_never_memorize() -> None:
    dead = [_seed(1.0, trained=False, label=DID_NOT_TRAIN) for _ in range(3)]
    v = figure1.row_verdict(dead, quick=False)
    assert v["verdict"] == "inconclusive" and v["outcome"] == DID_NOT_TRAIN
    assert figure1.seed_outcome(dead[0]) == DID_NOT_TRAIN
    # two of three trained: below the 80 % needed
    mixed = [_seed(1.0), _seed(1.0), _seed(1.0, trained=False, label=DID_NOT_TRAIN)]
    assert figure1.row_verdict(mixed, quick=False)["verdict"] == "inconclusive"


def test_verdict_vanished_outputs_never_land() -> None:
    gone = [_seed(1.0, label=VANISHED) for _ in range(3)]
    assert figure1.seed_outcome(gone[0]) == {s: "does not land" for s in figure1.SETS}
    assert figure1.row_verdict(gone, quick=False)["verdict"] == "differs"


def test_verdict_needs_three_seeds_and_the_full_form() -> None:
    assert figure1.row_verdict([_seed(1.0)] * 2, quick=False)["verdict"] == "inconclusive"
    assert figure1.row_verdict([_seed(1.0)] * 3, quick=True)["verdict"] == "inconclusive"


def test_readings_mark_defaults_and_the_paper_words() -> None:
    found = {name: (text, default) for name, text, default in figure1.readings()}
    assert {n for n, (_, d) in found.items() if d} == set(figure1.DEFAULTS.values())
    assert "[the paper's words]" in found["width64"][0]
    assert "[the paper's words]" not in found["width16"][0]
    with pytest.raises(UsageError, match="--reading"):  # the program checks it up front
        run_experiment("figure1", quick=True, reading="width7")


def test_quick_form_writes_rows_and_figure(tmp_path) -> None:
    t0 = time.perf_counter()
    res = run_experiment("figure1", quick=True, out=tmp_path)
    assert time.perf_counter() - t0 < 120  # seconds on a quiet CPU
    stored = json.loads((tmp_path / "figure1.json").read_text())
    assert [r["key"] for r in stored["rows"]] == ["cat", "motorcycle"]
    for row in stored["rows"]:
        assert row["iterations"] == figure1.QUICK.iterations and row["reading"] == "default"
        assert row["verdict"] == "inconclusive"  # quick form, by rule
        (p,) = row["per_seed"]
        assert p["start"]["loss"] > 0 and p["start"]["output_norm"] > 0
        assert set(p["sets"]) == set(figure1.SETS)
        for m in p["sets"].values():
            assert m["n"] == figure1.QUICK.test_count
            assert 0.0 <= m["landed_fraction"] <= 1.0
            assert m["nearest_median"] >= 0 and m["input_median"] >= 0
            if not p["trained"]:
                assert m["landed"] == DID_NOT_TRAIN
    assert res["verdict"]["verdict"] == "inconclusive" and "rule" in stored["verdict"]
    (png,) = res["figures"]
    assert png.endswith("figure1.png")
    with open(png, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    again = run_experiment("figure1", quick=True, out=tmp_path, resume=True)
    assert [r["per_seed"] for r in again["rows"]] == [r["per_seed"] for r in res["rows"]]
