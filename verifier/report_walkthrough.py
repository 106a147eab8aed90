"""The guided walkthrough (``docs/walkthrough.py``, a notebook kept as text) as a section
of ``verify report``: its prose and its code, in order, headings moved under the report's.

The notebook is read with jupytext (installed with the ``test`` extra); without it, or
without the file (an installed toolkit has no ``docs/``), the report links to it instead.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["WALKTHROUGH", "walkthrough_markdown"]

WALKTHROUGH = Path(__file__).resolve().parents[1] / "docs" / "walkthrough.py"
_HEADING = re.compile(r"^(#{1,4}) ", re.MULTILINE)


def walkthrough_markdown(path: Path = WALKTHROUGH) -> str | None:
    """The walkthrough as Markdown (headings two levels down, code in fenced blocks), or
    ``None`` when the file or jupytext is missing."""
    try:
        import jupytext
    except ImportError:
        return None
    if not path.is_file():
        return None
    notebook = jupytext.read(path)
    parts = []
    for cell in notebook.cells:
        text = cell.source.strip()
        if not text:
            continue
        if cell.cell_type == "markdown":
            parts.append(_HEADING.sub(lambda m: "#" * (len(m.group(1)) + 2) + " ", text))
        else:
            parts.append(f"```python\n{text}\n```")
    return "\n\n".join(parts) if parts else None
