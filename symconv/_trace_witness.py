"""Certificates for the pattern of a linear traced model: integer witnesses mod p.

As in ``symconv._certify``: an entry of the end-to-end matrix is a polynomial in the weights;
its value at integer weights, reduced mod a prime ``p``, is zero whenever the polynomial is,
so a nonzero residue proves the entry is not identically zero. Here the witness is the
graph itself, evaluated on one-hot inputs in exact integer arithmetic mod
:data:`TRACE_PRIME`: every convolution with random integer weights in ``[1, p)`` (torch's
own conv op, float64 — every partial sum is an integer below 2**53, so exact), batch norm
with a random integer scale per channel, constant factors (``x * 0.5``, ``alpha``) and the
fixed coefficients of pooling and interpolation as the exact rationals torch computes them
(``T[i', i]`` read off one-hot probes), additions, concatenations and views as they are.
Biases and other constants drop out (the pattern is the Jacobian's). Every entry the pattern
calls nonzero must get a nonzero residue in some try; any residue where the pattern has a
zero would be a bug in the pattern (``contradicted``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from ._trace_graph import (
    BN,
    DENSE,
    SEP,
    Graph,
    args_of,
    conv_info,
    kind_of,
    map_nodes,
    meta_shape,
    node_inputs,
    op_name,
)

if TYPE_CHECKING:
    import torch
    from torch.fx import Node

__all__ = ["TRACE_PRIME", "CannotWitness", "certify_graph", "kron_certify"]

#: 2**20 − 3, prime: products of two residues are below 2**40, so a convolution with fan-in
#: up to 2**13 sums exactly in float64.
TRACE_PRIME = 1_048_573
_MAX_FAN_IN = 2**53 // (TRACE_PRIME - 1) ** 2
#: data-movement ops that keep the order of the entries
_RESHAPES = {"view", "reshape", "_unsafe_view", "flatten", "unflatten", "squeeze", "unsqueeze",
             "clone", "contiguous", "view_as", "alias"}  # fmt: skip


class CannotWitness(Exception):
    """The witness cannot evaluate this graph exactly (the reason is the message)."""


def _mod(x: torch.Tensor, p: int) -> torch.Tensor:
    """``x mod p`` for the non-negative integers (in float64) of the witness."""
    import torch

    return torch.fmod(x, p)


def _modp(x: float, p: int = TRACE_PRIME) -> int:
    f = Fraction(x)
    return f.numerator * pow(f.denominator, -1, p) % p


def _axis_values(
    graph: Graph, node: Node, axis: int, fixed: tuple[int, int], **overrides: Any
) -> np.ndarray:
    """``out(e_a ⊗ e_fixed)`` read at the fixed output line, for every input line ``a``."""
    import torch

    inp = args_of(node)[0]
    _, _, h, w = meta_shape(inp)
    n = h if axis == 0 else w
    x = torch.zeros((n, 1, h, w), dtype=torch.float64)
    idx = torch.arange(n)
    if axis == 0:
        x[idx, 0, idx, fixed[0]] = 1.0
    else:
        x[idx, 0, fixed[0], idx] = 1.0
    out = graph.call(node, {inp.name: x}, **overrides)
    if isinstance(out, (tuple, list)):
        out = out[0]
    line = out[:, 0, :, fixed[1]] if axis == 0 else out[:, 0, fixed[1], :]
    return line.numpy().T.copy()  # (n_out, n_in)


def separable_values(graph: Graph, node: Node, **overrides: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(T_r, T_c)`` mod p of a linear per-channel op, exactly: ``op = T_r ⊗ T_c`` (for a
    convolution, ``overrides`` give it one channel and a separable kernel ``u ⊗ v``)."""
    tr, tc = graph.axes(node)
    j0 = int(np.flatnonzero(tc.any(axis=0))[0])
    j1 = int(np.flatnonzero(tc[:, j0])[0])
    i0 = int(np.flatnonzero(tr.any(axis=0))[0])
    i1 = int(np.flatnonzero(tr[:, i0])[0])
    r_hat = _axis_values(graph, node, 0, (j0, j1), **overrides)  # T_r · T_c[j1, j0]
    c_hat = _axis_values(graph, node, 1, (i0, i1), **overrides)  # T_r[i1, i0] · T_c
    scale = Fraction(float(r_hat[i1, i0]))  # T_r[i1, i0] · T_c[j1, j0]
    return _rational_mod(r_hat, scale), _rational_mod(c_hat, Fraction(1))


