# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Memorization in overparameterized autoencoders: a guided walkthrough
#
# This notebook follows the arc of the paper (Radhakrishnan, Belkin, Uhler) in eight steps.
# Each step asks a question first: **predict the answer**, then run the cell and read the
# answer below it. Every number is computed here, with the toolkit's own packages
# (`symconv` for the exact forced-zero patterns, `paperdata` for the printed tables), or read
# from the committed full-size results in `docs/results/`. The whole notebook runs in well
# under a minute on a laptop CPU; the test suite executes it.
#
# The same steps are presets of the explorer page: `verify explore --out lesson.html`, then
# the buttons "1 · the span" … "8 · nonlinear".
#
# Open it as a notebook with `jupytext --to notebook docs/walkthrough.py` (or in Jupyter
# with the jupytext extension), or run it as a script: `python docs/walkthrough.py`.

# %%
import ast
import json
from pathlib import Path

import numpy as np

from paperdata import TABLE1, downsampling_net
from symconv import (
    Conv2d,
    conv_entries,
    conv_stack,
    factored_pattern,
    heuristic_depth,
    min_full_depth,
    min_full_depth_of,
    network_pattern,
)


def repo_root() -> Path:
    """The checkout: the first folder upwards that holds docs/results."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "docs" / "results").is_dir():
            return folder
    raise FileNotFoundError("run the walkthrough from inside the repository")


RESULTS = repo_root() / "docs" / "results"


def mask(size: int, depth: int, **kw: int) -> np.ndarray:
    """The d×d forced-zero pattern (True = reachable), as `verify masks --json` gives it."""
    pat = factored_pattern(conv_stack(size, depth, **kw))
    assert pat is not None
    return pat.dense()


def show_reach(m: np.ndarray, size: int, pixel: tuple[int, int]) -> None:
    """The input pixels one output pixel reaches: # reached, . forced zero."""
    row = m[pixel[0] * size + pixel[1]].reshape(size, size)
    for r in range(size):
        print("   " + " ".join("#" if v else "." for v in row[r]))


# %% [markdown]
# ## Step 1 · A fully connected autoencoder trained from zero lands in the span
#
# A linear autoencoder is one matrix A (d×d). Train it by gradient descent on
# ½ Σᵢ ‖xᵢ − A xᵢ‖² from A = 0, on n = 2 images in d = 9 dimensions (3×3 images).
#
# **Predict:** after training, what does A do to an input it has never seen, say pure noise?
# Does it return the noise, a blur of it, or something else?

# %%
rng = np.random.default_rng(0)
d, n = 9, 2
X = rng.standard_normal((d, n))  # the training images as columns
S = X @ X.T
gamma = 0.9 / np.linalg.eigvalsh(S).max()  # a step below 1/λ₁ (Theorem 1)
A = np.zeros((d, d))
for _ in range(2000):
    A += gamma * (np.eye(d) - A) @ S  # the gradient step of Theorem 1

projection = X @ np.linalg.pinv(X)  # X X⁺: the orthogonal projection onto span(X)
noise = rng.standard_normal(d)
out = A @ noise
off_span = np.linalg.norm(out - projection @ out) / np.linalg.norm(out)
print("‖A − X X⁺‖ =", f"{np.linalg.norm(A - projection):.1e}")
print("eigenvalues of A:", np.round(np.sort(np.abs(np.linalg.eigvals(A)))[::-1], 6))
print("distance of A·noise from span(X), relative:", f"{off_span:.1e}")
assert np.linalg.norm(A - projection) < 1e-8 and off_span < 1e-8

# %% [markdown]
# **Answer.** A lands on X X⁺, the projection onto the span of the two training images
# (Theorem 1): eigenvalue 1 twice (the training images are kept), 0 seven times, and every
# output, even on noise, is a combination of the training images. Gradient descent from zero
# never moves A outside the directions the data span. This is what the paper calls
# *memorization*. (`verify check numeric.fc-linear` trains the same net in torch.)

