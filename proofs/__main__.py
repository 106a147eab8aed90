"""``python -m proofs``: the ``verify`` program (kept for scripts that call it so)."""

import sys

from verifier.cli import main

sys.exit(main())
