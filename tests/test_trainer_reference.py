"""The one trainer follows the trajectories of the code before it (reference numbers taken
from the earlier trainers on small rows: ``tests/data/trainer_reference.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from numerics._autoencoder import train  # noqa: E402
from numerics._experiment import RunConfig  # noqa: E402
from numerics._nets import Init, build_model, single_thread  # noqa: E402
from numerics.tables import RowSpec, run_ensemble  # noqa: E402
from symconv import conv_stack  # noqa: E402

REFERENCE = json.loads((Path(__file__).parent / "data" / "trainer_reference.json").read_text())


@pytest.mark.parametrize("name", list(REFERENCE["autoencoder"]))
def test_autoencoder_training_follows_the_reference(name):
    ref = REFERENCE["autoencoder"][name]
    net = conv_stack(4, 3, filters=2)
    with single_thread():
        model = build_model(
            net, init=Init("uniform", 0.3), nonlinearity=ref["nonlinearity"], seed=5
        )
        x = torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(9))
        loss, steps, _ = train(
            model, x, iterations=ref["iterations"], lr=1e-2, cfg=RunConfig(log=None), tol=ref["tol"]
        )
    assert steps == ref["steps"]
    assert loss == pytest.approx(ref["loss"], rel=1e-5)  # float32 nets
    got = [m.weight.detach().double().numpy().ravel().tolist() for m in model.modules()
           if isinstance(m, torch.nn.Conv2d)]  # fmt: skip
    for g, w in zip(got, ref["weights"], strict=True):
        assert g == pytest.approx(w, rel=1e-4, abs=1e-6)


def _spec(**kw):
    return RowSpec(train_examples=kw.pop("n", 1), filters=kw.pop("f", 1), **kw)


ROWS = {  # the rows of the reference file, as keyword specs
    "t1-L2-F1": _spec(table=1, size=3, n=2, layers=2, params_printed=27, filters_printed=1,
                      cap=60),
    "t1-L5-F2": _spec(table=1, size=3, n=2, layers=5, f=2, params_printed=7200,
                      filters_printed=16, cap=30),
    "t1-L3-F1-torchdefault": _spec(table=1, size=3, n=2, layers=2, params_printed=27,
                                   filters_printed=1, cap=200, depth_reading="depth3",
                                   init_reading="torch-default"),
    "t1-L8-F1-gain0.3": _spec(table=1, size=3, n=2, layers=8, params_printed=72,
                              filters_printed=1, cap=300, init_reading="gain0.3"),
    "t2-s2-L3": _spec(table=2, size=2, layers=3, params_printed=27, filters_printed=1,
                      bound_printed=2, cap=400, init_reading="cstar"),
    "t2-s3-L23-plainends": _spec(table=2, size=3, layers=23, params_printed=207,
                                 filters_printed=1, bound_printed=9, skip=True, cap=20,
                                 skip_design="plain-ends"),
    "t2-s4-L29-adam": _spec(table=2, size=4, layers=29, params_printed=261, filters_printed=1,
                            bound_printed=29, cap=60, init_reading="cstar"),
    "t2-s3-L9-random": _spec(table=2, size=3, layers=9, params_printed=81, filters_printed=1,
                             bound_printed=9, cap=100, init_reading="random"),
    "t2-s3-n3-L10": _spec(table=2, size=3, n=3, layers=10, params_printed=90,
                          filters_printed=1, bound_printed=9, cap=150, init_reading="cstar"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ROWS))
def test_table_rows_follow_the_reference(name):
    """Every seed of the row takes the same steps to the same loss (1e-10) and spectrum
    as before the trainers became one (numpy backend: Table 2; torch: Table 1)."""
    ref = REFERENCE["rows"][name]
    row = run_ensemble(ROWS[name], RunConfig(quick=True, seeds=(0, 1, 2), log=None))
    # rows are named by the filters they run now (L5-F2 was L5-F16, its printed count)
    key = ref["key"].replace("F16", f"F{ROWS[name].filters}")
    # Table 2's default init became radius1e-2: these rows name the init they ran, c*
    if ROWS[name].init_reading == "cstar" and not key.endswith("cstar"):
        key += "-cstar"
    assert (row["key"], row["init"], row["optimizer"]) == (key, ref["init"], ref["optimizer"])
    assert row["fast_path"] == (ROWS[name].table == 2)
    for got, want in zip(row["per_seed"], ref["per_seed"], strict=True):
        assert got["seed"] == want["seed"]
        assert got["iterations"] == want["iterations"]
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-10)
        assert got["spectrum"] == pytest.approx(want["spectrum"], abs=1e-10)
        assert got["matrix_check"] < 1e-12


RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


@pytest.mark.parametrize(
    ("name", "key", "seeds"),
    [("table1", "L5-F1-gain0.3", (1, 4)), ("table2", "s4-n1-L29-cstar", (0, 1, 2))],
    ids=["table1-L5-F1", "table2-s4-L29"],
)
def test_stored_full_form_seeds_are_reproduced(name, key, seeds):
    """Seeds of full-form rows in docs/results (made before the trainers became one),
    trained again: the same steps, the same loss (1e-10) and the same spectrum (1e-9)."""
    from numerics import tables

    stored = next(r for r in json.loads((RESULTS / f"{name}.json").read_text())["rows"]
                  if r["key"] == key)  # fmt: skip
    specs = tables.table1_specs if name == "table1" else tables.table2_specs
    reading = tuple(key.rsplit("-", 1)[1:]) if name == "table2" else ()  # cstar: not a default
    spec = next(s for s in specs(False, reading) if s.key == key)
    with single_thread():
        row = run_ensemble(spec, RunConfig(quick=False, seeds=seeds, log=None))
    want = {p["seed"]: p for p in stored["per_seed"]}
    for got in row["per_seed"]:
        ref = want[got["seed"]]
        assert got["iterations"] == ref["iterations"]
        assert got["loss"] == pytest.approx(ref["loss"], rel=1e-10)
        assert got["spectrum"] == pytest.approx(ref["spectrum"], abs=1e-9)
