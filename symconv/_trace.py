"""Exact forced zeros of any traced torch conv model: which output pixels can depend on
which input pixels.

:func:`from_torch` exports the model with ``torch.export`` (or takes an
``ExportedProgram``, or a ``.pt2`` file saved with ``torch.export.save``) and propagates the
dependence pattern through its graph, op by op (``_trace_graph`` lists the ops). The result
is the boolean pattern of the input–output Jacobian, channels summed: entry
``(output pixel o, input pixel u)`` is ``False`` exactly when ``∂f(x)[c, o]/∂x[c0, u] = 0``
for every channel pair, every weight and every input.

* **Linear models** (convolutions, transposed convolutions, average pooling, nearest /
  bilinear interpolation, pixel shuffles, additions, concatenations, batch norm with running
  statistics; biases allowed): the pattern is the forced-zero pattern of the end-to-end
  matrix, as in ``symconv._patterns`` (every entry is a sum over paths, and the pattern is
  the boolean product of the layers' patterns), and it is **certified** as in
  ``symconv._certify``: random integer weights mod :data:`TRACE_PRIME` pushed through the
  graph itself witness every nonzero entry (``_trace_witness``).
* **Nonlinear models**: the entries that are zero for every weight and every input.
  Pointwise activations (relu, leaky_relu, sigmoid, tanh, gelu, …) are treated as having
  generic nonzero slopes: an entry is kept when some path reaches it, even if a ReLU could
  switch the path off for particular inputs. Max-pooling keeps the union of its window (one
  input's Jacobian selects one pixel per window; the union over inputs is the window).
  Group / layer / instance norm make each entry of a group depend on the whole group.
* Either way, a product with a constant tensor (a learned scale, a buffer) is read as a
  generic nonzero weight, a product with the number 0 as no dependence.

The pattern is computed with the structure of ``symconv._patterns``: each channel's pattern
is a Kronecker product ``input channels ⊗ rows ⊗ columns`` while the ops act separately on
rows and columns (``factored`` in the result: the stacks of the paper stay factored at any
size), and a dense boolean array over chunks of input pixels once a skip connection or a
pixel shuffle breaks it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._trace_graph import Graph, OpRefused
from ._trace_spat import Columns, Kron, dense

if TYPE_CHECKING:
    import torch
    from torch.export import ExportedProgram

__all__ = [
    "MAX_STORED_ENTRIES",
    "TorchPattern",
    "UnsupportedOpError",
    "export_model",
    "from_torch",
    "load_program",
]

#: The per-pixel mask is kept (packed, 1 bit per entry) up to this many entries, e.g. a
#: 128×128 → 128×128 model; past it the result keeps the reach and recomputes rows.
MAX_STORED_ENTRIES = 2**28
#: Entries of one dense per-channel pattern array in a pass (16 MB): sets the chunk of
#: input pixels handled at once.
_CHUNK_ENTRIES = 2**24

NOTE_ACTIVATIONS = (
    "pointwise activations are treated as generic nonzero slopes (a ReLU switched off for "
    "some input still counts as a path)"
)
NOTE_MAXPOOL = "max-pooling keeps the union of its window (the union over inputs)"
NOTE_NORM = "group/layer/instance norm: every entry of a group depends on the whole group"
NOTE_AFFINE = "biases and other constants do not change the pattern (it is the Jacobian's)"
_NOTES = {"activations": NOTE_ACTIVATIONS, "maxpool": NOTE_MAXPOOL, "norm": NOTE_NORM}


class UnsupportedOpError(ValueError):
    """A traced model uses an op without an exact pattern rule; one line names the op and
    where it sits in the graph."""

    def __init__(self, op: str, node: str, where: str, reason: str = "") -> None:
        self.op, self.node, self.where, self.reason = op, node, where, reason
        text = f"unsupported op {op} at graph node {node!r} ({where})"
        super().__init__(f"{text}: {reason}" if reason else text)


def load_program(path: str | os.PathLike[str]) -> ExportedProgram:
    """A program saved with ``torch.export.save``; one ``ValueError`` line if it is not."""
    import torch

    text = os.fspath(path)
    if not os.path.isfile(text):
        raise ValueError(f"{text}: no such file")
    try:
        return torch.export.load(text)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{text}: not a program saved with torch.export.save ({first})") from None


def _shape4(input_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) == 3:
        shape = (1, *shape)
    if len(shape) != 4 or shape[0] != 1 or min(shape) < 1:
        raise ValueError(f"input_shape {input_shape}: expected (C, H, W) or (1, C, H, W)")
    return shape


def export_model(model: torch.nn.Module, input_shape: tuple[int, ...]) -> ExportedProgram:
    """``torch.export.export`` of the model in eval mode on one ``(1, C, H, W)`` input."""
    import logging

    import torch

    shape = _shape4(input_shape)
    was = model.training
    model.eval()
    quiet = logging.getLogger("torch._subclasses.fake_tensor")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a failed trace is reported in one line below
    try:
        return torch.export.export(model, (torch.zeros(shape),))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"torch.export could not trace the model: {first}") from None
    finally:
        model.train(was)
        quiet.setLevel(level)


def _program(model: Any, input_shape: tuple[int, ...] | None) -> ExportedProgram:
    from torch.export import ExportedProgram

    if isinstance(model, (str, os.PathLike)):
        model = load_program(model)
    if isinstance(model, ExportedProgram):
        return model
    if input_shape is None:
        raise ValueError("input_shape is needed to trace a module, e.g. (1, 32, 32)")
    return export_model(model, input_shape)


@dataclass(frozen=True)
class TorchPattern:
    """The dependence pattern of a traced model, channels summed (see the module text).

    ``reach[o]``: input pixels output pixel ``o`` (row-major) can depend on.
    ``forced_zeros``: entries of the per-pixel mask that are zero (out of ``entries``).
    """

    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    reach: np.ndarray
    forced_zeros: int
    full_support: bool
    factored: bool
    linear: bool
    certified: bool | None
    certificate: str
    extra_depth: int | None
    notes: tuple[str, ...]
    ops: dict[str, int]
    _packed: np.ndarray | None = field(default=None, repr=False)
    _factors: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _graph: Any = field(default=None, repr=False)

    @property
    def entries(self) -> int:
        return self.n_out * self.n_in

    @property
    def n_out(self) -> int:
        return self.output_shape[1] * self.output_shape[2]

    @property
    def n_in(self) -> int:
        return self.input_shape[1] * self.input_shape[2]

    def whole_input_pixels(self) -> list[tuple[int, int]]:
        """Output pixels ``(row, col)`` that can depend on every input pixel."""
        w = self.output_shape[2]
        return [divmod(int(o), w) for o in np.flatnonzero(self.reach == self.n_in)]

    def dense_mask(self, max_entries: int = MAX_STORED_ENTRIES) -> np.ndarray:
        """The ``(H_out·W_out) × (H_in·W_in)`` boolean mask; a ``ValueError`` when it has more
        than ``max_entries`` entries (use :meth:`rows`)."""
        if self.entries > max_entries:
            raise ValueError(
                f"the {self.n_out}×{self.n_in} mask has more than {max_entries} entries: "
                "ask for rows(pixels)"
            )
        if self._factors is not None:
            return np.kron(*self._factors).astype(bool)
        if self._packed is not None:
            bits = np.unpackbits(self._packed, count=self.entries)
            return bits.reshape(self.n_out, self.n_in).astype(bool)
        return self.rows([divmod(o, self.output_shape[2]) for o in range(self.n_out)])

    def rows(self, pixels: list[tuple[int, int]]) -> np.ndarray:
        """Rows of the mask for output pixels ``(row, col)``: shape ``(len, H_in·W_in)``."""
        _, h, w = self.output_shape
        for i, j in pixels:
            if not (0 <= i < h and 0 <= j < w):
                raise ValueError(f"pixel ({i},{j}) outside the {h}×{w} output")
        idx = np.array([i * w + j for i, j in pixels], dtype=np.int64)
        if self._factors is not None:
            r, k = self._factors
            return (r[idx // w][:, :, None] & k[idx % w][:, None, :]).reshape(len(idx), -1)
        if self._packed is not None:
            out = np.zeros((len(idx), self.n_in), bool)
            for n, o in enumerate(idx):
                start = int(o) * self.n_in
                bits = _bits(self._packed, start, self.n_in)
                out[n] = bits
            return out
        masks = [m[idx] for _, m in _chunks(self._graph, self.input_shape)]
        return np.concatenate(masks, axis=1)

    def summary(self, pixels: list[tuple[int, int]] | None = None, *,
                max_mask_entries: int = 2**26) -> dict[str, Any]:  # fmt: skip
        """A JSON-able summary, in the field names of ``verify masks --json``."""
        from ._trace_report import summary

        return summary(self, pixels, max_mask_entries)


def _bits(packed: np.ndarray, start: int, n: int) -> np.ndarray:
    first, last = start // 8, (start + n + 7) // 8
    bits = np.unpackbits(packed[first:last])
    return bits[start - first * 8 : start - first * 8 + n].astype(bool)


def _passes(graph: Graph, input_shape: tuple[int, int, int]) -> Any:
    """One pattern pass per chunk of input pixels: ``(columns, output value, pass info)``."""
    from ._trace_engine import run_pattern

    c0, h0, w0 = input_shape
    biggest = max(
        (int(np.prod(n.meta["val"].shape[-2:])) for n in graph.nodes
         if hasattr(n.meta.get("val"), "shape") and len(n.meta["val"].shape) == 4),
        default=h0 * w0,
    )  # fmt: skip
    step = max(1, _CHUNK_ENTRIES // (max(biggest, h0 * w0) * c0))
    n_in = h0 * w0
    for start in range(0, n_in, step):
        cols = Columns(c0, h0, w0, np.arange(start, min(n_in, start + step)))
        out, info = run_pattern(graph, cols)
        yield cols, out, info


def _chunks(graph: Graph, input_shape: tuple[int, int, int]) -> Any:
    """``(pixels, mask columns for them)`` over chunks of input pixels."""
    for cols, out, _ in _passes(graph, input_shape):
        yield cols.pixels, _channel_sum(out, cols)


def _channel_sum(out: Any, cols: Columns) -> np.ndarray:
    _, h, w = out.shape
    acc = np.zeros((h * w, cols.pixels.size), bool)
    for s in {id(s): s for s in out.chans}.values():
        if isinstance(s, Kron) and s.is_empty:
            continue
        d = dense(s, cols).reshape(h * w, cols.pixels.size, cols.c0)
        acc |= d.any(axis=2)
    return acc


def _factors(out: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(R, K)`` with mask ``= R ⊗ K`` when every nonempty output channel is a Kronecker
    pattern with the same rows and columns."""
    live = [s for s in {id(s): s for s in out.chans}.values()
            if not (isinstance(s, Kron) and s.is_empty)]  # fmt: skip
    if not live or not all(isinstance(s, Kron) for s in live):
        return None
    r, k = live[0].r, live[0].k
    if all(np.array_equal(s.r, r) and np.array_equal(s.k, k) for s in live[1:]):
        return r, k
    return None


