"""The argument types of the ``verify`` program: every option's text is converted here, once.

Each converter is an argparse ``type=`` that raises :class:`~verifier.errors.UsageError`
(``"{argument}: {why} (got {value})"``, the value cut by :func:`~verifier.errors.shown`).
The parser (:class:`verifier.cli.Parser`) binds each converter to its option's name, so a
message always names the argument it is about; argparse would turn a ``ValueError`` into its
own "invalid value" message, so a bound converter hands the error on inside
:class:`Refused`, which argparse lets through and :func:`verifier.cli.main` prints.

Numbers are ASCII digits only: ``int()`` also takes ``'５'``, ``'٣'``, ``'1_0'`` and
``' 5'``; a command line does not. A number has at most :data:`MAX_DIGITS` digits, so a
400-digit value is refused before any arithmetic (no ``OverflowError`` later).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import UsageError

__all__ = [
    "MAX_DIGITS",
    "MAX_JOBS",
    "MAX_NAME_BYTES",
    "MAX_PATH_BYTES",
    "MAX_PIXELS",
    "MAX_SEED",
    "MAX_SEEDS",
    "Converter",
    "DepthSpec",
    "Refused",
    "address",
    "check_int",
    "check_path_text",
    "check_seed",
    "check_seeds",
    "choice",
    "depths",
    "device",
    "given",
    "integer",
    "jobs",
    "names",
    "odd_kernel",
    "path_text",
    "pixels",
    "refuse_unused",
    "seed",
    "seeds",
    "size_range",
    "solvers",
]

T = TypeVar("T")

#: Longest number accepted, in digits (every limit of the program is far below 10**18).
MAX_DIGITS = 18
#: Seeds accepted by ``--seed``: numpy's and torch's generators take 0 ≤ seed < 2**32.
MAX_SEED = 2**32 - 1
#: The most seeds one ``--seeds`` run takes (the same bound as ``numerics.MAX_SEEDS``).
MAX_SEEDS = 64
#: The most processes ``--jobs`` accepts (each is a Python process with the check libraries).
MAX_JOBS = 64
#: The most output pixels ``--pixels`` names (each prints or draws an s×s reach map).
MAX_PIXELS = 64
#: Longest path accepted (bytes), and longest name inside it (Linux's PATH_MAX, NAME_MAX).
MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255

_DIGITS = re.compile(r"-?[0-9]+", re.ASCII)


class Refused(Exception):
    """A converter's :class:`UsageError` on its way out of argparse (which would replace a
    ``ValueError`` by its own message); :func:`verifier.cli.main` prints ``error``."""

    def __init__(self, error: UsageError) -> None:
        self.error = error
        super().__init__(str(error))


class Converter(Generic[T]):
    """An argparse ``type=``: ``convert(argument, text)``, bound to the option's name by
    :meth:`bound` when the parser adds the option."""

    def __init__(self, kind: str, convert: Callable[[str, str], T], argument: str = "") -> None:
        self.__name__ = kind  # argparse names a type by it in its own messages
        self.kind = kind
        self.convert = convert
        self.argument = argument

    def bound(self, argument: str) -> Converter[T]:
        return Converter(self.kind, self.convert, argument)

    def __call__(self, text: str) -> T:
        try:
            return self.convert(self.argument or self.kind, text)
        except UsageError as exc:
            raise Refused(exc) from None


# ---- numbers ---------------------------------------------------------------------------


def _whole(argument: str, text: str, what: str = "an integer") -> int:
    """``text`` as an int: ASCII digits with an optional minus sign, at most MAX_DIGITS."""
    if not isinstance(text, str) or _DIGITS.fullmatch(text) is None:
        raise UsageError(argument, text, f"must be {what} (ASCII digits)")
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise UsageError(argument, text, f"too large (at most {MAX_DIGITS} digits)")
    return int(text)


def check_int(argument: str, text: str, lo: int | None = 1, hi: int | None = None) -> int:
    """``text`` as an int in ``lo..hi`` (``None``: unbounded on that side)."""
    bounded = lo is not None and hi is not None
    value = _whole(argument, text, f"an integer in {lo}..{hi}" if bounded else "an integer")
    if lo is not None and hi is not None and not lo <= value <= hi:
        raise UsageError(argument, text, f"must be an integer in {lo}..{hi}")
    if lo is not None and value < lo:
        kind = "a positive integer" if lo == 1 else f"an integer ≥ {lo}"
        raise UsageError(argument, text, f"must be {kind}")
    if hi is not None and value > hi:
        raise UsageError(argument, text, f"must be at most {hi}")
    return value


def integer(lo: int | None = 1, hi: int | None = None) -> Converter[int]:
    """A whole number in ``lo..hi``."""
    return Converter("integer", lambda a, t: check_int(a, t, lo, hi))


def _odd(argument: str, text: str, hi: int | None) -> int:
    k = check_int(argument, text, 1, hi)
    if k % 2 == 0:
        raise UsageError(argument, text, "must be odd: 'same' padding (k-1)/2 needs it")
    return k


def odd_kernel(hi: int | None = None) -> Converter[int]:
    """An odd kernel size k ≥ 1 (``'same'`` padding (k−1)/2)."""
    return Converter("kernel", lambda a, t: _odd(a, t, hi))


def check_seed(argument: str, text: str) -> int:
    return check_int(argument, text, 0, MAX_SEED)


def seed() -> Converter[int]:
    """One random seed, ``0 ≤ N < 2**32``."""
    return Converter("seed", check_seed)


_RANGE = re.compile(r"([0-9]+)\.\.([0-9]+)", re.ASCII)


def _range_parts(argument: str, text: str) -> tuple[int, int] | None:
    if not isinstance(text, str) or ".." not in text:
        return None
    m = _RANGE.fullmatch(text)
    if m is None or max(len(m[1]), len(m[2])) > MAX_DIGITS:
        raise UsageError(argument, text, "expected a range A..B of whole numbers")
    return int(m[1]), int(m[2])


def check_seeds(argument: str, text: str) -> tuple[int, ...]:
    """``"N"`` → seeds ``0..N−1``; ``"A..B"`` → ``A..B`` inclusive; ``"A,B,C"`` → those."""
    usage = "expected N (seeds 0..N-1), A..B with 0 <= A <= B, or A,B,C"
    try:
        parts = _range_parts(argument, text)
        if parts is not None:
            lo, hi = parts
            if hi < lo:
                raise UsageError(argument, text, usage)
            chosen = tuple(range(lo, min(hi, lo + MAX_SEEDS) + 1))
        elif isinstance(text, str) and "," in text:
            chosen = tuple(check_int(argument, v, 0) for v in text.split(","))
            if len(set(chosen)) != len(chosen):
                raise UsageError(argument, text, "a seed appears twice")
        else:
            n = check_int(argument, text, 1)
            chosen = tuple(range(min(n, MAX_SEEDS + 1)))
    except UsageError as exc:
        if "twice" in str(exc):
            raise
        raise UsageError(argument, text, usage) from None
    if len(chosen) > MAX_SEEDS:
        raise UsageError(argument, text, f"at most {MAX_SEEDS} seeds in one run")
    for s in chosen:
        if s > MAX_SEED:
            raise UsageError(argument, text, f"seeds are at most {MAX_SEED} (2**32 − 1)")
    return chosen


def seeds() -> Converter[tuple[int, ...]]:
    """A seed ensemble: ``N``, ``A..B`` or ``A,B,C`` (at most MAX_SEEDS distinct seeds)."""
    return Converter("seeds", check_seeds)


def _jobs(argument: str, text: str) -> int:
    try:
        return check_int(argument, text, 1, MAX_JOBS)
    except UsageError:
        if _DIGITS.fullmatch(text) is None:
            raise UsageError(argument, text, "expected a whole number of processes") from None
        raise UsageError(argument, text, f"must be between 1 and {MAX_JOBS}") from None


def jobs() -> Converter[int]:
    """A number of processes, ``1..MAX_JOBS``."""
    return Converter("jobs", _jobs)


# ---- ranges and lists ------------------------------------------------------------------


def _size_range(argument: str, text: str, hi: int) -> tuple[int, int]:
    parts = _range_parts(argument, text)
    if parts is None:
        a = b = check_int(argument, text, 1)
    else:
        a, b = parts
    if a < 1 or b < a:
        raise UsageError(argument, text, "sizes must be positive and A ≤ B")
    if b > hi:
        raise UsageError(argument, text, f"sizes up to {hi}")
    return a, b


def size_range(hi: int) -> Converter[tuple[int, int]]:
    """``S`` or ``A..B``: the first and last size (``1 ≤ A ≤ B ≤ hi``)."""
    return Converter("sizes", lambda a, t: _size_range(a, t, hi))


@dataclass(frozen=True)
class DepthSpec:
    """``--depth L`` or ``--depth A..B`` (a range is for ``--gif``; see :meth:`frames`)."""

    text: str
    first: int
    last: int
    is_range: bool

    def frames(self, limit: int) -> list[int]:
        """The GIF's depths: ``A..B``, or ``1..L`` (just ``0`` for L = 0); at most ``limit``."""
        first = self.first if self.is_range else min(1, self.last)
        if self.last - first + 1 > limit:
            how = "give A..B" if not self.is_range else "expected A..B with"
            raise UsageError(
                "--depth", self.text, f"a GIF has at most {limit} frames ({how} B − A < {limit})"
            )
        return list(range(first, self.last + 1))


