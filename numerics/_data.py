"""Images for the experiments: bundled photographs, user folders, CIFAR-10 batches, and the
paper's synthetic inputs.

The paper trains on CIFAR-10 images (32×32 colour). Nothing may be downloaded at run time,
so the default set is the photographs that ship inside scikit-image (``skimage.data``),
centre-cropped to a square and resized to ``size × size`` with anti-aliasing, in a fixed
order chosen to be close to CIFAR-10's classes first (cat, horse, motorcycle for
"automobile", rocket for "airplane", ...), then other photographs, then the 25×25 faces of
``skimage.data.lfw_subset`` as a large pool of held-out images.

Users may pass ``source``: a folder of PNG/JPEG images (sorted by file name) or a CIFAR-10
binary batch file (``data_batch_1.bin``: records of 1 label byte followed by 3072 bytes, the
R, G and B planes of a 32×32 image). The batch file is read as plain bytes with
``numpy.frombuffer``; no user file is ever unpickled.
"""

from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from ._experiment import ExperimentError

if TYPE_CHECKING:
    import torch

__all__ = [
    "BUNDLED",
    "check_images",
    "gaussian_images",
    "images_identity",
    "load_images",
    "orthogonal_squares",
    "square_images",
]

#: scikit-image sample images in the default order: (name in skimage.data, what it shows).
#: Those closest to a CIFAR-10 class come first; all ship with the scikit-image wheel.
BUNDLED: tuple[tuple[str, str], ...] = (
    ("chelsea", "cat"),
    ("horse", "horse (binary silhouette)"),
    ("stereo_motorcycle", "motorcycle (CIFAR 'automobile')"),
    ("rocket", "rocket (CIFAR 'airplane')"),
    ("astronaut", "person"),
    ("coffee", "coffee cup"),
    ("camera", "cameraman (grey)"),
    ("coins", "coins (grey)"),
    ("clock", "clock (grey)"),
    ("immunohistochemistry", "microscopy"),
    ("hubble_deep_field", "galaxies"),
    ("retina", "retina"),
    ("colorwheel", "colour wheel"),
    ("moon", "moon surface (grey)"),
    ("brick", "brick wall (grey)"),
    ("grass", "grass (grey)"),
    ("gravel", "gravel (grey)"),
    ("cell", "cell (grey)"),
    ("microaneurysms", "retina detail (grey)"),
    ("page", "text page (grey)"),
)

_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff"}
_CIFAR_RECORD = 1 + 3 * 32 * 32

#: Limits on ``--images`` (each checked with ``os.stat`` or the image header, before any
#: pixel is decoded): bytes of one image file, pixels of one image, image files in a
#: folder, records of a CIFAR-10 batch file (60000 = the whole training and test sets),
#: bytes of a path.
MAX_IMAGE_BYTES = 64 * 2**20
MAX_IMAGE_PIXELS = 2**25  # e.g. 5792×5792; a 32×32 experiment never needs more
MAX_FOLDER_IMAGES = 10_000
MAX_CIFAR_RECORDS = 60_000
MAX_PATH_BYTES = 4096
#: The most images any experiment reads from ``--images`` (its training images and its
#: held-out probes: a few hundred at most). Only the images a run uses are decoded, each
#: once per process.
MAX_IMAGES_READ = 512
#: Pixels, in all, of the first :data:`MAX_IMAGES_READ` images of a folder (those a run
#: may decode; read from the headers): 8 pictures of 5792×5792, about 5 s to decode.
MAX_PIXELS_READ = 2**28
#: A decoded picture is box-reduced (by a whole factor, in Pillow, before any float copy)
#: until its shorter side is under ``2 * REDUCE_TO * size``; smaller pictures take the
#: anti-aliased resize alone, exactly as before.
REDUCE_TO = 8


def _stat(path: Path, shown: str) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise ExperimentError("--images", shown, "no such file or folder") from None
    except OSError as exc:
        raise ExperimentError("--images", shown, f"cannot read ({exc.strerror})") from None


def _folder_files(path: Path) -> list[tuple[Path, os.stat_result]]:
    """The image files of a folder (sorted by name), each a regular file within the byte
    limit; refused with one line otherwise. Reads directory entries and ``stat`` only."""
    files = []
    try:
        entries = sorted(
            (e for e in os.scandir(path) if Path(e.name).suffix.lower() in _EXTENSIONS),
            key=lambda e: e.name,
        )
    except OSError as exc:
        raise ExperimentError("--images", str(path), f"cannot list ({exc.strerror})") from None
    if len(entries) > MAX_FOLDER_IMAGES:
        raise ExperimentError(
            "--images", str(path), f"{len(entries)} image files, more than {MAX_FOLDER_IMAGES}"
        )
    for e in entries:
        f = path / e.name
        st = _stat(f, str(f))
        if not stat.S_ISREG(st.st_mode):
            raise ExperimentError("--images", str(f), "is not a regular file")
        if st.st_size > MAX_IMAGE_BYTES:
            raise ExperimentError(
                "--images", str(f), f"{st.st_size} bytes, more than {MAX_IMAGE_BYTES} per image"
            )
        files.append((f, st))
    if not files:
        raise ExperimentError("--images", str(path), "folder holds no PNG/JPEG images")
    return files


