"""Labels: escaping, numbers as a teacher writes them, the house style, DOT assembly.

Safety: every string that reaches DOT goes through :func:`esc` — node names are already
restricted by the parser, but op names, expressions and numbers are user-derived too, and
an HTML-like label would otherwise turn ``<TD HREF="javascript:…">`` into a live link
in the SVG. No attribute that makes Graphviz write ``<a`` (URL, href,
tooltip) is ever emitted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import RenderError
from ..notation import SUPERSCRIPT, split_name

SHOW_ALL = ("names", "defs", "values", "grads", "partials")
# Graphviz ships no fonts; DejaVu Sans is on nearly every Linux box and has the
# superscripts (ᴸ, ⁻) the names need; SVG viewers fall back through the CSS list.
FONT = "DejaVu Sans,Helvetica,Arial,sans-serif"

# Okabe–Ito, the colour-blind-safe palette: a light tint to fill, the full hue to draw.
ROLE_STYLE: dict[str, tuple[str, str, str]] = {
    "input": ("#D6EBF8", "#3D9AD1", "input"),
    "param": ("#FBE7BE", "#D18E00", "parameter"),
    "const": ("#EEEEEE", "#8C8C8C", "constant"),
    "intermediate": ("#D3EEE5", "#009E73", "intermediate"),
    "cost": ("#F4DCEA", "#B8558F", "output"),
}
INK = "#222222"
MUTED = "#6B6B6B"
HIGHLIGHT = "#D55E00"  # vermillion: the chain being differentiated / the active edge
DONE = "#0072B2"  # blue: edges the backward pass has already used
DIM = "#C4C4C4"
DIM_TEXT = "#8F8F8F"


# --- escaping and numbers ------------------------------------------------------------


# Every label of a 10,000-node diagram goes through esc: one search, and one pass only
# for text that holds a character to escape.
_ESCAPES = {**{c: " " for c in (*range(32), 127)},
            ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
            ord("\\"): "\\\\"}
_SPECIAL = re.compile(r'[\x00-\x1f\x7f&<>"\\]')


def esc(text: object) -> str:
    """``text`` as literal text inside an HTML-like DOT label.

    ``& < > "`` become entities, so user text can never open a tag (``<TD HREF=…>``);
    a backslash is doubled, because Graphviz expands ``\\N``, ``\\G`` and friends even
    inside HTML-like labels (and an entity ``&#92;`` is decoded *before* that
    expansion, so only doubling works). Control characters become spaces.
    """
    s = str(text)
    return s.translate(_ESCAPES) if _SPECIAL.search(s) else s


def fmt_number(value: Any, digits: int = 4) -> str:
    """A number as a teacher writes it: 0.66, −0.07324, 1.2×10⁻⁵ (batches: [0.1, 0.2, …])."""
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
    if arr is not None and arr.ndim == 1:
        head = ", ".join(fmt_number(v, digits) for v in arr[:3])
        return f"[{head}{', …' if arr.size > 3 else ''}] (n={arr.size})"
    x = float(value)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}×10{str(int(exponent)).translate(SUPERSCRIPT)}"
    return text.replace("-", "−")


def parse_show(show: str | Iterable[str] | None) -> frozenset[str]:
    """``"names,values"`` or ``("names", "values")`` -> the set, checked."""
    if show is None:
        return frozenset(SHOW_ALL)
    items = show.replace(",", " ").split() if isinstance(show, str) else list(show)
    bad = [s for s in items if s not in SHOW_ALL]
    if bad:
        raise RenderError(f"cannot show '{bad[0]}'; choose from {', '.join(SHOW_ALL)}")
    return frozenset(items)


def layer_tag(name: str) -> str:
    """The layer superscript of a name: ``a^(L-1)`` -> ``L-1`` ('' when it has none)."""
    return split_name(name)[2]


def tag_label(tag: str) -> str:
    return f"layer {tag.replace('-', '−')}"



def paren(text: str) -> str:
    """``(−0.68)`` in a product; a positive number as it is."""
    return f"({text})" if text.startswith("−") else text


# --- DOT assembly ----------------------------------------------------------------------


def attrs(**kw: str | float | None) -> str:
    """``[a="1", label=<…>]``: values starting with '<' are HTML-like labels (already escaped)."""
    parts = []
    for k, v in kw.items():
        if v is None:
            continue
        text = v if isinstance(v, str) else str(v)
        if k == "class_":
            k = "class"
        if not text.startswith("<"):  # internal values, but quote-safe all the same
            if '"' in text or "\\" in text:
                text = text.replace("\\", "\\\\").replace('"', '\\"')
            text = f'"{text}"'
        parts.append(f"{k}={text}")
    return f" [{', '.join(parts)}]" if parts else ""


def header(name: str, rankdir: str, caption: str | None, nodesep: float = 0.35,
           ranksep: float = 0.55) -> list[str]:
    """The opening lines of a digraph with the house style."""
    graph_attrs = attrs(
        rankdir=rankdir, fontname=FONT, fontsize=13, fontcolor=INK, bgcolor="white",
        pad="0.25", nodesep=nodesep, ranksep=ranksep, labelloc="b", labeljust="l",
        label=f"<{caption}>" if caption else None,
    )
    return [
        f"digraph {name} {{",
        f"  graph{graph_attrs}",
        f"  node{attrs(shape='plain', fontname=FONT, fontsize=12, fontcolor=INK)}",
        f"  edge{attrs(fontname=FONT, fontsize=11, color=MUTED, fontcolor=INK, arrowsize=0.7, penwidth=1.2)}",  # noqa: E501
    ]


def legend(roles: Iterable[str], extra: Iterable[tuple[str, str]] = ()) -> str:
    """One caption line: a coloured square per role, then line swatches (the lit path)."""
    items = [f'<FONT COLOR="{ROLE_STYLE[r][1]}" POINT-SIZE="14">■</FONT> {esc(ROLE_STYLE[r][2])}'
             for r in roles]
    items += [f'<FONT COLOR="{colour}"><B>⟶</B></FONT> {esc(word)}' for colour, word in extra]
    return "    ".join(items)


def caption_text(rows: list[list[str]], legend_line: str | None) -> str:
    """The caption as left-aligned lines of HTML-like text (cells are already escaped).

    A row ``[lhs, "=", rhs]`` is one equation line; an empty ``lhs`` repeats the one
    above in white, so every "=" lines up exactly whatever the font. (Plain text,
    not a nested table: Graphviz stretches a nested table's columns to the widest row.)
    """
    lines: list[str] = []
    lhs_above = ""
    for row in rows:
        if len(row) == 1:
            lines.append(row[0])
            continue
        lhs, sign, rhs = row
        if lhs:
            lhs_above = lhs
            lines.append(f"{lhs} {sign} {rhs}")
        else:
            lines.append(f'<FONT COLOR="white">{lhs_above}</FONT> {sign} {rhs}')
    if legend_line:
        if lines:
            lines.append("")
        lines.append(legend_line)
    return "".join(f'{line}<BR ALIGN="LEFT"/>' for line in lines)

