"""The glossary of ``verify report``: every code name and term the page uses, defined once.

The page links each term's first use to its entry (``#g-ID``). Definitions are Markdown
(``$…$`` is TeX, rendered as MathML in the HTML).
"""

from __future__ import annotations

__all__ = ["GLOSSARY"]

#: (id, term, definition), in reading order.
GLOSSARY: list[tuple[str, str, str]] = [
    ("verdict", "verdict: agrees / differs / inconclusive",
     "Whether a statement held when checked. A check that passes *agrees*, one that fails "
     "*differs*; anything else (unknown, error, skipped) is *inconclusive*. An experiment "
     "row needs at least 3 seeds, 80 % of them reaching the loss target, and the full form; "
     "it then agrees when it does what the paper says (Table 1: no memorization; Table 2: "
     "memorization) in ≥ 80 % of its seeds, differs when it does in ≤ 20 %. An experiment "
     "agrees when all its rows and readings agree, differs when any differs."),
    ("evidence", "evidence: proof / exact / numeric",
     "*proof*: holds for every size and value the statement covers (a symbolic identity, or "
     "z3 finding the negation unsatisfiable); *exact*: exact arithmetic on the stated "
     "instances; *numeric*: floating point within a stated tolerance. Experiments are "
     "numeric evidence about the paper's setups."),
    ("extension", "extension (vs paper claim)",
     "A check of a statement the paper does not make: a generalisation (any odd kernel "
     "size, a stride-2 layer) or a refinement that makes a claim precise (the rank in the "
     "Corollary of Theorem 2, the genericity of Theorem 3). `verify list` shows the column "
     "`paper`: *claim* or *extension*."),
    ("quick", "quick form / full form",
     "`--quick` runs every experiment small: smaller images, fewer filters, one seed, "
     "capped iterations. Its rows are *inconclusive* by rule. The full form uses the paper's "
     "sizes and iteration counts; its results are committed in `docs/results/`."),
    ("seed", "seed",
     "One seed fixes the random images and the initial weights of a run. Tables 1–2 run "
     "each row over several seeds (5 for Table 1, 3 for Table 2) and report the median."),
    ("reading", "reading",
     "A named choice where the paper is silent (the depth of Table 1's \"2 layers\" rows, "
     "the initial scale, the skip design), run side by side: `verify experiment readings` "
     "lists them, `--reading NAME` runs one, and every row records the reading it ran."),
    ("row-code", "row code (`L2-F128-d2-gain1`, `s4-n1-L29-cstar`)",
     "Table 1 rows: `L`*layers*`-F`*filters*, as printed in the paper, then the depth "
     "reading (`d2`: the \"2 layers\" rows as 2 conv layers, `d3`: as 3) and the init "
     "reading (`gain1`, `gain0.3`, `torch-default`). The quick form keeps the paper's code "
     "but runs fewer filters: the *filters* column says what ran. Table 2 rows: `s`*size*"
     "`-n`*images*`-L`*layers* and the init reading (`cstar`, `cstar0.5`) or, for the "
     "rows with skip connections, the skip design (`identity-blocks`, `plain-ends`, "
     "`plain-tail`)."),
    ("gain", "gain (`gain1`, `gain0.3`)",
     "Table 1's initial scale: every weight uniform in $\\pm g/\\sqrt{3F}$ for gain $g$ and "
     "$F$ filters; `torch-default` is PyTorch's own Conv2d initialization."),
    ("cstar", "c* (`cstar`, `cstar0.5`)",
     "Table 2's initialization \"as close to zero as possible while allowing for "
     "training\": every weight equal to $c^{*} = 1/\\rho(T)$, the constant that gives each "
     "layer spectral radius 1; `cstar0.5` is half of it. Smaller constants shrink the output "
     "like $(c/c^{*})^{L}$ and stop training."),
    ("skip", "skip designs (`identity-blocks`, `plain-ends`, `plain-tail`)",
     "The paper's starred rows use skip connections every 10 layers without saying how: "
     "`identity-blocks` wraps each run of 10 layers as $x + B(x)$; `plain-ends` puts a plain "
     "conv layer before and after such blocks; `plain-tail` leaves the leftover layers "
     "plain."),
    ("heuristic", "heuristic depth ⌈s⁴/9⌉",
     "The least number of single-filter 3×3 layers with as many weights ($9$ each) as a "
     "fully connected layer on $s \\times s$ images ($s^{4}$): $\\lceil s^{4}/9 \\rceil$ "
     "(Section 3.2)."),
    ("spectrum", "spectrum",
     "The magnitudes of the eigenvalues of the trained net's end-to-end matrix $A$ "
     "(read off exactly, in float64), largest first. For nonlinear nets: of the Jacobian "
     "at a training image."),
    ("memorized", "memorized",
     "A linear net memorizes $n$ training images when its spectrum has $n$ values within "
     "0.05 of 1, the rest below 0.05, **and** its top-$n$ eigenvectors span the training "
     "images (the *span angle*, the largest principal angle between the two spaces, at "
     "most 0.05 rad): $A$ is then close to the projection $X X^{+}$ onto the span of the "
     "training images (Theorem 1). A rank-$n$ projection onto another space does not "
     "count; a net that did not train is shown as *did not train*, never as memorized."),
    ("loss-target", "loss target",
     "Training stops when the loss is below $10^{-6}$ (the paper's), or at the iteration "
     "cap; a run stopped by the cap is flagged ⚠ *target not reached*."),
    ("land", "land, landed",
     "An output *lands* on a training image when it is within 10 % (of its norm) of a "
     "positive multiple of one training image and its norm is at least 10 % of that "
     "image's (zero is a multiple of every image: a vanished output never lands). "
     "*landed* is the fraction of test inputs whose output lands; *landed after "
     "iterating* the same for $f^{20}$. A net that did not train shows *did not train*, "
     "a set whose outputs mostly vanished *vanished*."),
    ("iterated", "f²⁰ (written f^20 in the figures)",
     "The trained map $f$ applied 20 times. Where one pass gives a blend, iterating shows "
     "whether the training images are attracting fixed points (Section 5's \"strong "
     "memorization\")."),
    ("distances", "nearest / ray / span",
     "Median distances of the outputs, each relative to the output's norm: to the nearest "
     "training image, to its ray (any positive multiple), and to the span of all training "
     "images."),
    ("forced-zero", "forced zero, full support",
     "An entry of the end-to-end matrix that is zero whatever the weights, because no path "
     "of 3×3 neighbourhoods connects its input pixel to its output pixel. *Full support*: "
     "no forced zero. Lemma 1: a matrix with a forced zero cannot memorize an arbitrary "
     "image."),
    ("d1d2", "D1, D2",
     "The downsampling networks of Section 4: D1 (Figure 2) halves a 32×32 image with "
     "stride-2 layers down to 1×1 and back; D2 (Figure 3) goes to 4×4 in one layer, "
     "applies 29 layers there, and upsamples."),
]  # fmt: skip