def _rational_mod(a: np.ndarray, scale: Fraction) -> np.ndarray:
    """``a / scale`` mod p, entry by entry, each float an exact dyadic rational (a pooling
    or interpolation matrix has few distinct values: convert each once)."""
    values, inverse = np.unique(a, return_inverse=True)
    mods = np.array([_frac_mod(Fraction(float(v)) / scale) for v in values], dtype=np.int64)
    return mods[inverse].reshape(a.shape)


def _frac_mod(f: Fraction, p: int = TRACE_PRIME) -> int:
    return f.numerator * pow(f.denominator, -1, p) % p


def _selection(t: np.ndarray) -> bool:
    return bool(((t == 0) | (t == 1)).all() and (t.sum(axis=1) == 1).all())


def _one_axis(x: torch.Tensor, t: np.ndarray, p: int, axis: int) -> torch.Tensor:
    """``T`` (integers mod p) applied along ``axis`` (2 = rows, 3 = columns) of ``x``: a
    gather when ``T`` is a 0/1 selection (nearest upsampling), else one matrix product."""
    import torch

    if _selection(t):
        return x[:, :, torch.from_numpy(t.argmax(axis=1))] if axis == 2 else (
            x[..., torch.from_numpy(t.argmax(axis=1))])  # fmt: skip
    tt = torch.from_numpy(t.astype(np.float64))
    if axis == 3:
        b, c, h, w = x.shape
        return _mod(x.reshape(-1, w) @ tt.T, p).reshape(b, c, h, -1)
    b, c, h, w = x.shape
    rows = x.permute(2, 0, 1, 3).reshape(h, -1)
    return _mod(tt @ rows, p).reshape(-1, b, c, w).permute(1, 2, 0, 3)


def _separable(x: torch.Tensor, tr: np.ndarray, tc: np.ndarray, p: int) -> torch.Tensor:
    return _one_axis(_one_axis(x, tr, p, 2), tc, p, 3).contiguous()


