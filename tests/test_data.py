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
