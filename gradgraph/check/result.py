"""The verdict on one answer, and how one chain factor compared."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple

from ..derive import Derivation
from ..notation import unicode_name
from ..sandbox import soft_deadline

# Every verdict, in the words messages and JSON use: "invalid" is input the checker
# cannot read (the library raises CheckError; batch grading reports it as a row),
# "undecided" an answer it read but cannot judge (too few defined points, the deadline).
VERDICTS = ("correct", "not equal", "undecided", "invalid")
INVALID_MARK = "! invalid: "


class Fix(NamedTuple):
    """How to turn "undecided" into a verdict: ``("limits", ("p", "q"))`` gives those
    leaves a range where the true value is defined."""

    option: str
    names: tuple[str, ...] = ()


def fix_text(fix: Fix, cli: bool = False) -> str:
    """The fix in the library's words (``limits={...}``) or the CLI's (``--limit``)."""
    names = fix.names
    if cli:
        how = " ".join(f"--limit {n}=LOW:HIGH" for n in names)
    else:
        how = "limits={" + ", ".join(f"{n!r}: (LOW, HIGH)" for n in names) + "}"
    shown = " and ".join(unicode_name(n) for n in names)
    where = "it is" if len(names) == 1 else "they are"
    ranges = "a range" if len(names) == 1 else "ranges"
    return f"give {shown} {ranges} where {where} defined with {how}"


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
    code: str = ""  # the misconception code of a wrong factor (check.codes)

    def to_dict(self, reveal: bool = False) -> dict[str, Any]:
        # A right factor's expected form equals the learner's; a wrong one's is
        # already named in the message. Everything else waits for --reveal.
        shown = self.expected if (reveal or not self.ok or self.note) else None
        return {"symbol": self.symbol, "yours": self.yours, "expected": shown,
                "ok": self.ok, "note": self.note, "code": self.code}


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer.

    ``correct`` is True, False, or None for undecided (too few defined points, the
    deadline, a limit). ``message`` is one or two readable lines. ``counterexample`` is
    ``{"at": {leaf: value}, "yours": float | None, "expected": float | None}`` (None
    means undefined there). ``factors`` compares the chain's factors with the learner's.
    ``expected`` is the derivation (show it only when asked). ``reason`` is a short
    machine-readable tag; ``proved`` says whether algebra confirmed the verdict.
    ``fix`` says, for an undecided one, what would let the checker decide.
    ``codes`` name the slips of a wrong answer (:mod:`gradgraph.check.codes`; empty
    unless "not equal").
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
    fix: Fix | None = None
    # The expected derivation as text (chain, factors, expanded, note, text), written
    # in the checker's child under its deadline; None: written from ``expected``.
    revealed: Mapping[str, str] | None = field(default=None, repr=False, compare=False)
    codes: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return {True: "correct", False: "not equal", None: "undecided"}[self.correct]

    def __str__(self) -> str:
        return self.message

    def guidance(self) -> str:
        """The message a lesson shows before the reveal: which factor is wrong and the
        kind of slip in words, the learner's own value only (:mod:`.guidance`)."""
        from .guidance import guidance_text

        return guidance_text(self.to_dict())

    def for_cli(self) -> CheckResult:
        """The same verdict, its fix in command-line words (``--limit p=LOW:HIGH``)."""
        if self.fix is None:
            return self
        return replace(self, message=self.message.replace(fix_text(self.fix),
                                                          fix_text(self.fix, cli=True)))

    def to_dict(self, reveal: bool = False) -> dict[str, Any]:
        """Plain data for JSON; the expected derivation only with ``reveal``."""
        out: dict[str, Any] = {
            "verdict": self.verdict, "correct": self.correct, "message": self.message,
            "question": self.question, "answer": self.answer, "reason": self.reason,
            "proved": self.proved, "points": self.points,
            "counterexample": self.counterexample,
            "factors": [f.to_dict(reveal) for f in self.factors],
            "needs_limits": list(self.fix.names) if self.fix is not None else [],
            "codes": list(self.codes),
        }
        if reveal:
            out["expected"] = _reveal(self.expected, self.revealed)
        return out


