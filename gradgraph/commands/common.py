"""What every subcommand shares: reading graph text, values, errors on one line.

Light on purpose: every command imports this module, so the parser, the graph and
numpy are imported inside the functions that use them (``--help`` needs none).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import GradgraphError, ValueInputError

if TYPE_CHECKING:
    from ..graph import Graph

MAX_FILE_BYTES = 1_000_000


class CommandError(click.ClickException):
    """A user error at the CLI: one line on stderr, exit code 2."""

    exit_code = 2


def read_text_file(path: str, what: str = "file") -> str:
    """The text of ``path`` (UTF-8, at most 1 MB), or a one-line error."""
    from ..fileio import read_bounded

    p = Path(path)
    try:
        if not p.is_file() and p.exists() and not p.is_dir():
            raise CommandError(f"{what} '{path}' is not a regular file")
        data = read_bounded(p, MAX_FILE_BYTES)
        if data is None:
            raise CommandError(f"{what} '{path}' is larger than {MAX_FILE_BYTES} bytes")
        return data.decode("utf-8")
    except FileNotFoundError:
        raise CommandError(f"{what} '{path}' does not exist") from None
    except IsADirectoryError:
        raise CommandError(f"{what} '{path}' is a directory") from None
    except UnicodeDecodeError:
        raise CommandError(f"{what} '{path}' is not UTF-8 text") from None
    except OSError as e:
        raise CommandError(f"cannot read {what} '{path}': {e.strerror}") from None


def graph_source(text: str | None, file: str | None) -> str:
    """The graph text from the TEXT argument or ``--file`` (exactly one of them)."""
    if (text is None) == (file is None):
        raise CommandError("give the graph as TEXT or with --file (one of them)")
    if file is not None:
        return read_text_file(file, "graph file")
    assert text is not None
    return text


def load_graph(text: str | None, file: str | None, params: str | None = None,
               cost: str | None = None) -> Graph:
    """Parse a graph given on the command line, or a path to a graph file.

    A TEXT argument that names an existing ``.gg`` file is read as that file, so
    ``gradgraph check --graph chain.gg`` works as users expect.
    """
    from ..graph import Graph

    if text is not None and file is None and text.endswith(".gg") and Path(text).is_file():
        text, file = None, text
    return Graph.from_text(graph_source(text, file), params=params, cost=cost)


def parse_values(spec: str | None) -> dict[str, float]:
    """``w=2,x=0.48,b=-0.2967,y=1`` -> {name: value}."""
    if not spec:
        return {}
    from ..parse import parse_name

    out: dict[str, float] = {}
    for item in spec.split(","):
        name, sep, number = item.partition("=")
        if not sep:
            raise ValueInputError(f"'{item}' is not NAME=NUMBER")
        try:
            value = float(number)
        except ValueError:
            raise ValueInputError(f"'{number.strip()}' is not a number (in '{item}')") from None
        if not math.isfinite(value):  # nan, inf, 1e999: never a value a graph can use
            raise ValueInputError(f"'{number.strip()}' is not a finite number (in '{item}')")
        out[parse_name(name)] = value
    return out


def run_safely(fn):  # noqa: ANN001, ANN201 - decorator over click callbacks
    """Turn a :class:`GradgraphError` into a one-line CLI error (exit code 2)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return fn(*args, **kwargs)
        except GradgraphError as e:  # messages echo user text: keep them one safe line
            from ..lesson.toml_source import one_line

            raise CommandError(one_line(str(e))) from None
        except RecursionError:
            raise CommandError("input nested too deeply") from None

    return wrapper
