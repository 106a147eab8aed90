"""The ``verify`` program: everything a user touches.

The argument tree and its typed converters (:mod:`verifier.cli` and the ``cli_*``
modules), the one error class (:class:`UsageError`), the store (rows files, the folder
lock, atomic writes: :mod:`verifier.store`), the experiment runner
(:mod:`verifier.runner`), the mask pictures, the explorer page and the report. It imports
the three libraries (``symconv``, ``proofs``, ``numerics``); none of them imports it.
"""

# first: an invalid OMP_NUM_THREADS & co. is dropped before numpy or torch is loaded
from .environment import drop_invalid_thread_settings

drop_invalid_thread_settings()

from .cli import main  # noqa: E402
from .errors import UsageError, shown  # noqa: E402
from .store import write_atomic  # noqa: E402

__all__ = ["UsageError", "main", "shown", "write_atomic"]
