"""The dependence pattern of a traced model, propagated node by node (see ``_trace_graph``
for the kinds of ops and ``_trace_spat`` for the per-channel patterns).

A tensor that depends on the input is either a :class:`Val` — shape ``(1, C, H, W)`` with
one pattern per channel — or a :class:`Moved` — any shape, each entry one entry of earlier
:class:`Val` s (or a constant, ``-1``): views, slices, concatenations and pixel shuffles
compose their index maps and are only turned back into patterns when an op needs them.
Tensors that do not depend on the input (weights, buffers, anything computed from them) are
:data:`CONST`, whatever op made them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._trace_graph import (
    BN,
    DENSE,
    POINT_NONLINEAR,
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
from ._trace_spat import (
    Columns,
    Kron,
    Spat,
    axis_apply,
    collapse,
    dense,
    empty,
    spatial_all,
    union,
)

if TYPE_CHECKING:
    from torch.fx import Node

__all__ = ["CONST", "Moved", "PassInfo", "Val", "run_pattern"]

CONST = object()


@dataclass(eq=False)
class Val:
    shape: tuple[int, int, int]  # (C, H, W), batch 1
    chans: list[Spat]


@dataclass(eq=False)
class Moved:
    shape: tuple[int, ...]
    bases: list[Val]
    src: np.ndarray  # int64, ``shape``: index into the bases' entries, -1 = constant


@dataclass
class PassInfo:
    """What one pass learned about the model (the same for every pass)."""

    linear: bool = True
    nonlinear_ops: set[str] = field(default_factory=set)
    ops: dict[str, int] = field(default_factory=dict)
    notes: set[str] = field(default_factory=set)


def _offsets(bases: list[Val]) -> np.ndarray:
    sizes = [int(np.prod(b.shape)) for b in bases]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def _moved(v: Val | Moved) -> Moved:
    if isinstance(v, Moved):
        return v
    n = int(np.prod(v.shape))
    return Moved((1, *v.shape), [v], np.arange(n, dtype=np.int64).reshape(1, *v.shape))


def as_val(v: Val | Moved, cols: Columns, graph: Graph, node: Node) -> Val:
    """A :class:`Moved` tensor as per-channel patterns (it must be ``(1, C, H, W)``)."""
    if isinstance(v, Val):
        return v
    if len(v.shape) != 4 or v.shape[0] != 1:
        raise graph.refuse(node, f"an input-dependent tensor of shape {list(v.shape)} "
                           "(expected 1×C×H×W)")  # fmt: skip
    _, c, h, w = v.shape
    off = _offsets(v.bases)
    src = v.src.reshape(c, h * w)
    chans: list[Spat] = []
    memo: dict[bytes, Spat] = {}
    for ch in range(c):
        s = src[ch]
        key = s.tobytes()
        if key not in memo:
            memo[key] = _gather_channel(s, v.bases, off, (h, w), cols)
        chans.append(memo[key])
    return Val((c, h, w), chans)


def _gather_channel(
    s: np.ndarray, bases: list[Val], off: np.ndarray, hw: tuple[int, int], cols: Columns
) -> Spat:
    h, w = hw
    c0, h0, w0 = cols.c0, cols.h0, cols.w0
    live = s >= 0
    if not live.any():
        return empty(c0, h, w, h0, w0)
    b = np.searchsorted(off, s, side="right") - 1
    local = s - off[np.clip(b, 0, len(bases) - 1)]
    if live.all() and (b == b[0]).all():
        base = bases[int(b[0])]
        bh, bw = base.shape[1:]
        cb, pix = np.divmod(local, bh * bw)
        spats = {id(base.chans[int(c)]): base.chans[int(c)] for c in np.unique(cb)}
        if len(spats) == 1:  # one pattern (one channel, or channels sharing it)
            spat = next(iter(spats.values()))
            if (bh, bw) == (h, w) and np.array_equal(pix, np.arange(h * w)):
                return spat
            si, sj = (a.reshape(h, w) for a in np.divmod(pix, bw))
            if isinstance(spat, Kron) and (si == si[:, :1]).all() and (sj == sj[:1]).all():
                return Kron(spat.q, spat.r[si[:, 0]], spat.k[sj[0]])
    out = np.zeros((h * w, cols.width), bool)
    for bi in np.unique(b[live]):
        base = bases[int(bi)]
        bh, bw = base.shape[1:]
        sel = live & (b == bi)
        cb, pix = np.divmod(local[sel], bh * bw)
        rows = np.flatnonzero(sel)
        for c in np.unique(cb):
            m = cb == c
            d = dense(base.chans[int(c)], cols).reshape(bh * bw, cols.width)
            out[rows[m]] = d[pix[m]]
    return out.reshape(h, w, cols.width)


def _move(graph: Graph, node: Node, env: dict[str, Any]) -> Any:
    """Run a data-movement op on index tensors: each output entry names its source."""
    import torch

    bases: list[Val] = []
    index: dict[int, int] = {}
    replace: dict[str, Any] = {}
    for n in node_inputs(node):
        v = env[n.name]
        if v is CONST:
            replace[n.name] = torch.full(meta_shape(n), -1.0, dtype=torch.float64)
            continue
        m = _moved(v)
        local_off = _offsets(m.bases)
        new_off = []
        for base in m.bases:
            if id(base) not in index:
                index[id(base)] = len(bases)
                bases.append(base)
            new_off.append(index[id(base)])
        replace[n.name] = (m, local_off, new_off)  # filled once all bases are known
    glob = _offsets(bases)
    for name, item in list(replace.items()):
        if isinstance(item, tuple):
            m, local_off, new_off = item
            s = m.src
            bi = np.clip(np.searchsorted(local_off, s, side="right") - 1, 0, len(new_off) - 1)
            g = np.where(s >= 0, s - local_off[bi] + glob[np.asarray(new_off)[bi]], -1)
            replace[name] = torch.from_numpy(g.astype(np.float64))
    overrides: dict[str, Any] = {}
    name = op_name(node.target)
    if name == "constant_pad_nd":
        overrides["a2"] = -1.0
    elif name == "pad" and (len(args_of(node)) < 3 or args_of(node)[2] == "constant"):
        overrides["a2"], overrides["a3"] = "constant", -1.0
    out = graph.call(node, replace, **overrides)

    def wrap(t: torch.Tensor) -> Moved:
        src = torch.round(t).to(torch.int64).numpy()
        return Moved(tuple(src.shape), bases, src)

    if isinstance(out, (tuple, list)):
        return tuple(wrap(t) for t in out)
    return wrap(out)


def _conv(graph: Graph, node: Node, v: Val, cols: Columns) -> Val:
    info = conv_info(node)
    tr, tc = graph.axes(node)
    _, c_out, h2, w2 = meta_shape(node)
    g = info.groups
    cin = v.shape[0] // g
    per = c_out // g
    chans: list[Spat] = []
    memo: dict[tuple[int, ...], Spat] = {}
    for gi in range(g):
        group = v.chans[gi * cin : (gi + 1) * cin]
        key = tuple(sorted({id(s) for s in group}))
        if key not in memo:
            memo[key] = axis_apply(union(group, cols), tr, tc)
        chans.extend([memo[key]] * per)
    return Val((c_out, h2, w2), chans)


def _per_channel(v: Val, fn: Callable[[Spat], Spat], shape: tuple[int, int, int]) -> Val:
    memo: dict[int, Spat] = {}
    for s in v.chans:
        if id(s) not in memo:
            memo[id(s)] = fn(s)
    return Val(shape, [memo[id(s)] for s in v.chans])


def _norm_groups(graph: Graph, node: Node, c: int) -> int:
    name = op_name(node.target)
    a = args_of(node)
    if name == "group_norm":
        return int(a[1])
    if name == "native_group_norm":
        return int(a[6])
    dims = len(a[1])  # layer_norm(input, normalized_shape, ...)
    if dims == 3:
        return 1
    if dims == 2:
        return c  # normalizes each channel over its image
    raise graph.refuse(node, "layer norm over fewer than the last two dimensions")


def _norm(graph: Graph, node: Node, v: Val, cols: Columns, groups: int) -> Val:
    c = v.shape[0]
    per = c // groups
    chans: list[Spat] = []
    memo: dict[tuple[int, ...], Spat] = {}
    for gi in range(groups):
        group = v.chans[gi * per : (gi + 1) * per]
        key = tuple(sorted({id(s) for s in group}))
        if key not in memo:
            memo[key] = spatial_all(union(group, cols))
        chans.extend([memo[key]] * per)
    return Val(v.shape, chans)


def _bn_training(node: Node) -> bool:
    name = op_name(node.target)
    if name == "_native_batch_norm_legit_no_training":
        return False
    i = 5  # batch_norm, native_batch_norm, _native_batch_norm_legit, instance_norm: arg 5
    return bool(args_of(node)[i]) if len(args_of(node)) > i else False


def _binary(graph: Graph, node: Node, env: dict[str, Any], cols: Columns, info: PassInfo) -> Any:
    name = op_name(node.target)
    vals = [env[n.name] for n in node_inputs(node)]
    live = [v for v in vals if v is not CONST]
    if len(live) == 1:
        if name == "mul" and _is_zero(node):
            return CONST
        first = args_of(node)[0]
        if name == "div" and not (hasattr(first, "name") and env[first.name] is not CONST):
            _nonlinear(info, "div by an input-dependent tensor")
        if tuple(meta_shape(node)) != _shape_of(live[0]):
            raise graph.refuse(node, "broadcasts an input-dependent tensor to a new shape")
        return live[0]
    a, b = (as_val(v, cols, graph, node) for v in live)
    if a.shape != b.shape:
        raise graph.refuse(node, f"input-dependent operands of shapes {a.shape} and {b.shape}")
    if name in ("mul", "div"):
        _nonlinear(info, f"{name} of two input-dependent tensors")
    memo: dict[tuple[int, int], Spat] = {}
    chans = []
    for sa, sb in zip(a.chans, b.chans, strict=True):
        key = (id(sa), id(sb))
        if key not in memo:
            memo[key] = union([sa, sb], cols)
        chans.append(memo[key])
    return Val(a.shape, chans)


def _dense(graph: Graph, node: Node, env: dict[str, Any], cols: Columns) -> Moved:
    """A fully connected layer: each output entry depends on what any input entry does."""
    name = op_name(node.target)
    args = args_of(node)
    pos = DENSE[name]
    others = [a for i, a in enumerate(args[:3]) if i != pos and hasattr(a, "name")]
    if any(env[a.name] is not CONST for a in others):
        raise graph.refuse(node, "the input-dependent operand must be the left one")
    v = env[args[pos].name]
    m = _moved(v)
    if len(m.shape) != 2 or m.shape[0] != 1:
        raise graph.refuse(node, f"acts on a tensor of shape {list(m.shape)} (expected 1×D)")
    off = _offsets(m.bases)
    s = m.src[m.src >= 0]
    b = np.searchsorted(off, s, side="right") - 1
    parts: list[Spat] = []
    for bi in np.unique(b):
        base = m.bases[int(bi)]
        hw = base.shape[1] * base.shape[2]
        cb, pix = np.divmod(s[b == bi] - off[bi], hw)
        for c in np.unique(cb):
            p = np.unique(pix[cb == c])
            spat = base.chans[int(c)]
            try:
                parts.append(collapse(spat, None if p.size == hw else p))
            except ValueError:
                parts.append(collapse(dense(spat, cols), p))
    u = union(parts, cols) if parts else empty(cols.c0, 1, 1, cols.h0, cols.w0)
    d_out = meta_shape(node)[-1]
    out = Val((d_out, 1, 1), [u] * d_out)
    return Moved((1, d_out), [out], np.arange(d_out, dtype=np.int64).reshape(1, d_out))


def _is_zero(node: Node) -> bool:
    return any(isinstance(a, (int, float)) and not isinstance(a, bool) and a == 0
               for a in args_of(node)[:2])  # fmt: skip


def _shape_of(v: Val | Moved) -> tuple[int, ...]:
    return (1, *v.shape) if isinstance(v, Val) else v.shape


def _nonlinear(info: PassInfo, what: str) -> None:
    info.linear = False
    info.nonlinear_ops.add(what)


def _step(graph: Graph, node: Node, env: dict[str, Any], cols: Columns, info: PassInfo) -> Any:
    name = op_name(node.target)
    kind = kind_of(name)
    ins = node_inputs(node)
    if all(env[n.name] is CONST for n in ins):
        return CONST
    info.ops[name] = info.ops.get(name, 0) + 1
    if kind is None:
        raise graph.refuse(node)
    if kind == "getitem":
        return env[args_of(node)[0].name][args_of(node)[1]]
    if kind == "move":
        return _move(graph, node, env)
    if kind == "binary":
        return _binary(graph, node, env, cols, info)
    if kind == "dense":
        return _dense(graph, node, env, cols)
    x = env[args_of(node)[0].name]
    if x is CONST or any(env[n.name] is not CONST for n in ins[1:]):
        raise graph.refuse(node, "an input-dependent weight or parameter")
    if kind == "point":
        if name in POINT_NONLINEAR:
            _nonlinear(info, name)
            info.notes.add("activations")
        return x
    v = as_val(x, cols, graph, node)
    if kind == "conv":
        return _conv(graph, node, v, cols)
    if kind == "sep":
        if not SEP[name]:
            _nonlinear(info, name)
            info.notes.add("maxpool")
        tr, tc = graph.axes(node)
        if name in ("max_pool2d_with_indices", "adaptive_max_pool2d"):
            shape = tuple(node.meta["val"][0].shape[-3:])
            out = _per_channel(v, lambda s: axis_apply(s, tr, tc), shape)
            return (out, CONST)
        shape = tuple(meta_shape(node)[-3:])
        return _per_channel(v, lambda s: axis_apply(s, tr, tc), shape)
    if kind == "bn":
        if name in BN and _bn_training(node):
            _nonlinear(info, f"{name} (batch statistics)")
            info.notes.add("norm")
            out = _norm(graph, node, v, cols, v.shape[0])
        else:
            out = v
        return (out, CONST, CONST) if name.startswith(("_native", "native")) else out
    # kind == "norm"
    _nonlinear(info, name)
    info.notes.add("norm")
    out = _norm(graph, node, v, cols, _norm_groups(graph, node, v.shape[0]))
    return (out, CONST, CONST) if name.startswith("native") else out


def run_pattern(graph: Graph, cols: Columns) -> tuple[Val, PassInfo]:
    """One pass over the graph for the input columns ``cols``; the output's patterns."""
    info = PassInfo()
    env: dict[str, Any] = {}
    x = graph.user_inputs[0]
    last: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        for n in node_inputs(node):
            last[n.name] = i
    dies: dict[int, list[str]] = {}
    for name, i in last.items():
        dies.setdefault(i, []).append(name)
    for i, node in enumerate(graph.nodes):
        for name in dies.get(i - 1, ()):  # the previous node was the last to read them
            env.pop(name, None)
        if node.op == "placeholder":
            if node is x:
                c0, h0, w0 = cols.c0, cols.h0, cols.w0
                eye_h, eye_w = np.eye(h0, dtype=bool), np.eye(w0, dtype=bool)
                chans: list[Spat] = [Kron(np.eye(c0, dtype=bool)[c], eye_h, eye_w)
                                     for c in range(c0)]  # fmt: skip
                env[node.name] = Val((c0, h0, w0), chans)
            else:
                env[node.name] = CONST
        elif node.op == "call_function":
            env[node.name] = _step(graph, node, env, cols, info)
        elif node.op == "output":
            outs = [o for o in map_nodes(args_of(node)[0], lambda n: n) if o is not None]
            if len(outs) != 1:
                raise graph.refuse(node, f"the model returns {len(outs)} tensors (expected 1)")
            out = env[outs[0].name]
            if out is CONST:
                raise graph.refuse(node, "the output does not depend on the input")
            return as_val(out, cols, graph, node), info
        else:
            raise graph.refuse(node, f"node kind {node.op}")
    raise AssertionError("graph without output")
