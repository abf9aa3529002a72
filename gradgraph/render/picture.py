"""Drawing a network picture: neurons as circles in layers, synapses by weight.

Both network views build a :class:`Picture` — :mod:`.network` from a scalar graph's
neurons, :mod:`.dense` from a layer graph's units — and :func:`picture_dot` draws it, so
the two look alike: activation inside the circle (its fill grows with it, as the slides'
0.48 → 0.66), blue and vermillion edges for positive and negative weights, thicker for
bigger ones, the chain for ∂C/∂w lit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .labels import DIM, DIM_TEXT, DONE, HIGHLIGHT, INK, MUTED, attrs, esc, fmt_number, header

POSITIVE, NEGATIVE = DONE, HIGHLIGHT  # blue / vermillion: a colour-blind-safe pair
ACTIVATION_FILL = (0x56, 0xB4, 0xE9)  # sky blue; white at 0, full at activation 1


@dataclass(frozen=True)
class Circle:
    """One drawn unit. ``name`` and ``notes`` are plain text (escaped when drawn)."""

    id: str
    name: str
    value: Any = None  # the activation written inside (None: none)
    notes: tuple[str, ...] = ()  # small lines under it: bias, gradient overlay
    state: str = "normal"  # normal | on | dim
    kind: str = "neuron"  # neuron | target | more (stands for units not drawn)


@dataclass(frozen=True)
class Link:
    """One synapse ``src -> dst`` (ids), drawn by its weight's sign and size."""

    src: str
    dst: str
    weight: float | None
    lines: tuple[str, ...] = ()  # the label (none when empty)
    state: str = "normal"  # normal | on | dim


@dataclass
class Picture:
    """Everything a network drawing holds, in drawing order."""

    layers: list[tuple[str, list[Circle]]]
    targets: list[Circle]
    links: list[Link]
    comparisons: list[tuple[str, str]]  # (output id, target id): dashed, no arrow
    caption: str
    ordered: bool = False  # keep each layer's units in index order, top to bottom

    @property
    def size(self) -> tuple[int, int]:
        """(circles, edges) the drawing holds."""
        circles = sum(len(c) for _, c in self.layers) + len(self.targets)
        return circles, len(self.links) + len(self.comparisons)


