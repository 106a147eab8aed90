"""The graph of an exported torch program, read op by op for :mod:`symconv._trace`.

Every ``call_function`` node is put in one of a few kinds, each with an exact rule for the
dependence pattern (see ``_trace_spat``) and, for the linear ones, for the witness mod p:

* ``conv`` — ``conv2d`` / ``convolution`` / ``conv_transpose2d``: output channel ``o`` of
  group ``g`` sees every input channel of ``g`` through the op's 1D band on each axis;
* ``sep`` — pooling, adaptive pooling, nearest / bilinear interpolation: each channel on its
  own, one 1D pattern per axis;
* ``move`` — views, slices, concatenation, permutes, pixel (un)shuffle, padding: each output
  entry is one input entry (or a constant);
* ``point`` — pointwise functions (activations, dropout in eval mode, casts);
* ``bn`` — batch norm with running statistics: a per-channel affine map;
* ``norm`` — group / layer / instance norm: every entry of a group depends on the whole group;
* ``binary`` — add, sub, mul, div;
* ``dense`` — ``linear`` / ``matmul`` / ``mm`` / ``addmm`` of a flattened ``(1, D)`` tensor
  by a constant matrix: every output entry sees every input entry.

The 1D patterns are read off torch itself, not from formulas: the op is applied to images
that are one-hot along one axis and constant along the other (a conv with an all-ones
kernel), so 'same' padding, ``ceil_mode``, ``align_corners`` and output sizes mean what
torch means by them.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch.export import ExportedProgram
    from torch.fx import Node

__all__ = ["DENSE", "Graph", "OpRefused", "args_of", "kind_of", "op_name"]


class OpRefused(Exception):
    def __init__(self, op: str, node: str, where: str, reason: str = "") -> None:
        super().__init__(op, node, where, reason)
        self.op, self.node, self.where, self.reason = op, node, where, reason


CONV = {"conv2d", "convolution", "_convolution", "conv_transpose2d"}
#: pooling and interpolation, with whether they are linear
SEP = {
    "max_pool2d": False,
    "max_pool2d_with_indices": False,
    "adaptive_max_pool2d": False,
    "avg_pool2d": True,
    "adaptive_avg_pool2d": True,
    "_adaptive_avg_pool2d": True,
    "upsample_nearest2d": True,
    "_upsample_nearest_exact2d": True,
    "upsample_bilinear2d": True,
    "_upsample_bilinear2d_aa": True,
}
POINT_LINEAR = {
    "clone", "contiguous", "alias", "detach", "dropout", "feature_dropout", "_to_copy", "to",
    "type_as", "neg", "positive", "lift_fresh_copy", "_assert_tensor_metadata",
}  # fmt: skip
#: pointwise nonlinearities with a derivative that is nonzero for generic inputs
POINT_NONLINEAR = {
    "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "elu", "selu", "celu",
    "softplus", "mish", "hardtanh", "relu6", "hardsigmoid", "hardswish", "prelu",
    "_prelu_kernel", "log_sigmoid_forward", "softsign", "exp", "log", "sqrt", "rsqrt",
    "square", "pow", "abs", "sin", "cos", "erf", "clamp", "clamp_min", "clamp_max",
    "threshold", "reciprocal", "glu_none",
}  # fmt: skip
BN = {"batch_norm", "_native_batch_norm_legit_no_training", "native_batch_norm",
      "_native_batch_norm_legit", "instance_norm"}  # fmt: skip
NORM = {"group_norm", "native_group_norm", "layer_norm", "native_layer_norm"}
BINARY = {"add", "sub", "mul", "div", "rsub"}
#: fully connected layers on a flattened ``(1, D)`` tensor: every output sees every input
DENSE = {"linear": 0, "matmul": 0, "mm": 0, "addmm": 1}
MOVE = {
    "view", "reshape", "_unsafe_view", "flatten", "unflatten", "permute", "transpose", "t",
    "squeeze", "unsqueeze", "slice", "select", "narrow", "cat", "concat", "stack", "split",
    "split_with_sizes", "chunk", "unbind", "expand", "repeat", "flip", "roll",
    "pixel_shuffle", "pixel_unshuffle", "constant_pad_nd", "pad", "reflection_pad2d",
    "replication_pad2d", "index_select", "movedim", "channel_shuffle",
    "native_channel_shuffle", "view_as", "expand_as", "tile", "hstack", "vstack",
}  # fmt: skip


def op_name(target: Any) -> str:
    """``aten.conv2d.padding`` → ``conv2d``; ``operator.getitem`` → ``getitem``."""
    if target is operator.getitem:
        return "getitem"
    name = getattr(target, "name", None)
    if callable(name):
        text = str(name())  # 'aten::conv2d.padding'
        return text.split("::")[-1].split(".")[0]
    return str(getattr(target, "__name__", target))


def kind_of(name: str) -> str | None:
    for kind, table in (
        ("conv", CONV), ("sep", SEP), ("move", MOVE), ("point", POINT_LINEAR),
        ("point", POINT_NONLINEAR), ("bn", BN), ("norm", NORM), ("binary", BINARY),
        ("dense", DENSE),
    ):  # fmt: skip
        if name in table:
            return kind
    return "getitem" if name == "getitem" else None


def where(node: Node) -> str:
    """Where a node sits in the model: its module path and source line, when recorded."""
    parts = []
    stack = node.meta.get("nn_module_stack") or {}
    if stack:
        path, cls = list(stack.values())[-1]
        cls_name = getattr(cls, "__name__", str(cls)).split(".")[-1]
        parts.append(f"module {path or '<root>'} ({cls_name})")
    trace = node.meta.get("stack_trace") or ""
    found = re.findall(r'File "([^"]+)", line (\d+)', trace)
    if found:
        file, line = found[-1]
        parts.append(f"{file.rsplit('/', 1)[-1]}:{line}")
    return ", ".join(parts) or "top level"


def map_nodes(obj: Any, fn: Any) -> Any:
    """``obj`` (args of a node) with every fx Node replaced by ``fn(node)``."""
    from torch.fx import Node

    if isinstance(obj, Node):
        return fn(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(map_nodes(o, fn) for o in obj)
    if isinstance(obj, dict):
        return {k: map_nodes(v, fn) for k, v in obj.items()}
    return obj


def args_of(node: Node) -> Any:
    """A node's positional arguments, untyped (fx types them as a wide union)."""
    return node.args


