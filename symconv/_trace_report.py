"""What a traced model's pattern says, as numbers and JSON: the reach of each output pixel,
the pixels that see the whole input, and the least number of 3×3 'same' convolutions that,
appended to the model, would leave no forced zero (Theorem 4's question, asked of any model).

Appending ``L`` such layers (each mixing all channels) makes output pixel ``o`` depend on
every input pixel that some output pixel within Chebyshev distance ``L`` of ``o`` depends on:
the column of input pixel ``u`` becomes full once ``L ≥ max_o dist∞(o, Z_u)`` with ``Z_u``
the output pixels that reach ``u``; never when ``Z_u`` is empty (a pixel no output sees).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._trace import TorchPattern

__all__ = [
    "column_depth",
    "combine_depths",
    "factored_depth",
    "model_mask_report",
    "summary",
]


def column_depth(mask: np.ndarray, out_hw: tuple[int, int]) -> int | None:
    """The least number of appended 3×3 'same' layers that fills every column of ``mask``
    (rows = output pixels, columns = input pixels); ``None`` if some column is empty.

    ``max_o dist∞(o, Z_u)`` for every column at once: a chamfer distance transform with an
    in-plane 3×3 structuring element (the columns are the third axis and do not touch)."""
    from scipy.ndimage import distance_transform_cdt

    ho, wo = out_hw
    need = ~mask.all(axis=0)
    if not need.any():
        return 0
    sub = mask[:, need].reshape(ho, wo, -1)
    if not sub.any(axis=(0, 1)).all():
        return None
    structure = np.zeros((3, 3, 3), bool)
    structure[:, :, 1] = True
    dist = distance_transform_cdt(~sub, metric=structure)
    return int(dist.max())


def _nearest_distance(t: np.ndarray) -> np.ndarray:
    """``d[i, c] = min{|i − z| : t[z, c]}`` for a boolean ``(n, m)`` array with no empty
    column: the last ``True`` at or before ``i`` and the first at or after it."""
    n = t.shape[0]
    pos = np.arange(n)[:, None]
    before = np.maximum.accumulate(np.where(t, pos, -(10**9)), axis=0)
    after = np.minimum.accumulate(np.where(t, pos, 10**9)[::-1], axis=0)[::-1]
    return np.minimum(pos - before, after - pos)


def factored_depth(r: np.ndarray, k: np.ndarray) -> int | None:
    """:func:`column_depth` of the mask ``r ⊗ k``: the output pixels that reach an input
    pixel form a product ``rows × columns``, and ``dist∞`` to a product set is the larger of
    the two 1D distances."""
    worst = 0
    for t in (r, k):
        if not t.any(axis=0).all():
            return None
        worst = max(worst, int(_nearest_distance(t).max()))
    return worst


def combine_depths(depths: list[int | None]) -> int | None:
    """The depth for all columns from the depths of chunks of them."""
    if any(d is None for d in depths):
        return None
    return max((d for d in depths if d is not None), default=0)


def _mask_rows(mask: np.ndarray) -> list[str]:
    raw = (mask.astype(np.uint8) + ord("0")).tobytes()
    n = mask.shape[1]
    return [raw[i : i + n].decode("ascii") for i in range(0, len(raw), n)]


def default_pixels(out_hw: tuple[int, int]) -> list[tuple[int, int]]:
    h, w = out_hw
    return sorted({(0, 0), (h // 2, w // 2)})


def summary(
    pat: TorchPattern, pixels: list[tuple[int, int]] | None, max_mask_entries: int
) -> dict[str, Any]:
    """The fields of ``verify masks --json`` (``forced_zeros``, ``full_support``,
    ``certified``, ``certificate``, ``mask``) and those of a model: shapes, ``reach``,
    ``whole_input_pixels``, ``extra_depth``, ``linear``, ``factored``, ``notes``, ``ops``."""
    _, ho, wo = pat.output_shape
    chosen = default_pixels((ho, wo)) if pixels is None else list(pixels)
    rows = pat.rows(chosen) if chosen else np.zeros((0, pat.n_in), bool)
    fits = pat.entries <= max_mask_entries
    return {
        "input_shape": list(pat.input_shape),
        "output_shape": list(pat.output_shape),
        "linear": pat.linear,
        "factored": pat.factored,
        "entries": pat.entries,
        "forced_zeros": pat.forced_zeros,
        "full_support": pat.full_support,
        "certified": pat.certified,
        "certificate": pat.certificate,
        "extra_depth": pat.extra_depth,
        "reach": [int(r) for r in pat.reach],
        "reach_min": int(pat.reach.min()),
        "reach_max": int(pat.reach.max()),
        "whole_input_pixels": [list(p) for p in pat.whole_input_pixels()],
        "notes": list(pat.notes),
        "ops": dict(pat.ops),
        "pixels": [
            {"pixel": [i, j], "reach": int(row.sum()), "row": _mask_rows(row[None])[0]}
            for (i, j), row in zip(chosen, rows, strict=True)
        ],
        "mask": _mask_rows(pat.dense_mask(max_mask_entries)) if fits else None,
        "mask_omitted": None if fits else (
            f"the {pat.n_out}×{pat.n_in} mask has more than {max_mask_entries} entries; "
            "see reach and pixels"
        ),
    }  # fmt: skip


def model_mask_report(
    path: Any,
    input_shape: tuple[int, ...] | None = None,
    pixels: list[tuple[int, int]] | None = None,
    *,
    max_mask_entries: int = 2**26,
    certify: bool = True,
) -> dict[str, Any]:
    """Everything ``verify masks --model FILE.pt2`` prints, as one JSON-able dict: the
    :meth:`TorchPattern.summary` fields plus ``model`` (the path). ``path`` may also be
    the program itself (loaded with :func:`load_program`), or a module."""
    from ._trace import from_torch

    pat = from_torch(path, input_shape, certify=certify)
    named = isinstance(path, (str, os.PathLike))
    out = {"model": os.fspath(path) if named else type(path).__name__}
    out.update(pat.summary(pixels, max_mask_entries=max_mask_entries))
    return out
