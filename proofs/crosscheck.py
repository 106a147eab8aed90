"""Appendix D's matrices and Theorem 4's patterns, each computed along two independent paths.

Every structural check (Lemma 1's conv layer, Section 3.1's premise, Theorem 4 and its
corollaries) stands on two computations of symconv: the matrix ``M`` with
``M · vec(x) = vec(conv2d(x, w))`` (Appendix D; torch's ``conv2d`` is the cross-correlation

    out[o, i, j] = Σ_{c,p,q} w[o, c, p, q] · x[c, i·t − pad + p·dil, j·t − pad + q·dil],

zero outside the image), and the forced-zero pattern, read off the Kronecker factors
``channels ⊗ rows ⊗ cols`` of the network (entry (i, j) is a polynomial in the weights with
non-negative coefficients, zero for all weights exactly when no path joins the pixels).

This check recomputes both without symconv's tables and without torch, on random
non-square, multi-channel, strided, dilated and upsampling networks, with skip connections:

* **matrices** — the network is run forward on every unit vector by plain index arithmetic
  on padded arrays (integer weights and inputs, so the comparison is exact) and compared
  with ``conv_matrix``, ``network_matrix`` and ``network_matrix_mod``; a kernel flip
  (convolution instead of cross-correlation) or a transposed axis fails;
* **patterns** — with positive integer weights nothing can cancel, so the support of that
  directly built matrix *is* the forced-zero pattern; it is compared with the factored
  pattern (and its counts, ``full`` and single entries), with the sparse boolean product,
  with ``pattern_is_full`` and with the certificate's counts;
* **depth** — the least full depth of ``min_full_depth`` (endpoint maps) against boolean
  powers of the band built by index arithmetic, for kernels 1, 3, 5 and dilations 1, 2;
* **descriptions** — ``conv_stack`` against the network written out layer by layer (filters,
  channels, kernel, skip connections, weight count), and impossible descriptions (a zero
  size, an even kernel with "same" padding, a skip connection that changes the shape, ...)
  refused with the argument, the value and the reason named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._descriptions import REFUSALS, refusal_problems, stack_problems
from ._registry import register
from ._result import Evidence, Result

if TYPE_CHECKING:
    from symconv import Network

#: Fixed networks that a square, single-channel suite would never build (non-square,
#: multi-channel, strided, upsampling, skip connections).
_FIXED: tuple[tuple[tuple[int, int, int], tuple[tuple[Any, ...], ...]], ...] = (
    ((1, 2, 6), (("conv", 1, 2, 3, 1, None, 1), ("conv", 2, 1, 3, 1, None, 1))),
    ((3, 5, 5), (("conv", 3, 2, 3, 1, None, 1), ("conv", 2, 3, 3, 1, None, 1))),
    ((2, 4, 7), (("conv", 2, 3, 3, 2, 1, 1), ("up", 2), ("conv", 3, 1, 5, 1, None, 1))),
    ((2, 6, 3), (("conv", 2, 2, 3, 1, 2, 2), ("res", 2, 3), ("conv", 2, 2, 2, 1, 0, 1))),
    ((1, 3, 8), (("conv", 1, 2, 1, 1, None, 1), ("res", 2, 3), ("up", 3))),
)


def _layer(spec: tuple[Any, ...]) -> Any:
    from symconv import Conv2d, Residual, Upsample

    if spec[0] == "up":
        return Upsample(spec[1])
    if spec[0] == "res":
        return Residual((Conv2d(spec[1], spec[1], spec[2]),))
    _, c_in, c_out, k, stride, padding, dil = spec
    return Conv2d(c_in, c_out, k, stride=stride, padding=padding, dilation=dil)


def _random_spec(rng: np.random.Generator, channels: int) -> tuple[Any, ...]:
    kind = rng.choice(["conv", "conv", "conv", "up", "res"])
    if kind == "up":
        return ("up", int(rng.integers(2, 4)))
    if kind == "res":
        return ("res", channels, int(rng.choice([1, 3, 5])))
    k = int(rng.integers(1, 6))
    padding = None if k % 2 and rng.random() < 0.5 else int(rng.integers(0, 3))
    c_out = int(rng.integers(1, 4))
    return ("conv", channels, c_out, k, int(rng.integers(1, 4)), padding, int(rng.integers(1, 3)))


def random_networks(count: int, seed: int = 0) -> list[Network]:
    """``count`` random networks (the fixed ones first) whose images stay at most 9×9."""
    from symconv import Network, SymconvError

    nets = [Network(shape, tuple(_layer(s) for s in specs)) for shape, specs in _FIXED]
    rng = np.random.default_rng(seed)
    while len(nets) < count:
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        layers: list[Any] = []
        for _ in range(int(rng.integers(1, 4))):
            channels = Network(shape, tuple(layers)).out_shape[0]  # accepted: never refused
            try:
                candidate = Network(shape, (*layers, _layer(_random_spec(rng, channels))))
            except SymconvError:  # kernel larger than the padded image: draw again
                continue
            if max(candidate.out_shape[1:]) <= 9:
                layers = list(candidate.layers)
        if layers:
            nets.append(Network(shape, tuple(layers)))
    return nets[:count]


# --------------------------------------------------------------------------------------------
# the independent construction: index arithmetic on padded arrays, no symconv tables


def _out_len(n: int, k: int, stride: int, pad: int, dil: int) -> int:
    return (n + 2 * pad - dil * (k - 1) - 1) // stride + 1


def direct_conv(
    x: np.ndarray, w: np.ndarray, stride: int, pad: int, dil: int, *, flip: bool = False
) -> np.ndarray:
    """Cross-correlation of a batch ``x`` (N, C, H, W) with ``w`` (O, C, k, k), exact for
    integer arrays; ``flip=True`` is the convolution (the kernel turned by 180°)."""
    k = w.shape[2]
    if flip:
        w = w[:, :, ::-1, ::-1]
    n, _, h, width = x.shape
    h2, w2 = _out_len(h, k, stride, pad, dil), _out_len(width, k, stride, pad, dil)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, w.shape[0], h2, w2), dtype=x.dtype)
    rows = np.arange(h2) * stride
    cols = np.arange(w2) * stride
    for p in range(k):
        for q in range(k):
            patch = xp[:, :, rows[:, None] + p * dil, cols[None, :] + q * dil]  # (N, C, h2, w2)
            out += np.einsum("oc,nchw->nohw", w[:, :, p, q], patch)
    return out


def direct_forward(net: Network, weights: list[np.ndarray], x: np.ndarray, **kw: Any) -> Any:
    """The network applied to the batch ``x`` layer by layer (skip connections add)."""
    from symconv import Conv2d, Upsample

    pos = 0

    def run(layers: tuple[Any, ...], x: np.ndarray) -> np.ndarray:
        nonlocal pos
        for layer in layers:
            if isinstance(layer, Conv2d):
                w = weights[pos]
                pos += 1
                x = direct_conv(x, w, layer.stride, layer.pad, layer.dilation, **kw)
            elif isinstance(layer, Upsample):
                x = np.repeat(np.repeat(x, layer.scale, axis=2), layer.scale, axis=3)
            else:
                x = x + run(layer.body, x)
        return x

    return run(net.layers, x)


def direct_matrix(net: Network, weights: list[np.ndarray], **kw: Any) -> np.ndarray:
    """The end-to-end matrix: column j is the network applied to the j-th unit image."""
    eye = np.eye(net.in_dim, dtype=np.int64).reshape(net.in_dim, *net.in_shape)
    return direct_forward(net, weights, eye, **kw).reshape(net.in_dim, -1).T


def _conv_shapes(net: Network) -> list[tuple[int, int, int, int]]:
    from symconv import Conv2d, Residual

    out: list[tuple[int, int, int, int]] = []

    def walk(layers: tuple[Any, ...]) -> None:
        for layer in layers:
            if isinstance(layer, Conv2d):
                out.append((layer.out_channels, layer.in_channels, layer.kernel, layer.kernel))
            elif isinstance(layer, Residual):
                walk(layer.body)

    walk(net.layers)
    return out


def _weights(net: Network, rng: np.random.Generator, lo: int, hi: int) -> list[np.ndarray]:
    return [rng.integers(lo, hi, size=s, dtype=np.int64) for s in _conv_shapes(net)]


# --------------------------------------------------------------------------------------------
# the comparisons


#: Networks with at most this many matrix entries also go through sympy's exact product.
_SYMBOLIC_MAX = 144


def _symbolic_problems(net: Network, ws: list[np.ndarray], want: np.ndarray) -> list[str]:
    """``network_matrix_symbolic`` with the integer weights, and (for the smallest networks)
    with its symbols then those weights substituted, against the direct matrix."""
    from symconv import network_matrix_symbolic, symbolic_weights

    problems = []
    exact = np.array(network_matrix_symbolic(net, ws).tolist(), dtype=object)
    if exact.shape != want.shape or np.any(exact != want):
        problems.append("network_matrix_symbolic (integer weights) differs from the direct matrix")
    if net.in_dim * net.out_dim <= _SYMBOLIC_MAX // 4:
        names = symbolic_weights(net)
        values = {
            sym: int(v)
            for arr, w in zip(names, ws, strict=True)
            for sym, v in zip(arr.ravel(), w.ravel(), strict=True)
        }
        poly = network_matrix_symbolic(net).subs(values)
        if np.any(np.array(poly.tolist(), dtype=object) != want):
            problems.append("network_matrix_symbolic's polynomials, evaluated, differ")
    return problems


def _matrix_problems(net: Network, rng: np.random.Generator, flip: bool) -> list[str]:
    from symconv import Conv2d, conv_matrix, network_matrix, network_matrix_mod

    problems = []
    ws = _weights(net, rng, -4, 5)
    want = direct_matrix(net, ws, flip=flip)
    if net.out_dim != want.shape[0]:
        return [f"output shape {net.out_shape}, index arithmetic gives {want.shape[0]} entries"]
    got = network_matrix(net, [w.astype(float) for w in ws]).toarray()
    if not np.array_equal(got, want):
        problems.append(f"network_matrix differs in {int((got != want).sum())} entries")
    prime = 10_007
    got_mod = network_matrix_mod(net, ws, prime).toarray()
    if not np.array_equal(got_mod, want % prime):
        problems.append("network_matrix_mod differs from the direct matrix mod 10007")
    if net.in_dim * net.out_dim <= _SYMBOLIC_MAX and max(map(np.prod, net.shapes)) <= 64:
        problems += _symbolic_problems(net, ws, want)
    first = net.layers[0]
    if isinstance(first, Conv2d):
        w0 = ws[0]
        one = conv_matrix(w0.astype(float), net.in_shape, first).toarray()
        eye = np.eye(net.in_dim, dtype=np.int64).reshape(net.in_dim, *net.in_shape)
        d = direct_conv(eye, w0, first.stride, first.pad, first.dilation, flip=flip)
        if not np.array_equal(one, d.reshape(net.in_dim, -1).T):
            problems.append(f"conv_matrix of {first} differs from the cross-correlation")
    return problems


def _pattern_problems(net: Network, rng: np.random.Generator, order: str) -> list[str]:
    from symconv import certify, factored_pattern, network_pattern, pattern_is_full

    support = direct_matrix(net, _weights(net, rng, 1, 4)) != 0  # positive: nothing cancels
    problems = []
    if not np.array_equal(network_pattern(net, structured=False), support):
        problems.append("the sparse boolean product differs from the positive-weight support")
    if not np.array_equal(network_pattern(net), support):
        problems.append("network_pattern differs from the positive-weight support")
    if pattern_is_full(net) != bool(support.all()):
        problems.append(f"pattern_is_full says {pattern_is_full(net)}")
    f = factored_pattern(net)
    if f is not None:
        inner = np.kron(f.rows, f.cols) if order == "rows-cols" else np.kron(f.cols, f.rows)
        dense = np.kron(f.channels, inner).astype(bool)
        seen = (f.shape, f.nonzeros, f.forced_zeros, f.full)
        want = (support.shape, int(support.sum()), int((~support).sum()), bool(support.all()))
        if not np.array_equal(dense, support) or seen != want:
            problems.append(f"factored pattern (shape, nonzeros, zeros, full) {seen} != {want}")
        if not np.array_equal(f.dense(), support):
            problems.append("FactoredPattern.dense differs from the support")
        idx = rng.integers(0, support.size, 40)
        if any(
            f.entry(int(i), int(j)) != support[i, j]
            for i, j in zip(*np.unravel_index(idx, support.shape), strict=True)
        ):
            problems.append("FactoredPattern.entry differs from the support")
    cert = certify(net)
    nz = int(support.sum())
    if (cert.nonzeros, cert.forced_zeros, cert.contradicted) != (nz, support.size - nz, 0):
        problems.append(f"certificate {cert.describe()} against {nz} nonzeros")
    elif not cert.certified or cert.witnessed != nz:
        problems.append(f"certificate {cert.describe()}")
    return problems


def _guarded(compare: Any, net: Network, rng: np.random.Generator, claim: Any) -> list[str]:
    """The comparison's problems; symconv raising on a valid network is one of them (the
    independent construction has an answer there, so symconv disagrees with it)."""
    try:
        return list(compare(net, rng, claim))
    except Exception as exc:  # a symconv defect, reported as the disagreement it is
        return [f"raised {type(exc).__name__}: {exc}"]


def _caught(compare: Any) -> list[dict[str, Any]]:
    """The comparison's problems, symconv raising where it should answer being one."""
    try:
        return list(compare())
    except Exception as exc:  # a symconv defect, reported as the disagreement it is
        return [{"raised": f"{type(exc).__name__}: {exc}"}]


