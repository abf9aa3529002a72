"""Which factor is wrong: the learner's factors matched, numerically, against the chain's.

Runs in the child (it touches the learner's expression). A factor of the answer, or a
product of two or three of them, matches a chain factor when their values are
proportional at every point; the constant tells a sign or a lost 2 apart from a factor
that differs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import reduce
from typing import Any

import numpy as np
import sympy as sp

from ..notation import split_name, unicode_name
from .codes import NOTE_CODES
from .display import factor_text, number_text, with_coeff
from .mutations import factor_mutations
from .numbers import close, proportional
from .prepare import ExpectedFactor, Prepared
from .result import FactorCheck

MAX_FACTORS = 100  # learner factors we try to match
MAX_FREE_FOR_PAIRS = 24  # subsets of 2 (3) are tried among at most this many (12) factors
MAX_PATHS_MATCHED = 6  # paths whose subsets we test for "a missing path"

Group = tuple[tuple[int, ...], float]  # (learner factors, k): their product is k × a factor


def feedback(prep: Prepared, answer: sp.Expr, yours: np.ndarray
             ) -> tuple[list[dict[str, Any]], list[str]]:
    """(factor rows as plain data, notes) for the answer."""
    term = prep.instances.term(answer) if prep.factors is not None else None
    if term is not None:
        return _factor_feedback(prep, term)
    if prep.paths:  # several paths, or an indexed chain the answer did not write as one
        return [], _path_feedback(prep.paths, yours, prep.rough_points())
    return [], []


def _learner_factors(answer: sp.Expr, split_powers: bool) -> tuple[sp.Number, list[sp.Expr]]:
    """The numeric coefficient and the other factors: 2x(a − y)σ′(z) -> 2, [x, a − y, σ′(z)].

    A power is one factor ((a − y)² for 2(a − y) reads "your factor … = (a − y)²"), or,
    with ``split_powers``, its base repeated (w⁽ᴸ⁾² may be w⁽ᴸ⁾ written for w⁽ᴸ⁻¹⁾).
    """
    coeff, rest = sp.factor_terms(answer).as_coeff_Mul()
    out: list[sp.Expr] = []
    for f in sp.Mul.make_args(rest):
        if split_powers and f.is_Pow and f.exp.is_Integer and 2 <= f.exp <= 6:
            out.extend([f.base] * int(f.exp))
        elif f != 1:
            out.append(f)
    return coeff, out


def _factor_feedback(prep: Prepared, answer: sp.Expr) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows for the reading of the answer's factors that leaves the fewest wrong."""
    readings = [_factor_rows(prep, *_learner_factors(answer, split)) for split in (False, True)]
    best = min(readings, key=lambda rows: sum(not r.ok for r in rows))
    return [r.__dict__ for r in best], []


def _factor_rows(prep: Prepared, coeff: sp.Number, learner: list[sp.Expr]
                 ) -> list[FactorCheck]:
    expected = prep.factors or []
    if len(learner) > MAX_FACTORS:
        return []
    values = [prep.instances.values(f, prep.env, prep.n) for f in learner]
    groups = _match(expected, values, prep.rough_points())
    used = {j for idx, _ in groups.values() for j in idx}
    left = [j for j in range(len(learner)) if j not in used]
    owner = _coefficient_owner(expected, groups, coeff)
    order = prep.order
    unmatched = [i for i in range(len(expected)) if i not in groups]
    rows = [_coded(prep, ef, _factor_row(i, ef, groups.get(i), learner, left,
                                         coeff if owner == i else sp.S.One,
                                         len(unmatched) == 1, order), learner, left,
                   coeff if owner == i else sp.S.One)
            for i, ef in enumerate(expected)]
    if left and len(unmatched) != 1:
        rows += [FactorCheck("", None, factor_text(learner[j], order), False, "extra",
                             "EXTRA-FACTOR") for j in left]
    if owner is None and coeff != 1:
        code = "SIGN-FLIP" if coeff == -1 else "WRONG-CONSTANT"
        rows.append(FactorCheck("", None, number_text(coeff), False, "extra", code))
    return rows


def _coded(prep: Prepared, ef: ExpectedFactor, row: FactorCheck, learner: list[sp.Expr],
           left: list[int], coeff: sp.Number) -> FactorCheck:
    """The row with its misconception code: the note's, refined for a factor that
    "differs" by the slip whose mutation of the chain's factor it equals."""
    if row.ok:
        return row
    code = row.code or NOTE_CODES.get(row.note, "WRONG-FACTOR")
    if row.note in ("differs", "layer") and row.yours is not None and left:
        mine = coeff * sp.Mul(*(learner[j] for j in left))
        code = _slip(prep, ef, mine) or code
    return FactorCheck(row.symbol, row.expected, row.yours, False, row.note, code)


def _slip(prep: Prepared, ef: ExpectedFactor, mine: sp.Expr) -> str | None:
    """The code of the mutation of ``ef`` whose values ``mine`` has, if one does."""
    try:
        values = prep.instances.values(mine, prep.env, prep.n)
        for code, m in factor_mutations(prep.graph, ef.coeff * ef.rest, ef.edge):
            k = proportional(values, prep.instances.values(m, prep.env, prep.n),
                             prep.rough_points())
            if _near_one(k):
                return code
    except Exception:  # noqa: BLE001 - a refinement only: the note's code stands
        return None
    return None


