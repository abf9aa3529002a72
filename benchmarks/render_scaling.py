"""DOT generation and Graphviz layout time for graphs of 10 … 2000 nodes.

Three shapes: the slides' chain (one neuron per layer, ~4 nodes a layer, few
crossings); a wider random graph (each node reads 2 earlier ones through an op, ~1.3
edges a node, long edges and crossings); and a dense random graph (3 edges a node, the
worst case for dot's crossing minimisation). Every picture is the full
op-graph view: values, adjoints, partials with their numbers, the chain for one
weight highlighted. The cap in gradgraph/render/__init__.py (MAX_DRAWN_NODES /
MAX_DRAWN_EDGES) is chosen from this table; rendering bypasses the cap here on purpose.
The last column is the collapsed view (one box per layer) of the chain, which stays
cheap at any depth.

    python benchmarks/render_scaling.py            # full table (a few minutes)
    python benchmarks/render_scaling.py --quick    # up to 300 nodes
    python benchmarks/render_scaling.py --linear   # per-node cost, 1k … 8k-node chains

``--linear`` times, on the chain u₁ = x·w, uᵢ₊₁ = uᵢ·w (issue #11's reproduction),
building the graph from text, the full op graph's DOT text (no layout) and every
adjoint in cached form (``derive --all``), and prints microseconds per node: a flat
column is linear work (a whole-graph scan per node once made DOT text quadratic).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time

from gradgraph import Graph, examples
from gradgraph.render.collapse import collapsed_dot
from gradgraph.render.opgraph import op_graph_dot
from gradgraph.render.output import find_dot
from gradgraph.render.scene import build_scene, edges_of

SIZES = (10, 30, 100, 200, 300, 500, 1000, 2000)
DOT_TIMEOUT = 60.0


def chain_graph(nodes: int) -> tuple[Graph, dict[str, float], str]:
    depth = max(1, (nodes - 3) // 4)
    g = examples.chain(depth)
    values = {name: 0.5 for name in g.leaves}
    return g, values, g.params[0]


def random_graph(nodes: int, seed: int = 0) -> tuple[Graph, dict[str, float], str]:
    """About ``nodes`` nodes: inputs, then h_i = op(w_i·h_j + h_k) (3 nodes, 4 edges a line)."""
    rng = random.Random(seed)
    names = ["x1", "x2", "x3"]
    lines = []
    ops = ["sigma", "tanh", "softplus"]
    while 3 * len(lines) + 5 < nodes:
        i = len(lines) + 1
        j, k = rng.sample(names, 2)
        lines.append(f"h{i} = {rng.choice(ops)}(w{i}*{j} + {k})")
        names.append(f"h{i}")
    return _finish(lines, names, rng)


def dense_graph(nodes: int, seed: int = 0) -> tuple[Graph, dict[str, float], str]:
    """About ``nodes`` nodes, 3 edges a node: h_i = h_j·h_k + h_l·h_m + w_i·h_n."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(1, 7)]
    lines: list[str] = []
    while 2 * len(lines) + 8 < nodes:
        i = len(lines) + 1
        j, k, l, m, n = rng.sample(names, 5)
        lines.append(f"h{i} = {j}*{k} + {l}*{m} + w{i}*{n}")
        names.append(f"h{i}")
    return _finish(lines, names, rng)


def _finish(lines: list[str], names: list[str], rng: random.Random
            ) -> tuple[Graph, dict[str, float], str]:
    lines.append(f"C = ({names[-1]} - y)^2")
    g = Graph.from_text("\n".join(lines))
    values = {name: rng.uniform(-1, 1) for name in g.leaves}
    return g, values, "w1" if "w1" in g else g.params[0]


def time_dot(source: str) -> float:
    start = time.perf_counter()
    try:
        subprocess.run([find_dot() or "dot", "-Tsvg"], input=source.encode(), timeout=DOT_TIMEOUT,
                       capture_output=True, check=True)
    except subprocess.TimeoutExpired:
        return float("inf")
    return time.perf_counter() - start


def row(kind: str, make, size: int) -> tuple[int, int, float, float, float]:  # noqa: ANN001
    g, values, wrt = make(size)
    start = time.perf_counter()
    source = op_graph_dot(build_scene(g, wrt, None, values))
    gen = time.perf_counter() - start
    layout = time_dot(source)
    collapsed = time_dot(collapsed_dot(build_scene(g, wrt, None, values))) \
        if kind == "chain" else float("nan")
    return len(g), len(edges_of(g)), gen, layout, collapsed


LINEAR_SIZES = (1000, 2000, 4000, 8000)


def linear_table() -> None:
    from gradgraph import adjoints
    from gradgraph.render import render

    print(f"{'nodes':>6} {'build µs/node':>14} {'DOT µs/node':>12} {'--all µs/node':>14}")
    for size in LINEAR_SIZES:
        text = "\n".join(["u1 = x*w"] + [f"u{i + 1} = u{i}*w" for i in range(1, size)])
        start = time.perf_counter()
        g = Graph.from_text(text)
        built = time.perf_counter() - start
        start = time.perf_counter()
        render(g)  # the DOT text; a picture this big is refused before layout
        dot = time.perf_counter() - start
        start = time.perf_counter()
        str(adjoints(g))
        every = time.perf_counter() - start
        per = [1e6 * t / len(g) for t in (built, dot, every)]
        print(f"{len(g):>6} {per[0]:>14.0f} {per[1]:>12.0f} {per[2]:>14.0f}", flush=True)


def main() -> None:
    if "--linear" in sys.argv:
        linear_table()
        return
    if find_dot() is None:
        sys.exit("Graphviz dot is not installed")
    sizes = [s for s in SIZES if s <= 300] if "--quick" in sys.argv else SIZES
    print(f"{'graph':>7} {'nodes':>6} {'edges':>6} {'DOT gen s':>10} {'dot layout s':>13} "
          f"{'collapsed s':>12}")
    for kind, make in (("chain", chain_graph), ("random", random_graph),
                       ("dense", dense_graph)):
        slow = False
        for size in sizes:
            if slow:  # one timeout per shape is enough; bigger ones only get slower
                print(f"{kind:>7} {'~' + str(size):>6} {'':>6} {'':>10} {'skipped':>13}")
                continue
            n, e, gen, layout, collapsed = row(kind, make, size)
            shown = f">{DOT_TIMEOUT:.0f}" if layout == float("inf") else f"{layout:.2f}"
            print(f"{kind:>7} {n:>6} {e:>6} {gen:>10.2f} {shown:>13} {collapsed:>12.2f}",
                  flush=True)
            slow = layout == float("inf")


if __name__ == "__main__":
    main()
