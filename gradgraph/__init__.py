"""gradgraph: see, derive and check how neural networks learn.

Text or SymPy → a graph of named nodes → the chain rule on every edge (symbolic),
the same graph as one numpy program (numeric), diagrams, lessons and a checker for
hand derivations.
"""

from __future__ import annotations

import os as _os
import sys as _sys

if "sympy" not in _sys.modules:
    # gradgraph differentiates node by node, so SymPy's default 1,000-entry cache
    # evicts on graphs past ~1,000 nodes and deriving slows down per node (see
    # benchmarks/derive_scaling.py). A user's own setting wins.
    _os.environ.setdefault("SYMPY_CACHE_SIZE", "20000")

from . import data, examples, nn, optim, regularize
from .check import Checker, CheckResult, check
from .derive import Adjoints, Derivation, Factor, adjoints, derive
from .errors import (
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
from .gradcheck import GradcheckReport, gradcheck
from .graph import Graph, Node
from .numeric import CompiledGraph, Result, compile_graph
from .render import Rendering, render
from .tensors import expand_to_scalars

compile = compile_graph  # noqa: A001 - the public name is gradgraph.compile

__version__ = "0.1.0"

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
]
