"""The ``verify`` command line (also ``python -m proofs`` and ``python -m verifier``).

Exit codes: 0 all checks passed (or the command succeeded); 1 some check is fail, unknown
or error; 2 a usage mistake (bad argument value, unknown id, an option the command does not
use) or an output that cannot be written (a full disk, a read-only folder), reported as one
line on stderr; 130 interrupted (Ctrl-C or SIGTERM).

Every option's text is converted by a typed converter of :mod:`verifier.args`; handlers
take their output streams, so tests call :func:`main` directly.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import redirect_stdout
from typing import NoReturn, TextIO, TypeVar

from .args import Converter, Refused
from .errors import UsageError, printable, shown
from .interrupts import signals_interrupt
from .output import one_line, safe_streams, stdout_closed

__all__ = ["Parser", "build_parser", "main"]

EPILOG = """examples:
  verify all                          # check every claim of the paper
  verify explain thm4.depth-bound     # one claim, in words
  verify masks --size 5 --depth 3     # which entries are forced to zero
  verify explore --out page.html      # the same, interactive, in a browser
  verify COMMAND --help               # each command's options and examples

exit codes: 0 success / every check passed; 1 a check is fail, unknown or error;
2 a usage mistake or an output that cannot be written (one line on stderr naming the
argument or the path, and why); 130 interrupted (Ctrl-C or SIGTERM; finished experiment
rows stay in --out, --resume continues)."""


_Action = TypeVar("_Action", bound=argparse.Action)


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line and exit code 2 (no usage dump), and a typed
    converter (:class:`verifier.args.Converter`) is bound to the name of its option."""

    def error(self, message: str) -> NoReturn:
        raise _ArgparseError(message)

    def _add_action(self, action: _Action) -> _Action:
        # every option passes here, those of argument groups too
        if isinstance(action.type, Converter) and not action.type.argument:
            option = next((s for s in action.option_strings if s.startswith("--")), None)
            action.type = action.type.bound(option or str(action.metavar or action.dest).upper())
        return super()._add_action(action)


class _ArgparseError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    from . import cli_checks, cli_experiments, cli_masks, cli_matrix, examples, explore

    parser = Parser(
        prog="verify",
        description="Check the theorems of 'Memorization in Overparameterized Autoencoders'.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    cli_checks.add_parsers(sub)
    cli_masks.add_parsers(sub)
    cli_matrix.add_parsers(sub)
    cli_experiments.add_parsers(sub)
    explore.add_parsers(sub)
    examples.add_examples(sub)
    helps = {a.dest: a.help for a in sub._choices_actions}  # argparse keeps them only here
    for name, command in sub.choices.items():
        command.set_defaults(_parser=command)  # verifier.args.given reads the defaults
        words = helps.get(name) or ""
        if command.description is None and words:
            command.description = f"{words[0].upper()}{words[1:]}."
    return parser


def main(
    argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    # an unusable MPLCONFIGDIR makes matplotlib fall back to a temporary folder (fine) and
    # log two warnings about it: the program's stderr stays one line per failure
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    with safe_streams(stdout, stderr) as (out, err), signals_interrupt(stdout is None):
        if stdout is None and stdout_closed(out):
            _say(err, "verify: error: stdout is closed (send it to /dev/null instead of >&-)")
            return 2
        code, line = _run(argv, out, err)
        if line is not None:
            _say(err, line)
        if stdout is None:
            flushed = _flush(out)
            if flushed is not None:
                _say(err, flushed)
                code = 2 if code == 0 else code
        return code


def _run(argv: list[str] | None, out: TextIO, err: TextIO) -> tuple[int, str | None]:
    """The exit code and the one line for stderr (``None``: nothing to say)."""
    args: argparse.Namespace | None = None
    try:
        try:
            with redirect_stdout(out):  # --help writes to the stream main was given
                args = build_parser().parse_args(argv)
        except _ArgparseError as exc:
            return 2, f"verify: error: {_argparse_line(str(exc))}"
        except SystemExit as exc:  # --help
            return int(exc.code or 0), None
        return int(args.handler(args, out, err)), None
    except Refused as exc:
        return 2, f"verify: error: {exc.error}"
    except UsageError as exc:
        return 2, f"verify: error: {exc}"
    except ValueError as exc:
        line = _library_mistake(exc)
        if line is None:
            raise
        return 2, f"verify: error: {line}"
    except BrokenPipeError:
        return 0, None
    except KeyboardInterrupt as exc:
        return 130, _interrupted(exc, args)
    except OSError as exc:  # a write that failed late: the path and the reason
        where = f" {shown(printable(os.fsdecode(exc.filename)))}" if exc.filename else ""
        return 2, f"verify: error: cannot write{where} ({exc.strerror or exc})"


def _argparse_line(message: str) -> str:
    if "required: COMMAND" in message or message.startswith("argument COMMAND"):
        return f"{message}; verify --help lists the commands"
    return message


def _say(err: TextIO, line: str) -> None:
    try:
        print(one_line(line), file=err)
        err.flush()
    except (OSError, ValueError):
        pass  # stderr is gone too: the exit code is all that is left


def _flush(out: TextIO) -> str | None:
    """Flush the real stdout; a failure (``>/dev/full``) is one line, and stdout is pointed
    at /dev/null so that Python's own flush at exit has nothing left to fail on."""
    try:
        out.flush()
        return None
    except BrokenPipeError:
        reason = None
    except OSError as exc:
        reason = f"verify: error: cannot write to stdout ({exc.strerror or exc})"
    except ValueError:
        return None
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    return reason


def _interrupted(exc: KeyboardInterrupt, args: argparse.Namespace | None) -> str:
    """One line for Ctrl-C: what was kept and how to go on."""
    kept, path = getattr(exc, "kept", None), getattr(exc, "path", None)
    name = getattr(exc, "name", "the experiment")
    command = getattr(args, "command", None)
    if path is None:
        if command in ("experiment", "report") and kept is not None:
            return "verify: interrupted; no --out, so no rows were kept (--out DIR keeps them)"
        return "verify: interrupted"
    if not kept:
        return f"verify: interrupted; no row of {name} had finished, so none was written"
    where = printable(str(path))
    again = (
        "rerun the same command with --resume to continue"
        if command == "experiment"
        else f"verify experiment {name} --out {printable(str(path.parent))} --resume continues it"
    )
    return f"verify: interrupted; {kept} finished row(s) of {name} kept in {where}; {again}"


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
