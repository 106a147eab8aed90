"""The ``verify`` program called in process, as the tests call it (``main`` with streams)."""

from __future__ import annotations

import io
import json
from typing import Any

from verifier.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    """``verify ARGV``: the exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def run_json(*argv: str) -> Any:
    """``verify ARGV`` that must succeed: its stdout as JSON."""
    code, out, err = run(*argv)
    assert code == 0, err
    return json.loads(out)
