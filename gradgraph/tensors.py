"""Former home of layer shapes and scalar expansion, kept importable until the README
and the check package move to their new homes: :mod:`gradgraph.shapes` (shapes, index
letters, element definitions) and :mod:`gradgraph.build` (``expand_to_scalars``).
"""

from __future__ import annotations

from .build import MAX_EXPANDED_UNITS, expand_to_scalars
from .shapes import (
    LETTERS,
    IndexForm,
    Lowering,
    Shape,
    Shapes,
    assign_letters,
    element_definition,
    element_name,
    lower_assignment,
    scalar_name,
)

__all__ = ["LETTERS", "MAX_EXPANDED_UNITS", "IndexForm", "Lowering", "Shape", "Shapes",
           "assign_letters", "element_definition", "element_name", "expand_to_scalars",
           "lower_assignment", "scalar_name"]