def from_torch(
    model: Any,
    input_shape: tuple[int, ...] | None = None,
    *,
    certify: bool = True,
    seed: int = 0,
    max_certify_work: int = 2**26,
) -> TorchPattern:
    """The exact dependence pattern of ``model`` on inputs of ``input_shape = (C, H, W)``.

    ``model``: an ``nn.Module`` (exported in eval mode), an ``ExportedProgram``, or a path to
    a ``.pt2`` file saved with ``torch.export.save``. An op without a rule raises
    :class:`UnsupportedOpError` (one line: the op, its graph node, its module and line).
    ``certify``: for a linear model, witness every nonzero entry with integer weights mod
    :data:`TRACE_PRIME` (skipped, ``certified = None``, when pushing the one-hot inputs
    through the graph would exceed ``max_certify_work`` tensor entries).
    """
    program = _program(model, input_shape)
    graph = Graph(program)
    in_shape = _input_shape(graph, input_shape)
    try:
        out_shape, info, factors, reach, depth, packed = _propagate(graph, in_shape)
    except OpRefused as exc:
        raise UnsupportedOpError(exc.op, exc.node, exc.where, exc.reason) from None
    notes = (*(_NOTES[n] for n in sorted(info.notes)), NOTE_AFFINE)
    n_entries = out_shape[1] * out_shape[2] * in_shape[1] * in_shape[2]
    certified, certificate = _certificate(
        graph, in_shape, out_shape, info.linear and certify, factors, packed, seed,
        max_certify_work,
    )  # fmt: skip
    if info.linear and not certify:
        certificate = "not certified (certify=False)"
    forced = int(n_entries - int(reach.sum()))
    return TorchPattern(
        input_shape=in_shape,
        output_shape=out_shape,
        reach=reach,
        forced_zeros=forced,
        full_support=forced == 0,
        factored=factors is not None,
        linear=info.linear,
        certified=certified,
        certificate=certificate,
        extra_depth=depth,
        notes=notes,
        ops=dict(sorted(info.ops.items())),
        _packed=packed,
        _factors=factors,
        _graph=graph if factors is None and packed is None else None,
    )


