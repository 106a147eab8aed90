"""The ``verify`` command line (also ``python -m proofs`` and ``python -m verifier``).

Exit codes: 0 all checks passed (or the command succeeded); 1 some check is fail, unknown
or error; 2 a usage mistake (bad argument value, unknown id), reported as one line on stderr.

Handlers take their output streams, so tests call :func:`main` directly.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, TextIO

from .errors import UsageError, shown

__all__ = ["main"]

EPILOG = """examples:
  verify all                          # check every claim of the paper
  verify explain thm4.depth-bound     # one claim, in words
  verify masks --size 5 --depth 3     # which entries are forced to zero
  verify explore --out page.html      # the same, interactive, in a browser
  verify COMMAND --help               # each command's options and examples

exit codes: 0 success / every check passed; 1 a check is fail, unknown or error;
2 a usage mistake (one line on stderr naming the argument and its value); 130 interrupted
(Ctrl-C; finished experiment rows stay in --out, --resume continues)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        raise _ArgparseError(message)


class _ArgparseError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    from . import cli_checks, cli_experiments, cli_masks, examples, explore

    parser = _Parser(
        prog="verify",
        description="Check the theorems of 'Memorization in Overparameterized Autoencoders'.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    cli_checks.add_parsers(sub)
    cli_masks.add_parsers(sub)
    cli_experiments.add_parsers(sub)
    explore.add_parsers(sub)
    examples.add_examples(sub)
    return parser


def main(
    argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ArgparseError as exc:
        print(f"verify: error: {exc}", file=err)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        return int(args.handler(args, out, err))
    except UsageError as exc:
        print(f"verify: error: {exc}", file=err)
        return 2
    except ValueError as exc:
        line = _library_mistake(exc)
        if line is None:
            raise
        print(f"verify: error: {line}", file=err)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt as exc:
        print(_interrupted(exc, args), file=err)
        return 130


def _interrupted(exc: KeyboardInterrupt, args: argparse.Namespace) -> str:
    """One line for Ctrl-C: what was kept and how to go on."""
    kept, path = getattr(exc, "kept", None), getattr(exc, "path", None)
    name = getattr(exc, "name", "the experiment")
    if path is None:
        if getattr(args, "command", None) in ("experiment", "report") and kept is not None:
            return "verify: interrupted; no --out, so no rows were kept (--out DIR keeps them)"
        return "verify: interrupted"
    again = (
        "rerun the same command with --resume to continue"
        if args.command == "experiment"
        else f"verify experiment {name} --out {path.parent} --resume continues it"
    )
    return f"verify: interrupted; {kept} finished row(s) of {name} kept in {path}; {again}"


def _library_mistake(exc: ValueError) -> str | None:
    """The one line for a library's argument error (``symconv.SymconvError``,
    ``numerics.ExperimentError``) reaching the program's boundary, in the program's style;
    ``None`` for any other ``ValueError`` (a bug, which keeps its traceback). Only a loaded
    library can have raised its error, so nothing is imported here."""
    kinds = [
        getattr(sys.modules.get(mod), name, None)
        for mod, name in (("symconv", "SymconvError"), ("numerics", "ExperimentError"))
    ]
    if not any(k is not None and isinstance(exc, k) for k in kinds):
        return None
    argument, value = getattr(exc, "argument", "?"), getattr(exc, "value", None)
    why = getattr(exc, "why", None)
    if why is None:  # SymconvError keeps the value in full in its own message
        return str(exc)
    return f"{argument}: {why} (got {shown(value)})"
