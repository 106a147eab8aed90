"""Mathematics in ``verify report``: a TeX subset rendered as MathML, and the checks' ASCII
notation (``phi^-1(X) X^+``, ``ceil(s^4/9)``) written in Unicode (``φ⁻¹(X) X⁺``, ``⌈s⁴/9⌉``).

The report's own formulas are written ``$…$`` in its Markdown source: report.md keeps them
as TeX (Markdown viewers with maths render them), index.html gets MathML, which browsers
render natively — no script, no font download, no network. The TeX subset is what the
report uses: letters, digits, operators, ``^`` and ``_`` (with ``{…}`` groups), ``\\frac``,
``\\lceil``/``\\rceil``, Greek letters, ``\\mathbb``, ``\\operatorname`` and a few symbols;
anything else is an error (a formula that would silently render wrong).

The registry's titles and statements are ASCII so that they read in a terminal
(``verify list``); the report shows them in Unicode, so that one page never mixes
``phi^-1(X)`` with ``φ⁻¹(X)``.
"""

from __future__ import annotations

import html
import re

__all__ = ["tex_to_mathml", "unicode_maths"]

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "theta": "θ",
    "lambda": "λ", "mu": "μ", "pi": "π", "rho": "ρ", "sigma": "σ", "phi": "φ", "varphi": "φ",
    "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ",
}  # fmt: skip
_OPS = {
    "le": "≤", "ge": "≥", "ne": "≠", "to": "→", "in": "∈", "cdot": "·", "times": "×",
    "lceil": "⌈", "rceil": "⌉", "sum": "∑", "approx": "≈", "mid": "|", "ldots": "…",
    "lt": "<", "gt": ">", "pm": "±", "Rightarrow": "⇒", "iff": "⇔",
}  # fmt: skip
_IDENT = {"infty": "∞", "top": "⊤", "dagger": "†"}
_BB = {"R": "ℝ", "N": "ℕ", "Z": "ℤ"}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\d+(?:\.\d+)?|[A-Za-z]|\s+|.", re.S)


def _tokens(tex: str) -> list[str]:
    return [t for t in _TOKEN.findall(tex) if not t.isspace()]


def _group(toks: list[str], i: int) -> tuple[str, int]:
    """The raw text of the ``{…}`` group at ``toks[i]`` (for \\operatorname, \\text)."""
    if i >= len(toks) or toks[i] != "{":
        raise ValueError("a brace group {…} is expected")
    depth, j, out = 1, i + 1, list[str]()
    while j < len(toks):
        if toks[j] == "{":
            depth += 1
        elif toks[j] == "}":
            depth -= 1
            if depth == 0:
                return "".join(out), j + 1
        out.append(toks[j] if toks[j][0] != "\\" else toks[j] + " ")
        j += 1
    raise ValueError("unbalanced braces")


def _atom(toks: list[str], i: int) -> tuple[str, int]:
    t = toks[i]
    if t == "{":
        inner, j = _row(toks, i + 1)
        if j >= len(toks) or toks[j] != "}":
            raise ValueError("unbalanced braces")
        return f"<mrow>{inner}</mrow>", j + 1
    if t == "\\frac":
        num, j = _atom(toks, i + 1)
        den, j = _atom(toks, j)
        return f"<mfrac>{num}{den}</mfrac>", j
    if t == "\\sqrt":
        arg, j = _atom(toks, i + 1)
        return f"<msqrt>{arg}</msqrt>", j
    if t in ("\\operatorname", "\\mathrm", "\\text"):
        text, j = _group(toks, i + 1)
        tag = "mtext" if t == "\\text" else "mi"
        return f"<{tag}>{html.escape(text.strip())}</{tag}>", j
    if t == "\\mathbb":
        text, j = _group(toks, i + 1)
        return f"<mi>{_BB.get(text.strip(), html.escape(text))}</mi>", j
    if t[0] == "\\" and len(t) > 2:
        name = t[1:]
        if name in _GREEK:
            return f"<mi>{_GREEK[name]}</mi>", i + 1
        if name in _IDENT:
            return f"<mi>{_IDENT[name]}</mi>", i + 1
        if name in _OPS:
            return f"<mo>{html.escape(_OPS[name])}</mo>", i + 1
        if name in ("rank", "dim", "span", "diag", "min", "max"):
            return f"<mi>{name}</mi>", i + 1
        raise ValueError(f"unsupported TeX command {t}")
    if t[0] == "\\":  # \, \{ \} and friends
        return ("<mspace width=\"0.17em\"></mspace>", i + 1) if t == "\\," else (
            f"<mo>{html.escape(t[1:])}</mo>", i + 1)  # fmt: skip
    if t[0].isdigit():
        return f"<mn>{t}</mn>", i + 1
    if t.isalpha():
        return f"<mi>{t}</mi>", i + 1
    if t in "^_}":
        raise ValueError(f"unexpected {t!r}")
    return f"<mo>{html.escape({'-': '−', '*': '∗'}.get(t, t))}</mo>", i + 1


