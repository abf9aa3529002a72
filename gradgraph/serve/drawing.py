"""Diagrams for the page: the SVG ``render`` makes (run inside the sandbox child).

Options are checked by ``render`` itself (a bad view or collapse on a graph without
layer tags is a 400). What only stops the *picture* — Graphviz missing, a graph past
the layout caps, ``dot`` running too long — gives ``svg: null`` and a one-line message,
so the page still shows derivations and values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import RenderError
from ..lesson.html_blocks import safe_svg
from ..render import SHOW_ALL, find_dot, render, steps
from ..render.output import INSTALL_HINT
from .numbers import leaf_values
from .structure import build

NO_GRAPHVIZ = ("Graphviz is not installed, so diagrams are not drawn (apt-get install "
               "graphviz); derivations and values still work")


def graphviz_message() -> str | None:
    """None when ``dot`` is found, else the one line the page shows."""
    return None if find_dot() is not None else NO_GRAPHVIZ


def render_text(text: str, params: str | None, of: str | None, wrt: str | None,
                values: Mapping[str, Any] | None, show: str | Iterable[str] | None,
                view: str, collapse: bool, step: int | None, timeout: float
                ) -> dict[str, Any]:
    graph = build(text, params, of)
    given = leaf_values(graph, values) if values else None
    shown = SHOW_ALL if show is None else show
    if step is not None:
        frames = steps(graph, of or None, given, shown, timeout=timeout)
        if not 0 <= step < len(frames):
            raise RenderError(f"step {step} is out of range: the backward pass has "
                              f"{len(frames)} steps (0 to {len(frames) - 1})")
        rendering = frames[step]
        count: int | None = len(frames)
    else:
        rendering = render(graph, wrt or None, of or None, given, shown, view, collapse,
                           timeout=timeout)
        count = None
    return {**picture(rendering), "steps": count}


def picture(rendering: Any) -> dict[str, str | None]:
    """``{"svg", "message"}`` for one Rendering."""
    message = graphviz_message()
    if message is not None:
        return {"svg": None, "message": message}
    try:
        return {"svg": safe_svg(rendering.svg()), "message": None}
    except RenderError as e:
        text = str(e)
        return {"svg": None, "message": NO_GRAPHVIZ if text == INSTALL_HINT else text}
