"""``/api/examples``: the bundled graphs (``lessons/graphs/*.gg``, the slides' chain,
Matt Mazur's 2-2-2 network) with values to start from.

These texts ship with gradgraph, so they are built here directly (once, then kept).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from .. import examples as gg_examples
from ..errors import GradgraphError
from ..graph import Graph
from ..lesson.catalog import default_folder
from .numbers import defaults, plain

MAX_EXAMPLE_BYTES = 100_000


@functools.lru_cache(maxsize=1)
def examples() -> list[dict[str, Any]]:
    out = [_example("chain", "The slides' neuron: a⁽ᴸ⁻¹⁾ → z⁽ᴸ⁾ → a⁽ᴸ⁾ → C₀",
                    gg_examples.SLIDES, gg_examples.SLIDES_VALUES)]
    mazur, values = gg_examples.mazur()
    out.append(_example("mazur", "Matt Mazur's 2-2-2 worked example",
                        gg_examples.mlp_text([2, 2, 2], "sigma", "sigma", "squared"),
                        {k: plain(v) for k, v in values.items()}))
    folder = default_folder() / "graphs"
    for path in sorted(folder.glob("*.gg")) if folder.is_dir() else []:
        entry = _file_example(path)
        if entry is not None and entry["name"] not in {e["name"] for e in out}:
            out.append(entry)
    return out


def _file_example(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > MAX_EXAMPLE_BYTES:
            return None
        text = path.read_text(encoding="utf-8")
        title = _title(text) or path.stem
        return _example(path.stem, title, text, None)
    except (OSError, UnicodeDecodeError, GradgraphError):
        return None  # a broken file is left out of the menu, not fatal


def _title(text: str) -> str:
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return first.lstrip("# ").strip() if first.startswith("#") else ""


def _example(name: str, title: str, text: str, values: dict[str, Any] | None
             ) -> dict[str, Any]:
    graph = Graph.from_text(text)
    if values is None or set(values) != set(graph.leaves):
        values = defaults(graph)
    wrt = graph.params[0] if graph.params else graph.leaves[0]
    return {"name": name, "title": title, "graph": text, "values": values, "wrt": wrt}
