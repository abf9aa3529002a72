"""What a question needs: the points, the true values, the chain's factors.

Built in the child process, per answer (the graph and the answer are untrusted: user
ops, big powers), under the deadline; the points straddle the answer's own kinks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import reduce

import numpy as np
import sympy as sp

from .. import ops
from ..derive import Derivation, derive
from ..graph import Graph
from ..notation import partial_unicode, unicode_name
from .display import factor_text
from .kinks import straddling_points
from .numbers import MAGNITUDES, MIN_DEFINED, POSITIVE, evaluate, evaluate_flagged, sample_points

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
    edge: tuple[str, str] | None = None  # (parent, child): the edge it is the partial of


@dataclass
class Prepared:
    """One question on one graph: the derivation, the points, the true values.

    ``graph`` is the graph the numbers run on (for layers, one node per neuron);
    ``truth`` and ``canonicals`` hold one block per instance (a graph of scalars: one).
    Built in the child, per answer: the points straddle the answer's own kinks.
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
    sample: Sample | None = None  # overflow flags and magnitudes of the points
    # Whether the points lie on a surface (targets that sum to 1): then a difference
    # exact algebra finds may vanish there, and only the numbers judge.
    constrained: bool = False

    @classmethod
    def build(cls, graph: Graph, of: str, wrt: str, limits: Mapping[str, tuple[float, float]],
              seed: int, answers: Sequence[sp.Expr] = (), derivation: Derivation | None = None,
              until: float = math.inf) -> Prepared:
        """``answers``: formulas whose kinks the points straddle too; ``derivation``:
        the parent's (else derived here); ``until``: when to stop looking for kinks."""
        d = derivation if derivation is not None else question_derivation(graph, of, wrt)
        expected = d.expr if d is not None else sp.S.Zero
        truths = (canonical(graph, expected),)
        # The answer's kinks first: a wrong answer hides beyond its own kink.
        kinks = [*(canonical(graph, a) for a in answers), *truths]
        sample = points_for(graph, [expected], limits, seed, kinks=kinks, until=until)
        env, n = sample.env, sample.n
        return cls(graph, partial_unicode(of, wrt), d, n, sample.leaf_values, env,
                   sample.truths[0], _expected_factors(graph, d, env, n),
                   path_values(graph, d, env, n), truths, (shown_leaves(graph, of),),
                   graph.order, sample=sample)

    def flags(self) -> dict[sp.Symbol, np.ndarray]:
        """The points where an intermediate overflowed, per node symbol."""
        return dict(self.sample.flags) if self.sample is not None else {}

    def truth_overflow(self) -> np.ndarray:
        """Per stacked point: whether the true value overflowed there."""
        if self.sample is None:
            return np.zeros(self.truth.shape, dtype=bool)
        return np.concatenate(self.sample.truth_over)

    def magnitudes(self) -> np.ndarray | None:
        """Per stacked point: the size of the values it computes with."""
        if self.sample is None:
            return None
        return np.tile(self.sample.magnitudes, len(self.sample.truths))

    def rough(self) -> np.ndarray:
        """Per stacked point: left out of factor matching (overflow or large magnitude)."""
        if self.sample is None:
            return np.zeros(self.truth.shape, dtype=bool)
        return np.tile(self.sample.rough, len(self.sample.truths))

    def rough_points(self) -> np.ndarray:
        """Per point (not stacked): left out of factor matching."""
        if self.sample is None:
            return np.zeros(self.n, dtype=bool)
        return self.sample.rough

    def moderate(self) -> np.ndarray:
        """Per stacked point: one of the random points of ordinary size (for the
        rounding noise a near-miss constant is measured against)."""
        keep = np.zeros(self.n, dtype=bool)
        keep[:self.sample.base_n if self.sample is not None else self.n] = True
        return np.tile(keep, self.truth.size // max(self.n, 1))


Points = dict[str, np.ndarray]


@dataclass
class Sample:
    """The points and what was computed at them."""

    leaf_values: Points
    env: Env
    flags: dict[sp.Symbol, np.ndarray]  # where a node's value overflowed
    n: int
    truths: list[np.ndarray]
    truth_over: list[np.ndarray]
    magnitudes: np.ndarray  # per point: the largest finite |value| of any node
    rough: np.ndarray  # per point: overflow somewhere, or a large-magnitude point
    base_n: int  # the first points are the ordinary random ones


def points_for(graph: Graph, expected: list[sp.Expr], limits: Mapping[str, tuple[float, float]],
               seed: int, adjust: Callable[[Points], Points] = lambda p: p,
               kinks: Sequence[sp.Expr] = (), until: float = math.inf) -> Sample:
    """The points and the expected formulas' values at them.

    Ordinary random points first, then large magnitudes (±10 … ±1000); when one of
    the formulas is defined at too few points (logs, roots), positive points; then
    points on both sides of the kinks and edges of ``kinks`` (formulas in the leaves).
    ``adjust`` puts the points in a domain ranges cannot say (targets that sum to 1).
    """
    rng = np.random.default_rng(seed)
    base = sample_points(graph.leaves, limits, rng)
    base_n = len(next(iter(base.values()))) if base else 1
    large = sample_points(graph.leaves, limits, np.random.default_rng([seed, 1]), MAGNITUDES)
    leaf_values = adjust(_joined(base, large))
    sample = _evaluated(graph, expected, leaf_values, base_n)
    if min(np.isfinite(t).sum() for t in sample.truths) < MIN_DEFINED:
        extra = sample_points(graph.leaves, limits, rng, POSITIVE)
        sample = _evaluated(graph, expected, adjust(_joined(leaf_values, extra)), base_n)
    symbols = {graph[name].symbol: name for name in graph.leaves}
    around = straddling_points(kinks, symbols, leaf_values, limits, graph.order, until,
                               adjust)
    if around is not None:
        sample = _evaluated(graph, expected, _joined(sample.leaf_values, around), base_n)
    return sample


def _joined(a: Points, b: Points) -> Points:
    return {k: np.concatenate([v, b[k]]) for k, v in a.items()}


def _evaluated(graph: Graph, expected: list[sp.Expr], leaf_values: Points, base_n: int
               ) -> Sample:
    env, flags, n = forward_flagged(graph, leaf_values)
    values = [evaluate_flagged(e, env, n, flags) for e in expected]
    magnitudes = _magnitudes(env, n)
    large = np.zeros(n, dtype=bool)
    large[base_n:] = True
    over = reduce(np.logical_or, flags.values(), np.zeros(n, dtype=bool))
    for v in values:
        over = over | v.unusable
    return Sample(leaf_values, env, flags, n, [v.values for v in values],
                  [v.unusable for v in values], magnitudes,
                  over | (large & (magnitudes > 100)), base_n)


def _magnitudes(env: Env, n: int) -> np.ndarray:
    """Per point, the largest finite |value| any node takes there."""
    out = np.zeros(n)
    for values in env.values():
        a = np.abs(np.broadcast_to(values, (n,)))
        out = np.maximum(out, np.where(np.isfinite(a), a, 0.0))
    return out


def question_derivation(graph: Graph, of: str, wrt: str) -> Derivation | None:
    """The derivation, or None when ``wrt`` does not feed ``of`` (the derivative is 0)."""
    if wrt not in ancestors(graph, of):
        return None
    return derive(graph, of, wrt)


def ancestors(graph: Graph, name: str) -> set[str]:
    """``name`` and every node it depends on."""
    return {name, *graph.ancestors(name)}


def forward(graph: Graph, leaf_values: Mapping[str, np.ndarray]) -> tuple[Env, int]:
    """Every node's values at the points, from the leaves' values."""
    env, _, n = forward_flagged(graph, leaf_values)
    return env, n


def forward_flagged(graph: Graph, leaf_values: Mapping[str, np.ndarray]
                    ) -> tuple[Env, dict[sp.Symbol, np.ndarray], int]:
    """:func:`forward`, and where each node's value overflowed."""
    n = len(next(iter(leaf_values.values()))) if leaf_values else 1
    env: Env = {}
    flags: dict[sp.Symbol, np.ndarray] = {}
    for node in graph.nodes:
        if node.expr is None:
            env[node.symbol] = leaf_values[node.name]
        else:
            env[node.symbol], flagged = evaluate_flagged(node.expr, env, n, flags)
            if flagged.any():
                flags[node.symbol] = flagged
    return env, flags, n


def _expected_factors(graph: Graph, d: Derivation | None, env: Env, n: int
                      ) -> list[ExpectedFactor] | None:
    if d is None or len(d.factors) != 1:
        return None
    shown = _inline_generated(graph)
    return [replace(expected_factor(f.symbol_unicode, f.expr, shown, graph.order,
                                    lambda rest: evaluate(rest, env, n)),
                    edge=None if f.via else (f.parent, f.child)) for f in d.factors[0]]


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
