"""A question's diagram with the edges a class got wrong as a heatmap.

``gradgraph.render`` draws the graph; it has no hook for per-edge colours, so this
module post-processes its DOT text, edge by edge id (``e_<parent id>_<child id>``, the
id every edge line carries): colour and width by the share of the class that got the
edge's factor wrong, and a label "✗ 3 of 5". Nothing else of the picture changes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from ..graph import Graph
from ..render import Rendering, render

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
