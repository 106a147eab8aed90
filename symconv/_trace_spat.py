"""The dependence pattern of one channel of a traced model's tensor, on the input pixels.

A value ``v`` of shape ``(1, C, H, W)`` computed from the input ``x`` of shape
``(1, C0, H0, W0)`` has, for each channel ``c``, a boolean pattern ``S_c[(i, j), (c0, i0, j0)]``:
``True`` where ``∂v[c, i, j]/∂x[c0, i0, j0]`` can be nonzero. Two forms:

* :class:`Kron` — ``S = q ⊗ R ⊗ K`` (input channels ``q``, rows ``R`` of shape ``(H, H0)``,
  columns ``K`` of shape ``(W, W0)``), the representation of ``symconv._patterns`` for one
  channel: every op that acts on rows and columns separately (convolution, pooling,
  interpolation) maps it to ``q ⊗ (T_r R) ⊗ (T_c K)`` in the boolean semiring (mixed-product
  rule), so the pattern of a 4096-pixel image costs products of 64×64 matrices;
* a dense boolean array ``(H, W, K)`` over the ``K`` input columns of the current
  :class:`Columns` chunk, when a union (a skip connection, a concatenation followed by a
  convolution) or a pixel rearrangement leaves no Kronecker form.

Channels that share a pattern share one object, so a convolution with ``F`` filters costs the
same as one filter (as in ``symconv._patterns``, where the channel factor is all-ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Columns",
    "Kron",
    "Spat",
    "axis_apply",
    "collapse",
    "dense",
    "empty",
    "spatial_all",
    "union",
]


@dataclass(frozen=True, eq=False)
class Kron:
    """``S[(i, j), (c0, i0, j0)] = q[c0] ∧ r[i, i0] ∧ k[j, j0]``."""

    q: np.ndarray
    r: np.ndarray
    k: np.ndarray

    @property
    def hw(self) -> tuple[int, int]:
        return self.r.shape[0], self.k.shape[0]

    @property
    def is_empty(self) -> bool:
        return not (self.q.any() and self.r.any() and self.k.any())


Spat = Kron | np.ndarray


@dataclass(eq=False)
class Columns:
    """The input columns of one pass: ``pixels`` (flat, row-major) × every input channel.

    Column ``p·C0 + c0`` of a dense pattern is input channel ``c0`` at ``pixels[p]``.
    ``densified`` records whether a Kronecker pattern had to be expanded in this pass.
    """

    c0: int
    h0: int
    w0: int
    pixels: np.ndarray
    densified: bool = field(default=False)

    @property
    def width(self) -> int:
        return int(self.pixels.size) * self.c0


def empty(c0: int, h: int, w: int, h0: int, w0: int) -> Kron:
    """The pattern of a channel that does not depend on the input."""
    return Kron(np.zeros(c0, bool), np.zeros((h, h0), bool), np.zeros((w, w0), bool))


def dense(s: Spat, cols: Columns) -> np.ndarray:
    """``s`` restricted to the columns of this pass, as a dense ``(H, W, K)`` array."""
    if isinstance(s, np.ndarray):
        return s
    h, w = s.hw
    if s.is_empty:
        return np.zeros((h, w, cols.width), bool)
    cols.densified = True
    pi, pj = np.divmod(cols.pixels, cols.w0)
    a = s.r[:, pi][:, None, :] & s.k[:, pj][None, :, :]  # (H, W, P)
    return (a[..., None] & s.q[None, None, None, :]).reshape(h, w, cols.width)


def _bmm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Boolean matrix product (counts stay exact in float32 below 2**24)."""
    return (a.astype(np.float32) @ b.astype(np.float32)) > 0


