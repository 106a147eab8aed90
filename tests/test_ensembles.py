"""Seed ensembles, readings and verdicts of Tables 1-2 (``verify experiment --seeds/--reading``)."""

from __future__ import annotations

import io
import json

import pytest

torch = pytest.importorskip("torch")

from numerics import _tablerun, readings_of, tables  # noqa: E402
from numerics._experiment import RunConfig  # noqa: E402
from numerics.tables import RowSpec, memorized, row_verdict  # noqa: E402
from verifier import UsageError  # noqa: E402
from verifier.cli import main  # noqa: E402
from verifier.runner import parse_seeds, run_experiment  # noqa: E402


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(argv), stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue()


# --- seeds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [("1", (0,)), ("5", (0, 1, 2, 3, 4)), ("2..4", (2, 3, 4)), ("3..3", (3,)), ("1,3", (1, 3))],
)
def test_parse_seeds(text, want):
    assert parse_seeds(text) == want


@pytest.mark.parametrize("text", ["0", "-2", "4..2", "-1..3", "x", "1..", "1,1", "1.5"])
def test_parse_seeds_rejects(text):
    with pytest.raises(UsageError, match="--seeds"):
        parse_seeds(text)


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["experiment", "table1", "--seeds", "0..x"], "--seeds"),
        (["experiment", "table1", "--seeds", "3", "--seed", "1"], "--seeds"),
        (["experiment", "downsampling", "--seeds", "2"], "--seeds"),
        (["experiment", "table2", "--reading", "nope"], "--reading"),
        (["experiment", "table1", "--reading", "cstar"], "--reading"),
        (["experiment", "table1", "--seeds", "0..100000000000"], "--seeds"),
        (["experiment", "table2", "--seeds", "65"], "--seeds"),
        (["experiment", "table2", "--seeds", "0,4294967296"], "--seeds"),
        (["experiment", "initialization", "--reading", "nope"], "--reading"),
        (["experiment", "initialization", "--reading", "d2-f1,d2-f16"], "--reading"),
    ],
    ids=[
        "bad-range",
        "seed-and-seeds",
        "not-an-ensemble",
        "unknown-reading",
        "other-table",
        "huge-range",
        "too-many-seeds",
        "seed-out-of-range",
        "fig8-unknown-reading",
        "fig8-two-readings",
    ],
)
def test_cli_rejects_bad_seeds_and_readings(argv, name):
    rc, out, err = _cli(*argv)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and name in err


def test_figure8_readings_listed():
    rc, out, _ = _cli("experiment", "initialization", "--reading", "list")
    assert rc == 0
    marked = [line.split()[2] for line in out.splitlines() if line.split()[1:2] == ["*"]]
    assert marked == ["d2-f64"] and "d2-f64-depth14" in out


def test_identity_keeps_the_reading_of_one_seed_experiments():
    cfg = RunConfig(reading=("d2-f16",))
    assert cfg.identity("initialization")["reading"] == ["d2-f16"]
    assert "reading" not in cfg.identity("table2", per_seed=True)
    assert "seed" not in cfg.identity("table2", per_seed=True)


def test_default_seeds_per_form():
    exp1, exp2 = tables.table1_experiment(), tables.table2_experiment()
    assert (exp1.default_seeds, exp2.default_seeds) == (5, 5)  # Table 2: at least 5 seeds
    assert tables.table1_init_experiment().default_seeds == 5


# --- readings ---------------------------------------------------------------------------


def test_readings_listed_with_defaults():
    t1 = {n: d for n, _, d in readings_of("table1")}
    assert t1["depth2"] and t1["depth3"] and t1["gain0.3"] and not t1["gain1"]
    t2 = {n: d for n, _, d in readings_of("table2")}
    assert {"cstar", "cstar0.5", "random", "identity-blocks", "plain-ends", "plain-tail"} <= set(t2)
    assert readings_of("downsampling") == []
    rc, out, _ = _cli("experiment", "readings")
    assert rc == 0
    for name in ("depth2", "torch-default", "gain0.2", "cstar0.3", "plain-tail"):
        assert name in out
    rc, out, _ = _cli("experiment", "table2", "--reading", "list")
    assert rc == 0 and "plain-ends" in out and "depth2" not in out