def _match(expected: list[ExpectedFactor], values: list[np.ndarray], ignore: np.ndarray
           ) -> dict[int, Group]:
    """Expected factor -> (learner factors whose product is k × it, k); small groups first,
    exact matches (k = 1) before multiples."""
    groups: dict[int, Group] = {i: ((), 1.0) for i, ef in enumerate(expected) if ef.rest == 1}
    used: set[int] = set()
    for size in (1, 2, 3):
        for exact in (True, False):
            for i, ef in enumerate(expected):
                if i in groups:
                    continue
                found = _find_group(ef, values, used, size, exact, ignore)
                if found is not None:
                    groups[i] = found
                    used.update(found[0])
    return groups


def _find_group(ef: ExpectedFactor, values: list[np.ndarray], used: set[int], size: int,
                exact: bool, ignore: np.ndarray) -> Group | None:
    free = [j for j in range(len(values)) if j not in used]
    if len(free) > MAX_FREE_FOR_PAIRS // (size - 1 or 1) and size > 1:
        return None  # too many combinations to be worth it
    for combo in itertools.combinations(free, size):
        with np.errstate(all="ignore"):
            product = reduce(np.multiply, (values[j] for j in combo))
        k = proportional(product, ef.values, ignore)
        if k is not None and (not exact or abs(k - 1) <= 1e-7):
            return combo, k
    return None


def _coefficient_owner(expected: list[ExpectedFactor], groups: Mapping[int, Group],
                       coeff: sp.Number) -> int | None:
    """The chain factor the learner's loose number (the 2 of 2x…) belongs to: the one
    that leaves the fewest factors wrong; ties go to a factor with a number of its own."""
    c = float(coeff)

    def wrong(owner: int | None) -> tuple[int, int, int]:
        count = 0 if owner is not None or c == 1 else 1
        for i, ef in enumerate(expected):
            if i not in groups:
                count += 1
                continue
            k = groups[i][1] * (c if i == owner else 1.0)
            count += not close(k, float(ef.coeff))
        has_own = owner is not None and expected[owner].coeff != 1
        return count, -has_own, -(owner if owner is not None else -1)

    candidates: list[int | None] = [None, *range(len(expected))]
    return min(candidates, key=wrong)


def _factor_row(i: int, ef: ExpectedFactor, group: Group | None, learner: list[sp.Expr],
                left: list[int], coeff: sp.Number, single: bool,
                order: Mapping[str, int]) -> FactorCheck:
    if group is None:
        if not left:
            return FactorCheck(ef.symbol, ef.text, None, False, "missing")
        if not single:  # several chain factors unmatched: no one-to-one story to tell
            return FactorCheck(ef.symbol, ef.text, None, False, "differs")
        mine = sp.Mul(*(learner[j] for j in left))
        note = "layer" if _layer_swap(mine, ef.rest) else "differs"
        return FactorCheck(ef.symbol, ef.text, with_coeff(coeff, [mine], order), False, note)
    idx, k = group
    text = with_coeff(coeff, [learner[j] for j in idx], order) if idx else number_text(coeff)
    mine = k * float(coeff)
    if close(mine, float(ef.coeff)):
        return FactorCheck(ef.symbol, ef.text, text, True)
    if close(mine, -float(ef.coeff)):
        return FactorCheck(ef.symbol, ef.text, text, False, "sign", "SIGN-FLIP")
    dropped = close(abs(mine), 1.0) and not close(abs(float(ef.coeff)), 1.0)
    return FactorCheck(ef.symbol, ef.text, text, False, "constant",
                       "DROPPED-CONSTANT" if dropped else "WRONG-CONSTANT")


def _layer_swap(mine: sp.Expr, rest: sp.Expr) -> tuple[str, str] | None:
    """(yours, the right one) when ``mine`` is ``rest`` with one name's layer changed."""
    want = {split_name(s.name)[:2]: s for s in rest.free_symbols}
    for s in mine.free_symbols:
        right = want.get(split_name(s.name)[:2])
        if right is not None and right != s and mine.xreplace({s: right}) == rest:
            return unicode_name(s.name), unicode_name(right.name)
    return None


def _path_feedback(paths: list[tuple[str, np.ndarray]], yours: np.ndarray,
                   ignore: np.ndarray) -> list[str]:
    """"Missing the path …" when the answer is the sum over some of the paths only."""
    if len(paths) > MAX_PATHS_MATCHED:
        return []
    for size in range(len(paths) - 1, 0, -1):
        for combo in itertools.combinations(range(len(paths)), size):
            with np.errstate(all="ignore"):
                total = reduce(np.add, (paths[i][1] for i in combo))
            if _near_one(proportional(yours, total, ignore)):
                missing = [paths[i][0] for i in range(len(paths)) if i not in combo]
                return [f"Missing the path{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)}: the derivative sums over every path."]
    return []


def _near_one(k: float | None) -> bool:
    return k is not None and close(k, 1.0)