def _depths(argument: str, text: str) -> DepthSpec:
    parts = _range_parts(argument, text)
    if parts is None:
        depth = check_int(argument, text, 0)
        return DepthSpec(text, depth, depth, False)
    a, b = parts
    if b < a:
        raise UsageError(argument, text, "expected A..B with A ≤ B")
    return DepthSpec(text, a, b, True)


def depths() -> Converter[DepthSpec]:
    """``L`` (a depth ≥ 0) or ``A..B`` (the depths of a GIF)."""
    return Converter("depths", _depths)


_PIXEL = re.compile(r"([0-9]{1,6}),([0-9]{1,6})", re.ASCII)


def _pixels(argument: str, text: str) -> tuple[tuple[int, int], ...]:
    parts = text.split(";") if isinstance(text, str) else []
    if len(parts) > MAX_PIXELS:
        raise UsageError(argument, text, f"at most {MAX_PIXELS} pixels")
    out = []
    for part in parts:
        m = _PIXEL.fullmatch(part.replace(" ", ""))
        if m is None:
            raise UsageError(argument, text, "expected 'row,col;...' of whole numbers")
        out.append((int(m[1]), int(m[2])))
    return tuple(dict.fromkeys(out))


def pixels() -> Converter[tuple[tuple[int, int], ...]]:
    """``'r,c;r,c;...'``: output pixels (bounds are checked against ``--size`` later)."""
    return Converter("pixels", _pixels)


