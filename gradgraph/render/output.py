"""DOT text to files: the system Graphviz ``dot`` as a subprocess, with a timeout.

python-graphviz's ``pipe()`` has no timeout, so ``dot`` is run here directly with
``subprocess.run(..., timeout=...)``; a layout that runs too long is killed and reported.
When ``dot`` is missing, :class:`RenderError` says how to install it in one line — the
DOT text (format ``dot``) needs no Graphviz at all. Files are written atomically.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RenderError

FORMATS = ("svg", "png", "pdf", "dot")
DEFAULT_TIMEOUT = 30.0  # seconds; the size cap keeps real layouts far below this
PNG_DPI = 144  # crisp on high-density screens, still small files
INSTALL_HINT = ("Graphviz 'dot' was not found; install Graphviz (apt-get install graphviz "
                "/ brew install graphviz / conda install graphviz), or ask for the DOT text "
                "(--format dot, or Rendering.source)")
# Graphviz only writes these for URL/href/tooltip attributes, which gradgraph never
# emits; finding one means something slipped through, so refuse the SVG.
_ACTIVE_SVG = re.compile(r"<\s*(a|script)[\s>/]|<\s*\w+[^>]*\son\w+\s*=", re.IGNORECASE)


def find_dot() -> str | None:
    """Path of the Graphviz ``dot`` executable, or ``None``."""
    return shutil.which("dot")


def check_format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise RenderError(f"unknown format '{fmt}'; choose from {', '.join(FORMATS)}")
    return fmt


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The format asked for, else the one the file's suffix names (``out.png`` -> png)."""
    if fmt:
        return check_format(fmt)
    suffix = Path(path).suffix.lstrip(".")
    if not suffix:
        raise RenderError(f"cannot tell the format of '{path}'; add .svg, .png, .pdf or .dot")
    return check_format(suffix)


def run_dot(source: str, fmt: str, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """``dot -T<fmt>`` on ``source``; the output bytes."""
    fmt = check_format(fmt)
    if fmt == "dot":
        return source.encode("utf-8")
    exe = find_dot()
    if exe is None:
        raise RenderError(INSTALL_HINT)
    args = [exe, f"-T{fmt}"]
    if fmt == "png":
        args.append(f"-Gdpi={PNG_DPI}")
    try:
        done = subprocess.run(args, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz dot took longer than {timeout:g} s and was stopped; "
                          "draw fewer nodes (collapse layers with --collapse)") from None
    except OSError as e:
        raise RenderError(f"cannot run Graphviz dot: {e.strerror}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        first = message[0] if message else f"exit status {done.returncode}"
        raise RenderError(f"Graphviz dot failed: {first}")
    if fmt == "svg" and _ACTIVE_SVG.search(done.stdout.decode("utf-8", "replace")):
        raise RenderError("refusing SVG that contains a link or script element")
    return done.stdout


@dataclass(frozen=True)
class Oversize:
    """A picture past the layout caps: ``dot`` would take minutes over it, so only its
    DOT text is given (the text itself is cheap at any size)."""

    what: str  # "graph", "collapsed graph" or "network"
    nodes: int
    edges: int
    max_nodes: int
    max_edges: int
    collapsible: bool  # the graph has layer tags, so a collapsed view exists

    def message(self, cli: bool = False) -> str:
        """Why it is refused and what to do, worded for Python or for the command line."""
        collapse = "--collapse" if cli else "collapse=True"
        dot_text = f"take the DOT text ({'--format dot' if cli else 'format dot, or .source'})"
        if self.what == "collapsed graph":
            hint = (f"it has too many layers even collapsed; {dot_text}, or derive it in "
                    "text (gradgraph derive --all)")
        elif not self.collapsible:
            hint = f"it has no layer tags (the (L-1) of a^(L-1)) to collapse by; {dot_text}"
        elif self.what == "network":
            hint = f"draw the op graph with {collapse} instead, or {dot_text}"
        else:
            hint = f"draw one box per layer with {collapse}, or {dot_text}"
        return (f"{self.what} too large to lay out ({self.nodes} nodes, {self.edges} edges; "
                f"the caps are {self.max_nodes} and {self.max_edges}): {hint}")


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder and os.replace.

    A reader never sees half a diagram, and a failure leaves the old file in place. The
    one atomic write of :mod:`gradgraph.fileio` (its recognisable temp names, stale-temp
    cleanup and permissions), with its error as a :class:`RenderError`.
    """
    from ..fileio import OutputPathError, atomic_write_bytes

    target = Path(path)
    try:
        atomic_write_bytes(target, data)
    except OutputPathError as e:
        raise RenderError(str(e)) from None
    return target


@dataclass(frozen=True, repr=False)
class Rendering:
    """A diagram: its DOT ``source``, and the ways to turn it into a picture.

    It displays itself in Jupyter (SVG through ``dot``; the DOT text when Graphviz is
    missing or the picture is past the layout caps, see :attr:`oversize`), and
    ``save("out.png")`` writes svg, png, pdf or dot by the suffix.
    """

    source: str
    timeout: float = DEFAULT_TIMEOUT
    oversize: Oversize | None = None  # set when only the DOT text may be had

    def check_layout(self, fmt: str) -> None:
        """Refuse, before ``dot`` runs, a layout past the caps; DOT text always passes."""
        if self.oversize is not None and check_format(fmt) != "dot":
            raise RenderError(self.oversize.message())

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (f"<Rendering: {self.source.count(chr(10))} lines of DOT; .save(path) writes "
                "svg/png/pdf/dot>")

    def pipe(self, format: str = "svg") -> bytes:  # noqa: A002 - python-graphviz's name
        """The picture as bytes in ``format`` (svg, png, pdf or dot)."""
        self.check_layout(format)
        return run_dot(self.source, format, self.timeout)

    def svg(self) -> str:
        """The picture as SVG text."""
        return self.pipe("svg").decode("utf-8")

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:  # noqa: A002
        """Write the picture to ``path``; the format comes from its suffix unless given."""
        return write_atomic(path, self.pipe(format_for(path, format)))

    def _repr_svg_(self) -> str | None:
        try:
            return self.svg()
        except RenderError:
            return None

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None, **_: Any) -> dict[str, str]:
        try:
            bundle = {"image/svg+xml": self.svg()}
        except RenderError as e:
            bundle = {"text/plain": f"{e}\n\n{self.source}"}
            return bundle
        bundle["text/plain"] = self.source
        if include is not None:
            bundle = {k: v for k, v in bundle.items() if k in set(include)}
        if exclude is not None:
            bundle = {k: v for k, v in bundle.items() if k not in set(exclude)}
        return bundle