def node_inputs(node: Node) -> list[Node]:
    out: list[Node] = []
    map_nodes((node.args, node.kwargs), out.append)
    return out


def meta_shape(node: Node) -> tuple[int, ...]:
    val = node.meta.get("val")
    if val is None or not hasattr(val, "shape"):
        raise OpRefused(op_name(node.target), node.name, where(node), "no recorded shape")
    return tuple(int(d) for d in val.shape)


#: groups is argument 6 of conv2d and conv_transpose2d, 8 of convolution, 8 of _convolution
_GROUPS_ARG = {"conv2d": 6, "conv_transpose2d": 6, "convolution": 8, "_convolution": 8}
_TRANSPOSED_ARG = {"convolution": 6, "_convolution": 6}


@dataclass(frozen=True)
class ConvInfo:
    groups: int
    transposed: bool
    weight: Node


def conv_info(node: Node) -> ConvInfo:
    name = op_name(node.target)
    args = args_of(node)
    gi = _GROUPS_ARG[name]
    kwargs: Any = node.kwargs
    groups = int(args[gi]) if len(args) > gi else int(kwargs.get("groups", 1))
    ti = _TRANSPOSED_ARG.get(name)
    transposed = name == "conv_transpose2d" or (ti is not None and bool(args[ti]))
    return ConvInfo(groups, transposed, args[1])