def _image_header(f: Path, st: os.stat_result | None = None) -> tuple[int, int]:
    """Width and height from the image's header (nothing decoded); one line if unreadable
    or larger than :data:`MAX_IMAGE_PIXELS`. Cached by path, modification time and size."""
    st = st if st is not None else _stat(f, str(f))
    return _header(str(f), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=MAX_FOLDER_IMAGES)
def _header(f: str, mtime_ns: int, nbytes: int) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(f) as im:  # reads the header only
            w, h = im.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ExperimentError("--images", f, f"not a readable image ({exc})") from None
    if w * h > MAX_IMAGE_PIXELS:
        raise ExperimentError("--images", f, f"{w}×{h} pixels, more than {MAX_IMAGE_PIXELS}")
    return w, h


def check_images(source: str | os.PathLike[str], need: int = 0) -> int:
    """Validate ``--images`` without decoding a pixel; return how many images it holds.

    A folder: its image files must be regular files of at most :data:`MAX_IMAGE_BYTES`
    (at most :data:`MAX_FOLDER_IMAGES` of them). A file: a CIFAR-10 binary batch, a
    positive multiple of 3073 bytes, at most :data:`MAX_CIFAR_RECORDS` records. Anything
    else (a FIFO, a device such as ``/dev/zero``, a socket) is refused before it is opened.
    ``need``: the images the experiment takes; fewer is refused here, before training.
    """
    text = os.fspath(source)
    shown = text if len(text) <= 200 else text[:40] + "…"
    if text == "":
        raise ExperimentError("--images", text, "empty path")
    if "\x00" in text or len(os.fsencode(text)) > MAX_PATH_BYTES:
        raise ExperimentError(
            "--images", shown, f"not a usable path (at most {MAX_PATH_BYTES} bytes)"
        )
    if any(len(os.fsencode(p)) > 255 for p in Path(text).parts):
        raise ExperimentError("--images", shown, "a path component is longer than 255 bytes")
    path = Path(text)
    st = _stat(path, shown)
    if stat.S_ISDIR(st.st_mode):
        files = _folder_files(path)
        pixels = [_image_header(f, st_f) for f, st_f in files]
        read = sum(w * h for w, h in pixels[:MAX_IMAGES_READ])
        if read > MAX_PIXELS_READ:
            first = min(len(files), MAX_IMAGES_READ)
            raise ExperimentError(
                "--images",
                shown,
                f"its first {first} images (those a run may read) hold {read} pixels, "
                f"more than {MAX_PIXELS_READ} (2**28); use smaller pictures",
            )
        count = len(files)
    elif stat.S_ISREG(st.st_mode):
        size = st.st_size
        if size == 0 or size % _CIFAR_RECORD:
            raise ExperimentError(
                "--images",
                shown,
                f"not a CIFAR-10 binary batch: {size} bytes is not a positive multiple "
                f"of {_CIFAR_RECORD} (1 label byte + 3072 pixel bytes per record)",
            )
        count = size // _CIFAR_RECORD
        if count > MAX_CIFAR_RECORDS:
            raise ExperimentError(
                "--images", shown, f"{count} records, more than {MAX_CIFAR_RECORDS}"
            )
    else:
        raise ExperimentError(
            "--images", shown, "not a folder or a regular file (a FIFO, device or socket)"
        )
    if count < need:
        raise ExperimentError(
            "--images", shown, f"holds {count} image(s); this experiment needs {need}"
        )
    return count


def images_identity(source: str | os.PathLike[str] | None) -> str | dict[str, object] | None:
    """What identifies ``--images`` for ``--resume``: ``None`` (bundled photographs) or the
    absolute path with a digest of every image file's name, size and modification time."""
    import hashlib

    if source is None:
        return None
    path = Path(source).resolve()
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        listing = [(f.name, s.st_size, s.st_mtime_ns) for f, s in _folder_files(path)]
    else:
        listing = [(path.name, st.st_size, st.st_mtime_ns)]
    digest = hashlib.sha256(repr(listing).encode()).hexdigest()[:16]
    return {"path": str(path), "files": len(listing), "stat_digest": digest}