class _Witness:
    """One evaluation of the graph's linear part at random integer weights mod p."""

    def __init__(self, graph: Graph, rng: np.random.Generator) -> None:
        self.graph, self.rng, self.p = graph, rng, TRACE_PRIME
        self.weights: dict[str, Any] = {}

    def _ints(self, key: str, shape: tuple[int, ...]) -> torch.Tensor:
        import torch

        if key not in self.weights:
            a = self.rng.integers(1, self.p, shape, dtype=np.int64)
            self.weights[key] = torch.from_numpy(a.astype(np.float64))
        return self.weights[key]

    def run(self, x: torch.Tensor) -> torch.Tensor:
        env: dict[str, Any] = {}
        inp = self.graph.user_inputs[0]
        for node in self.graph.nodes:
            if node.op == "placeholder":
                env[node.name] = x if node is inp else None
            elif node.op == "call_function":
                ins = node_inputs(node)
                if all(env[n.name] is None for n in ins):
                    env[node.name] = None
                else:
                    env[node.name] = self._step(node, env)
            elif node.op == "output":
                outs = [o for o in map_nodes(args_of(node)[0], lambda n: n) if o is not None]
                return env[outs[0].name]
        raise AssertionError("graph without output")

    def _step(self, node: Node, env: dict[str, Any]) -> Any:

        g, p = self.graph, self.p
        name = op_name(node.target)
        kind = kind_of(name)
        if kind == "getitem":
            return env[args_of(node)[0].name][args_of(node)[1]]
        if kind == "move":
            return self._move(node, env)
        if kind == "binary":
            return self._binary(node, env)
        if kind == "dense":
            x = env[args_of(node)[DENSE[name]].name]
            d_in, d_out = x.shape[1], meta_shape(node)[-1]
            if d_in > _MAX_FAN_IN:
                raise CannotWitness(f"fan-in {d_in} of {node.name} exceeds {_MAX_FAN_IN}")
            return _mod(x @ self._ints(node.name, (d_in, d_out)), p)
        x = env[args_of(node)[0].name]
        if kind == "point":
            return _mod(p - x, p) if name == "neg" else x
        if kind == "conv":
            info = conv_info(node)
            wshape = meta_shape(info.weight)
            k = int(np.prod(wshape[2:]))
            fan_in = (wshape[0] // info.groups if info.transposed else wshape[1]) * k
            if fan_in > _MAX_FAN_IN:
                raise CannotWitness(f"fan-in {fan_in} of {node.name} exceeds {_MAX_FAN_IN}")
            w = self._ints(node.name, wshape)
            out = g.call(node, {args_of(node)[0].name: x, info.weight.name: w}, a2=None)
            return _mod(out, p)
        if kind == "sep" and SEP[name]:
            key = node.name + "/T"
            if key not in self.weights:
                self.weights[key] = separable_values(g, node)
            tr, tc = self.weights[key]
            if _selection(tr) and _selection(tc):  # nearest: the op itself copies exactly
                return g.call(node, {args_of(node)[0].name: x})
            return _separable(x, tr, tc, p)
        if kind == "bn" and name in BN:
            c = x.shape[1]
            out = _mod(x * self._ints(node.name, (c,))[None, :, None, None], p)
            return (out, None, None) if name.startswith(("_native", "native")) else out
        raise CannotWitness(f"{name} is not linear")

    def _scalar(self, node: Node, value: Any, key: str) -> Any:
        """A constant factor mod p: exact for a number, random (a weight) for a tensor."""
        import torch

        if isinstance(value, (int, float)):
            return _modp(float(value))
        t = self.graph.constants.get(value.name) if hasattr(value, "name") else None
        if t is not None and t.numel() == 1:
            return _modp(float(t.reshape(-1)[0]))
        shape = meta_shape(value) if hasattr(value, "name") else tuple(torch.as_tensor(value).shape)
        return self._ints(key, tuple(shape))

    def _binary(self, node: Node, env: dict[str, Any]) -> Any:

        p = self.p
        name = op_name(node.target)
        a_node, b_node = args_of(node)[0], args_of(node)[1]
        a = env[a_node.name] if hasattr(a_node, "name") else None
        b = env[b_node.name] if hasattr(b_node, "name") else None
        kwargs: Any = node.kwargs
        alpha = _modp(float(kwargs.get("alpha", 1)))
        if name in ("add", "sub", "rsub"):
            # add: a + alpha·b; sub: a − alpha·b; rsub: b − alpha·a
            first, second = (b, a) if name == "rsub" else (a, b)
            coef = alpha if name == "add" else (p - alpha) % p
            terms = [] if first is None else [first]
            if second is not None:
                terms.append(_mod(second * coef, p))
            return terms[0] if len(terms) == 1 else _mod(terms[0] + terms[1], p)
        # mul / div with exactly one input-dependent operand (the pattern pass checked)
        live, other = (a, b_node) if a is not None else (b, a_node)
        factor = self._scalar(node, other, node.name)
        if name == "div":
            if isinstance(factor, int):
                factor = pow(factor, -1, p)
            # a random weight's inverse is another random weight: keep it
        return _mod(live * factor, p)

    def _move(self, node: Node, env: dict[str, Any]) -> Any:
        import torch

        ins = node_inputs(node)
        replace: dict[str, Any] = {}
        flats, offset, batch = [], 0, None
        for n in ins:
            shape = meta_shape(n)
            size = int(np.prod(shape))
            replace[n.name] = torch.arange(offset, offset + size, dtype=torch.float64).reshape(
                shape
            )
            v = env[n.name]
            if v is not None:
                batch = v.shape[0]
            flats.append(v)
            offset += size
        assert batch is not None
        sizes = [int(np.prod(meta_shape(n))) for n in ins]
        if len(ins) == 1 and op_name(node.target) in _RESHAPES:
            return flats[0].reshape(batch, *meta_shape(node)[1:])
        cat = torch.cat(
            [v.reshape(batch, -1) if v is not None else torch.zeros(batch, s, dtype=torch.float64)
             for v, s in zip(flats, sizes, strict=True)] + [torch.zeros(batch, 1,
             dtype=torch.float64)], dim=1,
        )  # fmt: skip
        overrides: dict[str, Any] = {}
        name = op_name(node.target)
        if name == "constant_pad_nd":
            overrides["a2"] = -1.0
        elif name == "pad" and (len(args_of(node)) < 3 or args_of(node)[2] == "constant"):
            overrides["a2"], overrides["a3"] = "constant", -1.0
        out = self.graph.call(node, replace, **overrides)

        def gather(t: torch.Tensor) -> torch.Tensor:
            idx = torch.round(t).to(torch.int64)
            if idx.dim() == 0 or idx.shape[0] != 1:
                raise CannotWitness(f"{node.name} reshapes the batch dimension")
            idx = torch.where(idx < 0, torch.full_like(idx, offset), idx)
            return cat[:, idx.reshape(-1)].reshape(batch, *idx.shape[1:])

        if isinstance(out, (tuple, list)):
            return tuple(gather(t) for t in out)
        return gather(out)


def _kron_step(graph: Graph, node: Node, env: dict[str, Any], rng: np.random.Generator) -> Any:
    """One node of the separable witness: a value is ``(A, R, K)`` mod p, the matrix
    ``A ⊗ R ⊗ K`` (channels, rows, columns), as ``symconv._certify`` evaluates its stacks."""

    from ._certify import _matmul_mod

    p = TRACE_PRIME
    name = op_name(node.target)
    kind = kind_of(name)
    x = env.get(args_of(node)[0].name) if hasattr(args_of(node)[0], "name") else None
    if x is None or any(env.get(n.name) is not None for n in node_inputs(node)[1:]):
        raise CannotWitness(f"{name}: not a chain of separable layers")
    a, r, k = x
    if kind == "point" and name != "neg":
        return x
    if kind == "bn" and name in BN:
        s = rng.integers(1, p, a.shape[0], dtype=np.int64)
        out = ((s[:, None] * a) % p, r, k)
        return (out, None, None) if name.startswith(("_native", "native")) else out
    if kind == "sep" and SEP[name]:
        tr, tc = separable_values(graph, node)
        return a, _matmul_mod(tr, r, p), _matmul_mod(tc, k, p)
    if kind != "conv":
        raise CannotWitness(f"{name}: not a chain of separable layers")
    info = conv_info(node)
    wshape = meta_shape(info.weight)
    c_out = meta_shape(node)[1]
    g = info.groups
    cin = a.shape[0]
    mix = rng.integers(1, p, (c_out, cin), dtype=np.int64)
    grp_out, grp_in = np.arange(c_out) // (c_out // g), np.arange(cin) // (cin // g)
    mix[grp_out[:, None] != grp_in[None, :]] = 0  # a group sees only its own channels
    row_taps, col_taps = graph.taps(node)
    u = rng.integers(1, p, wshape[2], dtype=np.int64)
    v = rng.integers(1, p, wshape[3], dtype=np.int64)
    tr = np.einsum("p,pij->ij", u, np.stack(row_taps).astype(np.int64)) % p  # disjoint taps
    tc = np.einsum("q,qij->ij", v, np.stack(col_taps).astype(np.int64)) % p
    return _matmul_mod(mix, a, p), _matmul_mod(tr, r, p), _matmul_mod(tc, k, p)


def kron_certify(
    graph: Graph, in_shape: tuple[int, int, int], factors: tuple[np.ndarray, np.ndarray],
    seed: int, tries: int = 4,
) -> tuple[bool, str]:  # fmt: skip
    """Certify a factored mask ``R ⊗ K`` of a chain of convolutions, poolings, upsamplings
    and batch norms with separable integer weights ``w[o, c, p, q] = a[o, c]·u[p]·v[q]``:
    the network's value is ``(ΠA) ⊗ (ΠU) ⊗ (ΠV)`` mod p, nonzero exactly where each factor
    is (p prime), so any image size costs products of small matrices."""
    c0, h0, w0 = in_shape
    rows, cols = factors
    for t in range(tries):
        rng = np.random.default_rng([seed, t])
        env: dict[str, Any] = {}
        out = None
        for node in graph.nodes:
            if node.op == "placeholder":
                is_x = node is graph.user_inputs[0]
                eye = (np.eye(c0, dtype=np.int64), np.eye(h0, dtype=np.int64),
                       np.eye(w0, dtype=np.int64))  # fmt: skip
                env[node.name] = eye if is_x else None
            elif node.op == "call_function":
                if all(env.get(n.name) is None for n in node_inputs(node)):
                    env[node.name] = None
                elif op_name(node.target) == "getitem":
                    env[node.name] = env[args_of(node)[0].name][args_of(node)[1]]
                else:
                    env[node.name] = _kron_step(graph, node, env, rng)
            elif node.op == "output":
                outs = [o for o in map_nodes(args_of(node)[0], lambda n: n) if o is not None]
                out = env[outs[0].name]
        assert out is not None
        a, r, k = out
        if not (a != 0).any():
            continue
        nz_r, nz_k = r != 0, k != 0
        if (nz_r & ~rows).any() or (nz_k & ~cols).any():
            return False, "NOT certified: the separable witness is nonzero at a forced zero"
        if (nz_r == rows).all() and (nz_k == cols).all():
            n = int(rows.sum()) * int(cols.sum())
            return True, (
                f"certified: {n}/{n} nonzero entries witnessed by separable integer weights "
                f"mod {TRACE_PRIME} through the graph (seed {seed}, try {t + 1}, kronecker), "
                f"{rows.size * cols.size - n} forced zeros, 0 contradictions"
            )
    return False, f"NOT certified: {tries} separable witnesses left entries unwitnessed"


def certify_graph(
    graph: Graph,
    in_shape: tuple[int, int, int],
    mask: np.ndarray | None,
    seed: int,
    max_work: int,
    tries: int = 4,
) -> tuple[bool | None, str]:
    """Witness every nonzero of ``mask`` (per-pixel, channels summed); ``(certified, text)``.

    ``certified`` is ``None`` when no certificate was attempted (with the reason)."""
    import torch

    if mask is None:
        return None, "not attempted: the mask is too large to keep"
    c0, h0, w0 = in_shape
    n_in = h0 * w0
    sizes = [int(np.prod(n.meta["val"].shape)) for n in graph.nodes
             if hasattr(n.meta.get("val"), "shape")]  # fmt: skip
    work = n_in * c0 * sum(sizes)
    if work > max_work:
        return None, f"not attempted: {work} tensor entries to evaluate, over {max_work}"
    step = max(1, 2**22 // (max(sizes) * c0))
    witnessed = np.zeros_like(mask)
    contradicted = 0
    used = 0
    for t in range(tries):
        used = t + 1
        wit = _Witness(graph, np.random.default_rng([seed, t]))
        try:
            todo = np.flatnonzero((mask & ~witnessed).any(axis=0)) if t else np.arange(n_in)
            for start in range(0, todo.size, step):
                pix = todo[start : start + step]
                x = torch.zeros((pix.size * c0, c0, h0, w0), dtype=torch.float64)
                b = torch.arange(pix.size * c0)
                pp = torch.from_numpy(np.repeat(pix, c0))
                cc = torch.arange(c0).repeat(pix.size)
                x[b, cc, pp // w0, pp % w0] = 1.0
                out = wit.run(x)
                nz = (out != 0).reshape(pix.size, c0, out.shape[1], -1).any(dim=(1, 2))
                nz_np = nz.numpy().T  # (n_out, pixels)
                witnessed[:, pix] |= nz_np & mask[:, pix]
                contradicted += int((nz_np & ~mask[:, pix]).sum())
        except CannotWitness as exc:
            return None, f"not attempted: {exc}"
        if contradicted or (witnessed == mask).all():
            break
    nonzeros = int(mask.sum())
    got = int(witnessed.sum())
    ok = got == nonzeros and contradicted == 0
    state = "certified" if ok else "NOT certified"
    return ok, (
        f"{state}: {got}/{nonzeros} nonzero entries witnessed by integer weights mod "
        f"{TRACE_PRIME} through the graph (seed {seed}, {used} tries), "
        f"{mask.size - nonzeros} forced zeros, {contradicted} contradictions"
    )
