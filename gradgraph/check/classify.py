"""Which misconception codes a wrong answer shows (runs in the child, with the factors).

First the question's bank of buggy answers (:mod:`.mutations`): an answer equal to one
of them is that slip. Otherwise the codes of the factor match's wrong rows, the missing
path, or the whole answer's sign; "WRONG-VALUE" when nothing explains it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .codes import NOTE_CODES, ordered
from .mutations import bank, parallel
from .numbers import close, evaluate, proportional
from .prepare import SCALAR, Prepared

MAX_FULL_BANK_FACTORS = 12


def classify(prep: Prepared, yours: np.ndarray, rows: Sequence[Mapping[str, Any]],
             notes: Sequence[str], ratio: float | None, until: float = math.inf
             ) -> list[str]:
    """The codes of a wrong answer whose values at the points are ``yours``; the bank
    is searched until ``until`` (time.monotonic())."""
    # Factors matched one by one carry their slips; on a long chain only the whole
    # answer's are left to look for (a short one's bank is cheap, and tells ∂z/∂w = a
    # for ∂z/∂b = 1 from a mere extra factor).
    d = prep.derivation
    long_chain = d is not None and sum(len(fs) for fs in d.factors) > MAX_FULL_BANK_FACTORS
    hits = _bank_hits(prep, yours, bool(rows) and long_chain, until)
    if hits:
        return list(ordered(hits))
    unsplit = sum(r["note"] == "differs" and r["yours"] is None for r in rows) > 1
    codes = [] if unsplit else [r.get("code") or NOTE_CODES.get(r["note"], "WRONG-FACTOR")
                                for r in rows if not r["ok"]]
    if any(n.startswith("Missing the path") for n in notes):
        units = prep.derivation is not None and parallel(prep.derivation)
        codes.append("MISSING-SUM" if units else "MISSING-PATH")
    if ratio is not None and close(ratio, -1.0):
        codes.append("SIGN-FLIP")
    return list(ordered(codes)) or ["WRONG-VALUE"]


def _bank_hits(prep: Prepared, yours: np.ndarray, whole_only: bool, until: float
               ) -> list[str]:
    if prep.instances is not SCALAR or prep.derivation is None:
        return []  # layers: the factor rows and the index problems say it
    ignore = prep.rough_points()
    out = []
    for m in bank(prep.graph, prep.derivation, whole_only):
        if time.monotonic() > until:
            break
        with np.errstate(all="ignore"):
            k = proportional(yours, evaluate(m.expr, prep.env, prep.n), ignore)
        if k is not None and close(k, 1.0):
            out.append(m.code)
    return out
