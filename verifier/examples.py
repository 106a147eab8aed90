"""Examples shown at the end of every ``verify COMMAND --help``, for students and scripts."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["EXAMPLES", "add_examples"]

EXAMPLES: dict[str, str] = {
    "all": """
  verify all                        # every check: id, status, evidence, seconds
  verify all --quick --only thm4    # the Theorem 4 checks, small sizes
  verify all --json > checks.json   # one JSON object, for scripts
  verify all --solvers z3           # z3 alone (default: z3 and cvc5 where installed)""",
    "list": """
  verify list                       # every check id, its evidence level and claim
  verify list --json""",
    "check": """
  verify check thm4.depth-bound     # run one check
  verify check cor.depth2 --json""",
    "explain": """
  verify explain thm4.depth-bound   # the claim, the method, the evidence, the result
  verify explain lemma1.forced-zero""",
    "masks": """
  verify masks --size 5 --depth 3                 # 3 layers leave forced zeros on 5×5
  verify masks --size 5 --depth 4 --filters 64    # depth s−1 = 4: none, whatever F
  verify masks --size 8 --depth 3 --png mask.png --pixels 3,4   # annotated picture
  verify masks --size 8 --depth 3 --svg mask.svg                # the same, for print
  verify masks --size 6 --depth 1..5 --gif reach.gif    # one frame per depth (slides)
  verify masks --size 5 --depth 3 --verbose       # also how the entries were certified
  verify masks --size 5 --depth 3 --json          # the mask as '0'/'1' rows
  verify masks --model unet.pt2 --pixels 0,0      # your own model (torch.export.save)""",
    "probe": """
  verify probe --model unet.pt2 --train train/    # does the trained model memorize?
  verify probe --model unet.pt2 --train train/ --json""",
    "depth": """
  verify depth --size 2..20                 # least depth without forced zeros: s − 1
  verify depth --size 9 --kernel 5          # ⌈(s−1)/2⌉ = 4 for 5×5 filters
  verify depth --size 2..32 --downsample 2  # Section 4: a stride-2 layer halves it""",
    "matrix": """
  verify matrix --size 3 --symbolic         # Appendix D's 9×9 matrix, symbol by symbol
  verify matrix --size 4 --stride 2 --symbolic
  verify matrix --size 3 --json             # random numeric weights, as JSON""",
    "certificates": """
  verify certificates --out smt/            # every solver obligation as SMT-LIB 2 files
  verify certificates --out smt/ --only thm4
then verify reprove smt/ (z3 and cvc5 by their Python APIs; each file says its expected
answer: ; expected: unsat)""",
    "reprove": """
  verify reprove smt/                       # every .smt2 re-proved by z3 and cvc5
  verify reprove smt/ --solvers z3 --json""",
    "audit": """
  verify audit                              # Tables 1–2: printed vs recomputed numbers
  verify audit --json""",
    "explore": """
  verify explore --out forced-zeros.html                 # 5×5 images, 3×3 filters
  verify explore --out page.html --size 8 --depth 3      # a shallow net: zeros left
  verify explore --out page.html --size 16 --downsample  # Section 4: stride 2
then open the file in a browser (no server, no network needed).""",
    "experiment": """
  verify experiment list                          # the experiments and what they measure
  verify experiment table1 --quick                # seconds on a CPU
  verify experiment table2 --out runs/ --resume   # rows to runs/table2.json as they finish
  verify experiment downsampling --device cuda --seed 1""",
    "report": """
  verify report --out report/ --quick       # a few minutes on a CPU; open report/index.html
  verify report --out report/ --device cuda # the paper's sizes""",
}


def add_examples(sub: argparse._SubParsersAction[Any]) -> None:
    """Append the examples to each subcommand's ``--help`` (layout kept as written)."""
    for name, parser in sub.choices.items():
        text = EXAMPLES.get(name)
        if text is None:
            continue
        parser.epilog = "examples:" + text + ("\n\n" + parser.epilog if parser.epilog else "")
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
