"""The command-line contract of design.md, called in process."""

from __future__ import annotations

import json

import pytest
from _cli import run


def test_list_names_every_check() -> None:
    code, out, _ = run("list", "--json")
    ids = [c["id"] for c in json.loads(out)["checks"]]
    assert code == 0
    assert {"thm4.depth-bound", "thm4.tight", "cor.depth2", "premise.single-layer"} <= set(ids)
    assert len(ids) == len(set(ids))


def test_check_json_schema() -> None:
    code, out, _ = run("check", "premise.single-layer", "--json", "--quick")
    obj = json.loads(out)
    assert code == 0
    assert {"id", "title", "status", "evidence", "seconds", "detail"} <= set(obj)
    assert (obj["status"], obj["evidence"]) == ("pass", "exact")


def test_all_json_only_selected(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run("all", "--json", "--quick", "--only", "thm4,cor")
    checks = json.loads(out)["checks"]
    assert code == 0
    assert checks and all(c["id"].startswith(("thm4", "cor")) for c in checks)
    assert all(c["status"] == "pass" for c in checks)


def test_explain_speaks_in_words() -> None:
    code, out, _ = run("explain", "cor.depth2", "--quick")
    assert code == 0
    for heading in ("The claim:", "How it is checked:", "Evidence level: exact", "Result: pass"):
        assert heading in out


def test_masks_json_contract() -> None:
    code, out, _ = run("masks", "--size", "5", "--depth", "3", "--filters", "4", "--json")
    obj = json.loads(out)
    assert code == 0
    assert (obj["size"], obj["depth"], obj["kernel"], obj["filters"]) == (5, 3, 3, 4)
    assert len(obj["mask"]) == 25 and all(len(r) == 25 for r in obj["mask"])
    assert obj["forced_zeros"] == sum(r.count("0") for r in obj["mask"]) == 96
    assert obj["full_support"] is False and obj["certified"] is True
    # output pixel 0 (top-left) cannot see input pixel 24 (bottom-right) at depth 3 < 4
    assert obj["mask"][0][24] == "0"


def test_masks_text_and_png(tmp_path) -> None:
    png = tmp_path / "mask.png"
    code, out, _ = run("masks", "--size", "4", "--depth", "3", "--png", str(png))
    assert code == 0
    assert "full support: yes" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_depth_json_contract() -> None:
    code, out, _ = run("depth", "--size", "2..40", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [r["size"] for r in rows] == list(range(2, 41))
    assert all(r["min_depth"] == r["bound"] == r["size"] - 1 and r["kernel"] == 3 for r in rows)


def test_matrix_symbolic_json_is_appendix_d() -> None:
    code, out, _ = run("matrix", "--size", "3", "--symbolic", "--json")
    rows = json.loads(out)["rows"]
    assert code == 0
    assert rows[0] == ["A5", "A6", "0", "A8", "A9", "0", "0", "0", "0"]
    assert rows[4] == [f"A{i}" for i in range(1, 10)]


def test_matrix_stride_shape() -> None:
    code, out, _ = run("matrix", "--size", "4", "--stride", "2", "--json")
    rows = json.loads(out)["rows"]
    assert code == 0 and len(rows) == 4 and len(rows[0]) == 16


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["masks", "--size", "0", "--depth", "2"], "--size"),
        (["masks", "--size", "4", "--depth", "-1"], "--depth"),
        (["masks", "--size", "4", "--depth", "2", "--kernel", "4"], "--kernel"),
        (["masks", "--size", "500", "--depth", "2"], "--size"),
        (["masks", "--size", "4", "--depth", "2", "--pixels", "9,9"], "--pixels"),
        (["depth", "--size", "7..3"], "--size"),
        (["depth", "--size", "a..b"], "--size"),
        (["check", "no.such.check"], "no.such.check"),
        (["explain", "nope"], "nope"),
        (["matrix", "--size", "3", "--stride", "0"], "--stride"),
        (["frobnicate"], "frobnicate"),
    ],
    ids=[
        "size-0",
        "negative-depth",
        "even-kernel",
        "too-large",
        "pixel-outside",
        "reversed-range",
        "malformed-range",
        "unknown-id",
        "unknown-explain",
        "zero-stride",
        "unknown-command",
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(argv: list[str], needle: str) -> None:
    code, _out, err = run(*argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("verify: error:")
    assert needle in err
    assert "Traceback" not in err


def test_failing_check_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    from proofs import _registry

    check = _registry.get("premise.single-layer")
    bad = _registry.Check(**{**check.__dict__, "quick_params": {"min_size": 2, "max_size": 6}})
    monkeypatch.setitem(_registry._REGISTRY, "premise.single-layer", bad)
    code, out, _ = run("check", "premise.single-layer", "--quick")
    assert code == 1
    assert "fail" in out


def test_depth_with_downsampling_halves_the_depth() -> None:
    code, out, _ = run("depth", "--size", "4..16", "--downsample", "2", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [r["size"] for r in rows] == [4, 6, 8, 10, 12, 14, 16]
    assert all(r["min_depth"] == r["size"] // 2 - 1 == r["bound"] for r in rows)


def test_depth_downsampling_that_skips_pixels_never_reaches_full_support() -> None:
    code, out, _ = run("depth", "--size", "6", "--downsample", "3", "--json")
    assert code == 0
    assert json.loads(out)[0]["min_depth"] is None


def test_experiment_mistakes_are_one_line_and_exit_2() -> None:
    pytest.importorskip("torch")
    for argv, needle in [
        (["experiment", "table1", "--images", "/no/such/folder"], "--images"),
        (["experiment", "no-such-experiment"], "no-such-experiment"),
        (["experiment", "table1", "--device", "tpu"], "--device"),
        (["experiment", "table1", "--seed", "x"], "--seed"),
    ]:
        code, _out, err = run(*argv)
        assert code == 2, argv
        assert err.count("\n") == 1 and needle in err