# %% [markdown]
# ## Step 2 · One convolutional layer's matrix has forced zeros
#
# A 3×3 convolution (zero padding 1) on s×s images is also a d×d matrix, d = s², but each
# output pixel only sees its 3×3 neighbourhood: most entries are 0 *whatever the weights*.
#
# **Predict:** on 5×5 images, how many of the 625 entries of one layer's matrix can ever be
# nonzero?

# %%
s = 5
one = mask(s, 1)
print(f"reachable entries: {int(one.sum())} of {one.size}; forced zeros: {one.size - one.sum()}")
print("output pixel (0,0) sees:")
show_reach(one, s, (0, 0))
assert one.sum() == (3 * s - 2) ** 2

# %% [markdown]
# **Answer.** (3s − 2)² = 169: per image axis the layer is a band with 3s − 2 ones. The other
# 456 entries are *forced zeros*. Lemma 1 says such a matrix cannot memorize an arbitrary
# image x: memorizing x means being the projection x xᵀ / xᵀx, whose (i, j) entry xᵢxⱼ/‖x‖²
# is nonzero for almost every x.
#
# *Objection:* the filter with only its centre tap is the identity, full of forced zeros, and
# it maps x to x. Yes, but it maps *every* image to itself: it reproduces, it does not
# memorize. Lemma 1 is about the projection onto an arbitrary (generic) training image.
# `verify explain lemma1.forced-zero` states the assumptions.

# %% [markdown]
# ## Step 3 · The reach grows one pixel per layer
#
# Stacking layers multiplies their matrices; an entry of the product is nonzero exactly
# when some path of filter taps joins the two pixels.
#
# **Predict:** on 6×6 images, which input pixels does output pixel (0,0) reach after L
# layers? At which depth does it first reach the opposite corner (5,5)?

# %%
s = 6
for L in range(1, 6):
    m = mask(s, L)
    print(f"L = {L}: reaches {int(m[0].sum())} pixels, (5,5) reached: {bool(m[0, s * s - 1])}")
    assert m[0].sum() == min(L + 1, s) ** 2
show_reach(mask(s, 3), s, (0, 0))

# %% [markdown]
# **Answer.** The (L+1)×(L+1) square at the corner: each 3×3 layer widens the reach by one
# pixel each way. (5,5) is five steps away, so it is reached at L = 5 = s − 1, and not
# before. In the explorer, step 3 and the ▶ play button animate this.

# %% [markdown]
# ## Step 4 · So s − 1 layers are needed (Theorem 4); the corner-to-corner entry fills last
#
# **Predict:** for s = 2 … 12, what is the least depth at which no entry is forced to zero?
# Which entry is the last to fill?

# %%
for s in range(2, 13):
    least = min_full_depth(s, 3)
    before = mask(s, least - 1) if least > 1 else None
    zeros = 0 if before is None else before.size - before.sum()
    last = "" if before is None else f", zeros left at L = {least - 1}: {zeros}"
    print(f"s = {s:2}: least full depth {least}{last}")
    assert least == s - 1
    if before is not None:
        assert not before[0, s * s - 1]  # output (0,0) ← input (s−1, s−1)

# %% [markdown]
# **Answer.** s − 1, for every s (Theorem 4; `verify check thm4.all-sizes` proves it for all
# s). At depth s − 2 the entry joining output (0,0) and input (s−1, s−1) (and the other
# entries joining pixels s − 1 steps apart) is still forced to zero: the corner-to-corner
# entry is the last to fill.

# %% [markdown]
# ## Step 5 · Filters do not help
#
# **Predict:** give every hidden layer 4 or 16 filters instead of one. Do fewer entries stay
# forced to zero at depth 3 on 5×5 images?

