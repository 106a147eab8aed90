"""``verify explain``: the idea in a sentence, the assumptions, and no solver dump unless asked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from _cli import run

from proofs import load_all


@pytest.mark.parametrize("check", load_all(), ids=lambda c: c.id)
def test_every_check_has_an_idea_and_assumptions(check: Any) -> None:
    assert len(check.intuition.split()) >= 12, check.id
    assert check.assumptions and all(len(a.split()) >= 3 for a in check.assumptions)
    # the same rule as for the claim and the method: words, not parameter names
    leaks = re.compile(r"\w+=\S|\bmin_size\b|\binit_scale\b|\bmax_steps\b|claimed_rank")
    assert not leaks.search(" ".join([check.intuition, *check.assumptions])), check.id


def test_thm4_explains_the_reach_and_says_necessary_not_sufficient() -> None:
    code, out, _ = run("explain", "thm4.depth-bound", "--quick")
    assert code == 0
    idea = out.split("The idea:", 1)[1].split("Assumptions:", 1)[0]
    assert "widens the reach by one pixel each way" in " ".join(idea.split())
    assert "corner-to-corner entry" in idea and "needs s − 1 layers" in " ".join(idea.split())
    assumptions = out.split("Assumptions:", 1)[1].split("How it is checked:", 1)[0]
    assert "necessary, not sufficient" in " ".join(assumptions.split())
    assert "⌈s⁴/9⌉" in assumptions
    assert "vacuous" not in out and "[2]" not in out


def test_lemma1_prints_no_formulas_unless_verbose_and_answers_the_identity() -> None:
    code, out, _ = run("explain", "lemma1.forced-zero", "--quick", "--solvers", "z3")
    assert code == 0
    assert "Implies(" not in out and "Or(" not in out
    assert re.search(r"\d+ solver obligations: \d+ pass, confirmed by z3", out)
    assert "--verbose lists each formula" in out
    flat = " ".join(out.split())
    assert "identity" in flat and "maps v to v" in flat and "ARBITRARY" in flat
    code, verbose, _ = run(
        "explain", "lemma1.forced-zero", "--quick", "--solvers", "z3", "--verbose"
    )
    assert code == 0 and verbose.count("Implies(") >= 10
    assert "Each step is proved by showing that its negation" in verbose


def test_the_printed_order_is_claim_idea_assumptions_method() -> None:
    _, out, _ = run("explain", "cor.depth2", "--quick")
    heads = ["The claim:", "The idea:", "Assumptions:", "How it is checked:", "Result:"]
    where = [out.index(h) for h in heads]
    assert where == sorted(where)