def _apply_rows(t: np.ndarray, a: np.ndarray, axis: int) -> np.ndarray:
    """``T @ a`` along ``axis`` of a dense boolean array, as one OR of row slices per
    nonzero of the widest row of ``T`` (a band of k taps costs k passes)."""
    n_out = t.shape[0]
    shape = list(a.shape)
    shape[axis] = n_out
    out = np.zeros(shape, bool)
    width = int(t.sum(axis=1).max()) if t.size else 0
    if width == 0:
        return out
    order = np.argsort(~t, axis=1, kind="stable")[:, :width]
    valid = np.take_along_axis(t, order, axis=1)
    for m in range(width):
        rows = np.flatnonzero(valid[:, m])
        src = order[rows, m]
        if axis == 0:
            out[rows] |= a[src]
        else:
            out[:, rows] |= a[:, src]
    return out


def axis_apply(s: Spat, tr: np.ndarray, tc: np.ndarray) -> Spat:
    """The pattern after an op acting as ``T_r`` on rows and ``T_c`` on columns."""
    if isinstance(s, Kron):
        return Kron(s.q, _bmm(tr, s.r), _bmm(tc, s.k))
    return _apply_rows(tc, _apply_rows(tr, s, 0), 1)


def spatial_all(s: Spat) -> Spat:
    """Every pixel depends on what any pixel of ``s`` depends on (a normalization over the
    whole image: its mean and variance)."""
    if isinstance(s, Kron):
        h, w = s.hw
        r = np.broadcast_to(s.r.any(axis=0), (h, s.r.shape[1])).copy()
        k = np.broadcast_to(s.k.any(axis=0), (w, s.k.shape[1])).copy()
        return Kron(s.q, r, k)
    return np.broadcast_to(s.any(axis=(0, 1)), s.shape).copy()


def collapse(s: Spat, pixels: np.ndarray | None = None) -> Spat:
    """One 1×1 pattern: what any of ``pixels`` (flat; ``None`` = all) of ``s`` depends on."""
    if isinstance(s, Kron) and pixels is None:
        return Kron(s.q, np.any(s.r, axis=0, keepdims=True), np.any(s.k, axis=0, keepdims=True))
    if isinstance(s, Kron):
        assert pixels is not None
        _, w = s.hw
        ii, jj = np.divmod(pixels, w)
        if len(set(ii.tolist())) * len(set(jj.tolist())) == len(set(pixels.tolist())):
            return Kron(s.q, s.r[np.unique(ii)].any(axis=0)[None],
                        s.k[np.unique(jj)].any(axis=0)[None])  # fmt: skip
        raise ValueError("dense form needed")
    h, w, k = s.shape
    flat: np.ndarray = s.reshape(h * w, k)
    sel = flat if pixels is None else flat[pixels]
    return sel.any(axis=0).reshape(1, 1, k)


def _kron_union(a: Kron, b: Kron) -> Kron | None:
    """``a ∪ b`` when it is again a Kronecker pattern, else ``None``."""
    if a.is_empty:
        return b
    if b.is_empty:
        return a
    same_q, same_r, same_k = (
        np.array_equal(a.q, b.q),
        np.array_equal(a.r, b.r),
        np.array_equal(a.k, b.k),
    )
    if same_q and same_r:
        return Kron(a.q, a.r, a.k | b.k)
    if same_q and same_k:
        return Kron(a.q, a.r | b.r, a.k)
    if same_r and same_k:
        return Kron(a.q | b.q, a.r, a.k)

    def inside(x: Kron, y: Kron) -> bool:
        return bool((x.q <= y.q).all() and (x.r <= y.r).all() and (x.k <= y.k).all())

    if inside(a, b):
        return b
    if inside(b, a):
        return a
    return None


def union(spats: list[Spat], cols: Columns) -> Spat:
    """The union of patterns (an add, or a convolution summing over its input channels)."""
    distinct = list({id(s): s for s in spats}.values())
    if len(distinct) == 1:
        return distinct[0]
    krons = [s for s in distinct if isinstance(s, Kron)]
    if len(krons) == len(distinct):
        acc: Kron | None = krons[0]
        for kr in krons[1:]:
            acc = _kron_union(acc, kr) if acc is not None else None
        if acc is not None:
            return acc
    out = np.zeros_like(dense(distinct[0], cols))
    for s in distinct:
        if not (isinstance(s, Kron) and s.is_empty):
            out |= dense(s, cols)
    return out
