"""``verify masks --model FILE.pt2`` and ``verify probe``: the user's own torch model.

``masks --model`` prints the exact dependence pattern of a program saved with
``torch.export.save`` (:func:`symconv.from_torch`): which input pixels each output pixel can
depend on, whatever the weights — certified with integer witnesses for a linear model, the
structural zeros of the Jacobian for a nonlinear one (pointwise activations count as generic
nonzero slopes). ``probe`` asks of a trained autoencoder whether it memorizes its training
images (:func:`numerics.probe_report`).
"""

from __future__ import annotations

import json
import os
import stat
from argparse import Namespace, _SubParsersAction
from typing import Any, TextIO

from . import args as A
from .errors import UsageError
from .options import JSON, Option, command
from .store import check_new_file

__all__ = ["MAX_MODEL_BYTES", "add_probe_parser", "model_masks"]

#: Largest ``.pt2`` file read (bytes): a program is its graph and its weights.
MAX_MODEL_BYTES = 2**30
#: ``masks --model``: the dense mask is kept (and printed with --json) up to this many
#: entries; past it the JSON gives the chosen pixels' rows and the reach counts only.
MAX_MODEL_MASK_ENTRIES = 2**26
#: ``masks --model --png``: the picture is drawn dense, square single-plane maps only.
MAX_MODEL_PICTURE_ENTRIES = 48**4
#: ``probe``: at most this many training images are read from --train.
MAX_TRAIN_IMAGES = 64

#: The options ``masks --model`` uses; the others describe the paper's stacks.
_MODEL_OPTIONS = {"--model", "--pixels", "--json", "--png", "--show-mask", "--verbose"}


def _need_torch(option: str) -> None:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise UsageError(option, "torch", "torch is not installed; pip install torch==2.13.0 (CPU)")


