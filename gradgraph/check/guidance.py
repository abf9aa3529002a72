"""The reveal policy, in one place: feedback that guides without handing the answer over.

A library call and ``gradgraph check`` disclose everything (the practitioner wants the
right form). A lesson, the browser tutor and ``gradgraph check --no-reveal`` use
:func:`guided`: a wrong answer is told which factor (edge) is wrong and the kind of slip
in words (from :mod:`.codes`), and a counterexample shows only the learner's own value;
the right form, and the true value, wait for an explicit reveal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..graph import Graph
from ..notation import unicode_name
from .codes import CODES, NOTE_CODES, why
from .display import leaf_number, number

MAX_SHOWN = 8  # leaf values the counterexample names
# Codes said of the whole answer, not of one factor.
WHOLE = ("SUM-NOT-PRODUCT", "MISSING-PATH", "MISSING-SUM", "WRONG-INDEX", "WRONG-VALUE")


def guided(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """A verdict as :meth:`CheckResult.to_dict` writes it, made safe to show a learner:
    ``message`` replaced by :func:`guidance_text`, every factor's right form and the
    true value of the counterexample left out."""
    out = {**verdict, "factors": [{**f, "expected": None} for f in verdict.get("factors", [])]}
    out.pop("expected", None)
    point = verdict.get("counterexample")
    if point:
        out["counterexample"] = {**point, "expected": None}
    out["message"] = guidance_text(verdict)
    return out


def guidance_text(verdict: Mapping[str, Any]) -> str:
    """The guiding message: for a wrong answer, the wrong factors and why, in words."""
    if verdict.get("verdict") != "not equal":
        return str(verdict.get("message", ""))
    wrong = [f for f in verdict.get("factors", []) if not f.get("ok")]
    codes = list(verdict.get("codes") or [])
    unsplit = [f for f in wrong if f.get("note") == "differs" and f.get("yours") is None]
    if len(unsplit) > 1:  # no one-to-one story: the chain's factors, by name only
        chain = " · ".join(f["symbol"] for f in verdict.get("factors", []) if f.get("symbol"))
        wrong = [f for f in wrong if f not in unsplit and f.get("code") != "EXTRA-FACTOR"]
        head = [f"Your answer does not split into the chain's factors {chain}."]
    else:
        head = []
    whole = _whole_sentences(codes, wrong) if not head else \
        [_capital(why(c)) + "." for c in codes if c in WHOLE and c != "WRONG-VALUE"]
    sentences = head + whole + [
        _factor_sentence(f) for f in wrong if not _said_whole(codes, wrong)]
    if not sentences:
        sentences = [_capital(why(codes[0] if codes else "WRONG-VALUE")) + "."]
    example = _example(verdict.get("counterexample"))
    return " ".join(["✗ not equal.", *dict.fromkeys(sentences), *([example] if example else [])])


def _said_whole(codes: Sequence[str], wrong: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a code of the whole answer explains it, so that the factor rows (which
    cannot be matched one to one) are not worth listing."""
    return any(c in WHOLE for c in codes) and (not wrong or all(
        f.get("code") in ("WRONG-FACTOR", "EXTRA-FACTOR", "") for f in wrong))


def _whole_sentences(codes: Sequence[str], wrong: Sequence[Mapping[str, Any]]) -> list[str]:
    per_factor = {f.get("code") or NOTE_CODES.get(f.get("note", ""), "") for f in wrong}
    out = [_capital(why(c)) + "." for c in codes if c in WHOLE and c != "WRONG-VALUE"]
    if not wrong:  # nothing matched factor by factor: each slip of the whole answer
        out += [_capital(why(c)) + "." for c in codes
                if c not in WHOLE and c in CODES and c not in per_factor]
    return out


def _factor_sentence(f: Mapping[str, Any]) -> str:
    code = f.get("code") or NOTE_CODES.get(f.get("note", ""), "WRONG-FACTOR")
    symbol, yours = f.get("symbol") or "", f.get("yours")
    if code == "MISSING-FACTOR" or f.get("note") == "missing":
        return f"A factor is missing: {symbol}."
    if not symbol:  # a factor of the learner's that is not on the chain
        return (f"{yours} is not a factor of this chain." if yours else
                _capital(why(code)) + ".")
    if yours is None:
        return f"Check the factor {symbol}."
    return f"Your factor {symbol} = {yours}: {why(code)}."


def _example(point: Mapping[str, Any] | None) -> str:
    """Where the answer is wrong, with the learner's own value only."""
    if not point or point.get("yours") is None:
        return ""
    items = [f"{unicode_name(k)}={leaf_number(v)}" for k, v in point.get("at", {}).items()]
    if len(items) > MAX_SHOWN:
        items = [*items[:MAX_SHOWN], f"… ({len(items) - MAX_SHOWN} more)"]
    head = f"For {point['index']}, at" if point.get("index") else "At"
    return f"{head} {', '.join(items)} yours is {number(point['yours'], 3)}."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def slip_notes(graph: Graph, question: str, limit: int = 6) -> list[str]:
    """For a page that cannot check (the HTML export): the slips the question's chain
    invites, one per kind, each as the edge and the kind of slip in the learner's words
    (never a form: the description's σ′(z) example may be this question's answer)."""
    from .mutations import bank
    from .prepare import question_derivation
    from .question import parse_question

    of, wrt = parse_question(graph, question)
    out: dict[str, str] = {}
    for m in bank(graph, question_derivation(graph, of, wrt)):
        if m.code in out or m.code in ("SIGN-FLIP", "MISSING-FACTOR", "EXTRA-FACTOR"):
            continue  # the kinds worth naming in advance, once each
        where = f"{m.symbol}: " if m.symbol else ""
        out[m.code] = where + why(m.code)
        if len(out) >= limit:
            break
    return list(out.values())
