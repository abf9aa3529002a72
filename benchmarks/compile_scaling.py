"""Compile time per node for the slides' chain, chain(64) … chain(2048) (259 … 8,195 nodes).

Issue #14's target: ``gg.compile(examples.chain(2048))`` (8,195 nodes) in ≤ 3 s, with
the time per node flat (linear work; it was 30.7 s, 97× the time for 62× the nodes).
Each row builds fresh graphs (the partials and the compiled program are cached on a
graph) and times, in this process's CPU seconds (other load on a shared machine does
not count):

* derive — every adjoint in cached form (``gradgraph.adjoints``: one local partial an
  edge), the part of compiling that is ``derive.py``'s;
* compile — the whole of ``gg.compile`` (the adjoints again, then code generation);
* DOT — the full op graph's DOT text (no layout) with the chain of the first weight lit.

A flat µs/node column is linear work. The last line says whether the target is met.

    python benchmarks/compile_scaling.py            # chain(64 … 2048)
    python benchmarks/compile_scaling.py --quick    # chain(64 … 256)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import gradgraph as gg
from gradgraph import examples
from gradgraph.render import render

DEPTHS = (64, 128, 256, 512, 1024, 2048)
QUICK = (64, 128, 256)
TARGET_DEPTH, TARGET_SECONDS = 2048, 3.0


def cpu_seconds(work: Callable[[gg.Graph], object], depth: int) -> tuple[int, float]:
    """(nodes, CPU seconds of ``work``) on a freshly built chain(depth)."""
    g = examples.chain(depth)
    start = time.process_time()
    work(g)
    return len(g.nodes), time.process_time() - start


def main() -> None:
    depths = QUICK if "--quick" in sys.argv[1:] else DEPTHS
    print(f"{'depth':>6} {'nodes':>6} {'derive s':>9} {'µs/node':>8} {'compile s':>10} "
          f"{'µs/node':>8} {'DOT s':>7} {'µs/node':>8}")
    seconds = {}
    for depth in depths:
        nodes, derive = cpu_seconds(gg.adjoints, depth)
        _, compile_ = cpu_seconds(gg.compile, depth)
        _, dot = cpu_seconds(lambda g: render(g, wrt=g.params[0]).source, depth)
        seconds[depth] = compile_
        per = [t / nodes * 1e6 for t in (derive, compile_, dot)]
        print(f"{depth:>6} {nodes:>6} {derive:>9.2f} {per[0]:>8.0f} {compile_:>10.2f} "
              f"{per[1]:>8.0f} {dot:>7.2f} {per[2]:>8.0f}", flush=True)
    if TARGET_DEPTH in seconds:
        took = seconds[TARGET_DEPTH]
        verdict = "met" if took <= TARGET_SECONDS else "NOT met"
        print(f"target: compile chain({TARGET_DEPTH}) in ≤ {TARGET_SECONDS:.0f} s, flat "
              f"µs/node: {took:.2f} s, {verdict}")


if __name__ == "__main__":
    main()
