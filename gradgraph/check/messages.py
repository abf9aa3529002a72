"""The parent's side: the child's plain-data report turned into a :class:`CheckResult`.

Messages reveal the right form of one factor at most; the rest of the derivation
waits for ``--reveal``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..derive import Derivation
from ..errors import GradgraphError
from ..notation import unicode_name
from .codes import ordered
from .constants import constant_text
from .display import leaf_number, nice_number, pair
from .domain import domain_leaves
from .numbers import close
from .prepare import Prepared
from .result import TOO_LONG, CheckResult, FactorCheck, Fix, fix_text

MAX_SHOWN = 8  # leaf values a counterexample message names


def undecided(prep: Prepared, echo: str, reason: str, why: str, fix: Fix | None = None
              ) -> CheckResult:
    """"? undecided: why", and how to fix it (in the library's words: the CLI
    rewrites the fix in its own with :meth:`CheckResult.for_cli`)."""
    tail = f"; {fix_text(fix)}" if fix is not None else ""
    return CheckResult(None, f"? undecided: {why}{tail}", prep.question, echo, reason,
                       expected=prep.derivation, fix=fix)


def stopped(question: str, echo: str, d: Derivation | None, reason: str, why: str
            ) -> CheckResult:
    """"? undecided: why" for a check the parent stopped (deadline, limit)."""
    revealed = None
    if d is not None:  # the chain's symbols stay short; its formulas may not
        try:
            chain = d.chain_unicode()
        except GradgraphError:  # too many paths to list
            chain = TOO_LONG
        revealed = {"text": TOO_LONG, "chain": chain, "factors": TOO_LONG,
                    "expanded": TOO_LONG, "note": ""}
    return CheckResult(None, f"? undecided: {why}", question, echo, reason, expected=d,
                       revealed=revealed)


def result(prep: Prepared, echo: str, report: Mapping[str, Any],
           notes: Sequence[str] = ()) -> CheckResult:
    """The verdict from the child's report; ``notes`` are the parent's own remarks
    (about the answer's indices), said first when the answer is wrong."""
    status, exact = report["status"], report["exact"]
    factors = tuple(FactorCheck(**f) for f in report["factors"])
    typed = report.get("typed_domain") or {}
    if "index" in typed:
        return _undefined_as_typed(prep, echo, report, typed, list(notes))
    if status == "equal" and report.get("constant") is not None:
        return _near_miss(prep, echo, report, list(notes))
    if status == "equal" or (status == "differ" and exact):
        # An exact zero overrules a float disagreement (rounding in the learner's form).
        proved = bool(report["proved"])
        tail = "" if proved else \
            f" (equal at {report['defined']} points; SymPy could not prove it)"
        if typed.get("note"):
            tail += f" {typed['note']}"
        return CheckResult(True, f"✓ correct: {prep.question} = {echo}{tail}", prep.question,
                           echo, "equal", None, _all_ok(prep, factors), prep.derivation,
                           proved, report["defined"])
    if status == "few":
        why = f"the true value is defined at only {report['defined']} of {len(prep.truth)} " \
              "test points"
        return undecided(prep, echo, "too few defined points", why, _limits_fix(prep))
    if status == "domain" and exact:
        why = "the two sides agree algebraically but are defined at different points"
        return undecided(prep, echo, "domain", why, _limits_fix(prep))
    return _wrong(prep, echo, report, factors, list(notes))


def _undefined_as_typed(prep: Prepared, echo: str, report: Mapping[str, Any],
                        typed: Mapping[str, Any], notes: list[str]) -> CheckResult:
    """Not equal: the answer as typed is undefined on a set of positive measure where
    the true value is defined (SymPy cancelled what made it so)."""
    example = _counterexample(prep, typed["index"], None, typed["truth"])
    assert example is not None
    at = example["at"]
    names = [n for n in typed.get("names", ()) if n in at] or list(at)
    where = ", ".join(f"{unicode_name(k)} = {leaf_number(at[k])}" for k in names[:MAX_SHOWN])
    said = f"Your answer is not defined at {where} ({typed['why']}), where " \
           f"{prep.question} = {leaf_number(typed['truth'])}."
    return not_equal(prep, echo, [*notes, said], "domain differs", counterexample=example,
                     points=report["defined"], codes=("WRONG-VALUE",))


def _limits_fix(prep: Prepared) -> Fix | None:
    """Ranges for the variables whose domain is the problem (none: nothing to range)."""
    names = domain_leaves(prep)
    return Fix("limits", names) if names else None


def _near_miss(prep: Prepared, echo: str, report: Mapping[str, Any], notes: list[str]
               ) -> CheckResult:
    """Not equal: off by a constant the numeric tolerance hid, which exact algebra found."""
    constant = report["constant"]
    value = constant_text(constant["value"])
    if constant["kind"] == "term":
        said = f"Yours differs from the true value by {value} (too small"
    elif constant["kind"] == "difference":
        said = f"Yours differs from the true value by the constant {value} (too small"
    else:
        said = f"Yours is the true value times the constant {value} (too close to 1"
    parts = [*notes, f"{said} for the numbers to show; exact algebra finds it)."]
    example = _counterexample(prep, report["index"], report["yours"], report["truth"])
    parts.append(_example_sentence(example))
    reason = "values differ" if constant["kind"] == "term" else "constant differs"
    return not_equal(prep, echo, parts, reason, counterexample=example,
                     proved=True, points=report["defined"], codes=tuple(report["codes"]))


def _all_ok(prep: Prepared, factors: tuple[FactorCheck, ...]) -> tuple[FactorCheck, ...]:
    """A right answer's factors: as matched, or unmatched but right (a sum, say)."""
    if prep.factors is None:
        return ()
    if factors and all(f.ok for f in factors):
        return factors
    return tuple(FactorCheck(ef.symbol, ef.text, None, True) for ef in prep.factors)


def _wrong(prep: Prepared, echo: str, report: Mapping[str, Any],
           factors: tuple[FactorCheck, ...], notes: list[str]) -> CheckResult:
    parts = notes + factor_sentences(prep, factors) + list(report["notes"])
    ratio = report["ratio"]
    if not parts and ratio is not None:
        parts.append(_ratio_sentence(ratio))
    if report["status"] == "domain":
        parts.append("The two sides are defined at different points (the domains differ).")
    example = _counterexample(prep, report["index"], report["yours"], report["truth"])
    parts.append(_example_sentence(example, _focus(prep, factors, report["index"])))
    reason = "domain differs" if report["status"] == "domain" else "values differ"
    return not_equal(prep, echo, parts, reason, counterexample=example, factors=factors,
                     proved=bool(report["proved"]), points=report["defined"],
                     codes=_codes(report["codes"], notes))


def _codes(found: Sequence[str], notes: Sequence[str]) -> tuple[str, ...]:
    """The child's codes, and WRONG-INDEX for the parent's index notes (a Σ over a
    letter the question fixes)."""
    return ordered([*found, *(["WRONG-INDEX"] if notes else [])]) or ("WRONG-VALUE",)


def not_equal(prep: Prepared, echo: str, parts: list[str], reason: str,
              **details: Any) -> CheckResult:
    """"✗ not equal." and the sentences that say why."""
    message = "✗ not equal. " + " ".join(p for p in parts if p)
    return CheckResult(False, message, prep.question, echo, reason,
                       expected=prep.derivation, **details)


def factor_sentences(prep: Prepared, factors: tuple[FactorCheck, ...]) -> list[str]:
    """What the factor match says, revealing the right form of one factor at most:
    the rest of the derivation stays for --reveal."""
    wrong = [f for f in factors if not f.ok]
    if not wrong:
        return []
    if sum(1 for f in wrong if f.note == "differs" and f.yours is None) > 1:
        chain = " · ".join(ef.symbol for ef in prep.factors or [])
        return [f"Your answer does not split into the chain's factors {chain}."]
    if len(wrong) == 1:
        return [_factor_sentence(wrong[0])]
    missing = [f.symbol for f in wrong if f.note == "missing"]
    out = [f"Missing factors {', '.join(missing)}."] if len(missing) > 1 else []
    return out + [_factor_sentence(f, short=True) for f in wrong
                  if len(missing) < 2 or f.note != "missing"]


# A note's words in a full sentence, and in the short one of a list of several.
_TAILS = {"sign": (" (the sign is flipped)", " (the sign)"),
          "layer": (" (check the layer superscripts)", " (the layer superscripts)")}


def _factor_sentence(f: FactorCheck, short: bool = False) -> str:
    """What is wrong with one factor; ``short`` leaves out the right form."""
    if f.note == "missing":
        return f"Missing factor {f.symbol}" + ("." if short else f" = {f.expected}.")
    if f.note == "extra":
        return f"Extra factor {f.yours}" + ("." if short else ": it is not in the chain.")
    if f.yours is None:
        return f"Check the factor {f.symbol}."
    tail = _TAILS.get(f.note, ("", ""))[short]
    if short:
        return f"Your factor {f.symbol} = {f.yours} is not right{tail}."
    return f"Your factor {f.symbol} = {f.yours}; it is {f.expected}{tail}."


def _ratio_sentence(ratio: float) -> str:
    if close(ratio, -1.0):
        return "Sign error: yours is the negative of the true value."
    return f"Yours is {nice_number(ratio)} × the true value."


def _counterexample(prep: Prepared, index: int | None, yours: float | None,
                    truth: float | None) -> dict[str, Any] | None:
    """The point (and, for layers, the index) where the two sides differ."""
    if index is None:
        return None
    instance, point = divmod(index, prep.n)
    at = {name: float(prep.leaf_values[name][point]) for name in prep.shown[instance]}
    out: dict[str, Any] = {"at": at, "yours": yours, "expected": truth}
    if prep.labels:
        out["index"] = prep.labels[instance]
    return out


def _focus(prep: Prepared, factors: tuple[FactorCheck, ...], index: int | None
           ) -> list[str]:
    """The leaves the wrong factors use, the ones they name first (yⱼ of aⱼ − yⱼ), then
    those feeding the intermediates they name (aⱼ's weights and inputs)."""
    wrong = {f.symbol for f in factors if not f.ok and f.symbol}
    if index is None or not wrong or prep.factors is None:
        return []
    instance = index // prep.n
    named: set[str] = set()
    try:
        for ef in prep.factors:
            if ef.symbol in wrong:
                named |= prep.instances.names(ef.rest, instance)
    except GradgraphError:  # a factor the instance cannot name: no order to give
        return []
    leaves = set(prep.graph.leaves)
    fed = {a for n in named if n in prep.graph and n not in leaves
           for a in prep.graph.ancestors(n) if a in leaves}
    shown = prep.shown[instance]
    direct = [n for n in shown if n in named]
    return direct + [n for n in shown if n in fed and n not in named]


def _example_sentence(example: dict[str, Any] | None, focus: Sequence[str] = ()) -> str:
    if example is None:
        return ""
    at = example["at"]
    names = list(at)
    if len(names) > MAX_SHOWN:  # room for some: the ones the wrong factor uses first
        first = [n for n in focus if n in at]
        names = first + [n for n in names if n not in first]
    items = [f"{unicode_name(k)}={leaf_number(at[k])}" for k in names]
    if len(items) > MAX_SHOWN:  # the full point is in .counterexample
        items = [*items[:MAX_SHOWN], f"… ({len(items) - MAX_SHOWN} more)"]
    where = ", ".join(items)
    mine, truth = pair(example["yours"], example["expected"])
    head = f"For {example['index']}, at" if example.get("index") else "At"
    return f"{head} {where} yours is {mine}, the true value {truth}."
