"""``/api/check``: a hand derivation graded by :func:`gradgraph.check`, the wrong edges named.

The checker sandboxes its own work on the answer; the graph it gets is one a child has
already built within the deadline. Each factor of the feedback is matched to the edge
whose local partial it is, so the page can light the edge the learner got wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..check import CheckResult, check, guided, invalid_dict
from ..check.codes import why
from ..check.heatmap import blamed_edges
from ..errors import CheckError, GradgraphError
from ..graph import Graph
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
        return {**out, "factors": [], "wrong_edges": [], "slips": []}
    return verdict_dict(graph, result)


def verdict_dict(graph: Graph, result: CheckResult) -> dict[str, Any]:
    out = result.to_dict()
    edges = factor_edges(graph, result)
    for f in out["factors"]:
        f["edge"] = edges.get(f["symbol"])
        f["why"] = why(f["code"]) if f["code"] else ""
    out["slips"] = slips(out["codes"])
    out["wrong_edges"] = list(dict.fromkeys(
        f["edge"] for f in out["factors"] if not f["ok"] and f["edge"] is not None))
    if not out["factors"] and result.correct is False:  # a sum over several paths
        out["wrong_edges"] = [edge_id(graph, p, c) for p, c in blamed_edges(graph, result)]
    return out


def slips(codes: list[str]) -> list[dict[str, str]]:
    """Each misconception code with its reason in the learner's words (never the right
    form, so a lesson may show it too), as ``gradgraph check --no-reveal`` says them."""
    return [{"code": c, "why": why(c)} for c in codes]


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


def without_answer(verdict: dict[str, Any]) -> dict[str, Any]:
    """A wrong answer's verdict for a lesson: the edge and the kind of slip, never the
    expected expression or the true value (the learner asks for those with the reveal,
    not by erring). The words are the reveal policy's, one place for every front end:
    :func:`gradgraph.check.guided`."""
    return guided(verdict)
