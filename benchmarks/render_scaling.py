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
    python benchmarks/render_scaling.py --views    # the views of 10⁴-node graphs

``--views`` draws each view of a big graph (render/views.py) as a student would get
it (``gradgraph.render`` then ``dot -Tpng`` at the README's 144 dpi) and prints the
graph's nodes, the drawn nodes, the seconds to the DOT text and to the layout, the
picture in pixels, and how tall 10-point text (the smallest in a diagram) is once the
picture is shown 1,600 px wide: 8 px and up reads.

``--linear`` times, on the chain u₁ = x·w, uᵢ₊₁ = uᵢ·w (issue #11's reproduction),
building the graph from text, the full op graph's DOT text (no layout) and every
adjoint in cached form (``derive --all``), in CPU seconds, and prints microseconds per
node: a flat column is linear work (a whole-graph scan per node once made DOT text
quadratic). It ends with issue #14's target: the DOT text of 2,000 nodes in ≤ 1 s.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time

from gradgraph import Graph, examples
from gradgraph.render.collapse import collapsed_dot
from gradgraph.render.opgraph import op_graph_dot
from gradgraph.render.output import PNG_DPI, find_dot
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
DOT_TARGET_NODES, DOT_TARGET_SECONDS = 2000, 1.0  # issue #14: was 9.3 s


def linear_table() -> None:
    """CPU seconds (other load on a shared machine does not count), per node."""
    from gradgraph import adjoints
    from gradgraph.render import render

    print(f"{'nodes':>6} {'build µs/node':>14} {'DOT s':>6} {'DOT µs/node':>12} "
          f"{'--all µs/node':>14}")
    target = ""
    for size in LINEAR_SIZES:
        text = "\n".join(["u1 = x*w"] + [f"u{i + 1} = u{i}*w" for i in range(1, size)])
        start = time.process_time()
        g = Graph.from_text(text)
        built = time.process_time() - start
        start = time.process_time()
        assert render(g).source  # the DOT text; a picture this big is refused before layout
        dot = time.process_time() - start
        start = time.process_time()
        str(adjoints(g))
        every = time.process_time() - start
        per = [1e6 * t / len(g) for t in (built, dot, every)]
        print(f"{len(g):>6} {per[0]:>14.0f} {dot:>6.2f} {per[1]:>12.0f} {per[2]:>14.0f}",
              flush=True)
        if size == DOT_TARGET_NODES:
            verdict = "met" if dot <= DOT_TARGET_SECONDS else "NOT met"
            target = (f"target: DOT text of a {size:,}-node chain in ≤ {DOT_TARGET_SECONDS:.0f} "
                      f"s: {dot:.2f} s, {verdict}")
    print(target)


SHOWN_WIDTH = 1600  # px: a laptop screen, a projected slide
SMALLEST_PT = 10  # the smallest text in a diagram (value and adjoint labels)


def u_chain_text(n: int) -> str:
    return "\n".join(["u1 = x*w"] + [f"u{i + 1} = u{i}*w" for i in range(1, n)])


def wide_layer_text(units: int, per_sum: int = 100) -> str:
    """One layer of ``units`` units reading one input, summed into the cost in partial
    sums of ``per_sum`` terms (a line of the text is at most 2,000 characters)."""
    lines = []
    for j in range(1, units + 1):
        lines += [f"z{j} = w{j}*x + b{j}", f"h{j} = sigma(z{j})"]
    parts = []
    for k, start in enumerate(range(1, units + 1, per_sum), start=1):
        stop = min(units, start + per_sum - 1)
        lines.append(f"s{k} = " + " + ".join(f"h{j}" for j in range(start, stop + 1)))
        parts.append(f"s{k}")
    lines += ["s = " + " + ".join(parts), "C = (s - y)^2"]
    return "\n".join(lines)


def sum_text(terms: int) -> str:
    return "s = " + " + ".join(f"x{i}" for i in range(1, terms + 1)) + "\nC = (s - y)^2"


VIEW_CASES = (  # name, graph maker, render keywords
    ("chain(2500) --repeat --wrap 8", lambda: examples.chain(2500), {"repeat": True, "wrap": 8}),
    ("chain(2500) --path-only --repeat --wrap 5", lambda: examples.chain(2500),
     {"wrt": "w^(L-2000)", "path_only": True, "repeat": True, "wrap": 5}),
    ("chain(2500) --around --hops 4", lambda: examples.chain(2500),
     {"around": "a^(L-1234)", "hops": 4, "wrap": 8}),
    ("10k-line chain --repeat", lambda: Graph.from_text(u_chain_text(10_000)),
     {"repeat": True}),
    ("40-input sum (Σ)", lambda: Graph.from_text(sum_text(40)), {}),
    ("40-input sum --repeat", lambda: Graph.from_text(sum_text(40)), {"repeat": True}),
    ("wide layer 2500 --repeat", lambda: Graph.from_text(wide_layer_text(2500)),
     {"repeat": True}),
)


def png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def views_table() -> None:
    from gradgraph.render import render

    print(f"{'view':<42} {'graph n':>8} {'drawn n':>8} {'DOT s':>6} {'dot s':>6} "
          f"{'picture px':>12} {'10pt at 1600':>13}")
    for name, make, kw in VIEW_CASES:
        g = make()
        start = time.perf_counter()
        picture = render(g, **kw)
        gen = time.perf_counter() - start
        drawn = sum(1 for line in picture.source.splitlines()
                    if line.startswith("  ") and " [id=" in line and "->" not in line)
        start = time.perf_counter()
        png = subprocess.run([find_dot() or "dot", "-Tpng", f"-Gdpi={PNG_DPI}"],
                             input=picture.source.encode(), capture_output=True,
                             timeout=DOT_TIMEOUT, check=True).stdout
        layout = time.perf_counter() - start
        w, h = png_size(png)
        text_px = SMALLEST_PT * PNG_DPI / 72 * min(1.0, SHOWN_WIDTH / w)
        print(f"{name:<42} {len(g):>8} {drawn:>8} {gen:>6.2f} {layout:>6.2f} "
              f"{f'{w}×{h}':>12} {text_px:>10.1f} px", flush=True)


def main() -> None:
    if "--linear" in sys.argv:
        linear_table()
        return
    if "--views" in sys.argv:
        views_table()
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