def _names(argument: str, text: str, known: tuple[str, ...] | None) -> tuple[str, ...]:
    if not isinstance(text, str) or any(ord(c) < 32 for c in text):
        raise UsageError(argument, text, "expected comma-separated names")
    items = [n.strip() for n in text.split(",")]
    if not text.strip() or any(not n for n in items):
        raise UsageError(argument, text, "expected comma-separated names, none empty")
    if len(set(items)) != len(items):
        raise UsageError(argument, text, "a name appears twice")
    if known is not None:
        for n in items:
            if n not in known:
                raise UsageError(argument, n, f"expected one of {', '.join(known)}")
    return tuple(items)


def names(known: tuple[str, ...] | None = None) -> Converter[tuple[str, ...]]:
    """Comma-separated names, each once (and one of ``known`` where given)."""
    return Converter("names", lambda a, t: _names(a, t, known))


def choice(*options: str) -> Converter[str]:
    """One of ``options``."""

    def convert(argument: str, text: str) -> str:
        if text not in options:
            raise UsageError(argument, text, f"expected {' or '.join(options)}")
        return text

    return Converter("choice", convert)


def _solvers(argument: str, text: str) -> tuple[str, ...]:
    chosen = _names(argument, text, None) if text else ()
    if "z3" not in chosen or any(n not in ("z3", "cvc5") for n in chosen):
        raise UsageError(argument, text, "expected z3 or z3,cvc5")
    if "cvc5" in chosen:
        from proofs import available_solvers

        if "cvc5" not in available_solvers():
            raise UsageError(argument, text, "cvc5 is not installed (pip install cvc5)")
    return chosen


