"""The verdict on one answer, and how one chain factor compared."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..derive import Derivation


@dataclass(frozen=True)
class FactorCheck:
    """One local partial of the chain, next to what the learner wrote for it.

    ``symbol`` is ``∂C/∂a`` (empty for an extra factor of the learner's); ``expected``
    the chain's factor, ``2(a − y)`` (None for an extra factor); ``yours`` the learner's
    matching factor(s) (None when missing); ``note`` says how they differ: "missing",
    "extra", "differs", "sign", "constant", "layer" or "" when ``ok``.
    """

    symbol: str
    expected: str | None
    yours: str | None
    ok: bool
    note: str = ""

    def to_dict(self, reveal: bool = False) -> dict[str, Any]:
        # A right factor's expected form equals the learner's; a wrong one's is
        # already named in the message. Everything else waits for --reveal.
        shown = self.expected if (reveal or not self.ok or self.note) else None
        return {"symbol": self.symbol, "yours": self.yours, "expected": shown,
                "ok": self.ok, "note": self.note}


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer.

    ``correct`` is True, False, or None for undecided (too few defined points, the
    deadline, a limit). ``message`` is one or two readable lines. ``counterexample`` is
    ``{"at": {leaf: value}, "yours": float | None, "expected": float | None}`` (None
    means undefined there). ``factors`` compares the chain's factors with the learner's.
    ``expected`` is the derivation (show it only when asked). ``reason`` is a short
    machine-readable tag; ``proved`` says whether algebra confirmed the verdict.
    """

    correct: bool | None
    message: str
    question: str
    answer: str
    reason: str
    counterexample: dict[str, Any] | None = None
    factors: tuple[FactorCheck, ...] = ()
    expected: Derivation | None = field(default=None, repr=False)
    proved: bool = False
    points: int = 0

    @property
    def verdict(self) -> str:
        return {True: "correct", False: "not equal", None: "undecided"}[self.correct]

    def __str__(self) -> str:
        return self.message

    def to_dict(self, reveal: bool = False) -> dict[str, Any]:
        """Plain data for JSON; the expected derivation only with ``reveal``."""
        out: dict[str, Any] = {
            "verdict": self.verdict, "correct": self.correct, "message": self.message,
            "question": self.question, "answer": self.answer, "reason": self.reason,
            "proved": self.proved, "points": self.points,
            "counterexample": self.counterexample,
            "factors": [f.to_dict(reveal) for f in self.factors],
        }
        if reveal:
            out["expected"] = _reveal(self.expected)
        return out


def _reveal(d: Derivation | None) -> dict[str, str]:
    if d is None:
        return {"chain": "0", "factors": "0", "expanded": "0"}
    return {"chain": d.chain_unicode(), "factors": d.factors_unicode(),
            "expanded": d.expanded_unicode()}
