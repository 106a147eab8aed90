"""A minimal PNG writer (zlib + struct): the bare mask bitmap where matplotlib is missing."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ._atomic import write_atomic

__all__ = ["write_png"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: str | Path, image: np.ndarray, *, scale: int = 1) -> Path:
    """Write an 8-bit grayscale (H×W) or RGB (H×W×3) array, each pixel a ``scale²`` block."""
    img = np.asarray(image)
    if img.dtype == bool:
        img = np.where(img, 0, 255).astype(np.uint8)  # nonzero entries drawn black
    img = img.astype(np.uint8)
    if scale > 1:
        img = img.repeat(scale, axis=0).repeat(scale, axis=1)
    color = 2 if img.ndim == 3 else 0
    h, w = img.shape[:2]
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))
    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
    data += _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")
    return write_atomic(path, data)
