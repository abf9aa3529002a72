"""The whitelist for generated code: only what :mod:`gradgraph.codegen` writes may run.

The generator names nodes by id (``n3``, ``g3``) and prints numbers, registry kernels
(``_k_sigma``) and a few numpy names; :func:`check_generated` refuses any source outside
that vocabulary, so a graph built by hand with Python hidden in a symbol or id is never
executed. Every backend runs source only through :func:`compile_checked`.
"""

from __future__ import annotations

import re
import types

import numpy as np

from .errors import GraphError

_LOCAL = re.compile(r"(n\d+l?|g\d+|t\d+|_m|_k_\w+|_reduce|_seed|numpy|"
                    r"forward|program|step|step_keeping)")
_ARRAY_ATTRS = frozenset({"T", "shape", "sum"})


# The generator's own words besides node ids and kernels: Python keywords it writes,
# and keyword-argument names (``.sum(axis=0)``). Anything else is refused.
_WORDS = frozenset({"def", "return", "None", "True", "False", "axis", "keepdims"})
# One scan: a number (consumed whole, so ``1e-5`` has no name ``e`` and ``1..real`` is a
# number, then an attribute), or a dotted chain of names (``numpy.multiply.outer``,
# ``n14.shape``), or the same chain hanging off something else (``(…).sum``).
_TOKENS = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[jJ]?"
                     r"|(\.?)([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
# Characters the generator never writes: quotes, comments, line continuations, anything
# outside ASCII (Python folds look-alike letters into ASCII names).
_BAD = re.compile(r"['\"#\\]|[^\x00-\x7f]")


def check_generated(source: str) -> str:
    """``source`` if it uses only what the generator writes; else :class:`GraphError`.

    The generator names nodes by id and prints numbers and registry kernels, so a name,
    string or attribute outside that vocabulary can only come from a graph built by
    hand (``Graph(nodes)`` with a symbol or id holding Python) and is never executed.
    """
    _check_words(source)
    _compiled(source)
    return source


def compile_checked(source: str) -> types.CodeType:
    """``source`` compiled, once :func:`check_generated`'s scan accepts it.

    The scan is one regular-expression pass (linear, in C); Python's own compiler then
    parses the source once. (An ``ast`` walk cost more than the rest of compiling a
    long chain.)
    """
    _check_words(source)
    return _compiled(source)


def _compiled(source: str) -> types.CodeType:
    try:
        return compile(source, "<gradgraph>", "exec")
    except SyntaxError:  # only a hand-made id or name can break the generator's syntax
        raise GraphError("refusing to compile the graph: a node id or name is not plain "
                         "(ids are n0, n1, …)") from None
    except (RecursionError, MemoryError):  # a single formula too deep for the parser
        raise GraphError("the graph is too deeply nested to compile (a formula of "
                         "thousands of nested terms); split it into more nodes") from None


def _check_words(source: str) -> None:
    """Every name, attribute and character of ``source`` is one the generator writes.

    Each distinct chain is judged once (a long program repeats its ids many times).
    """
    if _BAD.search(source):
        raise GraphError("refusing to compile the graph: it holds a string, a comment "
                         "or a character outside plain ASCII")
    for dot, chain in dict.fromkeys(_TOKENS.findall(source)):  # first-seen order
        if not chain:
            continue  # a number
        parts = chain.split(".")
        root = ""
        if not dot:
            name = parts.pop(0)
            if name not in _WORDS and not _LOCAL.fullmatch(name):
                raise GraphError(f"refusing to compile the graph: it uses the name "
                                 f"{name[:40]!r}, which is not a node id")
            root = name
        for k, attr in enumerate(parts):
            # numpy.attr, numpy.ufunc.attr; an attribute of anything else is an array's.
            kind = root if k == 0 and root == "numpy" else \
                "numpy." if k == 1 and root == "numpy" else ""
            if not _allowed_attribute(attr, kind, parts[0] if kind == "numpy." else ""):
                raise GraphError(f"refusing to compile the graph: it uses the attribute "
                                 f"{attr[:40]!r}")


def _allowed_attribute(attr: str, root: str, root_text: str) -> bool:
    """``root``: "numpy" (numpy.attr), "numpy." (numpy.name.attr) or anything else."""
    if attr.startswith("_"):
        return False
    if root == "numpy":
        target = getattr(np, attr, None)
        return target is not None and not isinstance(target, types.ModuleType)
    if root == "numpy.":  # numpy.multiply.outer
        return isinstance(getattr(np, root_text, None), np.ufunc)
    return attr in _ARRAY_ATTRS
