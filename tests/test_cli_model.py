"""``verify masks --model FILE.pt2`` and ``verify probe``: the user's own saved model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _cli import run

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402


def save(model: nn.Module, shape: tuple[int, ...], path) -> str:
    program = torch.export.export(model.eval(), (torch.zeros(1, *shape),))
    torch.export.save(program, str(path))
    return str(path)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> str:
    """The paper's net: three 3×3 'same' convs, one filter, no bias, on 6×6 images."""
    torch.manual_seed(0)
    layers = [nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(3)]
    return save(nn.Sequential(*layers), (1, 6, 6), tmp_path_factory.mktemp("m") / "stack.pt2")


def test_the_papers_stack_saved_by_torch_gives_exactly_verify_masks(stack):
    code, out, _ = run("masks", "--model", stack, "--json")
    assert code == 0
    got = json.loads(out)
    want = json.loads(run("masks", "--size", "6", "--depth", "3", "--json")[1])
    assert got["mask"] == want["mask"]
    assert (got["forced_zeros"], got["full_support"]) == (want["forced_zeros"], False)
    assert got["linear"] is True and got["certified"] is True
    assert got["extra_depth"] == 5 - 3  # Theorem 4: s − 1 = 5 layers in all
    assert len(got["reach"]) == 36 and got["reach_min"] == 16


def test_a_unet_is_answered_in_words_with_its_notes(tmp_path):
    from torch.nn import functional as F

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(1, 4, 3, padding=1)
            self.b = nn.Conv2d(4, 4, 3, padding=1)
            self.c = nn.Conv2d(8, 1, 3, padding=1)

        def forward(self, x):
            e = torch.relu(self.a(x))
            m = F.interpolate(torch.relu(self.b(F.max_pool2d(e, 2))), scale_factor=2)
            return self.c(torch.cat([m, e], dim=1))

    path = save(UNet(), (1, 8, 8), tmp_path / "unet.pt2")
    code, out, err = run("masks", "--model", path, "--pixels", "0,0")
    assert code == 0 and err == ""
    assert "not linear" in out and "generic nonzero slopes" in out
    assert "output pixel (0,0) sees" in out
    rows = [line for line in out.splitlines() if line.startswith("  ") and set(line) <= set(" #.")]
    assert len(rows) == 8  # the reach of (0,0) drawn as the 8×8 input


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: str(p / "missing.pt2"), "--model: cannot read"),
        (lambda p: str(p / "x.pth"), "--model:"),
        (lambda p: (p / "dir.pt2").mkdir() or str(p / "dir.pt2"), "not a regular file"),
        (lambda p: (p / "junk.pt2").write_bytes(b"junk") and str(p / "junk.pt2"), "torch.export"),
    ],
    ids=["missing", "wrong-extension", "a-folder", "not-a-program"],
)
def test_a_bad_model_file_is_one_line_and_exit_2(tmp_path, make, needle):
    code, out, err = run("masks", "--model", make(tmp_path))
    assert code == 2 and out == ""
    assert needle in err and err.count("\n") == 1 and len(err) < 300


def test_options_of_the_papers_stacks_are_refused_with_a_model(stack):
    code, _, err = run("masks", "--model", stack, "--size", "6")
    assert code == 2 and "--size" in err and "not used by --model" in err


def test_masks_needs_a_size_or_a_model():
    code, _, err = run("masks", "--depth", "3")
    assert code == 2 and err.strip() == (
        "verify: error: --size: required (or --model FILE.pt2 for your own model)"
    )


def _projection_model(images: np.ndarray, onto: np.ndarray) -> nn.Module:
    """A linear autoencoder whose matrix is the orthogonal projection onto span(onto)."""
    d = images.shape[1] * images.shape[2]
    q, _ = np.linalg.qr(onto.reshape(len(onto), d).T)
    lin = nn.Linear(d, d, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(q @ q.T, dtype=torch.float32))
    return nn.Sequential(nn.Flatten(), lin, nn.Unflatten(1, (1, *images.shape[1:])))


@pytest.mark.slow
@pytest.mark.parametrize("right", [True, False], ids=["onto-the-images", "onto-other-images"])
def test_probe_measures_the_span_of_the_training_images(tmp_path, right):
    from PIL import Image

    rng = np.random.default_rng(0)
    images = rng.random((2, 6, 6))
    folder = tmp_path / "train"
    folder.mkdir()
    for i, img in enumerate(images):
        Image.fromarray((img * 255).round().astype(np.uint8)).save(folder / f"{i}.png")
    # the probe reads the PNGs back: project onto what it reads (8-bit levels)
    read = np.stack(
        [np.asarray(Image.open(folder / f"{i}.png"), dtype=float) / 255 for i in range(2)]
    )
    onto = read if right else rng.random((2, 6, 6))
    path = save(_projection_model(read, onto), (1, 6, 6), tmp_path / "p.pt2")
    code, out, err = run("probe", "--model", path, "--train", str(folder), "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["linear"] is True and rep["rank"] == 2
    assert (rep["span_angle"] < 1e-3) if right else (rep["span_angle"] > 0.3)