def check_model_file(option: str, text: str) -> str:
    """``text`` names a regular, readable ``.pt2`` file of at most :data:`MAX_MODEL_BYTES`
    (a folder, a FIFO or a device is refused, never opened)."""
    path = A.check_path_text(option, text, (".pt2",))
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UsageError(option, text, f"cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(option, text, "is not a regular file")
    if st.st_size > MAX_MODEL_BYTES:
        raise UsageError(option, text, f"{st.st_size} bytes, more than {MAX_MODEL_BYTES}")
    if not os.access(path, os.R_OK):
        raise UsageError(option, text, "is not readable")
    return text


def _load(option: str, text: str) -> Any:
    """The saved program, or one line naming ``option`` when it is not one."""
    import warnings

    from symconv import load_program

    try:
        with warnings.catch_warnings():  # torch's own deprecation notes are not the user's
            warnings.simplefilter("ignore")
            return load_program(text)
    except Exception as exc:  # torch.export.load raises many kinds for a foreign file
        why = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise UsageError(
            option, text, f"not a program saved by torch.export.save ({why})"
        ) from None


def model_masks(args: Namespace, out: TextIO, err: TextIO) -> int:
    """``masks --model FILE.pt2``: the pattern of the saved program."""
    from symconv import UnsupportedOpError, model_mask_report

    A.refuse_unused(args, _MODEL_OPTIONS, "--model (the model fixes its shapes and layers)")
    _need_torch("--model")
    check_model_file("--model", args.model)
    if args.png is not None:
        check_new_file("--png", args.png)
    program = _load("--model", args.model)
    pixels = list(args.pixels) if args.pixels else None
    try:
        report = model_mask_report(program, pixels=pixels, max_mask_entries=MAX_MODEL_MASK_ENTRIES)
    except UnsupportedOpError as exc:
        raise UsageError("--model", args.model, str(exc)) from None
    report["model"] = args.model
    if args.png is not None:
        _picture(args, report)
    if args.json:
        json.dump(report, out)
        out.write("\n")
        return 0
    _print_report(report, out, args.show_mask)
    if args.png is not None:
        print(f"picture written to {args.png}", file=out)
    return 0


def _print_report(report: dict[str, Any], out: TextIO, show_mask: bool) -> None:
    shape_in = "×".join(map(str, report["input_shape"]))
    shape_out = "×".join(map(str, report["output_shape"]))
    ops = ", ".join(f"{k} ×{v}" for k, v in sorted(report["ops"].items()))
    print(f"{report['model']}: {shape_in} → {shape_out} ({ops})", file=out)
    cert = {True: "certified", False: "NOT certified", None: "not certified"}[report["certified"]]
    print(
        f"forced zeros: {report['forced_zeros']:,} of {report['entries']:,} entries "
        f"(channels summed); full support: {'yes' if report['full_support'] else 'no'}; "
        f"{cert}: {report['certificate']}",
        file=out,
    )
    kind = (
        "a linear model: the forced zeros of its end-to-end matrix"
        if report["linear"]
        else ("not linear: the entries of the Jacobian that are zero for every weight and input")
    )
    print(kind, file=out)
    for note in report["notes"]:
        print(f"  note: {note}", file=out)
    whole = report["whole_input_pixels"]
    print(
        f"output pixels that see the whole input: {len(whole):,}; reach per output pixel: "
        f"{report['reach_min']:,} to {report['reach_max']:,} input pixels",
        file=out,
    )
    extra = report["extra_depth"]
    print(
        "3×3 'same' layers to append for no forced zero: "
        + ("none would (some input pixel is seen by no output)" if extra is None else f"{extra}"),
        file=out,
    )
    width = report["input_shape"][-1]
    for item in report["pixels"]:
        i, j = item["pixel"]
        print(f"\noutput pixel ({i},{j}) sees {item['reach']:,} input pixels:", file=out)
        row = item["row"]
        for r in range(0, len(row), width):
            print("  " + " ".join("#" if c == "1" else "." for c in row[r : r + width]), file=out)
    if show_mask and report.get("mask") is not None:
        print("\nmask (row = output pixel, column = input pixel, row-major):", file=out)
        for line in report["mask"]:
            print("  " + line.replace("1", "#").replace("0", "."), file=out)


def _picture(args: Namespace, report: dict[str, Any]) -> None:
    """The annotated mask picture, for a model whose input and output are one s×s plane."""
    import numpy as np

    from .pictures import mask_figure

    (h, w), (ho, wo) = report["input_shape"][-2:], report["output_shape"][-2:]
    if not (h == w == ho == wo) or report.get("mask") is None or h**4 > MAX_MODEL_PICTURE_ENTRIES:
        raise UsageError(
            "--png", args.png, "draws models whose input and output are s×s with s ≤ 48"
        )
    mask = np.array([[c == "1" for c in line] for line in report["mask"]])
    pixels = [tuple(p["pixel"]) for p in report["pixels"]][:6]
    try:
        mask_figure(args.png, mask, size=h, depth=0, kernel=3, filters=1, pixels=pixels)
    except OSError as exc:
        raise UsageError("--png", args.png, f"cannot write ({exc.strerror or exc})") from None


def add_probe_parser(sub: _SubParsersAction[Any]) -> None:
    train = Option(
        "--train",
        f"folder of the training images (PNG/JPEG; at most {MAX_TRAIN_IMAGES})",
        A.path_text(),
        required=True,
    )
    command(
        sub,
        "probe",
        _probe,
        Option("--model", "FILE.pt2", A.path_text(".pt2"), required=True),
        train,
        Option("--seed", "seed of the probe inputs (default 0)", A.seed(), 0),
        JSON,
        help="does a trained autoencoder memorize its training images?",
        description="For a model saved with torch.export.save and the folder of its "
        "training images: its spectrum, rank and the angle between its top eigenvectors and "
        "the span of the training images (linear models); for any model, the fraction of "
        "Gaussian, white-square and held-out inputs whose output (and 20th iterate) lands on "
        "a training image, and whether each training image is an attractor (spectral radius "
        "of the Jacobian there below 1).",
    )


def _probe(args: Namespace, out: TextIO, err: TextIO) -> int:
    _need_torch("--model")
    check_model_file("--model", args.model)
    from numerics import check_images, probe_report
    from symconv import UnsupportedOpError, from_torch

    count = check_images(args.train)
    if count > MAX_TRAIN_IMAGES:
        raise UsageError("--train", args.train, f"{count} images, at most {MAX_TRAIN_IMAGES}")
    program = _load("--model", args.model)
    try:
        linear = from_torch(program, certify=False).linear
    except UnsupportedOpError:
        linear = None  # the probe decides by a superposition test
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = probe_report(args.model, args.train, linear=linear, seed=args.seed)
    except ValueError as exc:  # the probe's own refusals (a non-square input, ...)
        if type(exc) is not ValueError:
            raise
        raise UsageError("--model", args.model, str(exc).split(": ", 1)[-1][:160]) from None
    if args.json:
        json.dump(report, out)
        out.write("\n")
        return 0
    _print_probe(report, out)
    return 0


def _print_probe(report: dict[str, Any], out: TextIO) -> None:
    print(
        f"{report['model']}: {report['train_images']} training images from {report['train']}; "
        f"{'linear' if report['linear'] else 'nonlinear'}",
        file=out,
    )
    if report.get("spectrum") is not None:
        head = ", ".join(f"{v:.3g}" for v in report["spectrum"][:6])
        print(
            f"spectrum: [{head}, …]; rank {report['rank']}; span angle "
            f"{report['span_angle']:.3g} rad (0: its top eigenvectors span the training images)",
            file=out,
        )
    for kind, m in report["landed"].items():
        print(
            f"{kind:<9} inputs: {m['landed']:.0%} of {m['n']} land on a training image, "
            f"{m['iterated_landed']:.0%} after iterating {report['iterations']} times",
            file=out,
        )
    for a in report["attractors"]:
        print(
            f"training image {a['image']}: spectral radius of the Jacobian "
            f"{a['spectral_radius']:.3g} ({a['stability']}), fixed-point error "
            f"{a['fixed_point_error']:.2g}",
            file=out,
        )
    for name, rule in (report.get("rules") or {}).items():
        print(f"  {name}: {rule}", file=out)
