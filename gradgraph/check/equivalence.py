"""The child's verdict: numbers first, exact algebra as a check on them, then a proof try.

Everything here touches the learner's expression, so it runs in the sandbox (killed at
the deadline). Both sides are compared at the prepared points (same defined/undefined
pattern, same values); then the difference, with definitions substituted and each op
application one opaque symbol, is factored and expanded: an exact zero proves equality
and overrules a float disagreement. When the numbers agree, exact algebra may still
find a near miss the tolerance hid (a constant difference or factor, :mod:`.constants`):
not equal. A soft-timed ``simplify`` may prove a right answer; one it cannot prove is
accepted on the numbers.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import sympy as sp

from .. import ops
from ..sandbox import soft_deadline
from .classify import classify
from .constants import atomize, clearest_point, constant_offset, exact_decimals, residual
from .feedback import feedback
from .numbers import compare, evaluate_flagged, proportional, value_at
from .prepare import Prepared, canonical


def judge(prep: Prepared, answer: sp.Expr, deadline: float, start: float | None = None
          ) -> dict[str, Any]:
    """Runs in the sandbox: the verdict as plain data (see ``messages.result``).

    ``start``: when the child began (the question was prepared since), so that the
    soft-timed algebra leaves room for the messages within ``deadline``.
    """
    start = time.monotonic() if start is None else start
    formulas = prep.instances.formulas(answer)
    flags = prep.flags()
    values = [evaluate_flagged(f, prep.env, prep.n, flags) for f in formulas]
    yours = np.concatenate([v.values for v in values])
    unusable = np.concatenate([v.unusable for v in values]) | prep.truth_overflow()
    status, index, defined = compare(yours, prep.truth, unusable, prep.magnitudes())
    if status in ("differ", "domain"):  # rounding is not a difference: confirm it exactly
        status, index, defined, unusable = _confirmed(
            prep, formulas, yours, unusable, (status, index, defined),
            start + 0.45 * deadline - time.monotonic())
    rough = prep.rough() | unusable
    report: dict[str, Any] = {
        "status": status, "index": index, "defined": defined,
        "yours": value_at(yours, index), "truth": value_at(prep.truth, index),
        "ratio": proportional(yours, prep.truth, rough), "factors": [], "notes": [],
        "exact": False, "proved": False, "constant": None, "codes": [],
    }
    if status == "few":
        return report
    try:  # for a right answer too: .factors shows what matched what
        report["factors"], report["notes"] = feedback(prep, answer, yours)
    except Exception:  # noqa: BLE001 - feedback is a bonus; the verdict stands without it
        pass
    try:
        # The learner's decimals as written (0.1 is 1/10): exact algebra on them.
        pairs = [(canonical(prep.graph, exact_decimals(f)), exact_decimals(c))
                 for f, c in zip(formulas, prep.canonicals, strict=True)]
        if status == "equal":  # the verdict stands unless algebra finds a near miss
            budget = 0.6 * deadline - (time.monotonic() - start)
            moderate = prep.moderate() & ~rough
            report["proved"], report["constant"] = _settle(
                pairs, budget, _scale(prep.truth[moderate]),
                None if prep.constrained else _leaf_env(prep),
                np.split(np.where(unusable, np.nan, prep.truth), len(pairs)))
            report["exact"] = report["proved"]
            found = report["constant"]
            if found is not None and "point" in found:  # where the term shows
                index = found.pop("instance") * prep.n + found.pop("point")
                report.update(index=index, yours=value_at(yours, index),
                              truth=value_at(prep.truth, index))
            elif found is not None:
                found.pop("instance", None)
                _near_miss_point(report, yours, prep.truth, ~moderate)
        else:  # an exact zero overrules the numbers: worth the hard deadline (may be killed)
            report["exact"] = report["proved"] = all(exactly_zero(a - c) for a, c in pairs)
    except Exception:  # noqa: BLE001 - SymPy gave up (PolynomialError, ...): not proved
        pass
    if status != "equal" and not report["exact"]:
        try:
            report["codes"] = classify(prep, yours, report["factors"], report["notes"],
                                       report["ratio"], start + 0.7 * deadline)
        except Exception:  # noqa: BLE001 - codes are a bonus; the verdict stands without
            report["codes"] = ["WRONG-VALUE"]
    elif report["constant"] is not None:  # a near miss: a tiny term, or a constant factor
        report["codes"] = ["WRONG-VALUE" if report["constant"]["kind"] == "term"
                           else "WRONG-CONSTANT"]
    return report


# Points whose float difference is checked in exact arithmetic before it counts, and the
# relative agreement there that makes it rounding (the floats disagreed by far more).
CONFIRM_POINTS = 16
EXACT_RTOL = 1e-9
EXACT_DIGITS = 30
MAX_DIGITS = 1500


def _confirmed(prep: Prepared, formulas: list[sp.Expr], yours: np.ndarray,
               unusable: np.ndarray, found: tuple[str, int | None, int], budget: float
               ) -> tuple[str, int | None, int, np.ndarray]:
    """``found`` (compare's verdict), once each counterexample is checked exactly.

    Floats can differ where the formulas do not: log(1 + e⁻³⁶) is 0 in floats, so a
    right answer written another way than the truth can look wrong by a factor of 2,
    or undefined (a division by that 0), at a large-magnitude point. Such a point is
    evaluated with the floats as the exact rationals they are, with digits enough for
    the point's magnitude; if both sides agree there it is left out (as an overflow is) and the
    comparison runs again. A real difference
    shows at the first point, so a wrong answer costs one exact evaluation; out of
    time, the float verdict stands.
    """
    status, index, defined = found
    try:
        with soft_deadline(budget):
            for _ in range(CONFIRM_POINTS):
                if status not in ("differ", "domain") or index is None or not _rounding_at(
                        prep, formulas, index):
                    break
                unusable = unusable.copy()
                unusable[index] = True
                status, index, defined = compare(yours, prep.truth, unusable,
                                                 prep.magnitudes())
    except Exception:  # noqa: BLE001 - out of time, or SymPy gave up: the numbers stand
        pass
    return status, index, defined, unusable


def _rounding_at(prep: Prepared, formulas: list[sp.Expr], index: int) -> bool:
    """Whether the answer and the truth agree exactly at flat point ``index``."""
    block, point = divmod(index, prep.n)
    sides = [ops.elementary(e) for e in (formulas[block], prep.canonicals[block])]
    used = set().union(*(e.free_symbols for e in sides))
    at = {s: float(np.asarray(v).reshape(-1)[point]) for s, v in prep.env.items() if s in used}
    # e^(−|x|) next to 1 needs |x|/ln 10 digits to be seen at all; SymPy's own raising of
    # its working precision gives up on such a sum (log(1 + e⁻⁹⁶) divides by zero).
    digits = min(MAX_DIGITS, EXACT_DIGITS + int(0.5 * max(map(abs, at.values()), default=0)))
    exact = {s: sp.Rational(v) for s, v in at.items()}
    try:
        mine, truth = (e.xreplace(exact).evalf(digits) for e in sides)
    except Exception:  # noqa: BLE001 - SymPy gave up: not confirmed
        return False
    if not all(v.is_real is True and v.is_finite is True for v in (mine, truth)):
        return False  # undefined or complex there, exactly: a real difference
    scale = max(abs(mine), abs(truth))
    return bool(scale == 0 or abs(mine - truth) <= EXACT_RTOL * scale)


def _leaf_env(prep: Prepared) -> tuple[dict[sp.Symbol, np.ndarray], int, Any, Any]:
    """The leaves' values at the points (and the size of every node's value there),
    for exact algebra's residuals."""
    env = {prep.graph[name].symbol: values for name, values in prep.leaf_values.items()}
    sizes = prep.sample.magnitudes if prep.sample is not None else None
    return env, prep.n, prep.order, sizes