def picture_dot(picture: Picture, rankdir: str, show_names: bool) -> str:
    """DOT text of a network picture."""
    # Wide ranks leave room for the weight labels between the layers.
    lines = header("network", rankdir, picture.caption, nodesep=0.6, ranksep=1.4)
    weights = [abs(link.weight) for link in picture.links if link.weight is not None]
    scale = max(weights + [1e-12])
    columns = [(f"layer{k}", title, circles)
               for k, (title, circles) in enumerate(picture.layers)]
    if picture.targets:
        columns.append(("targets", "target", picture.targets))
    for name, title, circles in columns:
        if picture.ordered:
            lines.extend(_column(name, title, circles, show_names))
            continue
        lines.append(f"  subgraph cluster_{name} {{")
        lines.append("    graph" + attrs(label=f"<{esc(title)}>", style="rounded,dashed",
                                         color="#C8C8C8", fontcolor=MUTED, fontsize=11,
                                         labelloc="t"))
        lines.extend("    " + _circle(c, show_names) for c in circles)
        lines.append("  }")
    if picture.ordered:  # heavy invisible edges line the titles up in one row
        heads = [f"title_{name}" for name, _, _ in columns]
        lines.extend(f"  {a} -> {b}" + attrs(style="invis", weight=100)
                     for a, b in zip(heads, heads[1:], strict=False))
    lines.extend(_link(link, scale) for link in picture.links)
    for output, target in picture.comparisons:
        lines.append(f"  {output} -> {target}" + attrs(
            id=f"e_{output}_{target}", class_="target", style="dashed", color=MUTED,
            arrowhead="none", constraint="true"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _column(name: str, title: str, circles: list[Circle], show_names: bool) -> list[str]:
    """A layer as one rank: its title on top, then its units in index order.

    Not a cluster: dot reorders the nodes of a cluster to cut crossings (a₃ above a₀),
    while flat invisible edges in a rank of its own keep the order they are written in.
    """
    head = f"title_{name}"
    ids = [head, *(c.id for c in circles)]
    lines = [f"  {head}" + attrs(id=head, class_="layer-title",
                                 label=f'<<FONT COLOR="{MUTED}" POINT-SIZE="11">'
                                       f"{esc(title)}</FONT>>")]
    lines.extend("  " + _circle(c, show_names) for c in circles)
    lines.append(f"  {{rank=\"same\"; {'; '.join(ids)}}}")
    lines.append(f"  {' -> '.join(ids)}" + attrs(style="invis"))
    return lines


def activation_text(value: Any) -> str:
    """Two decimals, as the slides write activations (0.48, 0.66, 1.00)."""
    if np.ndim(value):
        return fmt_number(np.mean(value), 2) + " (mean)"
    text = f"{float(value):.2f}"
    return "0.00" if text == "-0.00" else text.replace("-", "−")  # −0.004 is not negative 0


def fill(value: Any) -> str:
    if value is None or np.ndim(value):
        return "white"
    t = min(max(float(value), 0.0), 1.0)
    r, g, b = (round(255 + (c - 255) * t) for c in ACTIVATION_FILL)
    return f"#{r:02X}{g:02X}{b:02X}"


def _circle(c: Circle, show_names: bool) -> str:
    """A circle: name, activation (two decimals, as the slides), notes under them."""
    if c.kind == "more":
        return f"{c.id}" + attrs(
            id=c.id, class_="more", shape="plain",
            label=f'<<FONT POINT-SIZE="22" COLOR="{MUTED}">⋮</FONT><BR/>'
                  f'<FONT POINT-SIZE="10" COLOR="{MUTED}">{esc(c.name)}</FONT>>')
    rows = []
    if show_names or c.value is None:
        rows.append(f'<FONT POINT-SIZE="12">{esc(c.name)}</FONT>')
    if c.value is not None:
        rows.append(f'<FONT POINT-SIZE="17"><B>{esc(activation_text(c.value))}</B></FONT>')
    rows.extend(f'<FONT POINT-SIZE="9" COLOR="{MUTED}">{esc(t)}</FONT>' for t in c.notes)
    on, dim = c.state == "on", c.state == "dim"
    target = c.kind == "target"
    return f"{c.id}" + attrs(
        id=c.id, class_="target" if target else "neuron", shape="circle", width=1.0,
        margin="0.02", style="filled,dashed" if target else "filled",
        fillcolor="white" if target else fill(c.value),
        color=HIGHLIGHT if on else (DIM if dim else INK), penwidth=2.5 if on else 1.2,
        label="<" + "<BR/>".join(rows) + ">",
    )


def _link(link: Link, scale: float) -> str:
    colour, width = MUTED, 1.5
    if link.weight is not None:
        colour = POSITIVE if link.weight >= 0 else NEGATIVE
        width = 1.0 + 5.0 * abs(link.weight) / scale
    on, dim = link.state == "on", link.state == "dim"
    if link.state != "normal":  # the chain's colour wins; the label still gives the sign
        colour = HIGHLIGHT if on else DIM
    label = None
    if link.lines:
        body = "<BR/>".join(esc(x) for x in link.lines)
        if on:
            body = f"<B>{body}</B>"
        # A table with empty space under the text lifts it clear of a thick edge.
        label = (f'<<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR><TD>{body}</TD>'
                 f'</TR><TR><TD HEIGHT="{round(width * 2 + 4)}"></TD></TR></TABLE>>')
    return f"  {link.src} -> {link.dst}" + attrs(
        id=f"e_{link.src}_{link.dst}", class_="on" if on else ("dim" if dim else "synapse"),
        color=colour, fontcolor=DIM_TEXT if dim else (HIGHLIGHT if on else INK),
        penwidth=f"{width:.2f}", label=label, arrowsize=0.6,
    )