# %%
s, L = 5, 3
base = mask(s, L)
for F in (1, 4, 16):
    # network_pattern: the sparse boolean product of the full layer patterns, every channel
    full = np.asarray(network_pattern(conv_stack(s, L, filters=F))) != 0
    print(f"F = {F:2}: forced zeros {full.size - full.sum()}")
    assert (full == base).all()

# %% [markdown]
# **Answer.** The same 96 for every F. Filters add parallel paths between the same pixels;
# whether *some* path joins two pixels depends only on the spatial reach. Theorem 4 holds
# "regardless of the number of filters" (`verify check thm4.filters-invariant`).

# %% [markdown]
# ## Step 6 · s − 1 is necessary, not sufficient (Table 1, ⌈s⁴/9⌉)
#
# At depth s − 1 no entry is forced to zero, so Lemma 1 no longer rules memorization out.
#
# **Predict:** does a network with exactly s − 1 layers memorize? Try the smallest case:
# s = 2, where s − 1 = 1 layer already has full support. Train one single-filter layer on one
# 2×2 image, then five layers.


# %%
def train_single_filter(size: int, depth: int, seed: int, init: float = 0.2) -> np.ndarray:
    """Gradient descent (step 0.1) on mean((A x − x)²), L single-filter 3×3 layers from
    weights uniform in ±init, until the loss is below 1e-10 (at most 6000 steps); returns
    the end-to-end matrix A."""
    r = np.random.default_rng(seed)
    dd = size * size
    x = r.standard_normal(dd)
    w = r.uniform(-init, init, size=(depth, 9))
    rows, cols, taps = conv_entries(Conv2d(1, 1, 3, padding=1), (1, size, size))

    def layer(k: int) -> np.ndarray:
        m = np.zeros((dd, dd))
        m[rows, cols] = w[k][taps]
        return m

    for _ in range(6000):
        ms = [layer(k) for k in range(depth)]
        qs = [x]
        for m in ms:
            qs.append(m @ qs[-1])
        resid = qs[-1] - x
        if resid @ resid / dd < 1e-10:
            break
        g = 2 * resid / dd
        for k in range(depth - 1, -1, -1):
            grad = np.bincount(taps, weights=g[rows] * qs[k][cols], minlength=9)
            g = ms[k].T @ g
            w[k] -= 0.1 * grad
    a = np.eye(dd)
    for k in range(depth):
        a = layer(k) @ a
    return a


for L in (1, 5):
    spectrum = np.sort(np.abs(np.linalg.eigvals(train_single_filter(2, L, seed=0))))[::-1]
    print(f"s = 2, L = {L}: spectrum {np.round(spectrum, 3)}")
shallow = np.sort(np.abs(np.linalg.eigvals(train_single_filter(2, 1, seed=0))))[::-1]
deep = np.sort(np.abs(np.linalg.eigvals(train_single_filter(2, 5, seed=0))))[::-1]
assert shallow[1] > 0.5 and abs(deep[0] - 1) < 0.01 and deep[1] < 0.2

print("\nTable 1 (3×3 images, 2 training images; memorizing = spectrum (1, 1, 0, ...)):")
measured = {}
for row in json.loads((RESULTS / "table1.json").read_text())["rows"]:
    measured.setdefault((row["layers"], row["filters_printed"]), row)
for t in TABLE1:
    got = measured.get((t.layers_printed, t.filters))
    spec = "not in the committed run" if got is None else np.round(got["spectrum"][:4], 2)
    print(f"  L = {t.layers_printed} (s − 1 = 2), F = {t.filters:3}: {spec}")
print("heuristic ⌈s⁴/9⌉:", {s: heuristic_depth(s) for s in range(2, 8)})

