"""The ``verify`` program: everything a user touches.

The argument tree and its typed converters (:mod:`verifier.cli` and the ``cli_*``
modules), the one error class (:class:`UsageError`), the store (rows files, the folder
lock, atomic writes: :mod:`verifier.store`), the experiment runner
(:mod:`verifier.runner`), the mask pictures, the explorer page and the report. It imports
the three libraries (``symconv``, ``proofs``, ``numerics``); none of them imports it.
"""

from .cli import main
from .errors import UsageError, shown
from .store import write_atomic

__all__ = ["UsageError", "main", "shown", "write_atomic"]
