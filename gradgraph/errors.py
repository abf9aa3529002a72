"""Every error a user can cause is a :class:`GradgraphError`.

The CLI catches this one base class and prints its message on one line, so each
subclass's message must stand alone: say what is wrong, where, and what to do.
"""

from __future__ import annotations


class GradgraphError(Exception):
    """Base class of every error gradgraph raises for bad input."""


class ParseError(GradgraphError):
    """Text that the safe grammar refuses (syntax, limits, unknown names)."""

    def __init__(self, message: str, column: int | None = None, line: int | None = None):
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        suffix = f" at {', '.join(where)}" if where else ""
        # Keep the where-clause before any "; did you mean" hint.
        head, sep, tail = message.partition("; ")
        super().__init__(f"{head}{suffix}{sep}{tail}")
        self.column = column
        self.line = line


class UnknownOpError(ParseError):
    """A call of a function that is not in the op registry."""


class GraphError(GradgraphError):
    """A graph that cannot be built: undefined names, cycles, redefinitions."""


class ShapeError(GraphError):
    """Tensor shapes that do not fit together."""


class DerivationError(GradgraphError):
    """A derivative that was asked for but cannot be formed (unknown node, no path)."""


class ValueInputError(GradgraphError):
    """Numeric values that are missing, mis-shaped or not finite."""


class DataError(GradgraphError):
    """A data file or array that cannot be used (NaN, wrong shape, bad labels)."""


class FileFormatError(GradgraphError):
    """A file that is corrupt, truncated, pickled or incompatible."""


class TrainingError(GradgraphError):
    """Bad hyperparameters, or training that had to stop (non-finite values)."""


class RenderError(GradgraphError):
    """A diagram that cannot be drawn (Graphviz missing, graph too large, timeout)."""


class CheckError(GradgraphError):
    """An answer or a question that the checker cannot take."""


class LessonError(GradgraphError):
    """A lesson file that cannot be loaded or run."""