def test_readings_select_rows():
    d2 = tables.table1_specs(False, ("depth2",))
    assert {s.depth_reading for s in d2 if s.layers == 2} == {"depth2"}
    assert {s.init_reading for s in d2} == {"gain0.3"}
    both = tables.table1_specs(False)
    assert sorted(s.key for s in both if s.layers == 2 and s.filters_printed == 1) == [
        "L2-F1-d2-gain0.3",
        "L2-F1-d3-gain0.3",
    ]
    tp = tables.table1_specs(False, ("torch-default",))
    assert {s.init_reading for s in tp} == {"torch-default"}
    plain = tables.table2_specs(False, ("plain-ends",))
    assert plain and all(s.skip and s.skip_design == "plain-ends" for s in plain)
    rand = tables.table2_specs(False, ("random",))
    assert rand and all(not s.skip and s.init_reading == "random" for s in rand)
    assert len(tables.table2_specs(False)) == 5 * 1 + 4 * 3  # radius1e-2; skip designs


def _t1(layers, filters, params, printed, **kw):
    return RowSpec(table=1, size=3, train_examples=2, layers=layers, filters=filters,
                   params_printed=params, filters_printed=printed, **kw)  # fmt: skip


def _t2(size, n, layers, params, bound, **kw):
    return RowSpec(table=2, size=size, train_examples=n, layers=layers, filters=1,
                   params_printed=params, filters_printed=1, bound_printed=bound, **kw)  # fmt: skip


def test_readings_change_what_runs():
    from numerics._nets import Init

    init = tables.plan(_t1(5, 16, 7200, 16, init_reading="torch-default")).init
    assert init == Init() and str(init) == "default"
    init = tables.plan(_t1(5, 16, 7200, 16, init_reading="gain0.3")).init
    assert str(init) == f"uniform:{0.3 / 48**0.5:.6g}"
    c = tables.critical_constant(3)
    init = tables.plan(_t2(3, 1, 9, 81, 9, init_reading="cstar0.5")).init
    assert str(init) == f"constant:{0.5 * c:.6g}" and init.value == float(f"{0.5 * c:.6g}")
    p = tables.plan(_t1(2, 1, 27, 1, depth_reading="depth2"))
    assert (p.net.depth, p.conv_layers, p.derived) == (2, 2, None)
    p = tables.plan(_t1(2, 1, 27, 1, depth_reading="depth3"))
    assert (p.net.depth, p.conv_layers, p.derived) == (3, 3, 3)


@pytest.mark.parametrize("design", ["identity-blocks", "plain-ends", "plain-tail"])
@pytest.mark.parametrize("depth", [24, 30])
def test_skip_designs(design, depth):
    from numerics._fastlinear import fast_supported
    from symconv import Conv2d, Residual

    net = tables.skip_network(3, depth, design)
    assert net.depth == depth and fast_supported(net)
    kinds = ["R" if isinstance(x, Residual) else "C" for x in net.layers]
    plain = [x for x in net.layers if isinstance(x, Conv2d)]
    if design == "identity-blocks":
        assert set(kinds) == {"R"}
    elif design == "plain-ends":
        assert kinds[0] == kinds[-1] == "C" and len(plain) == 2
    else:
        assert len(plain) == (depth % 10 or 10) and kinds[-1] == "C"


# --- verdicts ---------------------------------------------------------------------------


def _per(spectra, reached=None):
    reached = reached or [True] * len(spectra)
    return [
        {
            "seed": i,
            "spectrum": s,
            "reached": r,
            "diverged": False,
            "memorized": memorized(s, 2, 0.0),
        }
        for i, (s, r) in enumerate(zip(spectra, reached, strict=True))
    ]


