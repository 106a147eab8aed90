"""Hostile rows files for ``--resume``: each is one line naming the file and the problem,
exit code 2, no traceback, no hang, and nothing on disk changed.

Two experiments stand for the two ways a row is read back: ``table1`` (rows read through
its schema, ``numerics.tables.TableRow``) and ``initialization`` (no schema: the fields the
run relies on are checked by ``verifier.rowcheck``). Every file is refused before any
training, so each case takes milliseconds.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from numerics import RunConfig
from verifier.cli import main
from verifier.store import FILE_FORMAT, MAX_ROWS_BYTES
from verifier.strictjson import MAX_INT_DIGITS, MAX_ROWS_DEPTH

EXPERIMENTS = ("table1", "initialization")
INIT_ROW = {"key": "xavier-uniform", "seconds": 1.5, "iterations": 10, "loss": 0.01,
            "spectrum": [1.0, 0.5], "arrays": "initialization-xavier-uniform.npz"}  # fmt: skip


def header(exp: str, rows: object = (), **changes: object) -> dict[str, object]:
    ident = RunConfig(quick=True).identity(exp, per_seed=exp == "table1")
    return {"experiment": exp, "format": FILE_FORMAT, "config": ident, "rows": list(rows)
            if isinstance(rows, tuple) else rows, **changes}  # fmt: skip


def text(exp: str, rows: object = (), **changes: object) -> str:
    return json.dumps(header(exp, rows, **changes))


def with_field(exp: str, literal: str) -> str:
    """A file whose first row holds ``"x": LITERAL`` (LITERAL as raw JSON text)."""
    return text(exp, [{"key": "k", "x": "@"}]).replace('"@"', literal)


Content = Callable[[str], "str | bytes"]

#: (id, what is written to OUT/NAME.json, a word the line must hold); NAME is each of
#: EXPERIMENTS
FILE_CASES: list[tuple[str, Content, str]] = [
    ("truncated-json", lambda e: text(e)[:-9], "truncated or damaged JSON"),
    ("truncated-mid-string", lambda e: text(e)[:12], "truncated or damaged JSON"),
    ("trailing-garbage", lambda e: text(e) + " ]", "truncated or damaged JSON"),
    ("two-objects", lambda e: text(e) * 2, "truncated or damaged JSON"),
    ("top-level-list", lambda e: f"[{text(e)}]", "a JSON list"),
    ("top-level-string", lambda e: json.dumps(text(e)), "a JSON str"),
    ("top-level-number", lambda e: "2", "a JSON int"),
    ("top-level-null", lambda e: "null", "a JSON NoneType"),
    ("empty-object", lambda e: "{}", "holds rows of experiment None"),
    ("empty-file", lambda e: "", "truncated or damaged JSON"),
    ("whitespace-only", lambda e: " \n\t" * 1000, "truncated or damaged JSON"),
    ("int-5000-digits", lambda e: with_field(e, "9" * 5000), "5000 digits"),
    ("int-negative-400-digits", lambda e: with_field(e, "-" + "9" * 400), "400 digits"),
    ("int-20-digits", lambda e: with_field(e, "1" * (MAX_INT_DIGITS + 1)), "20 digits"),
    ("float-1e999", lambda e: with_field(e, "1e999"), "out of range"),
    ("float-minus-1e999", lambda e: with_field(e, "-1e999"), "out of range"),
    ("float-5000-digit-mantissa", lambda e: with_field(e, "1" * 5000 + ".5"), "out of range"),
    ("nan-literal", lambda e: with_field(e, "NaN"), "NaN is not a JSON number"),
    ("infinity-literal", lambda e: with_field(e, "Infinity"), "Infinity is not"),
    ("minus-infinity-literal", lambda e: with_field(e, "-Infinity"), "-Infinity is not"),
    ("nan-in-config", lambda e: text(e).replace('"quick": true', '"quick": NaN'), "NaN"),
    ("nested-100000", lambda e: with_field(e, "[" * 100_000 + "]" * 100_000), "nested deeper"),
    ("nested-objects-5000", lambda e: with_field(e, '{"a":' * 5000 + "1" + "}" * 5000),
     "nested deeper"),
    ("nested-just-past-the-limit", lambda e: with_field(e, "[" * MAX_ROWS_DEPTH + "]"
     * MAX_ROWS_DEPTH), "nested deeper"),
    ("duplicate-top-level-key", lambda e: '{"experiment": "table2", ' + text(e)[1:],
     "'experiment' appears twice"),
    ("duplicate-config-key", lambda e: text(e).replace('"quick": true', '"quick": false, '
     '"quick": true'), "'quick' appears twice"),
    ("duplicate-row-field", lambda e: text(e, [{"key": "a", "key": "b"}]).replace(  # noqa: F601
     '"key": "b"', '"key": "a", "key": "b"'), "'key' appears twice"),
    ("invalid-utf8", lambda e: text(e).encode()[:-2] + b"\xff\xfe}", "not UTF-8"),
    ("latin1-text", lambda e: text(e, [{"key": "caf\xe9"}]).replace("\\u00e9", "\xe9")
     .encode("latin-1"), "not UTF-8"),
    ("utf16", lambda e: text(e).encode("utf-16"), "not UTF-8"),
    ("lone-surrogate-key", lambda e: text(e, [{"key": "\ud800"}]), "lone surrogate"),
    ("lone-surrogate-value", lambda e: with_field(e, '"\\udfff"'), "lone surrogate"),
    ("lone-surrogate-field-name", lambda e: text(e, [{"key": "a", "\udc00": 1}]),
     "lone surrogate"),
    ("another-experiment", lambda e: text("table2" if e == "table1" else "nonlinear"),
     "holds rows of experiment"),
    ("experiment-a-list", lambda e: text(e, experiment=[e]), "holds rows of experiment"),
    ("experiment-5000-chars", lambda e: text(e, experiment="x" * 5000), "(5000 characters)"),
    ("format-5000-digit-string", lambda e: text(e, format="9" * 5000), "file format"),
    ("format-old", lambda e: text(e, format=1), "file format 1"),
    ("config-another-seed", lambda e: text(e, config={**header(e)["config"], "seed": 1}),
     "another configuration"),  # type: ignore[dict-item]
    ("config-huge-value", lambda e: text(e, config={**header(e)["config"], "quick":  # type: ignore[dict-item]
     "q" * 100_000}), "(100000 characters)"),
    ("config-a-string", lambda e: text(e, config="x"), "no configuration recorded"),
    ("rows-a-string", lambda e: text(e, rows="abc"), "'rows' is a str"),
    ("rows-an-object", lambda e: text(e, rows={"key": "a"}), "'rows' is a dict"),
    ("row-a-number", lambda e: text(e, [1]), "row 0 is not an object"),
    ("row-key-a-list", lambda e: text(e, [{"key": ["a"]}]), "row 0 is not an object"),
    ("row-key-twice-2000-chars", lambda e: text(e, [{"key": "k" * 2000}] * 2),
     "(2000 characters) appears twice"),
    ("unknown-row", lambda e: text(e, [{"key": "ZZZ"}]), "'ZZZ'"),
]  # fmt: skip

#: rows of ``initialization`` (no schema): the fields the run relies on
ROW_CASES: list[tuple[str, dict[str, object], str]] = [
    ("seconds-a-string", {"seconds": "x"}, "field 'seconds'"),
    ("seconds-negative", {"seconds": -5}, "field 'seconds'"),
    ("seconds-true", {"seconds": True}, "field 'seconds'"),
    ("loss-a-string", {"loss": "low"}, "field 'loss'"),
    ("iterations-negative", {"iterations": -5}, "field 'iterations'"),
    ("iterations-a-float", {"iterations": 2.5}, "field 'iterations'"),
    ("spectrum-a-string", {"spectrum": "1,2"}, "field 'spectrum'"),
    ("spectrum-of-strings", {"spectrum": ["inf"]}, "field 'spectrum'"),
    ("spectrum-of-lists", {"spectrum": [[1.0]]}, "field 'spectrum'"),
    ("metrics-a-list", {"metrics": [1]}, "field 'metrics'"),
    ("arrays-a-number", {"arrays": 3}, "field 'arrays'"),
    ("arrays-an-object", {"arrays": {"path": "/etc/passwd"}}, "field 'arrays'"),
    ("reached-yes", {"reached": "yes"}, "field 'reached'"),
    ("per-seed-a-string", {"per_seed": "0"}, "field 'per_seed'"),
    ("per-seed-without-seed", {"per_seed": [{"x": 1}]}, "field 'per_seed'"),
    ("another-rows-key", {"key": "kaiming-normal-but-not"}, "not a row of initialization"),
    ("metrics-set-a-number", {"metrics": {"gaussian": 5}}, "field 'metrics'"),
    ("metrics-landed-a-list", {"metrics": {"gaussian": {"landed": [1]}}}, "field 'metrics'"),
    ("metrics-landed-above-1", {"metrics": {"gaussian": {"landed": 7.5}}}, "field 'metrics'"),
    ("metrics-median-a-string", {"metrics": {"squares": {"ray_median": "x"}}}, "field 'metrics'"),
    ("span-angle-negative", {"span_angle": -1.0}, "field 'span_angle'"),
    ("memorized-a-string", {"memorized": "yes"}, "field 'memorized'"),
    ("init-spectrum-a-number", {"init_spectrum": 3}, "field 'init_spectrum'"),
    ("starts-memorized-a-number", {"starts_memorized": 1}, "field 'starts_memorized'"),
    ("loss-normalization-unknown", {"loss_normalization": "sum"}, "field 'loss_normalization'"),
]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def refused(out: Path, exp: str, word: str) -> str:
    """Resume ``exp`` on ``out``; assert the one-line refusal and that nothing changed."""
    before = {p.name: (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
              for p in out.iterdir()}  # fmt: skip
    code, stdout, err = run("experiment", exp, "--quick", "--out", str(out), "--resume")
    lines = err.splitlines()
    assert code == 2 and stdout == "", err
    assert len(lines) == 1 and len(lines[0]) < 300, err
    assert lines[0].startswith("verify: error: --resume: ") and word in lines[0], lines[0]
    assert f"{exp}.json" in lines[0] and "Traceback" not in err
    after = {p.name: (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
             for p in out.iterdir()}  # fmt: skip
    assert {k: v for k, v in after.items() if k != f".{exp}.lock"} == before  # untouched
    return lines[0]


@pytest.mark.parametrize("exp", EXPERIMENTS)
@pytest.mark.parametrize(("content", "word"), [c[1:] for c in FILE_CASES],
                         ids=[c[0] for c in FILE_CASES])  # fmt: skip
def test_a_hostile_rows_file_is_one_line_and_changes_nothing(
    tmp_path: Path, exp: str, content: Content, word: str
) -> None:
    data = content(exp)
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    (tmp_path / f"{exp}.json").write_bytes(raw)
    refused(tmp_path, exp, word)


@pytest.mark.parametrize(("fields", "word"), [c[1:] for c in ROW_CASES],
                         ids=[c[0] for c in ROW_CASES])  # fmt: skip
def test_a_resumed_row_without_a_schema_has_its_fields_checked(
    tmp_path: Path, fields: dict[str, object], word: str
) -> None:
    rows = [INIT_ROW, {**INIT_ROW, "key": "xavier-normal", **fields}]
    (tmp_path / "initialization.json").write_text(text("initialization", rows))
    refused(tmp_path, "initialization", word)


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_a_file_past_the_size_limit_is_refused_unread(tmp_path: Path, exp: str) -> None:
    with open(tmp_path / f"{exp}.json", "wb") as fh:
        fh.truncate(50 * 2**20)  # 50 MB, sparse
    assert f"more than a rows file ({MAX_ROWS_BYTES})" in refused(tmp_path, exp, "bytes")


@pytest.mark.parametrize("exp", EXPERIMENTS)
@pytest.mark.parametrize("kind", ["symlink-to-a-rows-file", "dangling-symlink", "fifo",
                                  "folder"])  # fmt: skip
def test_a_rows_file_that_is_not_a_regular_file_is_never_opened(
    tmp_path: Path, exp: str, kind: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "elsewhere.json"
    target.write_text(text(exp))
    rows = out / f"{exp}.json"
    if kind == "symlink-to-a-rows-file":
        rows.symlink_to(target)
    elif kind == "dangling-symlink":
        rows.symlink_to(tmp_path / "nothing")
    elif kind == "fifo":
        os.mkfifo(rows)  # opening it for reading would block: it must never be opened
    else:
        rows.mkdir()
    refused(out, exp, "rows file")
    assert target.read_text() == text(exp) and not (tmp_path / "nothing").exists()


def test_the_writer_writes_only_strict_json(tmp_path: Path) -> None:
    """A non-finite number (a diverged loss) is written null, so the file reads back."""
    from verifier.store import RowStore
    from verifier.strictjson import parse_rows_json

    ident = RunConfig(quick=True).identity("initialization")
    with RowStore.open(tmp_path, "initialization", ident, resume=False) as store:
        store.write([{**INIT_ROW, "loss": float("nan"), "spectrum": [float("inf"), 1.0]}])
    raw = (tmp_path / "initialization.json").read_bytes()
    row = parse_rows_json(raw, tmp_path)["rows"][0]
    assert row["loss"] is None and row["spectrum"] == [None, 1.0]


def test_the_corpus_counts() -> None:
    ids = [c[0] for c in FILE_CASES] + [c[0] for c in ROW_CASES]
    assert len(ids) == len(set(ids))
    assert len(FILE_CASES) * len(EXPERIMENTS) + len(ROW_CASES) >= 100
