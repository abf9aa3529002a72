"""Presentation MathML for gradgraph's notation, mirroring :mod:`gradgraph.notation`.

The browser tutor and the HTML export typeset maths as MathML (rendered natively by
Chromium, Firefox and Safari: no network, no script). Every function here prints the
same SymPy objects as the Unicode printer, in the same order and with the same
parentheses, ``·`` and implicit products (``2(a − y)``), so the MathML and the Unicode
text beside it always show the same maths. Names are printed as structure (a⁽ᴸ⁻¹⁾ is an
``<msup>``), √ as ``<msqrt>``, ∂C/∂w as an ``<mfrac>``; everything else is inline, as the
Unicode has it, but for a long sum of paths, which breaks where the Unicode does. Every
text node is escaped; nothing here parses user text.

By what they hold: :mod:`.tokens` (``<mi>``/``<mn>``/``<mo>``, names, ∂C/∂w, ``<math>``),
:mod:`.expressions` (SymPy expressions), :mod:`.equations` (rows aligned on "=", a
graph's definitions) and :mod:`.derivations` (chain, product, cached and expanded forms,
every adjoint).
"""

from __future__ import annotations

from .derivations import (
    adjoint_cached_mathml,
    adjoints_rows,
    broken_lines,
    cached_lines,
    cached_mathml,
    chain_lines,
    chain_mathml,
    derivation_mathml,
    derivation_rows,
    expanded_mathml,
    factor_lines,
    factor_symbol_mathml,
    factors_mathml,
    head_mathml,
    reuses_mathml,
)
from .equations import Line, Row, definition_mathml, definition_rhs_mathml, definition_rows, table
from .expressions import expr_mathml
from .tokens import (
    APPLY,
    MINUS,
    NS,
    TIMES,
    fence,
    math,
    mi,
    mn,
    mo,
    mrow,
    name_mathml,
    partial_mathml,
    sum_over,
)

__all__ = [
    "APPLY", "MINUS", "NS", "TIMES", "Line", "Row", "adjoint_cached_mathml", "adjoints_rows",
    "broken_lines", "cached_lines", "cached_mathml", "chain_lines", "chain_mathml",
    "definition_mathml", "definition_rhs_mathml", "definition_rows", "derivation_mathml",
    "derivation_rows", "expanded_mathml", "expr_mathml", "factor_lines",
    "factor_symbol_mathml", "factors_mathml", "fence", "head_mathml", "math", "mi", "mn",
    "mo", "mrow", "name_mathml", "partial_mathml", "reuses_mathml", "sum_over", "table",
]