def exactly_zero(difference: sp.Expr) -> bool:
    """Exact algebra with ops as opaque functions: is ``difference`` identically 0?

    Each op application becomes one symbol (equal applications, equal symbols), so the
    algebra never descends into a deep chain's nested σ(w·σ(…) + b). The chain's common
    factors come out first (a wrong answer often differs from the right one by a
    factor, and expanding a 2ⁿ-term product would be wasted work); a product is zero
    when one of its factors is, so only those are expanded. A genuine blow-up such as
    (a + … + h)¹⁰⁰ runs into the deadline: "undecided".
    """
    if difference == 0:
        return True
    factored = sp.factor_terms(atomize(difference, {}, {}))
    if factored == 0:
        return True
    for f in sp.Mul.make_args(factored):
        base = f.base if f.is_Pow and f.exp.is_positive else f
        if not base.is_Number and sp.expand(base) == 0:
            return True
    return False


def _settle(pairs: list[tuple[sp.Expr, sp.Expr]], budget: float, scale: float,
            leaves: tuple[dict[sp.Symbol, np.ndarray], int, Any, Any] | None,
            truths: list[np.ndarray]
            ) -> tuple[bool, dict[str, Any] | None]:
    """(proved, near miss) for an answer the numbers call equal: exact algebra, then a
    constant difference or factor, or a difference exact algebra shows is nonzero
    almost everywhere (a near miss the tolerance hid: not equal), then ops written out
    in exp and cancelled, then ``simplify``. Slow algebra is cut short here (soft
    deadline) instead of costing the whole check: without a proof or a near miss the
    verdict stands on the numbers."""
    if budget < 0.05:
        return False, None
    try:
        with soft_deadline(budget):
            if all(exactly_zero(a - c) for a, c in pairs):
                return True, None
            for k, ((a, c), truth) in enumerate(zip(pairs, truths, strict=True)):
                found = constant_offset(a, c, scale) or (
                    None if leaves is None else residual(a, c, *leaves, truth))
                if found is not None:
                    return False, {**found, "instance": k}
            return all(exactly_zero(a - c) or _simplifies_to_zero(a - c)
                       for a, c in pairs), None
    except Exception:  # noqa: BLE001 - SoftTimeout or SymPy giving up: no proof, no near miss
        return False, None


def _scale(truth: np.ndarray) -> float:
    """The largest finite true value: what rounding noise is measured against."""
    finite = np.abs(truth[np.isfinite(truth)])
    return float(finite.max()) if finite.size else 0.0


def _near_miss_point(report: dict[str, Any], yours: np.ndarray, truth: np.ndarray,
                     skip: np.ndarray) -> None:
    """The point that shows a near miss best (an ordinary one), as the counterexample."""
    index = clearest_point(np.where(skip, np.nan, yours), np.where(skip, np.nan, truth))
    report.update(index=index, yours=value_at(yours, index), truth=value_at(truth, index))


def _simplifies_to_zero(difference: sp.Expr) -> bool:
    written = ops.elementary(difference).rewrite(sp.exp)
    return sp.cancel(sp.expand(written)) == 0 or sp.simplify(difference) == 0