def _row(toks: list[str], i: int) -> tuple[str, int]:
    """Atoms with their scripts until ``}`` or the end."""
    out = []
    while i < len(toks) and toks[i] != "}":
        base, i = _atom(toks, i)
        sup = sub = None
        while i < len(toks) and toks[i] in "^_":
            kind = toks[i]
            if i + 1 >= len(toks):
                raise ValueError(f"{kind} without an argument")
            arg, i = _atom(toks, i + 1)
            if kind == "^":
                sup = arg
            else:
                sub = arg
        if sup is not None and sub is not None:
            base = f"<msubsup>{base}{sub}{sup}</msubsup>"
        elif sup is not None:
            base = f"<msup>{base}{sup}</msup>"
        elif sub is not None:
            base = f"<msub>{base}{sub}</msub>"
        out.append(base)
    return "".join(out), i


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """``$tex$`` as a MathML ``<math>`` element (``display="block"`` when ``display``).

    >>> tex_to_mathml("X X^{+}")  # doctest: +ELLIPSIS
    '<math ...><mrow><mi>X</mi><msup><mi>X</mi><mrow><mo>+</mo></mrow></msup></mrow></math>'
    """
    toks = _tokens(tex)
    body, i = _row(toks, 0)
    if i != len(toks):
        raise ValueError(f"unbalanced braces in {tex!r}")
    block = ' display="block"' if display else ""
    alt = html.escape(tex, quote=True)
    return (
        f'<math xmlns="http://www.w3.org/1998/Math/MathML"{block} alttext="{alt}">'
        f"<mrow>{body}</mrow></math>"
    )


# ------------------------------------------------------------------ ASCII notation → Unicode

_SUP = dict(zip("0123456789+-Tdnrst", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ᵀᵈⁿʳˢᵗ", strict=True))
_SUB = dict(zip("0123456789ijkmnrt", "₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₘₙᵣₜ", strict=True))
_WORDS = {**_GREEK, "inf": "∞"}
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\^-1\b"), "⁻¹"),
    (re.compile(r"\^\+"), "⁺"),
    (re.compile(r">="), "≥"),
    (re.compile(r"<="), "≤"),
    (re.compile(r"!="), "≠"),
    (re.compile(r"->"), "→"),
    (re.compile(r"<-"), "←"),
    (re.compile(r"(?<=\d)x(?=\d)"), "×"),
    (re.compile(r"\b([a-z]) x ([a-z])\b"), r"\1 × \2"),
    (re.compile(r"(?<=\S) - (?=\S)"), " − "),
    (re.compile(r"(?<![A-Za-z][A-Za-z])(?<=[A-Za-z)])-(?=\d)"), "−"),
    (re.compile(r"(?<=[(=] )-(?=\S)|(?<=\()-(?=[A-Za-zΣ])"), "−"),
    (re.compile(r"(?<![A-Za-z])R(?=\^)"), "ℝ"),
    (re.compile(r"\bsum_i\b"), "Σᵢ"),
]
_SCRIPT = re.compile(r"([\^_])([0-9]+|[A-Za-z+])(?![A-Za-z0-9])")
_WORD = re.compile(
    r"(?<![A-Za-z])(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")(?![A-Za-z])"
)
_CODE = re.compile(r"(``[^`]+``|`[^`]+`|\$[^$\n]+\$)")  # code spans, TeX


def _ceil(text: str) -> str:
    """``ceil(…)`` with balanced parentheses → ``⌈…⌉``."""
    while (k := text.find("ceil(")) >= 0:
        depth, j = 0, k + 4
        for j in range(k + 4, len(text)):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                break
        else:
            return text
        inner = text[k + 5 : j]
        if inner.startswith("(") and inner.endswith(")") and inner.count("(") == 1:
            inner = inner[1:-1]
        text = text[:k] + "⌈" + inner + "⌉" + text[j + 1 :]
    return text


def _scripts(m: re.Match[str]) -> str:
    table = _SUP if m.group(1) == "^" else _SUB
    if all(c in table for c in m.group(2)):
        return "".join(table[c] for c in m.group(2))
    return m.group(0)


def unicode_maths(text: str) -> str:
    """The checks' ASCII notation in Unicode, outside code spans and ``$…$`` TeX (kept).

    >>> unicode_maths("phi^-1(X) X^+, ceil(s^4/9) layers, 0 < gamma < 1/lambda_1, A(inf)")
    'φ⁻¹(X) X⁺, ⌈s⁴/9⌉ layers, 0 < γ < 1/λ₁, A(∞)'
    """
    parts = _CODE.split(text)
    for k in range(0, len(parts), 2):  # even parts are outside code spans
        s = _ceil(parts[k])
        for pat, rep in _RULES:
            s = pat.sub(rep, s)
        s = _WORD.sub(lambda m: _WORDS[m.group(1)], s)
        parts[k] = _SCRIPT.sub(_scripts, s)
    return "".join(parts)