def _input_shape(graph: Graph, input_shape: tuple[int, ...] | None) -> tuple[int, int, int]:
    """``(C, H, W)`` of the program's one input (checked against ``input_shape``)."""
    if len(graph.user_inputs) != 1:
        raise ValueError(f"the program takes {len(graph.user_inputs)} inputs (expected 1)")
    shape = tuple(int(d) for d in graph.user_inputs[0].meta["val"].shape)
    if input_shape is not None and _shape4(input_shape) != shape:
        raise ValueError(f"input_shape {tuple(input_shape)}: the program expects {shape}")
    _, c0, h0, w0 = _shape4(shape)
    return (c0, h0, w0)


def _propagate(graph: Graph, in_shape: tuple[int, int, int]) -> tuple[Any, ...]:
    """The pattern through the graph: ``(output shape, info, factors or None, reach per
    output pixel, extra depth, packed dense mask or None)``; Kronecker factors where the
    structure allows, else passes over chunks of input pixels."""
    from ._trace_report import column_depth, combine_depths, factored_depth

    n_in = in_shape[1] * in_shape[2]
    passes = _passes(graph, in_shape)
    cols, out, info = next(passes)
    _, ho, wo = out.shape
    factors = _factors(out)
    packed = None
    if factors is not None:
        r, k = factors
        reach = np.outer(r.sum(1), k.sum(1)).reshape(-1).astype(np.int64)
        depth = factored_depth(r, k)
    else:
        keep = ho * wo * n_in <= MAX_STORED_ENTRIES
        full = np.zeros((ho * wo, n_in), bool) if keep else None
        reach = np.zeros(ho * wo, np.int64)
        depths = []
        for c, o, _ in _chain(cols, out, info, passes):
            m = _channel_sum(o, c)
            reach += m.sum(axis=1)
            depths.append(column_depth(m, (ho, wo)))
            if full is not None:
                full[:, c.pixels] = m
        depth = combine_depths(depths)
        packed = np.packbits(full.reshape(-1)) if full is not None else None
    assert info is not None
    return tuple(out.shape), info, factors, reach, depth, packed


def _certificate(
    graph: Graph, in_shape: tuple[int, int, int], out_shape: tuple[int, ...], wanted: bool,
    factors: Any, packed: Any, seed: int, max_work: int,
) -> tuple[bool | None, str]:  # fmt: skip
    """(certified, how) for a linear model: the Kronecker witness of a chain of separable
    layers where it applies, else the graph evaluated mod p on the one-hot inputs."""
    if not wanted:
        return None, "not a linear model: the pattern is structural"
    from ._trace_witness import CannotWitness, certify_graph, kron_certify

    if factors is not None:
        try:  # a chain of separable layers: the Kronecker witness of symconv._certify
            return kron_certify(graph, in_shape, factors, seed)
        except CannotWitness:
            pass
    n_out, n_in = out_shape[1] * out_shape[2], in_shape[1] * in_shape[2]
    mask = np.kron(*factors).astype(bool) if factors is not None else None
    if mask is None and packed is not None:
        mask = np.unpackbits(packed, count=n_out * n_in).reshape(n_out, n_in) > 0
    return certify_graph(graph, in_shape, mask, seed, max_work)


def _chain(cols: Columns, out: Any, info: Any, rest: Any) -> Any:
    yield cols, out, info
    yield from rest
