"""Compile time and DOT text time per node for the slides' chain, 1k … 8k nodes.

Issue #14: ``gg.compile(examples.chain(2048))`` (8,195 nodes) must take ≤ 3 s, with the
time per node flat (linear work). Each row builds a fresh graph (the compiled program is
cached on the graph) and times ``gg.compile`` once, then the full op graph's DOT text
(no layout) for the same chain on another fresh graph, with values and a weight lit.
Times are this process's CPU seconds, so other load on a shared machine does not count.

    python benchmarks/compile_scaling.py            # chain(256 … 2048)
    python benchmarks/compile_scaling.py --quick    # chain(64 … 256)
"""

from __future__ import annotations

import sys
import time

import gradgraph as gg
from gradgraph import examples
from gradgraph.render.opgraph import op_graph_dot
from gradgraph.render.scene import build_scene

DEPTHS = (256, 512, 1024, 2048)
QUICK = (64, 128, 256)


def compile_seconds(depth: int) -> tuple[int, float]:
    g = examples.chain(depth)
    start = time.process_time()
    gg.compile(g)
    return len(g.nodes), time.process_time() - start


def dot_seconds(depth: int) -> float:
    g = examples.chain(depth)
    values = {name: 0.5 for name in g.leaves}
    start = time.process_time()
    op_graph_dot(build_scene(g, g.params[0], None, values))
    return time.process_time() - start


def main() -> None:
    depths = QUICK if "--quick" in sys.argv[1:] else DEPTHS
    print(f"{'depth':>6} {'nodes':>6} {'compile s':>10} {'µs/node':>8} "
          f"{'DOT s':>7} {'µs/node':>8}")
    for depth in depths:
        nodes, seconds = compile_seconds(depth)
        dot = dot_seconds(depth)
        print(f"{depth:>6} {nodes:>6} {seconds:>10.2f} {seconds / nodes * 1e6:>8.0f} "
              f"{dot:>7.2f} {dot / nodes * 1e6:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
