"""The image loaders: bundled photographs, a folder, a CIFAR-10 binary batch, bad paths."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from numerics import ExperimentError  # noqa: E402
from numerics._data import (  # noqa: E402
    gaussian_images,
    load_images,
    orthogonal_squares,
    square_images,
)


def test_default_set_shape_range_and_determinism() -> None:
    a = load_images(5, size=8)
    b = load_images(5, size=8)
    assert a.shape == (5, 3, 8, 8) and a.dtype == torch.float32
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b)
    # distinct photographs, not copies of one image
    flat = a.reshape(5, -1)
    assert torch.cdist(flat, flat).fill_diagonal_(1.0).min() > 0.1


def test_seeded_choice_differs_but_is_deterministic() -> None:
    a = load_images(3, size=8, seed=1)
    assert torch.equal(a, load_images(3, size=8, seed=1))
    assert not torch.equal(a, load_images(3, size=8, seed=0))


def test_folder_of_pngs(tmp_path) -> None:
    from PIL import Image

    red = np.zeros((20, 30, 3), np.uint8)
    red[..., 0] = 255
    Image.fromarray(red).save(tmp_path / "a.png")
    Image.fromarray(np.full((16, 16), 128, np.uint8)).save(tmp_path / "b.png")
    (tmp_path / "notes.txt").write_text("not an image")
    x = load_images(2, size=4, source=tmp_path)
    assert x.shape == (2, 3, 4, 4)
    assert torch.allclose(x[0, 0], torch.ones(4, 4)) and float(x[0, 1:].abs().max()) == 0.0
    assert torch.allclose(x[1], torch.full((3, 4, 4), 128 / 255), atol=1e-3)


def _cifar_bytes(labels: list[int]) -> bytes:
    recs = []
    for i, lab in enumerate(labels):
        pix = np.zeros((3, 32, 32), np.uint8)
        pix[i % 3] = 10 * (i + 1)  # record i: one colour plane set to 10(i+1)
        recs.append(bytes([lab]) + pix.tobytes())
    return b"".join(recs)


def test_cifar_binary_batch_one_per_class_first(tmp_path) -> None:
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(_cifar_bytes([3, 3, 5, 0]))
    x = load_images(4, source=path)
    assert x.shape == (4, 3, 32, 32)
    # classes in order 0, 3, 5 first (records 3, 0, 2), then the remaining record 1
    assert float(x[0, 0, 0, 0]) == pytest.approx(40 / 255)
    assert float(x[1, 0, 0, 0]) == pytest.approx(10 / 255)
    assert float(x[2, 2, 0, 0]) == pytest.approx(30 / 255)
    assert float(x[3, 1, 0, 0]) == pytest.approx(20 / 255)
    assert load_images(2, size=8, source=path).shape == (2, 3, 8, 8)


@pytest.mark.parametrize(
    "content", [b"", b"\x00" * 100, b"\x0c" + b"\x00" * 3072], ids=["empty", "short", "label12"]
)
def test_malformed_cifar_file(tmp_path, content: bytes) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    with pytest.raises(ExperimentError) as err:
        load_images(1, source=path)
    assert err.value.argument == "--images" and "bad.bin" in str(err.value)


def test_missing_path_and_empty_folder(tmp_path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ExperimentError, match="nope") as err:
        load_images(1, source=missing)
    assert err.value.argument == "--images"
    with pytest.raises(ExperimentError, match="no PNG"):
        load_images(1, source=tmp_path)


def test_too_many_and_bad_n(tmp_path) -> None:
    with pytest.raises(ExperimentError) as err:
        load_images(0)
    assert err.value.argument == "n"
    path = tmp_path / "b.bin"
    path.write_bytes(_cifar_bytes([1]))
    with pytest.raises(ExperimentError, match="only 1"):
        load_images(2, source=path)


def test_synthetic_inputs() -> None:
    sq = square_images(10, size=6, seed=3)
    assert sq.shape == (10, 3, 6, 6) and set(torch.unique(sq).tolist()) <= {0.0, 1.0}
    assert (sq.reshape(10, -1).sum(1) > 0).all()
    g = gaussian_images(4, size=5, seed=1)
    assert torch.equal(g, gaussian_images(4, size=5, seed=1)) and g.shape == (4, 3, 5, 5)
    o = orthogonal_squares(2)
    assert o.shape == (2, 1, 2, 2)
    assert float((o[0] * o[1]).sum()) == 0.0 and o[0, 0, 0, 0] == 1 and o[1, 0, 1, 1] == 1


def _header_only_png(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width × height`` RGB pixels and whose data is not a
    zlib stream: readable by ``check_images`` (headers only), an error if decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = b"not a zlib stream"
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_only_the_images_a_run_takes_are_decoded(tmp_path) -> None:
    from PIL import Image

    Image.new("RGB", (12, 12), "red").save(tmp_path / "a0.png")
    Image.new("RGB", (12, 12), "blue").save(tmp_path / "a1.png")
    for i in range(40):  # sorted after a0, a1: never decoded when two images are asked
        (tmp_path / f"b{i:02d}.png").write_bytes(_header_only_png(16, 16))
    x = load_images(2, size=4, source=tmp_path)
    assert x.shape == (2, 3, 4, 4) and float(x[0, 0].min()) == 1.0 and float(x[1, 2].min()) == 1.0
    with pytest.raises(ExperimentError, match="not a readable image") as err:
        load_images(3, size=4, source=tmp_path)  # the third is decoded, and refused
    assert "b00.png" in str(err.value)


def test_a_large_picture_is_reduced_before_the_float_resize(tmp_path, monkeypatch) -> None:
    """A 1024×768 picture at size 8 reaches the float resize as a 64×64 (its 768×768
    centre box-reduced by 12) and gives nearly the image of the exact resize."""
    from PIL import Image
    from skimage.transform import resize

    import numerics._data as data

    ramp = np.add.outer(np.arange(768), np.arange(1024)) // 8
    rgb = np.stack([ramp, 255 - ramp, np.full_like(ramp, 90)], -1).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "big.png")
    seen: list[tuple[int, ...]] = []
    real = data._square_resize
    monkeypatch.setattr(data, "_square_resize", lambda a, s: seen.append(a.shape) or real(a, s))
    data._decode.cache_clear()
    x = load_images(1, size=8, source=tmp_path)[0].numpy()
    assert seen == [(64, 64, 3)]
    centre = rgb[:, 128:896].astype(np.float64) / 255
    exact = resize(centre, (8, 8), order=1, anti_aliasing=True, mode="reflect")
    assert float(np.abs(x - exact.transpose(2, 0, 1)).max()) < 0.05


def test_the_pixels_a_run_may_read_are_bounded_up_front(tmp_path) -> None:
    from numerics._data import MAX_IMAGE_PIXELS, MAX_PIXELS_READ, check_images

    side = int(MAX_IMAGE_PIXELS**0.5)  # 5792: each picture alone is accepted
    count = MAX_PIXELS_READ // (side * side) + 1
    for i in range(count):
        (tmp_path / f"{i}.png").write_bytes(_header_only_png(side, side))
    with pytest.raises(ExperimentError, match=r"more than 268435456 \(2\*\*28\)") as err:
        check_images(tmp_path)
    assert err.value.argument == "--images"
    (tmp_path / "0.png").unlink()
    assert check_images(tmp_path) == count - 1  # headers only: nothing decoded


def test_a_cifar_batch_is_read_record_by_record(tmp_path, monkeypatch) -> None:
    """Only the chosen records are read (the labels come in chunks): a 3000-record file
    gives its first two images (one per class first) from reads of at most 3 MiB."""
    import builtins

    path = tmp_path / "data_batch_1.bin"
    recs = np.zeros((3000, 3073), np.uint8)
    recs[:, 0] = 7
    recs[-1, 0] = 2
    recs[:, 1] = np.arange(3000) % 251  # pixel (R, 0, 0) tells the record
    path.write_bytes(recs.tobytes())
    sizes: list[int] = []
    real_open = builtins.open

    class Counting:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            sizes.append(n)
            return self.fh.read(n)

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: Counting(real_open(f, *a, **k)))
    x = load_images(2, source=path)
    assert 0 < max(sizes) <= 1024 * 3073
    # the classes in order (2: record 2999, 7: record 0) come first
    assert float(x[0, 0, 0, 0]) == pytest.approx(2999 % 251 / 255)
    assert float(x[1, 0, 0, 0]) == pytest.approx(0 / 255)


@pytest.mark.parametrize(
    ("files", "word"),
    [
        ({f"{i}.png": (5792, 5792) for i in range(9)}, "more than 268435456"),
        ({"a.png": (5793, 5793)}, "more than 33554432"),
        ({"a.png": (1, 2**25 + 1)}, "more than 33554432"),
    ],
    ids=["nine-largest-pictures", "one-past-the-largest", "a-thin-line-too-long"],
)
def test_too_many_pixels_is_one_line_before_anything_is_created(tmp_path, files, word) -> None:
    import io

    from verifier.cli import main

    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for name, (w, h) in files.items():
        (imgs / name).write_bytes(_header_only_png(w, h))
    out, err = io.StringIO(), io.StringIO()
    argv = ["experiment", "initialization", "--quick", "--images", str(imgs), "--out",
            str(tmp_path / "new")]  # fmt: skip
    assert main(argv, out, err) == 2
    line = err.getvalue()
    assert line.count("\n") == 1 and line.startswith("verify: error: --images: ") and word in line
    assert len(line) < 300 and not (tmp_path / "new").exists()
