"""The end-to-end matrix of a (linear) torch model and its spectrum, in float64.

For a linear network ``f`` the matrix is read off exactly by pushing the ``d`` basis images
through it: column ``j`` of ``M`` is ``f(e_j)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["end_to_end_matrix", "span_residual", "spectrum"]


def end_to_end_matrix(
    model: torch.nn.Module, in_shape: tuple[int, int, int], device: str = "cpu"
) -> np.ndarray:
    """``M`` with ``M @ vec(x) = vec(model(x))`` (float64), for a linear ``model``."""
    import copy

    import torch

    c, h, w = in_shape
    d = c * h * w
    m = copy.deepcopy(model).to(device=device, dtype=torch.float64).eval()
    with torch.no_grad():
        basis = torch.eye(d, dtype=torch.float64, device=device).reshape(d, c, h, w)
        cols = []
        for start in range(0, d, 1024):
            chunk = basis[start : start + 1024]
            cols.append(m(chunk).reshape(chunk.shape[0], -1))
        out = torch.cat(cols, 0)
    return out.T.cpu().numpy()


def spectrum(matrix: np.ndarray) -> list[float]:
    """Eigenvalue magnitudes of a square matrix, descending (float64)."""
    ev = np.linalg.eigvals(np.asarray(matrix, dtype=np.float64))
    return sorted((float(abs(v)) for v in ev), reverse=True)


def span_residual(vectors: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Relative distance of each row of ``vectors`` to the row span of ``basis``."""
    q, _ = np.linalg.qr(np.asarray(basis, dtype=np.float64).T)
    v = np.asarray(vectors, dtype=np.float64)
    proj = (v @ q) @ q.T
    norms = np.linalg.norm(v, axis=1)
    return np.linalg.norm(v - proj, axis=1) / np.where(norms > 0, norms, 1.0)
