"""Theorem 2: nonlinear single layer autoencoders memorize (gradient descent, numerically).

Examples ``x(1), ..., x(n)`` in ``R^d`` (``n < d``) are the columns of ``X``, satisfying
Assumption 1 (``proofs.thm2_activation``); ``A`` is trained by gradient descent from
``A(0) = 0`` on

    L(A) = 1/2 * sum_i (x(i) - phi(A x(i)))^T (x(i) - phi(A x(i))).          (2)

**Theorem 2**: with the adaptive step of Appendix B, gradient descent converges to ``A(inf)``
with ``A(inf) x(i) = phi^-1(x(i))``; from ``A(0) = 0`` it is the minimum norm solution

    A(inf) = phi^-1(X) X^+.

Check: ``thm2.conclusion`` (gradient descent reaches ``phi^-1(X) X^+``; numpy float64).
"""

from __future__ import annotations

from typing import Any

from ._registry import register
from ._result import Evidence, Result

__all__ = ["CONCLUSION_INSTANCES", "check_conclusion", "gradient_descent"]

# --------------------------------------------------------------------------------------------
# thm2.conclusion (numeric)

#: Seeded training sets for the numeric check: (name, d, n, seed); entries uniform in
#: (0.05, 0.45), so Assumption 1 (a), (b) hold with every target below sigmoid(0) = 1/2.
CONCLUSION_INSTANCES: tuple[tuple[str, int, int, int], ...] = (
    ("d4-n2-seed1", 4, 2, 1),
    ("d6-n3-seed0", 6, 3, 0),
)

_TOL_FIT = 1e-10  # max |phi(A x(i)) - x(i)|
_TOL_A = 1e-8  # max |A - phi^-1(X) X^+|
_TOL_SPAN = 1e-9  # rows of A off span(X)^T; A y off span(phi^-1(X)) (relative)
_RANK_RTOL = 1e-8  # singular values below this fraction of the largest count as zero


def _sigmoid(z: Any) -> Any:
    import numpy as np

    return 1.0 / (1.0 + np.exp(-z))


def _logit(x: Any) -> Any:
    import numpy as np

    return np.log(x / (1.0 - x))


def _training_set(d: int, n: int, seed: int) -> Any:
    import numpy as np

    return np.random.default_rng(seed).uniform(0.05, 0.45, size=(d, n))


def gradient_descent(
    x: Any,
    *,
    schedule: str,
    gamma: float,
    a0: Any = None,
    max_steps: int = 100_000,
    tol: float = 1e-12,
) -> tuple[Any, int]:
    """Gradient descent on loss (2) with phi = sigmoid; returns (A, steps taken).

    ``schedule="constant"``: ``A <- A + gamma sum_i (phi'(A x(i)) * (x(i) - phi(A x(i)))) x(i)^T``.
    ``schedule="adaptive"`` (Appendix B): the step for row k and example i is
    ``gamma / (c_ki phi'(A_k x(i)))`` with ``c_ki`` the slope of the chord from (0, phi(0)) to
    ``(phi^-1(x_k(i)), x_k(i))``, so the update is ``A_k <- A_k + gamma sum_i
    (x_k(i) - phi(A_k x(i))) / c_ki x(i)^T`` (the paper's ``gamma_i = gamma / s_i``, sign
    as in thm2.linearization). Stops when ``max |phi(A X) - X| < tol``.
    """
    import numpy as np

    d = x.shape[0]
    a = np.zeros((d, d)) if a0 is None else np.array(a0, dtype=float)
    slope = (x - 0.5) / _logit(x)
    for step in range(max_steps):
        out = _sigmoid(a @ x)
        resid = x - out
        if np.abs(resid).max() < tol:
            return a, step
        if schedule == "adaptive":
            a = a + gamma * (resid / slope) @ x.T
        elif schedule == "constant":
            a = a + gamma * (out * (1.0 - out) * resid) @ x.T
        else:
            raise ValueError(f"schedule must be 'adaptive' or 'constant', got {schedule!r}")
    return a, max_steps


def _conclusion_run(x: Any, a: Any, steps: int, max_steps: int, seed: int) -> dict[str, Any]:
    import numpy as np

    d, n = x.shape
    pinv = np.linalg.pinv(x)
    target = _logit(x) @ pinv  # phi^-1(X) X^+, the minimum norm solution of A X = phi^-1(X)
    ys = np.random.default_rng(seed + 1000).standard_normal((d, 5))
    ay = a @ ys
    pre = _logit(x)
    off_span = ay - pre @ np.linalg.lstsq(pre, ay, rcond=None)[0]
    sv = np.linalg.svd(a, compute_uv=False)
    return {
        "steps": steps,
        "converged": steps < max_steps,
        "fit": float(np.abs(_sigmoid(a @ x) - x).max()),
        "dist_min_norm": float(np.abs(a - target).max()),
        "rows_off_span": float(np.abs(a @ (np.eye(d) - x @ pinv)).max()),
        "phi_span_residual": float(np.abs(off_span).max() / max(np.abs(ay).max(), 1e-300)),
        "rank_A": int((sv > _RANK_RTOL * sv[0]).sum()),
        "dim_span": int(np.linalg.matrix_rank(x)),
        "n": n,
    }


