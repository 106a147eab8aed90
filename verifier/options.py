"""The ``verify`` program's commands and options as data.

A command is declared by one call of :func:`command`: its name, its handler, the words
``--help`` shows and its :class:`Option` list, in the order ``--help`` lists them. The
options several commands share (``--json``, ``--quick``, ``--kernel``) are declared once here.
Every value goes through a typed converter of :mod:`verifier.args`, bound to its option's
name by :class:`verifier.cli.Parser`.
"""

from __future__ import annotations

from argparse import ArgumentParser, _ActionsContainer, _SubParsersAction
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import args as A

__all__ = ["JSON", "KERNEL", "QUICK", "Option", "add", "command"]


@dataclass(frozen=True)
class Option:
    """One option (``--size``) or positional argument (``id``) of a command.

    ``type`` is the option's converter; without one an option is a flag (``store_true``)
    and a positional is kept as text. ``required`` options have no default."""

    name: str
    help: str
    type: A.Converter[Any] | None = None
    default: Any = None
    required: bool = False
    metavar: str | None = None

    def add_to(self, parser: _ActionsContainer) -> None:
        """``parser.add_argument`` with this option's declaration."""
        optional = self.name.startswith("-")
        if optional and self.type is None:
            parser.add_argument(self.name, action="store_true", help=self.help)
            return
        kwargs: dict[str, Any] = {"help": self.help}
        if self.type is not None:
            kwargs["type"] = self.type
        if self.required:
            kwargs["required"] = True
        elif optional:
            kwargs["default"] = self.default
        if self.metavar is not None:
            kwargs["metavar"] = self.metavar
        parser.add_argument(self.name, **kwargs)


#: ``--json`` as most commands word it.
JSON = Option("--json", "print one JSON object")
#: ``--quick`` of the checks (``all``, ``check``, ``explain``).
QUICK = Option("--quick", "small default sizes")
#: ``--kernel`` of ``masks`` and ``depth``.
KERNEL = Option("--kernel", "odd kernel size k (default 3)", A.odd_kernel(), 3)


def add(parser: _ActionsContainer, *options: Option) -> None:
    """Add ``options`` to ``parser`` (or an argument group), in order."""
    for option in options:
        option.add_to(parser)


def command(
    sub: _SubParsersAction[Any],
    name: str,
    handler: Callable[..., int],
    *options: Option,
    help: str,
    description: str | None = None,
) -> ArgumentParser:
    """The parser of the command ``name`` with ``options``: ``help`` is its line in ``verify
    --help``, ``description`` the text of ``verify NAME --help``; ``handler`` runs it."""
    parser: ArgumentParser = sub.add_parser(name, help=help, description=description)
    add(parser, *options)
    parser.set_defaults(handler=handler)
    return parser