def invalid_dict(message: str, question: str | None, answer: str | None) -> dict[str, Any]:
    """An answer the checker cannot read, with the keys of :meth:`CheckResult.to_dict`."""
    return {"verdict": "invalid", "correct": None, "message": INVALID_MARK + message,
            "question": question, "answer": answer, "reason": "invalid", "proved": False,
            "points": 0, "counterexample": None, "factors": [], "needs_limits": [],
            "codes": []}


REVEALED = ("chain", "factors", "expanded", "note")
TOO_LONG = "(too long to write out in time)"


def _reveal(d: Derivation | None, revealed: Mapping[str, str] | None = None
            ) -> dict[str, str]:
    if revealed is not None:
        return {k: revealed[k] for k in REVEALED}
    if d is None:
        return {"chain": "0", "factors": "0", "expanded": "0", "note": ""}
    return {"chain": d.chain_unicode(), "factors": d.factors_unicode(),
            "expanded": d.expanded_unicode(), "note": named_sums_note(d)}


def reveal_texts(d: Derivation | None, until: float) -> dict[str, str]:
    """The derivation's texts for ``--reveal``, each written before ``until`` (a
    time.monotonic() value; a deep graph's expanded form can be enormous) or said to
    be too long."""
    if d is None:
        return {**_reveal(None), "text": "0"}
    parts: dict[str, Callable[[], str]] = {
        "text": lambda: str(d), "chain": d.chain_unicode, "factors": d.factors_unicode,
        "note": lambda: named_sums_note(d), "expanded": d.expanded_unicode}
    out = {}
    for key, write in parts.items():
        try:
            with soft_deadline(until - time.monotonic()):
                out[key] = write()
        except Exception:  # noqa: BLE001 - SoftTimeout, or a form that cannot be printed
            out[key] = TOO_LONG
    return out


def to_plain(r: CheckResult, revealed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``r`` as plain data (what crosses the process boundary): no SymPy, no
    derivation."""
    return {"correct": r.correct, "message": r.message, "question": r.question,
            "answer": r.answer, "reason": r.reason, "counterexample": r.counterexample,
            "factors": [asdict(f) for f in r.factors], "proved": bool(r.proved),
            "points": int(r.points), "fix": None if r.fix is None else
            [r.fix.option, list(r.fix.names)], "revealed": dict(revealed or {}) or None,
            "codes": list(r.codes)}


def from_plain(data: Mapping[str, Any], expected: Derivation | None) -> CheckResult:
    """The :class:`CheckResult` that :func:`to_plain` wrote, with the parent's
    derivation as ``expected``."""
    fix = data["fix"]
    return CheckResult(data["correct"], data["message"], data["question"], data["answer"],
                       data["reason"], data["counterexample"],
                       tuple(FactorCheck(**f) for f in data["factors"]), expected,
                       data["proved"], data["points"],
                       None if fix is None else Fix(fix[0], tuple(fix[1])), data["revealed"],
                       tuple(data.get("codes", ())))


def named_sums_note(d: Derivation) -> str:
    """Why the leaves-only form of a layer's derivative still names zⱼ: a layer's sum
    over k stays named, as a teacher would leave it ("" when nothing does)."""
    graph = d.graph
    if not graph.is_tensor:
        return ""
    kept = [n for n in graph.nodes if n.expr is not None and n.kind != "elementwise"
            and n.element_symbol in d.expanded.free_symbols]
    if not kept:
        return ""
    names = ", ".join(unicode_name(n.element) for n in kept)
    verb = "is the layer's sum" if len(kept) == 1 else "are the layers' sums"
    return f"({names} {verb}, left named)"