ROUND = [1.0, 1.0, 0.01, 0.0]  # memorized: two ones, the rest ≈ 0
PARTIAL = [1.0, 1.0, 0.5, 0.1]  # not memorized


@pytest.mark.parametrize(
    ("spectra", "reached", "claim", "quick", "want"),
    [
        ([PARTIAL] * 5, None, False, False, "agrees"),
        ([ROUND] * 5, None, False, False, "differs"),
        ([ROUND] * 5, None, True, False, "agrees"),
        ([PARTIAL] * 4 + [ROUND], None, True, False, "differs"),
        ([ROUND] * 3 + [PARTIAL] * 2, None, True, False, "inconclusive"),
        ([ROUND] * 5, None, True, True, "inconclusive"),
        ([ROUND] * 5, [True, True, False, False, False], True, False, "inconclusive"),
        ([ROUND] * 5, [True, True, True, True, False], True, False, "agrees"),
        ([ROUND] * 5, [True, True, True, False, False], True, False, "inconclusive"),
        ([ROUND] * 2, None, True, False, "inconclusive"),
    ],
    ids=[
        "t1-none-memorize", "t1-all-memorize", "t2-all-memorize", "t2-one-of-five",
        "three-of-five", "quick", "two-reached", "four-of-five-reached", "three-of-five-reached",
        "too-few-seeds",
    ],
)  # fmt: skip
def test_row_verdict_rule(spectra, reached, claim, quick, want):
    verdict, why = row_verdict({"per_seed": _per(spectra, reached)}, claim, quick)
    assert verdict == want, why
    assert why


def _row(layers, filters, third, *, verdict="agrees", reached=True):
    per = _per([[1.0, 1.0, third, 0.0]] * 5, [reached] * 5)
    return {
        "key": f"L{layers}-F{filters}",
        "conv_layers": layers,
        "filters_printed": filters,
        "readings": {"init": "gain1", **({"depth": "depth3"} if layers == 3 else {})},
        "reading": "gain1",
        "seeds": list(range(5)),
        "per_seed": per,
        "summary": tables.seed_summary(per, 2),
        "verdict": verdict,
        "skip_every": 0,
    }


@pytest.mark.parametrize(
    ("thirds", "falls", "filters"),
    [
        ({3: (0.9, 0.9), 5: (0.5, 0.55), 8: (0.2, 0.25)}, "agrees", "agrees"),
        ({3: (0.3, 0.3), 5: (0.5, 0.5), 8: (0.6, 0.6)}, "differs", "agrees"),
        ({3: (0.9, 0.3), 5: (0.5, 0.2), 8: (0.2, 0.1)}, "agrees", "differs"),
    ],
    ids=["paper", "rises-with-depth", "filters-matter"],
)
def test_table1_claims(thirds, falls, filters):
    rows = [_row(d, f, v) for d, pair in thirds.items() for f, v in zip((1, 16), pair, strict=True)]
    cfg = RunConfig(quick=False, seeds=tuple(range(5)))
    res = tables.experiment_verdict("table1")(cfg, rows)
    claims = res["readings"]["depth3+gain1"]["claims"]
    assert claims["no memorization"]["verdict"] == "agrees"
    assert claims["third eigenvalue falls with depth"]["verdict"] == falls
    assert claims["filters have minimal effect"]["verdict"] == filters
    want = "agrees" if falls == filters == "agrees" else "differs"
    assert res["verdict"] == want and res["rule"] == tables.VERDICT_RULE
    quick = tables.experiment_verdict("table1")(RunConfig(quick=True), rows)
    q = quick["readings"]["depth3+gain1"]["claims"]
    assert q["third eigenvalue falls with depth"]["verdict"] == "inconclusive"


