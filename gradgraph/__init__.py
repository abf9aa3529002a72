"""gradgraph: see, derive and check how neural networks learn.

Text or SymPy → a graph of named nodes → the chain rule on every edge (symbolic),
the same graph as one numpy program (numeric), diagrams, lessons and a checker for
hand derivations.

The public names are loaded on first use (PEP 562): ``import gradgraph`` and the
command line's ``--help`` stay free of SymPy and numpy until a graph is built.
"""

from __future__ import annotations

import os as _os
import sys as _sys

if "sympy" not in _sys.modules:
    # gradgraph differentiates node by node, so SymPy's default 1,000-entry cache
    # evicts on graphs past ~1,000 nodes and deriving slows down per node (see
    # benchmarks/derive_scaling.py). A user's own setting wins. Nothing below imports
    # SymPy, so this still runs before it is first imported.
    _os.environ.setdefault("SYMPY_CACHE_SIZE", "20000")

from . import lazy as _lazy  # noqa: E402 - imports nothing heavy
from .errors import (  # noqa: E402 - after the cache size, as the comment above says
    CheckError,
    DataError,
    DerivationError,
    FileFormatError,
    GradgraphError,
    GraphError,
    LessonError,
    ParseError,
    RenderError,
    ShapeError,
    TrainingError,
    UnknownOpError,
    ValueInputError,
)

__version__ = "0.1.0"

# Public name -> (module, attribute); attribute None means the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    "Adjoints": (".derive", "Adjoints"),
    "CheckResult": (".check", "CheckResult"),
    "Checker": (".check", "Checker"),
    "CompiledGraph": (".numeric", "CompiledGraph"),
    "Derivation": (".derive", "Derivation"),
    "Factor": (".derive", "Factor"),
    "GradcheckReport": (".gradcheck", "GradcheckReport"),
    "Graph": (".graph", "Graph"),
    "Node": (".graph", "Node"),
    "Rendering": (".render", "Rendering"),
    "Result": (".numeric", "Result"),
    "adjoints": (".derive", "adjoints"),
    "check": (".check", "check"),
    "compile": (".numeric", "compile_graph"),
    "compile_graph": (".numeric", "compile_graph"),
    "data": (".data", None),
    "derive": (".derive", "derive"),
    "examples": (".examples", None),
    "expand_to_scalars": (".build", "expand_to_scalars"),
    "gradcheck": (".gradcheck", "gradcheck"),
    "nn": (".nn", None),
    "optim": (".optim", None),
    "regularize": (".regularize", None),
    "render": (".render", "render"),
    "widget": (".widget", "widget"),
}

_lazy.install(__name__, _LAZY)

__all__ = [
    "Adjoints",
    "CheckError",
    "CheckResult",
    "Checker",
    "CompiledGraph",
    "DataError",
    "Derivation",
    "DerivationError",
    "Factor",
    "FileFormatError",
    "GradcheckReport",
    "GradgraphError",
    "Graph",
    "GraphError",
    "LessonError",
    "Node",
    "ParseError",
    "Rendering",
    "RenderError",
    "Result",
    "ShapeError",
    "TrainingError",
    "UnknownOpError",
    "ValueInputError",
    "adjoints",
    "check",
    "compile",
    "compile_graph",
    "data",
    "derive",
    "examples",
    "expand_to_scalars",
    "gradcheck",
    "nn",
    "optim",
    "regularize",
    "render",
    "widget",
]
