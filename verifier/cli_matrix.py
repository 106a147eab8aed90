"""``verify matrix | audit``: one layer's matrix (Appendix D) and Tables 1–2 audited.

These commands import only numpy, symconv and proofs' audit, so they answer fast.
"""

from __future__ import annotations

import json
from argparse import Namespace, _SubParsersAction
from typing import Any, TextIO

from . import args as A
from .errors import UsageError
from .options import JSON, Option, command

#: Largest layer matrix ``matrix`` prints (entries, rows × columns): s ≤ 32 at stride 1,
#: one string per entry (about 2 s and 100 MB of output at the limit).
MAX_MATRIX_ENTRIES = 2**20


def add_parsers(sub: _SubParsersAction[Any]) -> None:
    seed = Option(
        "--seed",
        "seed of the random numeric weights, 0 ≤ N < 2**32 (default 0; not with --symbolic)",
        A.seed(),
    )
    command(
        sub,
        "matrix",
        _matrix,
        Option("--size", "image size s", A.integer(1), required=True),
        Option("--kernel", "kernel size k (default 3)", A.integer(1), 3),
        Option("--stride", "stride (default 1)", A.integer(1), 1),
        Option("--symbolic", "entries named A1..A{k²}"),
        seed,
        JSON,
        help="one conv layer's matrix (Appendix D)",
        description="The matrix of one conv layer on s×s images (row = output pixel, column "
        "= input pixel), with entries named A1..A{k²} (--symbolic) or random numbers.",
    )
    command(sub, "audit", _audit, JSON, help="Tables 1–2: printed vs recomputed bounds and params")


def _matrix(args: Namespace, out: TextIO, err: TextIO) -> int:
    import numpy as np

    from symconv import Conv2d, conv_entries

    size, kernel, stride = args.size, args.kernel, args.stride
    if args.symbolic and args.seed is not None:
        raise UsageError("--seed", args.seed, "not used by --symbolic (the entries are named)")
    seed = 0 if args.seed is None else args.seed
    if kernel > 2 * size - 1:
        raise UsageError(
            "--kernel",
            kernel,
            f"wider than 2s−1 = {2 * size - 1}: the extra taps only meet the padding "
            f"(at most {2 * size - 1} for --size {size})",
        )
    if stride > size:
        raise UsageError("--stride", stride, f"larger than the image (--size {size})")
    padding = (kernel - 1) // 2  # 'same' for odd kernels; floor((k-1)/2) for even ones
    layer = Conv2d(1, 1, kernel, stride=stride, padding=padding)
    shape = (1, size, size)
    _, h2, w2 = layer.out_shape(shape)
    n_out, n_in = h2 * w2, size * size
    if n_out * n_in > MAX_MATRIX_ENTRIES:
        raise UsageError(
            "--size",
            size,
            f"the {n_out}×{n_in} matrix has more than {MAX_MATRIX_ENTRIES} entries "
            "(s ≤ 32 at stride 1)",
        )
    rows, cols, widx = conv_entries(layer, shape)
    table = np.full((n_out, n_in), "0", dtype=object)
    if args.symbolic:
        names = np.array([f"A{i + 1}" for i in range(kernel * kernel)], dtype=object)
        table[rows, cols] = names[widx]
    else:
        w = np.random.default_rng(seed).standard_normal(kernel * kernel)
        text = np.array([f"{v:.4f}" if v != 0 else "0" for v in w], dtype=object)
        table[rows, cols] = text[widx]
    entries = table.tolist()
    if args.json:
        json.dump(
            {"size": size, "kernel": kernel, "stride": stride, "padding": padding, "rows": entries},
            out,
        )
        out.write("\n")
        return 0
    print(
        f"{kernel}×{kernel} filter, stride {stride}, padding {padding}, on {size}×{size} "
        f"images: a {n_out}×{n_in} matrix (row = output pixel, column = input pixel)",
        file=out,
    )
    if n_in > 100 and not args.json:
        print("(more than 100 columns: use --json for the entries)", file=out)
        return 0
    width = max(len(e) for row in entries for e in row)
    for row in entries:
        print("  " + " ".join(e.rjust(width) for e in row), file=out)
    return 0


def _audit(args: Namespace, out: TextIO, err: TextIO) -> int:
    from dataclasses import asdict

    from proofs import audit_tables

    rows = audit_tables()
    if args.json:
        json.dump({"rows": [asdict(r) for r in rows]}, out, indent=1)
        out.write("\n")
        return 0
    print(
        "table row  size  n  F    layers  params(printed)  params(stated arch)  "
        "bound(printed)  ⌈s⁴/9⌉  note",
        file=out,
    )
    for r in rows:
        print(
            f"{r.table:>5} {r.row:>3}  {r.size:>4} {r.train_examples:>2} {r.filters:>3}  "
            f"{r.layers_printed:>6}  {r.params_printed:>15}  {r.params:>19}  "
            f"{r.bound_printed:>14}  {r.bound:>7}  {r.note or 'consistent'}",
            file=out,
        )
    return 0