def test_unreached_rows_make_claims_inconclusive():
    rows = [_row(d, 1, v, verdict="inconclusive", reached=False) for d, v in ((3, 0.9), (5, 0.5))]
    res = tables.experiment_verdict("table1")(RunConfig(quick=False), rows)
    assert res["verdict"] == "inconclusive"
    claims = res["readings"]["depth3+gain1"]["claims"]
    assert {c["verdict"] for c in claims.values()} == {"inconclusive"}


def test_readings_that_disagree_make_the_experiment_inconclusive():
    rows = [dict(_row(3, 1, 0.9), reading="cstar"), dict(_row(3, 1, 0.9), reading="random")]
    rows[1]["verdict"] = "differs"
    res = tables.experiment_verdict("table2")(RunConfig(quick=False), rows)
    assert [v["verdict"] for v in res["readings"].values()] == ["agrees", "differs"]
    assert res["verdict"] == "inconclusive"


# --- tiny ensemble runs -----------------------------------------------------------------


def _tiny1(quick, selected=()):
    return [_t1(2, 1, 27, 1, cap=60), _t1(5, 2, 7200, 16, cap=30)]


def _tiny2(quick, selected=()):
    return [
        _t2(2, 1, 3, 27, 2, cap=400),
        _t2(3, 1, 23, 207, 9, skip=True, cap=20, skip_design="plain-ends"),
    ]


@pytest.fixture
def tiny(tiny_tables):
    tiny_tables(_tiny1, _tiny2)


@pytest.mark.parametrize("name", ["table1", "table2"])
def test_tiny_ensemble_rows(tiny, tmp_path, name):
    res = run_experiment(name, quick=True, seeds="0..1", out=tmp_path, log=None)
    saved = json.loads((tmp_path / f"{name}.json").read_text())
    assert saved["verdict"]["verdict"] == res["verdict"]["verdict"] == "inconclusive"
    assert saved["verdict"]["quick"] is True
    for row in res["rows"]:
        assert row["seeds"] == [0, 1] and len(row["spectra"]) == len(row["per_seed"]) == 2
        for s in row["spectra"]:
            assert len(s) == row["size"] ** 2 and s == sorted(s, reverse=True)
        assert row["spectrum"] == row["spectra"][row["seeds"].index(row["spectrum_seed"])]
        assert [p["seed"] for p in row["per_seed"]] == [0, 1]
        assert row["spectra"][0] != row["spectra"][1]  # the seeds differ
        assert len(row["summary"]["eigenvalues"]) == row["train_examples"] + 2
        e = row["summary"]["eigenvalues"][0]
        assert e["min"] <= e["q1"] <= e["median"] <= e["q3"] <= e["max"]
        assert row["verdict"] == "inconclusive" and "quick" in row["verdict_reason"]
        assert row["reading"] and row["matrix_check"] < 1e-10
    assert (tmp_path / f"{name}_spectra.png").stat().st_size > 1000
    # a member of the ensemble is the same run as that seed alone
    one = run_experiment(name, quick=True, seed=1, log=None)
    assert one["rows"][0]["spectrum"] == pytest.approx(res["rows"][0]["spectra"][1], abs=1e-12)


def _trained_seeds(monkeypatch) -> list[list[int]]:
    """Record the seeds each row trains (the list fills as rows run)."""
    asked: list[list[int]] = []
    real = _tablerun._run_members

    def spy(spec, p, seeds, cfg):
        asked.append(list(seeds))
        return real(spec, p, seeds, cfg)

    monkeypatch.setattr(_tablerun, "_run_members", spy)
    return asked


