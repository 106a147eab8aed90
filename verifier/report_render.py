"""One source, two renderings: ``verify report``'s Markdown, written once, and its HTML.

The report is one Markdown document, rendered by one Jinja2 template
(``templates/report.md.j2``) from the collected data. ``report.md`` is that document;
``index.html`` is the same document through markdown-it-py (CommonMark with tables), in
the page shell ``templates/page.html.j2``. What only HTML can show is written in the source
in forms a Markdown reader skips or reads as text:

- ids and classes as block attributes on their own line before a heading or table
  (``{id="summary"}``, ``{.rows}``), which report.md leaves out;
- formulas as ``$…$`` TeX, which report.md keeps and index.html turns into MathML;
- a figure as a linked image followed, on the next line, by its caption in emphasis:
  index.html draws it as ``<figure>`` with a ``<figcaption>``, the image a link to the PNG
  at full size;
- verdicts in bold (``**agrees**``), which index.html colours.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["md_escape", "render_report", "source_to_html", "source_to_markdown"]

TEMPLATES = Path(__file__).with_name("templates")
_ROLE = re.compile(r":(?:py:)?(?:mod|func|class|meth|attr|data|obj|exc|ref|doc):`~?([^`]+)`")
_ATTR_LINE = re.compile(r"^\{(?:id=|\.)[^}\n]*\}\n", re.M)
_VERDICT = re.compile(r"<strong>(agrees|differs|inconclusive)</strong>")
_BADGE = re.compile(r"<em>\((extension|paper claim|experiment)\)</em>")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|$])|<(?=[A-Za-z/!?])")


def strip_roles(text: str) -> str:
    """Sphinx roles (``:mod:`x```, ``:func:`~a.b```) → plain code spans (```x```)."""
    return _ROLE.sub(lambda m: f"`{m.group(1)}`", text)


def md_escape(text: Any) -> str:
    """Plain text as Markdown that reads as that text (maths notation in Unicode)."""
    from .report_math import unicode_maths

    s = unicode_maths(str(text)).replace("\n", " ")
    return _MD_SPECIAL.sub(lambda m: "\\" + (m.group(1) or "<"), s)


def md_plain(text: Any) -> str:
    """Plain text as Markdown, left as written (no maths notation: versions, dates)."""
    return _MD_SPECIAL.sub(lambda m: "\\" + (m.group(1) or "<"), str(text).replace("\n", " "))


def md_text(text: Any) -> str:
    """Text that is already Markdown (notes, details): roles stripped, maths in Unicode."""
    from .report_math import unicode_maths

    return unicode_maths(strip_roles(str(text))).replace("$", "\\$")


def md_own(text: Any) -> str:
    """The report's own Markdown (glossary, captions): ``$…$`` is TeX, rendered as MathML."""
    from .report_math import unicode_maths

    return unicode_maths(str(text))


def md_cell(text: Any) -> str:
    """A Markdown cell (already escaped) on one line, with no unescaped pipe."""
    return re.sub(r"(?<!\\)\|", r"\\|", " ".join(str(text).split()))


def _env(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(md=md_escape, mdtext=md_text, cell=md_cell, plain=md_plain, own=md_own)
    return env


def render_report(data: dict[str, Any]) -> str:
    """The report's Markdown source, from ``templates/report.md.j2``."""
    text = _env(False).get_template("report.md.j2").render(**data)
    return re.sub(r"\n{3,}", "\n\n", text)


def source_to_markdown(source: str) -> str:
    """report.md: the source without its HTML-only attribute lines."""
    return _ATTR_LINE.sub("", source)


def _figures(state: Any) -> None:
    """A paragraph ``[![alt](src)](src)`` + line break + caption → ``<figure>`` with
    ``<figcaption>`` (a markdown-it core rule)."""
    from markdown_it.token import Token

    toks = state.tokens
    for i in range(len(toks) - 2):
        if toks[i].type != "paragraph_open" or toks[i + 1].type != "inline":
            continue
        kids = toks[i + 1].children or []
        head = [k.type for k in kids[:4]]
        if head != ["link_open", "image", "link_close", "softbreak"]:
            continue
        toks[i].tag = toks[i + 2].tag = "figure"
        open_cap, close_cap = Token("html_inline", "", 0), Token("html_inline", "", 0)
        open_cap.content, close_cap.content = "<figcaption>", "</figcaption>"
        toks[i + 1].children = [*kids[:3], open_cap, *kids[4:], close_cap]


def source_to_html(source: str, title: str) -> str:
    """index.html: the source through markdown-it-py, in the page shell."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.attrs import attrs_block_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    from .report_math import tex_to_mathml

    md = (
        MarkdownIt("commonmark", {"html": True, "typographer": False})
        .enable("table")
        .use(attrs_block_plugin)
        .use(
            dollarmath_plugin,
            allow_space=True,
            double_inline=False,
            renderer=lambda tex, opts: tex_to_mathml(tex, display=bool(opts.get("display_mode"))),
        )
    )
    md.core.ruler.push("figures", _figures)
    body = md.render(source)
    body = _VERDICT.sub(r'<strong class="\1">\1</strong>', body)
    body = _BADGE.sub(
        lambda m: f'<em class="badge {m.group(1).split()[0]}">{m.group(1)}</em>', body
    )
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return _env(True).get_template("page.html.j2").render(title=title, css=css, body=body)
