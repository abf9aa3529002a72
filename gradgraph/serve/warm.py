"""Warming the server process before it serves: imports done, bundled graphs built.

The sandbox forks a child per job while worker threads of this process may be running
library code. A thread that is *importing* a module at the moment of a fork leaves that
module's import lock held in the child, which then hangs on its first import of the
same module (until the deadline kills it). So every code path the server runs in this
process or its children (parse, build, compile, derive, MathML, render, check, lessons,
training) runs once here, before any thread or child exists; afterwards imports are
dictionary lookups that take no lock. The bundled examples' graphs are built on the way
and seed the evaluate cache, so a class opening the playground finds them ready.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

from ..errors import GradgraphError

_lock = threading.Lock()
_graphs: dict[tuple[str, str, str], Any] | None = None


def warm() -> dict[tuple[str, str, str], Any]:
    """Once per process: every code path run once; the examples' graphs, by cache key."""
    global _graphs
    with _lock:
        if _graphs is None:
            _graphs = _run()
            # Everything built so far (SymPy's objects, the modules) lives as long as the
            # server: out of the collector's sight, a full collection takes microseconds
            # instead of ~100 ms, which would otherwise land on some request's latency.
            gc.collect()
            gc.freeze()
        return dict(_graphs)


def _run() -> dict[tuple[str, str, str], Any]:
    from .. import data, examples, nn, train  # noqa: F401 - imported for the side effect
    from ..check import check
    from . import drawing, lesson_pages, structure, train_options, training  # noqa: F401
    from .examples import examples as bundled

    graphs: dict[tuple[str, str, str], Any] = {}
    for example in bundled():
        key = (example["graph"], "", "")
        try:
            graphs[key] = structure.build_compiled(*key)
        except GradgraphError:
            continue
    for example in bundled()[:2]:  # the scalar chain, and layers (Mazur)
        text, wrt = example["graph"], example["wrt"]
        structure.graph_info(text)
        structure.derive_text(text, None, None, wrt, True, example["values"])
        drawing.render_text(text, None, None, wrt, example["values"], None, "graph",
                            False, None, 10.0)
    check(examples.SLIDES, "dC_0/dw^(L)", "a^(L-1)*sigma'(z^(L))*2*(a^(L)-y)")
    train_options.build(train_options.options({}), 64, 10)
    return graphs
