"""A question's diagram with the edges a class got wrong as a heatmap.

``gradgraph.render`` draws the graph; it has no hook for per-edge colours, so this
module post-processes its DOT text, edge by edge id (``e_<parent id>_<child id>``, the
id every edge line carries): colour and width by the share of the class that got the
edge's factor wrong, and a label "✗ 3 of 5". Nothing else of the picture changes.

Which edges an answer got wrong (:func:`blamed_edges`): the factor rows the checker
matched, when there are some. A sum over several paths has none (the checker compares
the sum, not one product), so there the slip is found the way its code was: the
question's buggy answers (:mod:`.mutations`), each tied to an edge or a path, evaluated
at the counterexample point and compared with the learner's value there. Only the
trusted graph is evaluated here; the learner's text is never read again.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping

import numpy as np
import sympy as sp

from ..derive import Derivation
from ..errors import GradgraphError
from ..graph import Graph
from ..render import Rendering, render
from .mutations import bank
from .numbers import evaluate
from .result import CheckResult

Edge = tuple[str, str]
Env = dict[sp.Symbol, np.ndarray]
PATH_CODES = ("MISSING-PATH", "MISSING-SUM")  # a whole path left out: its own edges
MATCH = 1e-7  # relative: the learner's value and a buggy answer's at the same point

# Grey for an edge nobody got wrong; else from amber (a few) to dark red (everybody),
# continuously, so that 4 of 12 and 5 of 12 look different; in grey print the width
# says the same.
UNTOUCHED = "#B0B0B0"
STOPS = ((0.0, (0xF2, 0xC9, 0x4C)), (0.5, (0xEB, 0x57, 0x57)), (1.0, (0x8B, 0x00, 0x00)))
LABEL = "#8B0000"
MAX_WIDTH = 7.0


def heat_colour(share: float) -> str:
    """The colour for a share of the class from 0 to 1 (0: untouched grey)."""
    if share <= 0:
        return UNTOUCHED
    share = min(share, 1.0)
    for (s0, c0), (s1, c1) in zip(STOPS, STOPS[1:], strict=False):
        if share <= s1:
            t = (share - s0) / (s1 - s0)
            return "#" + "".join(f"{round(a + (b - a) * t):02X}" for a, b in zip(c0, c1,
                                                                            strict=True))
    return "#8B0000"


def blamed_edges(graph: Graph, result: CheckResult) -> list[Edge]:
    """(parent, child) of each chain factor a wrong answer got wrong: a factor written
    wrong or left out, or on a sum of paths the edge (or the path) of the slip its codes
    name. An answer nothing explains (WRONG-VALUE) blames no edge in particular."""
    d = result.expected
    if d is None or result.correct is not False:
        return []
    if result.factors:
        return _row_edges(d, result)
    if len(d.factors) < 2 or graph.is_tensor:
        return []
    return _slip_edges(graph, d, result)


def _row_edges(d: Derivation, result: CheckResult) -> list[Edge]:
    edges = {f.symbol_unicode: (f.parent, f.via or f.child) for fs in d.factors for f in fs}
    return list(dict.fromkeys(edges[f.symbol] for f in result.factors
                              if not f.ok and f.symbol in edges
                              and (f.yours is not None or f.note == "missing")))


def _slip_edges(graph: Graph, d: Derivation, result: CheckResult) -> list[Edge]:
    """The edges of the buggy answers, of the answer's codes, that take the learner's
    value at the counterexample point."""
    point = result.counterexample or {}
    yours = point.get("yours")
    env = _forward(graph, point.get("at") or {})
    if yours is None or env is None or not math.isfinite(yours):
        return []
    out: list[Edge] = []
    for m in bank(graph, d):
        if m.code not in result.codes or not _equal(m.expr, env, yours):
            continue
        if m.edge is not None:
            out.append(m.edge)
        elif m.code in PATH_CODES:
            out += _left_out_path(d, m.expr)
    return list(dict.fromkeys(out))


def _left_out_path(d: Derivation, expr: sp.Expr) -> list[Edge]:
    """The edges of the one path whose leaving out gives ``expr``'s value, less those
    another path shares (they were written, on the other path)."""
    paths = [[(f.parent, f.via or f.child) for f in fs] for fs in d.factors]
    for i in range(len(paths)):
        rest = sp.Add(*(sp.Mul(*(f.expr for f in fs)) for k, fs in enumerate(d.factors)
                        if k != i))
        if rest == expr:
            shared = {e for k, p in enumerate(paths) if k != i for e in p}
            return [e for e in paths[i] if e not in shared]
    return []


def _forward(graph: Graph, at: Mapping[str, float]) -> Env | None:
    """Every node's value at the point, keyed by its symbol; None when it cannot be had."""
    try:
        values = graph.evaluate({k: float(v) for k, v in at.items()})
    except (GradgraphError, KeyError, TypeError, ValueError):
        return None
    return {graph[name].symbol: np.atleast_1d(np.asarray(v, dtype=float))
            for name, v in values.items()}


def _equal(expr: sp.Expr, env: Env, yours: float) -> bool:
    try:
        with np.errstate(all="ignore"):
            value = float(evaluate(expr, env, 1)[0])
    except GradgraphError:  # a symbol with no value at the point
        return False
    return math.isfinite(value) and abs(value - yours) <= MATCH * max(1.0, abs(yours))


def heatmap(graph: Graph, wrong: Mapping[tuple[str, str], int], answers: int,
            title: str = "") -> Rendering:
    """``graph`` drawn with each edge (parent, child) in ``wrong`` coloured by how many
    of ``answers`` got its factor wrong; ``title`` goes above the legend."""
    base = render(graph, show=("names", "defs", "partials"))
    ids = {f"e_{graph[p].id}_{graph[c].id}": n for (p, c), n in wrong.items()
           if p in graph and c in graph}
    lines = [_edge_line(line, ids, answers) for line in base.source.splitlines()]
    source = "\n".join(lines)
    if title:
        caption = html.escape(title) + '<BR ALIGN="LEFT"/>'
        source = source.replace('labeljust="l", label=<', f'labeljust="l", label=<{caption}', 1)
    return Rendering(source, base.timeout, base.oversize)


_EDGE = re.compile(r'\[id="(e_[A-Za-z0-9_]+)"')


def _edge_line(line: str, ids: Mapping[str, int], answers: int) -> str:
    m = _EDGE.search(line)
    if m is None or "->" not in line:
        return line
    count = ids.get(m.group(1), 0)
    share = count / answers if answers else 0.0
    colour = heat_colour(share)
    width = 1.2 + (MAX_WIDTH - 1.2) * share
    line = re.sub(r'(?<!font)color="[^"]*"', f'color="{colour}"', line, count=1)
    line = re.sub(r'penwidth="[^"]*"', f'penwidth="{width:.1f}"', line, count=1)
    if count:
        note = f"✗ {count} of {answers}"
        line = line.rstrip("]") + f', xlabel=<<B><FONT COLOR="{LABEL}">{note}</FONT></B>>]'
    return line
