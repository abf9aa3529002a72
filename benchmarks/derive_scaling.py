"""Every adjoint of chain(L), L = 8 … 512: the time per node must stay flat.

Each timing builds a fresh graph (a graph keeps its edge partials once worked out).

Reference in the same run: one `sympy.diff` of the expanded (nested) cost for the
first-layer weight — the approach gradgraph avoids — for the depths where it finishes.

    python benchmarks/derive_scaling.py
"""

# ruff: noqa: I001 — gradgraph is imported before SymPy on purpose (it sizes SymPy's cache).
from __future__ import annotations

import time

from gradgraph import adjoints, examples, ops  # first: it sizes SymPy's cache
from gradgraph.parse import symbol

import sympy as sp

DEPTHS = (8, 16, 32, 64, 128, 256, 512)
NAIVE_DEPTHS = (8, 16, 32)


def best_of(fn, repeat: int = 3) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def fresh_adjoints(depth: int, repeat: int = 3) -> float:
    """Best CPU seconds of every adjoint, each time on a freshly built graph: a graph
    keeps its edge partials, so a second run on the same one would time a cache."""
    times = []
    for _ in range(repeat):
        g = examples.chain(depth)
        start = time.process_time()
        adjoints(g)
        times.append(time.process_time() - start)
    return min(times)


def naive(depth: int) -> float:
    """sympy.diff of the whole nested cost with respect to the first weight."""
    g = examples.chain(depth)
    cost = ops.elementary(g.expand(g.cost))
    first = symbol(f"w^(L-{depth - 1})")
    try:
        return best_of(lambda: sp.count_ops(sp.diff(cost, first)), repeat=1)
    except RecursionError:  # the nested expression is too deep for SymPy itself
        return float("inf")


def main() -> None:
    print(f"{'L':>5} {'nodes':>6} {'build µs/node':>14} {'adjoints µs/node':>17} "
          f"{'naive diff s':>13} {'naive/ours':>11}")
    for depth in DEPTHS:
        n = len(examples.chain(depth))
        build = best_of(lambda d=depth: examples.chain(d)) / n * 1e6
        ours = fresh_adjoints(depth)
        ref = naive(depth) if depth in NAIVE_DEPTHS else float("nan")
        ratio = ref / ours if depth in NAIVE_DEPTHS else float("nan")
        print(f"{depth:>5} {n:>6} {build:>14.1f} {ours / n * 1e6:>17.1f} "
              f"{ref:>13.3f} {ratio:>11.1f}")


if __name__ == "__main__":
    main()