@register(
    "thm2.conclusion",
    title="Gradient descent on (2) from A=0 reaches phi^-1(X) X^+ (sigmoid)",
    statement="""Theorem 2: for n < d and data satisfying Assumption 1, gradient descent on (2)
    from A(0) = 0 with the adaptive step of Appendix B converges to A(inf) with
    A(inf) x(i) = phi^-1(x(i)), and (as the limit of the linearised problem) to its minimum
    norm solution phi^-1(X) X^+. The paper conjectures the same for a constant step. The
    Corollary's conclusions follow: phi(A x(i)) = x(i) (phi-eigenvectors with phi-eigenvalue 1),
    phi(A y) in the phi-span of X (A y in span(phi^-1(X))), rank A = dim span(X).""",
    method=f"""Numerically (numpy float64), phi = sigmoid, on seeded training sets with
    entries uniform in (0.05, 0.45) (d = 4, n = 2 and d = 6, n = 3; quick: the first). From
    A = 0 we run: the adaptive step of Appendix B with gamma just under the paper's bound
    1/(n L d) (first set only: it is slow), the adaptive step with gamma = 1/lambda_1(S), and
    a constant step 16/lambda_1(S) (16 = 1/max(sigmoid')^2). Each run stops when
    max |phi(A X) - X| < 1e-12. Tolerances: fit {_TOL_FIT:g}, max |A - phi^-1(X) X^+| <=
    {_TOL_A:g}, rows of A off span(X)^T and A y off span(phi^-1(X)) (five random y, relative)
    <= {_TOL_SPAN:g}, rank counted from singular values above {_RANK_RTOL:g} times the
    largest. A run that does not converge within its step budget gives unknown. Started
    from a random nonzero A(0) instead, the run still fits the data but lands off
    the minimum norm solution, and the check fails.""",
    intuition=(
        "It is Theorem 1 with targets φ^-1(x(i)) instead of x(i): the linearised "
        "problem's minimum-norm solution is φ^-1(X) X^+, and gradient descent from zero "
        "reaches it."
    ),
    assumptions=(
        "sigmoid, n < d, data satisfying Assumption 1",
        "A(0) = 0 and Appendix B's adaptive step (for a constant step the paper only "
        "conjectures it)",
        "numeric evidence: float64 training, agreement within a tolerance, not a proof",
    ),
    evidence="numeric",
    reference="Theorem 2; Corollary; Appendix B",
    wrong=({"init_scale": 0.1},),
)
def check_conclusion(*, quick: bool = False, init_scale: float = 0.0, seed: int = 0) -> Result:
    """Theorem 2 numerically; ``init_scale > 0`` starts from a random nonzero A(0)."""
    import numpy as np

    instances = CONCLUSION_INSTANCES[:1] if quick else CONCLUSION_INSTANCES
    parts = []
    runs: list[dict[str, Any]] = []
    for idx, (name, d, n, data_seed) in enumerate(instances):
        x = _training_set(d, n, data_seed)
        lam1 = float(np.linalg.eigvalsh(x @ x.T)[-1])
        big_l = float((x[:, None, :] / x[None, :, :]).max())  # max_i,j,k x_j(i) / x_k(i)
        schedules = [("adaptive", 1.0 / lam1, 20_000), ("constant", 16.0 / lam1, 60_000)]
        if idx == 0:
            schedules.insert(0, ("adaptive-paper", 0.99 / (n * big_l * d), 60_000))
        a0 = None
        if init_scale:
            a0 = init_scale * np.random.default_rng(seed).standard_normal((d, d))
        for label, gamma, budget in schedules:
            sched = "constant" if label == "constant" else "adaptive"
            a, steps = gradient_descent(x, schedule=sched, gamma=gamma, a0=a0, max_steps=budget)
            run = {"instance": name, "schedule": label, "gamma": gamma,
                   **_conclusion_run(x, a, steps, budget, data_seed)}  # fmt: skip
            runs.append(run)
            text = (
                f"{name}, {label} step {gamma:.3g}: {steps} steps, fit {run['fit']:.1e}, "
                f"|A - phi^-1(X) X^+| {run['dist_min_norm']:.1e}, rank {run['rank_A']} "
                f"(dim span {run['dim_span']})"
            )
            ok = (
                run["dist_min_norm"] <= _TOL_A
                and run["rows_off_span"] <= _TOL_SPAN
                and run["phi_span_residual"] <= _TOL_SPAN
                and run["rank_A"] == run["dim_span"]
            )
            if not run["converged"] or run["fit"] > _TOL_FIT:
                parts.append(Result.verdict(None, Evidence.NUMERIC, f"{text}: did not converge"))
            else:
                parts.append(
                    Result.verdict(ok, Evidence.NUMERIC, text, counterexample=None if ok else run)
                )
    return Result.combine(
        Evidence.NUMERIC,
        parts,
        f"{len(runs)} runs from A = 0 (adaptive and constant steps) fit the data to "
        f"{_TOL_FIT:g} and agree with phi^-1(X) X^+ to {_TOL_A:g}; A y stays in "
        "span(phi^-1(X)) and rank A = dim span(X)",
        fail_lead="Theorem 2's conclusion is not reproduced",
        runs=runs,
        tolerances={"fit": _TOL_FIT, "min_norm": _TOL_A, "span": _TOL_SPAN,
                    "rank_rtol": _RANK_RTOL},
    )  # fmt: skip
