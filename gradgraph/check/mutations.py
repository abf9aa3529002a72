"""The buggy answers a learner makes, generated from the question's chain.

Each mutation changes the correct sum of path products by one slip of a kind named in
:mod:`.codes`: one factor mutated (σ for σ′, σ′ at the output or at another node, the
2 dropped, a layer superscript or a weight's indices changed, the sign), a factor left
out or one added, the factors added instead of multiplied, a path left out. The
checker matches a wrong answer against this bank (equal values: that slip); the tests
grade the bank and expect each answer's code back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import ops
from ..derive import Derivation, local_partial
from ..errors import GradgraphError
from ..graph import Graph
from ..notation import split_name

MAX_BANK = 400  # mutations per question; a long chain's bank is cut there
MAX_OTHERS = 2  # other nodes whose σ′ stands in for the right one's


@dataclass(frozen=True)
class Mutation:
    """One buggy answer: ``expr`` (in the graph's node symbols), its code, and the
    factor (``∂a/∂z``) and edge (parent, child) it changes ("" and None: the whole)."""

    code: str
    expr: sp.Expr
    symbol: str = ""
    edge: tuple[str, str] | None = None


def factor_mutations(graph: Graph, expr: sp.Expr, edge: tuple[str, str] | None = None
                     ) -> list[tuple[str, sp.Expr]]:
    """(code, mutated factor) for one local partial, e.g. σ′(z) -> σ(z), σ′(a);
    ``edge`` (parent, child) adds the partial by another input of the child."""
    coeff, rest = expr.as_coeff_Mul()
    out: list[tuple[str, sp.Expr]] = []
    if edge is not None:
        out += [(c, m) for c, m in _other_parents(graph, *edge)
                if not sp.cancel(m / expr).is_Number]  # −2(a − y) for 2(a − y): a sign
    if coeff not in (1, -1) and rest != 1:
        out.append(("DROPPED-CONSTANT", sp.sign(coeff) * rest))
    out += _prime_slips(graph, expr)
    out += _renamed(graph, expr)
    if expr != 0:
        out.append(("SIGN-FLIP", -expr))
    return [(code, m) for code, m in out if m != expr]


def _prime_slips(graph: Graph, expr: sp.Expr) -> Iterator[tuple[str, sp.Expr]]:
    outputs = {n.expr: n.symbol for n in graph.nodes if n.expr is not None}
    for app in sorted(expr.atoms(ops.PrimeFunction), key=sp.default_sort_key):
        spec, u = app.spec, app.args[0]
        yield "OP-NOT-DERIVATIVE", expr.xreplace({app: spec.func(u)})
        out = outputs.get(spec.func(u))
        if out is not None:
            yield "PRIME-AT-OUTPUT", expr.xreplace({app: spec.prime(out)})
        # Another node the same op is applied to (z of another layer or unit): the
        # nearest ones in the graph's order (a deep chain has one per layer).
        others = {n.expr.args[0] for n in graph.nodes
                  if isinstance(n.expr, ops.OpFunction) and n.expr.spec is spec} - {u}
        for v in sorted(others, key=lambda v: (_distance(graph, u, v),
                                               sp.default_sort_key(v)))[:MAX_OTHERS]:
            yield "PRIME-WRONG-NODE", expr.xreplace({app: spec.prime(v)})


def _other_parents(graph: Graph, parent: str, child: str) -> Iterator[tuple[str, sp.Expr]]:
    """∂z/∂a = w written for ∂z/∂w = a: the partial by another input of the same node."""
    node = graph[child] if child in graph else None
    if node is None or node.expr is None or node.shape:
        return
    for other in node.parents:
        if other != parent:
            try:
                partial = local_partial(graph, child, other)
            except GradgraphError:  # no scalar partial to write
                continue
            if not partial.is_Number:  # ∂z/∂b = 1 reads as a missing factor
                yield "OTHER-INPUT", partial


def _distance(graph: Graph, u: sp.Expr, v: sp.Expr) -> int:
    where = {n.symbol: i for i, n in enumerate(graph.nodes)}
    return abs(where.get(u, 0) - where.get(v, 0))


def _renamed(graph: Graph, expr: sp.Expr) -> Iterator[tuple[str, sp.Expr]]:
    """A name with another layer's superscript, or a weight with its indices swapped."""
    names = {n.name for n in graph.nodes}
    for s in sorted(expr.free_symbols, key=lambda s: s.name):
        base, sub, tag = split_name(s.name)
        for other in sorted(names):
            b, u, t = split_name(other)
            if other != s.name and (b, u) == (base, sub) and t != tag:
                yield "WRONG-LAYER", expr.xreplace({s: graph[other].symbol})
        if len(sub) == 2 and sub[0] != sub[1]:
            swapped = s.name.replace(f"_{sub}", f"_{sub[::-1]}", 1)
            if swapped in names:
                yield "TRANSPOSED-INDEX", expr.xreplace({s: graph[swapped].symbol})
            elif sub.isalpha():  # index letters (Wⱼₖ of a layer): Wₖⱼ
                yield "TRANSPOSED-INDEX", expr.xreplace({s: s.func(swapped)})


def bank(graph: Graph, d: Derivation | None, whole_only: bool = False) -> list[Mutation]:
    """The buggy answers to the question ``d`` derives, each with its code;
    ``whole_only``: only the slips of the whole answer (sum, path, sign, extra factor),
    for an answer whose factors were matched one by one."""
    if d is None:
        return []
    paths = [[f.expr for f in fs] for fs in d.factors]
    out: list[Mutation] = []
    for i, fs in enumerate(d.factors if not whole_only else ()):
        for j, f in enumerate(fs):
            edge = (f.parent, f.via or f.child)
            for code, m in factor_mutations(graph, f.expr, None if f.via else edge):
                out.append(Mutation(code, _total(paths, {(i, j): m}), f.symbol_unicode, edge))
            if not f.expr.is_Number and len(fs) > 1:
                out.append(Mutation("MISSING-FACTOR", _total(paths, {(i, j): sp.S.One}),
                                    f.symbol_unicode, edge))
    out += _whole(graph, d, paths)
    seen: set[sp.Expr] = {d.expr}
    unique = []
    for m in out:  # one code per buggy answer: the first (most specific) kind
        if m.expr not in seen:
            seen.add(m.expr)
            unique.append(m)
    return unique[:MAX_BANK]


def _whole(graph: Graph, d: Derivation, paths: list[list[sp.Expr]]) -> list[Mutation]:
    out = [Mutation("SIGN-FLIP", -d.expr)]
    wrt = graph[d.wrt].symbol if d.wrt in graph else None
    if wrt is not None and d.expr != 0:
        out.append(Mutation("EXTRA-FACTOR", d.expr * wrt))
    if any(sum(not f.is_Number for f in p) > 1 for p in paths):
        out.append(Mutation("SUM-NOT-PRODUCT", sp.Add(*(sp.Add(*p) for p in paths))))
    if len(paths) > 1:
        code = "MISSING-SUM" if parallel(d) else "MISSING-PATH"
        for i in range(len(paths)):
            rest = [p for k, p in enumerate(paths) if k != i]
            out.append(Mutation(code, sp.Add(*(sp.Mul(*p) for p in rest))))
    return out


def parallel(d: Derivation) -> bool:
    """Whether the paths are one path over several units (differ only in subscripts):
    leaving one out is a missing Σⱼ."""
    shapes = {tuple((split_name(n)[0], split_name(n)[2]) for n in p) for p in d.paths}
    return len(shapes) == 1


def _total(paths: list[list[sp.Expr]], change: dict[tuple[int, int], sp.Expr]) -> sp.Expr:
    return sp.Add(*(sp.Mul(*(change.get((i, j), f) for j, f in enumerate(p)))
                    for i, p in enumerate(paths)))


def buggy_answers(graph: Graph, question: str,
                  limits: Mapping[str, tuple[float, float]] | None = None
                  ) -> list[tuple[str, str]]:
    """(code, answer text) for each buggy answer to ``question`` (``"dC/dw"``) on a graph
    of scalars, written as a learner types it: what a teacher's bank of wrong answers,
    or a test, grades. A mutation that leaves the value unchanged (a path whose factor
    is 0 at every forward value) is no slip and is left out."""
    from .numbers import close, evaluate, proportional
    from .prepare import Prepared, question_derivation
    from .question import parse_question, resolve_limits

    of, wrt = parse_question(graph, question)
    d = question_derivation(graph, of, wrt)
    prep = Prepared.build(graph, of, wrt, resolve_limits(graph, limits or {}), 0, (), d)
    inline: dict[sp.Symbol, sp.Expr] = {}
    for node in graph.nodes:  # the learner never writes a generated u₁
        if node.generated and node.expr is not None:
            inline[node.symbol] = node.expr.xreplace(inline)
    out = []
    for m in bank(graph, d):
        with np.errstate(all="ignore"):
            k = proportional(evaluate(m.expr, prep.env, prep.n), prep.truth,
                             prep.rough_points())
        if k is None or not close(k, 1.0):
            out.append((m.code, answer_text(m.expr.xreplace(inline))))
    return out


def answer_text(expr: sp.Expr) -> str:
    """``expr`` in the syntax answers are typed in (``sigma'(z)*2*(a - y)``)."""
    spec = ops.lookup("abs")
    if spec is not None:  # |x|'s derivative is typed abs'(x)
        expr = expr.replace(sp.sign, lambda a: spec.prime(a))
    return sp.sstr(expr, order="none").replace("**", "^")