def band_power_depth(size: int, kernel: int, dilation: int, limit: int) -> int | None:
    """The least ``L ≥ 1`` with the L-th boolean power of the one-axis band full, the band
    built by index arithmetic (``B[i', i] = 1`` iff ``i = i' − pad + p·dil`` for a tap p)."""
    pad = dilation * (kernel - 1) // 2
    band = np.zeros((size, size), dtype=bool)
    for i_out in range(size):
        for p in range(kernel):
            i = i_out - pad + p * dilation
            if 0 <= i < size:
                band[i_out, i] = True
    power = band.copy()
    for depth in range(1, limit + 1):
        if power.all():
            return depth
        power = (band.astype(np.int64) @ power.astype(np.int64)) > 0
    return None


def _depth_problems(max_size: int) -> list[dict[str, Any]]:
    from symconv import depth_bound, min_full_depth

    bad = []
    for kernel in (1, 3, 5):
        for dil in (1, 2):
            for s in range(1, max_size + 1):
                got = min_full_depth(s, kernel, dilation=dil)
                want = band_power_depth(s, kernel, dil, 4 * s)
                formula = depth_bound(s, kernel) if dil == 1 else want
                if not got == want == formula:
                    bad.append({"kernel": kernel, "dilation": dil, "size": s, "computed": got,
                                "band_powers": want, "depth_bound": formula})  # fmt: skip
    return bad