class Graph:
    """An exported program's graph with its constants and the 1D patterns of its ops."""

    def __init__(self, program: ExportedProgram) -> None:
        from torch.export.graph_signature import InputKind

        self.program = program
        self.nodes: list[Node] = list(program.graph_module.graph.nodes)
        by_name = {n.name: n for n in self.nodes}
        self.user_inputs: list[Node] = []
        self.constants: dict[str, torch.Tensor] = {}
        self.parameters: set[str] = set()
        for spec in program.graph_signature.input_specs:
            node = by_name[spec.arg.name]
            if spec.kind == InputKind.USER_INPUT:
                self.user_inputs.append(node)
                continue
            if spec.target in program.state_dict:
                self.constants[node.name] = program.state_dict[spec.target]
            elif spec.target in program.constants:
                value = program.constants[spec.target]
                if hasattr(value, "shape"):
                    self.constants[node.name] = value
            if spec.kind == InputKind.PARAMETER:
                self.parameters.add(node.name)
        self.output: Node = next(n for n in self.nodes if n.op == "output")
        self._axes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._taps: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def refuse(self, node: Node, reason: str = "") -> OpRefused:
        return OpRefused(op_name(node.target), node.name, where(node), reason)

    def call(self, node: Node, replace: dict[str, Any], **overrides: Any) -> Any:
        """Run ``node``'s op with the nodes in ``replace`` by name, other nodes by their
        constants, and positional arguments overridden by index (``overrides['a3']``)."""

        def value(n: Node) -> Any:
            if n.name in replace:
                return replace[n.name]
            if n.name in self.constants:
                return self.constants[n.name]
            raise self.refuse(node, f"argument {n.name} has no value")

        args = list(map_nodes(args_of(node), value))
        kwargs = dict(map_nodes(node.kwargs, value))
        schema = getattr(node.target, "_schema", None)
        for key, v in overrides.items():
            i = int(key[1:])
            if i < len(args):
                args[i] = v
            elif schema is not None:
                kwargs[schema.arguments[i].name] = v
        target: Any = node.target
        return target(*args, **kwargs)

    def signature(self, node: Node) -> tuple[Any, ...]:
        """What the 1D patterns of a ``conv`` / ``sep`` node depend on: the op, the input's
        spatial size, the kernel's and every non-tensor argument (identical layers share)."""
        from torch.fx import Node as FxNode

        name = op_name(node.target)
        extra: tuple[int, ...] = ()
        if name in CONV:
            extra = meta_shape(conv_info(node).weight)[2:]
        rest = [a if not isinstance(a, FxNode) else None for a in args_of(node)[1:]]
        return (name, meta_shape(args_of(node)[0])[2:], extra, repr(rest), repr(node.kwargs))

    def axes(self, node: Node) -> tuple[np.ndarray, np.ndarray]:
        """The 1D boolean patterns ``(T_r, T_c)`` of a ``conv`` or ``sep`` node."""
        key = repr(self.signature(node))
        if key not in self._axes:
            self._axes[key] = (self._axis(node, 0), self._axis(node, 1))
        return self._axes[key]

    def taps(self, node: Node) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """A conv node's 1D pattern of each kernel row and each kernel column (disjoint):
        with a separable kernel ``u ⊗ v`` it acts as ``Σ_p u_p B_p`` ⊗ ``Σ_q v_q C_q``."""
        import torch

        key = "taps" + repr(self.signature(node))
        if key not in self._taps:
            kh, kw = meta_shape(conv_info(node).weight)[2:]
            rows, cols = [], []
            for p in range(kh):
                kernel = torch.zeros((1, 1, kh, kw), dtype=torch.float64)
                kernel[0, 0, p, :] = 1.0
                rows.append(self._axis(node, 0, kernel))
            for q in range(kw):
                kernel = torch.zeros((1, 1, kh, kw), dtype=torch.float64)
                kernel[0, 0, :, q] = 1.0
                cols.append(self._axis(node, 1, kernel))
            self._taps[key] = (rows, cols)
        return self._taps[key]

    def _axis(self, node: Node, axis: int, kernel: Any = None) -> np.ndarray:
        import torch

        inp = args_of(node)[0]
        _, _, h, w = meta_shape(inp)
        n = h if axis == 0 else w
        name = op_name(node.target)
        cols = []
        for start in range(0, n, 64):
            b = min(64, n - start)
            x = torch.zeros((b, 1, h, w), dtype=torch.float64)
            idx = torch.arange(b)
            if axis == 0:
                x[idx, 0, start + idx, :] = 1.0
            else:
                x[idx, 0, :, start + idx] = 1.0
            if name in CONV:
                if kernel is None:
                    wshape = meta_shape(conv_info(node).weight)
                    kernel = torch.ones((1, 1, *wshape[2:]), dtype=torch.float64)
                gi = _GROUPS_ARG[name]
                out = self.call(node, {inp.name: x}, a1=kernel, a2=None, **{f"a{gi}": 1})
            else:
                out = self.call(node, {inp.name: x})
            if isinstance(out, (tuple, list)):
                out = out[0]
            nz = (out[:, 0] != 0).numpy()  # (b, H', W')
            cols.append(nz.any(axis=2 if axis == 0 else 1))  # (b, n_out)
        return np.concatenate(cols, axis=0).T.copy()  # (n_out, n_in)
