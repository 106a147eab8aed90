"""The row of Tables 1-2 as a type: its fields declared once (:class:`TableRow`, with
:class:`SeedRun` per seed and :class:`Summary` over the seeds), written to JSON by
:meth:`TableRow.to_json` and read back on ``--resume`` by :meth:`TableRow.from_json`
through one schema taken from these declarations: the known keys only, each of its type,
numbers finite and not negative, fractions at most 1, verdicts among the three. A bad field
is refused with one line naming the row and the field (:class:`numerics.ExperimentError`,
argument ``--resume``). The JSON field names and meanings are those the rows have always
had (``docs/results/*.json`` loads).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._experiment import ExperimentError

__all__ = ["EigenStat", "SeedRun", "Summary", "TableRow", "from_json"]

T = TypeVar("T")
VERDICTS = ("agrees", "differs", "inconclusive")
_FRACTION = {"max": 1.0}


@dataclass(frozen=True, kw_only=True)
class SeedRun:
    """One seed of a row: how its training ended and the spectrum of the trained net."""

    seed: int
    loss: float | None  # None: not finite (diverged)
    reached: bool
    memorized: bool
    diverged: bool
    spectrum: list[float]  # eigenvalue magnitudes, descending; [] when diverged
    rest_max: float | None
    range_off_span: float | None
    matrix_check: float | None
    iterations: int
    train_seconds: float
    # where the run started and the operator criterion (rows made before these were
    # measured lack them: None; their `memorized` is the spectral criterion alone)
    span_angle: float | None = None  # largest principal angle (rad), top-n eigvecs vs span(X)
    init_spectrum: list[float] | None = None  # the n + 2 largest |eigenvalues| at step 0
    init_span_angle: float | None = None
    starts_memorized: bool | None = None  # the step-0 map met the spectral criterion

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None or k in _KEEP}


#: SeedRun fields written even when None (the older ones: None means not finite there)
_KEEP = {"loss", "rest_max", "range_off_span", "matrix_check"}


@dataclass(frozen=True, kw_only=True)
class EigenStat:
    """The ``index``-th eigenvalue magnitude over a row's seeds."""

    index: int
    median: float
    q1: float
    q3: float
    min: float
    max: float


@dataclass(frozen=True, kw_only=True)
class Summary:
    eigenvalues: list[EigenStat]
    memorized_fraction: float | None = field(metadata=_FRACTION)
    reached_fraction: float = field(metadata=_FRACTION)
    seeds: int


@dataclass(frozen=True, kw_only=True)
class TableRow:
    """One row of Table 1 or 2 over its seeds (the meaning of each field: ``tables.NOTES``)."""

    key: str
    table: int = field(metadata={"choices": (1, 2)})
    size: int
    train_examples: int
    heuristic_bound: int
    layers: int
    conv_layers: int
    params_match: bool
    filters: int
    filters_printed: int
    params: int
    params_printed: int
    skip_every: int
    skip_design: str | None
    reading: str
    readings: dict[str, str]
    # the loss descended (reading axis "loss"); rows stored before it was recorded were
    # all trained on the mean, the only normalization the trainer had
    loss_normalization: str = field(default="mean", metadata={"choices": ("mean", "half-sum")})
    init: str
    init_rule: str
    init_scale: float
    optimizer: str
    cap: int
    quick: bool
    reached: bool
    device: str
    fast_path: bool
    seeds: list[int]
    spectra: list[list[float]]
    spectrum: list[float]
    spectrum_seed: int
    spectrum_is: str
    rest_max: float | None
    memorized: bool
    diverged: bool
    range_off_span: float | None
    matrix_check: float | None
    loss: float | None
    iterations: int
    summary: Summary
    per_seed: list[SeedRun]
    train_seconds: float
    seconds: float
    heuristic_bound_printed: int | None = None  # Table 2 only (absent from Table 1 rows)
    verdict: str = field(metadata={"choices": VERDICTS})
    verdict_reason: str

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["per_seed"] = [r.to_json() for r in self.per_seed]
        if self.heuristic_bound_printed is None:
            del out["heuristic_bound_printed"]
        return out

    @classmethod
    def from_json(cls, data: object) -> TableRow:
        """The row ``data`` (a stored JSON object), checked field by field."""
        return from_json(cls, data)


def from_json(cls: type[T], data: object) -> T:
    """``data`` as the dataclass ``cls``, by its declared fields (see the module docstring);
    :class:`ExperimentError` (``--resume``) naming the first bad field."""
    where = f"row {data.get('key')!r}" if isinstance(data, dict) else "row"
    return _value(cls, data, where, {})


def _refuse(where: str, value: object, why: str) -> ExperimentError:
    shown = value if not isinstance(value, (list, dict)) else type(value).__name__
    return ExperimentError("--resume", shown, f"{where}: {why}")


def _value(hint: Any, value: object, where: str, meta: Any) -> Any:
    """``value`` checked against the type ``hint`` (and ``meta``: choices, max)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):  # X | None
        if value is None:
            return None
        return _value(next(a for a in args if a is not type(None)), value, where, meta)
    if dataclasses.is_dataclass(hint):
        return _record(typing.cast(type, hint), value, where)
    if origin is list:
        if not isinstance(value, list):
            raise _refuse(where, value, "must be a list")
        return [_value(args[0], v, f"{where}[{i}]", meta) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _refuse(where, value, "must be an object")
        return {_value(str, k, where, {}): _value(args[1], v, f"{where}.{k}", meta)
                for k, v in value.items()}  # fmt: skip
    return _scalar(hint, value, where, meta)


def _scalar(hint: Any, value: object, where: str, meta: Any) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise _refuse(where, value, "must be true or false")
    elif hint in (int, float):
        number = isinstance(value, int) or (hint is float and isinstance(value, float))
        if isinstance(value, bool) or not number:
            raise _refuse(where, value, f"must be {'an integer' if hint is int else 'a number'}")
        assert isinstance(value, (int, float))
        if not math.isfinite(value) or value < 0:
            raise _refuse(where, value, "must be a finite number >= 0")
        if value > meta.get("max", math.inf):
            raise _refuse(where, value, f"must be at most {meta['max']:g}")
        value = hint(value)
    elif hint is str:
        if not isinstance(value, str):
            raise _refuse(where, value, "must be a string")
    else:  # pragma: no cover (a field declared with a type this schema does not know)
        raise TypeError(f"{where}: no schema for {hint!r}")
    if "choices" in meta and value not in meta["choices"]:
        raise _refuse(where, value, f"must be one of {', '.join(map(str, meta['choices']))}")
    return value


def _record(cls: type, value: object, where: str) -> Any:
    """A dataclass from a JSON object: known keys only, every field without a default."""
    if not isinstance(value, dict):
        raise _refuse(where, value, f"must be an object ({cls.__name__})")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in value if k not in fields]
    if unknown:
        raise _refuse(where, unknown[0], f"unknown field {unknown[0]!r}")
    hints = typing.get_type_hints(cls)
    out = {}
    for name, f in fields.items():
        if name not in value:
            if f.default is dataclasses.MISSING:
                raise _refuse(where, None, f"field {name!r} is missing")
            continue
        out[name] = _value(hints[name], value[name], f"{where}: field {name!r}", f.metadata)
    return cls(**out)
