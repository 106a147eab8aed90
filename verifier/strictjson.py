"""Rows files as strict JSON (RFC 8259), the one form the toolkit writes and reads back.

Python's :func:`json.loads` accepts more than JSON: ``NaN`` and ``Infinity``, numbers that
overflow to infinity (``1e999``), integers of any length (a 5 000-digit one is a
``ValueError`` of its own), the same key twice in one object (the last wins, silently),
``\\ud800`` escapes that make text no encoder can write, and nesting up to the
interpreter's recursion limit. :func:`parse_rows_json` refuses each of them with one
:class:`~verifier.errors.UsageError` naming the file and the problem;
:func:`strict_json` writes only what it reads back (a non-finite float as ``null``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .errors import UsageError, shown

__all__ = ["MAX_INT_DIGITS", "MAX_ROWS_DEPTH", "parse_rows_json", "strict_json"]

#: Deepest nesting of arrays and objects in a rows file (the toolkit writes at most 8).
MAX_ROWS_DEPTH = 32
#: Most digits of an integer in a rows file (the toolkit's are seeds, counts and sizes).
MAX_INT_DIGITS = 19


class _NotStrict(ValueError):
    """A rows file that is JSON to Python's parser but not to the toolkit's writer."""


def _no_constant(name: str) -> Any:
    raise _NotStrict(f"{name} is not a JSON number (the toolkit writes null for it)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotStrict(f"number {shown(text, 20)} is out of range (overflows to infinity)")
    return value


def _small_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _NotStrict(f"an integer of {digits} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _NotStrict(f"key {shown(key)} appears twice in one object")
        obj[key] = value
    return obj


def _check_tree(obj: Any) -> None:
    """Nesting at most :data:`MAX_ROWS_DEPTH`, every text valid Unicode (no lone
    surrogate, which ``\\ud800`` escapes can make); walked without recursion."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)) and depth > MAX_ROWS_DEPTH:
            raise _NotStrict(f"nested deeper than {MAX_ROWS_DEPTH} levels")
        if isinstance(node, dict):
            for key, value in node.items():
                _valid_text(key)
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
        elif isinstance(node, str):
            _valid_text(node)


def _valid_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _NotStrict(f"text {shown(text)} holds a lone surrogate (not Unicode)") from None


def parse_rows_json(raw: bytes, path: Path, argument: str = "--resume") -> Any:
    """``raw`` as strict JSON (RFC 8259, as the toolkit writes it): UTF-8, no ``NaN`` or
    ``Infinity``, finite numbers, integers of at most :data:`MAX_INT_DIGITS` digits, no key
    twice in one object, nesting at most :data:`MAX_ROWS_DEPTH`, no lone surrogate.
    Anything else is one :class:`UsageError` naming ``argument``, the file and the problem."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        why = f"binary, not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        raise UsageError(argument, str(path), f"not a rows file ({why})") from None
    try:
        obj = json.loads(
            text,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            parse_int=_small_int,
            object_pairs_hook=_unique_keys,
        )
        _check_tree(obj)
    except _NotStrict as exc:
        raise UsageError(argument, str(path), f"not a rows file ({exc})") from None
    except json.JSONDecodeError as exc:
        why = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise UsageError(
            argument, str(path), f"not a rows file (truncated or damaged JSON: {why})"
        ) from None
    except RecursionError:
        raise UsageError(
            argument, str(path), f"not a rows file (nested deeper than {MAX_ROWS_DEPTH} levels)"
        ) from None
    return obj


def strict_json(obj: Any) -> str:
    """``obj`` as the JSON :func:`parse_rows_json` reads back: a non-finite float (a loss
    that diverged) is written ``null``, since ``NaN`` and ``Infinity`` are not JSON."""
    try:
        return json.dumps(obj, indent=1, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(obj), indent=1, allow_nan=False)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