def solvers() -> Converter[tuple[str, ...]]:
    """``z3`` or ``z3,cvc5``: the solvers every proof obligation must satisfy."""
    return Converter("solvers", _solvers)


_DEVICE = re.compile(r"cpu|cuda|cuda:[0-9]{1,2}", re.ASCII)


def _device(argument: str, text: str) -> str:
    if _DEVICE.fullmatch(text) is None:
        raise UsageError(argument, text, "must be cpu or cuda")
    return text


def device() -> Converter[str]:
    """``cpu``, ``cuda`` or ``cuda:N`` (whether CUDA is there is checked before any run)."""
    return Converter("device", _device)


def _address(argument: str, text: str) -> str:
    if not text or len(text) > 255 or not text.isascii() or not text.isprintable() or " " in text:
        raise UsageError(argument, text, "an address such as tcp://host:8786")
    return text


def address() -> Converter[str]:
    """A network address (``tcp://host:8786``): printable ASCII, no space."""
    return Converter("address", _address)


# ---- paths -----------------------------------------------------------------------------


def check_path_text(argument: str, text: str, ext: tuple[str, ...] = ()) -> str:
    """A path's text: not empty, no NUL or newline, within PATH_MAX and NAME_MAX, ending in
    one of ``ext`` (case-insensitive) where given. Nothing on disk is looked at."""
    if not isinstance(text, str) or text == "":
        raise UsageError(argument, text, "empty path")
    if "\x00" in text:
        raise UsageError(argument, text, "path contains a NUL byte")
    if any(c in text for c in "\n\r"):
        raise UsageError(argument, text, "path contains a line break")
    raw = os.fsencode(text)
    if len(raw) > MAX_PATH_BYTES:
        raise UsageError(argument, text, f"path longer than {MAX_PATH_BYTES} bytes")
    if any(len(part) > MAX_NAME_BYTES for part in raw.split(b"/")):
        raise UsageError(argument, text, f"a path component is longer than {MAX_NAME_BYTES} bytes")
    if ext and not text.lower().endswith(ext):
        kind = ext[0][1:].upper()
        raise UsageError(
            argument, text, f"{argument} writes {kind}: the name must end in {' or '.join(ext)}"
        )
    return text


def path_text(*ext: str) -> Converter[str]:
    """A path checked as text (see :func:`check_path_text`)."""
    return Converter("path", lambda a, t: check_path_text(a, t, ext))


# ---- options a command does not use ----------------------------------------------------


def given(args: argparse.Namespace) -> list[str]:
    """The options of ``args`` given on the command line: those whose value is not the
    parser's default (the parser is recorded in ``args._parser`` by :mod:`verifier.cli`)."""
    parser: argparse.ArgumentParser | None = getattr(args, "_parser", None)
    if parser is None:
        return []
    out = []
    for action in parser._actions:  # argparse keeps its options only here
        if not action.option_strings or action.dest == "help":
            continue
        if getattr(args, action.dest, action.default) != action.default:
            out.append(action.option_strings[-1])
    return out


def refuse_unused(args: argparse.Namespace, used: set[str], what: str) -> None:
    """Refuse (one line) the first option given that ``what`` does not use."""
    for option in given(args):
        if option not in used:
            value: Any = getattr(args, option.lstrip("-").replace("-", "_"))
            shown_value = value if not isinstance(value, DepthSpec) else value.text
            raise UsageError(option, shown_value, f"not used by {what}")