def _network_problems(
    nets: list[Network], seed: int, flip: bool, factor_order: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each network's matrix problems and pattern problems, each naming its network."""
    rng = np.random.default_rng(seed)
    mats, pats = [], []
    for n, net in enumerate(nets):
        where = {"network": n, "in_shape": net.in_shape, "layers": repr(net.layers)}
        mats += [{**where, "problem": p} for p in _guarded(_matrix_problems, net, rng, flip)]
        pats += [
            {**where, "problem": p} for p in _guarded(_pattern_problems, net, rng, factor_order)
        ]
    return mats, pats


@register(
    "symconv.two-paths",
    title="Conv matrices and forced-zero patterns agree with an independent construction",
    statement="A convolution layer is the matrix M with M · vec(x) = vec(conv2d(x, w)) "
    "(cross-correlation, Appendix D), and the forced zeros of a linear network are the "
    "entries joined by no path of weights (Theorem 4's argument), for any image shape, "
    "channels, stride, padding, dilation, upsampling and skip connections.",
    method="On random non-square, multi-channel, strided and upsampling networks (and five "
    "fixed ones), the end-to-end matrix is built a second way: the network runs forward on "
    "every unit image by index arithmetic on padded arrays, with integer weights, and must "
    "equal symconv's matrices exactly (float and mod a prime). With positive integer "
    "weights nothing cancels, so the support of that matrix is the forced-zero pattern: "
    "it must equal the Kronecker-factored pattern and its counts, the sparse boolean "
    "product, pattern_is_full and the certificate's counts. The least full depth from "
    "endpoint maps must equal boolean powers of the band built by index arithmetic.",
    intuition=(
        "Two independent ways to the same matrix — symconv's tables and a plain forward "
        "pass by index arithmetic — must agree entry for entry; with positive weights "
        "nothing cancels, so the nonzero entries are exactly the paths of weights."
    ),
    assumptions=(
        "integer weights drawn per network (seeded), exact float and modular arithmetic",
        "random networks: non-square, multi-channel, strided, dilated, upsampling, skips",
    ),
    evidence="exact",
    reference="Appendix D; Theorem 4 (Section 3.1)",
    quick_params={"networks": 16, "max_size": 9},
    wrong=({"convention": "convolution"}, {"factor_order": "cols-rows"}),
)
def check_two_paths(
    *,
    quick: bool = False,
    networks: int = 40,
    max_size: int = 14,
    seed: int = 0,
    convention: str = "cross-correlation",
    factor_order: str = "rows-cols",
) -> Result:
    """``convention="convolution"`` (the kernel flipped) and ``factor_order="cols-rows"``
    (the pattern as channels ⊗ cols ⊗ rows) are the wrong variants."""
    nets = random_networks(networks, seed)
    mats, pats = _network_problems(nets, seed, convention == "convolution", factor_order)
    depth = _caught(lambda: _depth_problems(max_size))
    described = _caught(stack_problems) + _caught(refusal_problems)
    parts = [
        Result.verdict(
            not mats,
            Evidence.EXACT,
            f"matrices: {len(nets)} networks equal the index-arithmetic {convention}",
            fail_lead=f"symconv's matrices are not the {convention}",
            counterexamples=mats,
        ),
        Result.verdict(
            not pats,
            Evidence.EXACT,
            f"patterns: {len(nets)} networks, factored ({factor_order}) = sparse product = "
            "positive-weight support = certificate",
            fail_lead="the forced-zero pattern disagrees with the positive-weight support",
            counterexamples=pats,
        ),
        Result.verdict(
            not depth,
            Evidence.EXACT,
            f"least full depth = band powers for s ≤ {max_size}, kernels 1, 3, 5, dilation 1, 2",
            fail_lead="min_full_depth disagrees with the band powers",
            counterexamples=depth,
        ),
        Result.verdict(
            not described,
            Evidence.EXACT,
            f"descriptions: conv_stack equals its layer-by-layer description, and "
            f"{len(REFUSALS)} impossible descriptions are refused, naming the argument",
            fail_lead="a network description is built or refused wrongly",
            counterexamples=described,
        ),
    ]
    return Result.combine(
        Evidence.EXACT,
        parts,
        f"{len(nets)} random and fixed networks (non-square, multi-channel, strided, "
        "upsampling, skip connections): symconv's matrices are the cross-correlation and its "
        "patterns the positive-weight support, by index arithmetic without symconv's tables",
        fail_lead="symconv disagrees with the independent construction",
        networks=len(nets),
    )
