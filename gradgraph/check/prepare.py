"""What the parent prepares once per question: the points, the true values, the factors.

The child process judges answers against a :class:`Prepared`; nothing in it comes from
the learner's text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .. import ops
from ..derive import Derivation, derive
from ..graph import Graph
from ..notation import partial_unicode, unicode_name
from .display import factor_text
from .numbers import MIN_DEFINED, POSITIVE, evaluate, sample_points

Env = dict[sp.Symbol, np.ndarray]


class Instances:
    """How an answer becomes the scalar formulas it is judged on.

    On a graph of scalars the answer is its own one formula; layers (``check.layers``)
    instantiate an indexed answer at several index values and stack the results.
    """

    def formulas(self, answer: sp.Expr) -> list[sp.Expr]:
        """One scalar formula per instance, in the order of ``Prepared.truth``."""
        return [answer]

    def term(self, answer: sp.Expr) -> sp.Expr | None:
        """The product whose factors are matched against the chain's (None: none)."""
        return answer

    def values(self, expr: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int
               ) -> np.ndarray:
        """A factor's values, stacked like the expected factors' values."""
        return evaluate(expr, env, n)

    def names(self, expr: sp.Expr, instance: int) -> set[str]:  # noqa: ARG002 - one instance
        """The graph's names a factor mentions at one instance (a counterexample's)."""
        return {s.name for s in expr.free_symbols}


SCALAR = Instances()


@dataclass
class ExpectedFactor:
    symbol: str  # ∂C/∂a
    coeff: sp.Number  # 2 in 2(a − y)
    rest: sp.Expr  # (a − y)
    text: str  # 2(a − y)
    values: np.ndarray  # of ``rest`` at the points


@dataclass
class Prepared:
    """One question on one graph: the derivation, the points, the true values.

    ``graph`` is the graph the numbers run on (for layers, one node per neuron);
    ``truth`` and ``canonicals`` hold one block per instance (a graph of scalars: one).
    """

    graph: Graph
    question: str  # ∂C/∂w, as shown
    derivation: Derivation | None
    n: int
    leaf_values: dict[str, np.ndarray]
    env: Env
    truth: np.ndarray
    factors: list[ExpectedFactor] | None  # one path only
    paths: list[tuple[str, np.ndarray]]  # (w → z → a → C, values), several paths
    canonicals: tuple[sp.Expr, ...]  # the true derivative, in leaves, primes written out
    shown: tuple[tuple[str, ...], ...]  # per instance, the leaves a counterexample shows
    order: Mapping[str, int]  # the order names are written in, for messages
    instances: Instances = field(default=SCALAR)
    labels: tuple[str, ...] = ()  # per instance, "k = 1" (layers only)
    # A leaf of ``graph`` -> the name ``limits`` takes for it (layers: the tensor's).
    limit_names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, graph: Graph, of: str, wrt: str, limits: Mapping[str, tuple[float, float]],
              seed: int) -> Prepared:
        d = _derivation(graph, of, wrt)
        expected = d.expr if d is not None else sp.S.Zero
        leaf_values, env, n, (truth,) = points_for(graph, [expected], limits, seed)
        return cls(graph, partial_unicode(of, wrt), d, n, leaf_values, env, truth,
                   _expected_factors(graph, d, env, n), path_values(graph, d, env, n),
                   (canonical(graph, expected),), (shown_leaves(graph, of),), graph.order)


Points = dict[str, np.ndarray]


def points_for(graph: Graph, expected: list[sp.Expr], limits: Mapping[str, tuple[float, float]],
               seed: int, adjust: Callable[[Points], Points] = lambda p: p
               ) -> tuple[Points, Env, int, list[np.ndarray]]:
    """(leaf values, forward values, points, each expected formula's values).

    When one of the formulas is defined at too few points (logs, roots), positive
    points are added. ``adjust`` puts the points in a domain ranges cannot say (targets
    that sum to 1).
    """
    rng = np.random.default_rng(seed)
    leaf_values = adjust(sample_points(graph.leaves, limits, rng))
    env, n = forward(graph, leaf_values)
    truths = [evaluate(e, env, n) for e in expected]
    if min(np.isfinite(t).sum() for t in truths) < MIN_DEFINED:
        extra = sample_points(graph.leaves, limits, rng, POSITIVE)
        leaf_values = adjust({k: np.concatenate([v, extra[k]]) for k, v in leaf_values.items()})
        env, n = forward(graph, leaf_values)
        truths = [evaluate(e, env, n) for e in expected]
    return leaf_values, env, n, truths


