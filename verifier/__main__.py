"""``python -m verifier``: the ``verify`` program."""

import sys

from .cli import main

sys.exit(main())