# %% [markdown]
# **Answer.** No. With one layer (s − 1 = 1, full support) the trained 2×2 net ends with
# several eigenvalues near 1: it fits the image but passes most other inputs through, so it
# does not memorize. Five layers reach the spectrum (1, ~0, ~0, ~0) of the projection onto
# the training image. On 3×3 images, Table 1's rows (L = 2, 5, 8 ≥ s − 1 and F = 1, 16,
# 128) all have full support, yet none memorizes its two images in the committed full run:
# at L = 2 many eigenvalues stay near 1; deeper rows come closer (at L = 8 the third
# eigenvalue is about 0.1) but no seed reaches (1, 1, 0, …), and the number of filters
# changes little. Full support only removes Lemma 1's obstacle. The paper's heuristic asks
# for ⌈s⁴/9⌉ single-filter layers, as many weights as a fully connected layer (s⁴), and
# Table 2's networks memorize at that depth (`docs/results/table2.json`).

# %% [markdown]
# ## Step 7 · Downsampling cuts the depth (Section 4)
#
# Section 4's network: one stride-2 3×3 layer (s×s → s/2×s/2), L layers at size s/2, then
# ×2 nearest upsampling.
#
# **Predict:** how many layers at size s/2 remove every forced zero on s×s images?

# %%
for s in range(4, 17, 2):
    down = min_full_depth_of(lambda L, s=s: downsampling_net(s, L), 2 * s)
    print(f"s = {s:2}: plain stack s − 1 = {s - 1:2}, with downsampling {down}")
    assert down == s // 2 - 1

# %% [markdown]
# **Answer.** s/2 − 1: after the stride-2 layer the image is half as wide, so each 3×3 layer
# still covers one of only s/2 − 1 steps, and the upsampling copies pixels without adding a
# forced zero. (`verify depth --size 2..32 --downsample 2`; explorer step 7.) Like s − 1,
# this removes an obstacle; Section 4's experiments train such networks to memorize with
# far fewer layers than ⌈s⁴/9⌉.

# %% [markdown]
# ## Step 8 · Nonlinear networks output single training images (Section 5)
#
# The paper trains the network of its Figure 2a on 10 CIFAR-10 images, once with leaky ReLU
# activations and once linear (Figure 6).
#
# **Predict:** feed Gaussian noise and apply the trained net again and again. Where does the
# output end up: at a blend of the training images, or at one of them?

# %%
rows = {r["key"]: r for r in json.loads((RESULTS / "nonlinear.json").read_text())["rows"]}
for key in ("fig6-nonlinear", "fig6-linear"):
    metrics = rows[key]["metrics"]  # a dict, or its repr in older result files
    gauss = (metrics if isinstance(metrics, dict) else ast.literal_eval(metrics))["gaussian"]
    print(
        f"{key:15}: of {gauss['n']} noise inputs, {gauss['iterated_landed']:.0%} end on a single "
        f"training image (up to scale) after iterating; distance of one output to the span of "
        f"the training images, median {gauss['span_median']:.2f}"
    )
assert rows["fig6-nonlinear"]["metrics"] and (RESULTS / "nonlinear-fig6-nonlinear.png").is_file()

# %% [markdown]
# **Answer.** Iterated, the nonlinear net sends noise inputs onto one individual training
# image: the training images act as attracting fixed points ("strong memorization"). In the
# committed run 36 % of them get there within 20 iterations; a run of the same code and seed
# with other float32 round-off sent 100 % (the README's note on Figure 6a), so this one seed
# shows the effect, not how strong it is. The linear net can only output points of their
# span, and none of its iterates lands on a single image. The pictures are
# `docs/results/nonlinear-fig6-nonlinear.png` and `nonlinear-fig6-linear.png`;
# `verify experiment nonlinear` reruns it (the committed run is the full-size one, about
# ten minutes on a CPU).
#
# ## Where to go next
#
# * `verify explain thm4.depth-bound`, `verify explain lemma1.forced-zero`: each claim, its
#   idea, its assumptions and how it is checked.
# * `verify explore --out lesson.html`: the explorer with these steps as presets and a small
#   training demo.
# * `verify report --out report/`: every check and experiment on one page.