def test_resume_per_seed(tiny, tmp_path, monkeypatch):
    first = run_experiment("table1", quick=True, seeds="0..1", out=tmp_path, log=None)
    asked = _trained_seeds(monkeypatch)
    again = run_experiment("table1", quick=True, seeds="0..2", out=tmp_path, resume=True, log=None)
    assert asked == [[2], [2]]  # only the missing seed of each row was trained
    for old, new in zip(first["rows"], again["rows"], strict=True):
        assert new["seeds"] == [0, 1, 2]
        assert new["per_seed"][:2] == old["per_seed"]
    asked.clear()
    log = io.StringIO()
    again = run_experiment("table1", quick=True, seeds="1..2", out=tmp_path, resume=True, log=log)
    assert asked == []
    assert all(r["seeds"] == [0, 1, 2] for r in again["rows"])  # seed 0 is kept
    assert log.getvalue().strip().splitlines()[-1] == (
        "--resume: table1: 2 row(s) reused, 0 computed; 6 seed run(s) reused, 0 trained"
    )


def test_resume_retrains_only_seeds_measured_before_the_operator_criterion(
    tiny, tmp_path, monkeypatch
):
    """A stored seed without a step-0 spectrum predates the operator criterion and is trained
    again; one without a span angle but with its step-0 spectrum (a seed that diverged has
    no angle to measure) is kept."""
    run_experiment("table1", quick=True, seeds="0..1", out=tmp_path, log=None)
    path = tmp_path / "table1.json"
    data = json.loads(path.read_text())
    for row in data["rows"]:
        row["per_seed"][0].pop("span_angle", None)  # as a diverged seed stores it
        for field in ("span_angle", "init_spectrum", "init_span_angle", "starts_memorized"):
            row["per_seed"][1].pop(field, None)  # as a seed stored before these existed
    path.write_text(json.dumps(data))
    asked = _trained_seeds(monkeypatch)
    again = run_experiment("table1", quick=True, seeds="0..1", out=tmp_path, resume=True, log=None)
    assert asked == [[1]] * len(data["rows"])
    for old, new in zip(data["rows"], again["rows"], strict=True):
        assert new["per_seed"][0] == old["per_seed"][0]
        assert "init_spectrum" in new["per_seed"][1]


def test_resume_with_other_seeds_keeps_every_finished_seed(tiny, tmp_path):
    """`verify experiment table1 --quick --seed 1 --out DIR --resume` on seed-0 rows: the
    rows file afterwards holds seed 0 and seed 1 (nothing finished is dropped)."""
    rc, _, _ = _cli("experiment", "table1", "--quick", "--seed", "0", "--out", str(tmp_path))
    assert rc == 0
    before = json.loads((tmp_path / "table1.json").read_text())["rows"]
    rc, _, err = _cli("experiment", "table1", "--quick", "--seed", "1", "--out", str(tmp_path),
                      "--resume")  # fmt: skip
    assert rc == 0
    after = {r["key"]: r for r in json.loads((tmp_path / "table1.json").read_text())["rows"]}
    for row in before:
        assert after[row["key"]]["seeds"] == [0, 1]
        kept = {p["seed"]: p for p in after[row["key"]]["per_seed"]}
        assert kept[0] == row["per_seed"][0]
    assert "2 row(s) reused" not in err and "2 seed run(s) reused, 2 trained" in err


def test_resume_refuses_a_bad_field_naming_it(tiny, tmp_path):
    run_experiment("table2", quick=True, out=tmp_path, log=None)
    path = tmp_path / "table2.json"
    saved = json.loads(path.read_text())
    saved["rows"][1]["per_seed"][0]["loss"] = -1.0
    path.write_text(json.dumps(saved))
    rc, out, err = _cli("experiment", "table2", "--quick", "--out", str(tmp_path), "--resume")
    assert rc == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("verify: --resume:") or "--resume" in line
    assert "'loss'" in line and "per_seed" in line


def test_cli_prints_verdict_and_flags(tiny, tmp_path):
    rc, out, _ = _cli("experiment", "table2", "--quick", "--seeds", "2", "--out", str(tmp_path))
    assert rc == 0
    assert "verdict: inconclusive" in out and "QUICK" in out
    assert "DID NOT REACH THE TARGET" in out  # the skip row's 20 steps do not reach it