def _derivation(graph: Graph, of: str, wrt: str) -> Derivation | None:
    """The derivation, or None when ``wrt`` does not feed ``of`` (the derivative is 0)."""
    if wrt not in ancestors(graph, of):
        return None
    return derive(graph, of, wrt)


def ancestors(graph: Graph, name: str) -> set[str]:
    """``name`` and every node it depends on."""
    return {name, *graph.ancestors(name)}


def forward(graph: Graph, leaf_values: Mapping[str, np.ndarray]) -> tuple[Env, int]:
    """Every node's values at the points, from the leaves' values."""
    n = len(next(iter(leaf_values.values()))) if leaf_values else 1
    env: Env = {}
    for node in graph.nodes:
        if node.expr is None:
            env[node.symbol] = leaf_values[node.name]
        else:
            env[node.symbol] = evaluate(node.expr, env, n)
    return env, n


def _expected_factors(graph: Graph, d: Derivation | None, env: Env, n: int
                      ) -> list[ExpectedFactor] | None:
    if d is None or len(d.factors) != 1:
        return None
    shown = _inline_generated(graph)
    return [expected_factor(f.symbol_unicode, f.expr, shown, graph.order,
                            lambda rest: evaluate(rest, env, n)) for f in d.factors[0]]


def expected_factor(symbol: str, expr: sp.Expr, shown: Mapping[sp.Symbol, sp.Expr],
                    order: Mapping[str, int], values: Callable[[sp.Expr], np.ndarray]
                    ) -> ExpectedFactor:
    """One chain factor, split as 2 × (a − y), with the values of its non-number part."""
    coeff, rest = expr.as_coeff_Mul()
    return ExpectedFactor(symbol, coeff, rest, factor_text(expr.xreplace(shown), order),
                          values(rest))


def _inline_generated(graph: Graph) -> dict[sp.Symbol, sp.Expr]:
    """Generated nodes (u1 = p·q inside log(p·q)) -> their definitions, for messages:
    the learner never wrote u₁."""
    memo: dict[sp.Symbol, sp.Expr] = {}
    for node in graph.nodes:
        if node.generated and node.expr is not None:
            memo[node.symbol] = node.expr.xreplace(memo)
    return memo


def path_values(graph: Graph, d: Derivation | None, env: Env, n: int
                 ) -> list[tuple[str, np.ndarray]]:
    if d is None or len(d.factors) < 2:
        return []
    return [(" → ".join(unicode_name(p) for p in path),
             evaluate(sp.Mul(*(f.expr for f in fs)), env, n))
            for path, fs in zip(d.paths, d.factors, strict=True)]


def shown_leaves(graph: Graph, of: str) -> tuple[str, ...]:
    """The leaves ``of`` depends on, in the order they were written."""
    feeding = ancestors(graph, of)
    return tuple(sorted((n for n in graph.leaves if n in feeding),
                        key=lambda n: graph.order.get(n, 10**6)))


def canonical(graph: Graph, expr: sp.Expr) -> sp.Expr:
    """``expr`` in the leaves, with every prime written out (σ′(u) -> σ(u)(1 − σ(u)))
    and ops kept as opaque functions: the form exact algebra compares."""
    memo: dict[sp.Symbol, sp.Expr] = {}
    for node in graph.nodes:
        if node.expr is not None:
            memo[node.symbol] = node.expr.xreplace(memo)
    return _write_primes(sp.sympify(expr).xreplace(memo), {})


def _write_primes(e: sp.Expr, memo: dict[sp.Expr, sp.Expr], depth: int = 0) -> sp.Expr:
    if e in memo:
        return memo[e]
    if isinstance(e, ops.PrimeFunction) and depth < 8:
        inner = _write_primes(e.args[0], memo, depth)
        out = _write_primes(ops.prime_definition(e.spec, inner), memo, depth + 1)
    elif e.args and not isinstance(e, sp.Symbol):
        out = e.func(*[_write_primes(a, memo, depth) for a in e.args])
    else:
        out = e
    memo[e] = out
    return out