def _to_rgb_float(img: np.ndarray) -> np.ndarray:
    """Any skimage/pillow array (bool, grey, RGB, RGBA; int or float) as float RGB in [0, 1]."""
    a = np.asarray(img)
    if a.dtype == bool:
        a = a.astype(np.float64)
    elif np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float64) / float(np.iinfo(a.dtype).max)
    else:
        a = a.astype(np.float64)
        lo, hi = float(a.min()), float(a.max())
        if lo < 0.0 or hi > 1.0:
            a = (a - lo) / (hi - lo if hi > lo else 1.0)
    if a.ndim == 2:
        a = np.stack([a, a, a], axis=-1)
    if a.shape[-1] == 4:
        a = a[..., :3]
    return np.clip(a, 0.0, 1.0)


def _square_resize(rgb: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop to a square, resize to ``size × size`` (anti-aliased); returns (3, s, s)."""
    from skimage.transform import resize

    h, w = rgb.shape[:2]
    m = min(h, w)
    top, left = (h - m) // 2, (w - m) // 2
    crop = rgb[top : top + m, left : left + m]
    out = resize(crop, (size, size), order=1, anti_aliasing=m > size, mode="reflect")
    return np.clip(out, 0.0, 1.0).transpose(2, 0, 1)


@lru_cache(maxsize=32)
def _bundled(size: int) -> np.ndarray:
    """All bundled photographs (then the LFW faces) at ``size``: (N, 3, size, size) float32."""
    import skimage.data as sd

    imgs = []
    for name, _ in BUNDLED:
        try:
            raw = getattr(sd, name)()
        except Exception:
            continue
        if isinstance(raw, tuple):  # stereo_motorcycle: (left, right, disparity)
            raw = raw[0]
        imgs.append(_square_resize(_to_rgb_float(raw), size))
    try:
        faces = sd.lfw_subset()
    except Exception:
        faces = np.zeros((0, 25, 25))
    for face in faces:
        imgs.append(_square_resize(_to_rgb_float(face), size))
    return np.stack(imgs).astype(np.float32)


def _pick(count: int, n: int, seed: int) -> np.ndarray:
    """Which ``n`` of ``count`` images a run takes: the first ``n`` for ``seed = 0``, else
    a seeded random choice (sorted)."""
    if seed == 0:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(count, n, replace=False))


@lru_cache(maxsize=1024)
def _decode(f: str, mtime_ns: int, nbytes: int, size: int) -> np.ndarray:
    """One picture of a folder as ``(3, size, size)`` float32 in [0, 1], with bounded
    memory: a JPEG is decoded at a reduced DCT scale (``draft``), any picture is
    centre-cropped and box-reduced by a whole factor in 8-bit Pillow images before the
    anti-aliased float resize. Cached by path, modification time and size."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(f) as opened:  # reads the header only
            w, h = opened.size
            if w * h > MAX_IMAGE_PIXELS:
                raise ExperimentError(
                    "--images", f, f"{w}×{h} pixels, more than {MAX_IMAGE_PIXELS}"
                )
            im: Image.Image = opened
            target = REDUCE_TO * size
            side = min(w, h)
            if opened.format == "JPEG" and side >= 2 * target:  # decode at 1/2, 1/4, 1/8
                opened.draft("RGB", (-(-w * target // side), -(-h * target // side)))
                w, h = im.size
                side = min(w, h)
            top, left = (h - side) // 2, (w - side) // 2
            box = (left, top, left + side, top + side)
            if im.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
                im = im.convert("RGB")  # palette, 1-bit, CMYK, ...: reduce takes no others
            factor = side // target if side >= 2 * target else 1
            arr = np.asarray(im.reduce(factor, box=box).convert("RGB"))
    except ExperimentError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ExperimentError("--images", f, f"not a readable image ({exc})") from None
    return _square_resize(_to_rgb_float(arr), size).astype(np.float32)


def _folder(path: Path, size: int, n: int, seed: int) -> np.ndarray:
    """``n`` pictures of a folder (see :func:`load_images`); only those are decoded."""
    files = _folder_files(path)
    if n > len(files):
        raise ExperimentError("n", n, f"only {len(files)} images available from {path}")
    chosen = [files[i] for i in _pick(len(files), n, seed)]
    read = sum(w * h for w, h in (_image_header(f, st) for f, st in chosen))
    if read > MAX_PIXELS_READ:
        raise ExperimentError(
            "--images", str(path), f"{n} images of {read} pixels, more than {MAX_PIXELS_READ}"
        )
    imgs = [_decode(str(f), st.st_mtime_ns, st.st_size, size) for f, st in chosen]
    return np.stack(imgs).astype(np.float32)


def _cifar_labels(fh: BinaryIO, count: int) -> np.ndarray:
    """The label byte of every record, read 1024 records (3 MB) at a time."""
    labels = np.empty(count, dtype=np.uint8)
    step = 1024
    for start in range(0, count, step):
        chunk = fh.read(min(step, count - start) * _CIFAR_RECORD)
        labels[start : start + len(chunk) // _CIFAR_RECORD] = np.frombuffer(chunk, dtype=np.uint8)[
            ::_CIFAR_RECORD
        ]
    return labels


def _cifar_bin(path: Path, size: int, n: int, seed: int) -> np.ndarray:
    """``n`` images of a CIFAR-10 batch (see :func:`load_images`): the labels are read in
    chunks, then only the chosen records."""
    count = check_images(path)  # stat only: a regular file of whole records, size capped
    if n > count:
        raise ExperimentError("n", n, f"only {count} images available from {path}")
    with open(path, "rb") as fh:
        labels = _cifar_labels(fh, count)
        if labels.max() > 9:
            raise ExperimentError(
                "--images",
                str(path),
                f"not a CIFAR-10 binary batch: label byte {labels.max()} > 9",
            )
        # one image per class first (the paper's "one from each class"), then the rest
        first = [int(np.flatnonzero(labels == c)[0]) for c in range(10) if (labels == c).any()]
        firsts = set(first)
        order = first + [i for i in range(count) if i not in firsts]
        imgs = []
        for i in _pick(count, n, seed):
            fh.seek(order[i] * _CIFAR_RECORD + 1)
            raw = np.frombuffer(fh.read(_CIFAR_RECORD - 1), dtype=np.uint8)
            im = raw.reshape(3, 32, 32).astype(np.float32) / 255.0
            imgs.append(im if size == 32 else _square_resize(im.transpose(1, 2, 0), size))
    return np.stack(imgs).astype(np.float32)


def load_images(
    n: int, *, size: int = 32, source: str | Path | None = None, seed: int = 0
) -> torch.Tensor:
    """``n`` images as a float32 tensor ``(n, 3, size, size)`` in [0, 1], in a fixed order.

    ``source=None``: the bundled scikit-image photographs (see :data:`BUNDLED`).
    ``source`` a folder: its PNG/JPEG files sorted by name. ``source`` a file: a CIFAR-10
    binary batch; one image of each class comes first. ``seed`` only matters for sources
    with more images than the fixed order needs: ``seed = 0`` takes the first ``n``, other
    seeds a seeded random choice (still deterministic).
    """
    import torch

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ExperimentError("n", n, "must be a positive integer")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ExperimentError("size", size, "must be a positive integer")
    if source is not None:
        check_images(source)
        path = Path(source)
        if n > MAX_IMAGES_READ:
            raise ExperimentError("n", n, f"at most {MAX_IMAGES_READ} images from --images")
        read = _folder if path.is_dir() else _cifar_bin
        return torch.from_numpy(np.ascontiguousarray(read(path, size, n, seed)))
    pool = _bundled(size)
    if n > len(pool):
        raise ExperimentError("n", n, f"only {len(pool)} images available from the bundled set")
    return torch.from_numpy(np.ascontiguousarray(pool[_pick(len(pool), n, seed)]))


def square_images(
    n: int, *, size: int = 32, channels: int = 3, seed: int = 0, color: bool = False
) -> torch.Tensor:
    """Random-sized squares on black (Figures 1 and 6's test inputs): side 1..size, random
    position; white, or a random colour with ``color=True``."""
    import torch

    rng = np.random.default_rng(seed)
    out = np.zeros((n, channels, size, size), dtype=np.float32)
    for i in range(n):
        side = int(rng.integers(1, size + 1))
        top, left = (int(rng.integers(0, size - side + 1)) for _ in range(2))
        value = rng.uniform(0.2, 1.0, size=(channels, 1, 1)) if color else 1.0
        out[i, :, top : top + side, left : left + side] = value
    return torch.from_numpy(out)


def gaussian_images(n: int, *, size: int = 32, channels: int = 3, seed: int = 0) -> torch.Tensor:
    """Standard Gaussian images (the test inputs of Figures 2-8)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    return torch.randn((n, channels, size, size), generator=gen)


def orthogonal_squares(
    size: int = 2, *, channels: int = 1, side: int | None = None
) -> torch.Tensor:
    """Figure 5's two orthogonal training images: a white square in the upper-left corner
    and one in the lower-right corner (side ``size // 2`` by default: one pixel at 2×2)."""
    import torch

    s = side if side is not None else max(1, size // 2)
    out = torch.zeros((2, channels, size, size))
    out[0, :, :s, :s] = 1.0
    out[1, :, size - s :, size - s :] = 1.0
    return out
