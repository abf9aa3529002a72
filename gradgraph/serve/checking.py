"""``/api/check``: a hand derivation graded by :func:`gradgraph.check`, the wrong edges named.

The checker sandboxes its own work on the answer; the graph it gets is one a child has
already built within the deadline. Each factor of the feedback is matched to the edge
whose local partial it is, so the page can light the edge the learner got wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..check import CheckResult, check, invalid_dict
from ..errors import CheckError, GradgraphError
from ..graph import Graph
from ..notation import unicode_name
from .structure import edge_id

UNTIMELY = ("timeout", "limit")  # reasons of a verdict cut short; not remembered


def limits(raw: Mapping[str, Any] | None) -> dict[str, tuple[float, float]]:
    """``{"p": [0.1, 5]}`` -> ``{"p": (0.1, 5.0)}``; anything else is a one-line error."""
    out: dict[str, tuple[float, float]] = {}
    for name, pair in (raw or {}).items():
        ok = (isinstance(pair, list) and len(pair) == 2
              and all(isinstance(x, int | float) and not isinstance(x, bool) for x in pair))
        if not ok:
            raise CheckError(f"limits['{name}'] must be [low, high], two numbers")
        out[name] = (float(pair[0]), float(pair[1]))
    return out


def verdict(graph: Graph, question: str | None, answer: str,
            ranges: Mapping[str, tuple[float, float]], deadline: float) -> dict[str, Any]:
    """The Verdict object of the contract; an answer that cannot be read is "invalid"."""
    try:
        result = check(graph, question or None, answer, limits=ranges or None,
                       deadline=deadline)
    except (CheckError, GradgraphError) as e:
        out = invalid_dict(str(e), question, answer)
        return {**out, "factors": [], "wrong_edges": []}
    return verdict_dict(graph, result)


def verdict_dict(graph: Graph, result: CheckResult) -> dict[str, Any]:
    out = result.to_dict()
    edges = factor_edges(graph, result)
    for f in out["factors"]:
        f["edge"] = edges.get(f["symbol"])
    out["wrong_edges"] = list(dict.fromkeys(
        f["edge"] for f in out["factors"] if not f["ok"] and f["edge"] is not None))
    return out


def factor_edges(graph: Graph, result: CheckResult) -> dict[str, str]:
    """``∂a/∂z`` -> the id of the edge z → a, from the expected derivation's factors."""
    d = result.expected
    if d is None:
        return {}
    out: dict[str, str] = {}
    for factors in d.factors:
        for f in factors:
            out.setdefault(f.symbol_unicode, edge_id(graph, f.parent, f.via or f.child))
    return out


def decided_in_time(answer: Mapping[str, Any]) -> bool:
    return answer.get("reason") not in UNTIMELY


SLIPS = {
    "differs": "{symbol} is not {yours}: look at that edge again",
    "sign": "{symbol} has the wrong sign",
    "constant": "{symbol} is off by a constant factor",
    "missing": "the factor {symbol} is missing",
    "extra": "{yours} is not a factor of this chain",
    "layer": "{symbol} has the wrong layer superscript",
}


def without_answer(verdict: dict[str, Any]) -> dict[str, Any]:
    """A wrong answer's verdict for a lesson: the edge and the kind of slip, never the
    expected expression (the learner asks for that with the reveal, not by erring)."""
    out = {**verdict, "factors": [{**f, "expected": None} for f in verdict["factors"]]}
    slips = [SLIPS.get(f["note"], SLIPS["differs"]).format(
                 symbol=f["symbol"] or "a factor", yours=f["yours"] or "it")
             for f in verdict["factors"] if not f["ok"]]
    # Maths names open the clauses (a⁽ᴸ⁻¹⁾ is not A⁽ᴸ⁻¹⁾), so no capital after the colon.
    sentences = [f"✗ not equal: {'; '.join(slips)}." if slips else "✗ not equal."]
    point = verdict.get("counterexample")
    if point and point.get("yours") is not None and point.get("expected") is not None:
        where = ", ".join(f"{unicode_name(k)}={v:g}" for k, v in point["at"].items())
        sentences.append(f"At {where} yours is {point['yours']:.4g}, the true value "
                         f"{point['expected']:.4g}.")
    out["message"] = " ".join(sentences).replace("-", "−")
    return out
