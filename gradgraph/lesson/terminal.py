"""Blocks as terminal text: prose wrapped, math as Unicode lines, tables aligned.

Pure formatting (strings in, strings out); the runner decides where they go. Figures
are written to files here because a terminal cannot show SVG: the caller passes the
folder, and gets back the paths it should mention (and perhaps open).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import GradgraphError, LessonError, RenderError
from . import markup
from .blocks import Block, Columns, Command, Figure, Math, Note, Prose, Table

Style = Callable[..., str]


def width_of(text: str) -> int:
    """Columns ``text`` takes in a terminal (combining marks take none)."""
    return sum(0 if unicodedata.combining(c) else 1 for c in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - width_of(text))


def plain(text: str, **_: object) -> str:
    return text


def plural(n: int, word: str) -> str:
    """``1 exercise``, ``7 exercises``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_table(table: Table) -> list[str]:
    rows = [table.header, *table.rows]
    widths = [max(width_of(r[i]) for r in rows if i < len(r)) for i in range(len(table.header))]
    lines = ["  ".join(pad(c, w) for c, w in zip(r, widths, strict=False)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("─" * w for w in widths))
    return ["    " + line for line in lines]


def format_columns(c: Columns, total: int = markup.WIDTH) -> list[str]:
    """Side by side when both fit in ``total`` columns, else one after the other."""
    left_w = max([width_of(c.left_title), *(width_of(x) for x in c.left)])
    right_w = max([width_of(c.right_title), *(width_of(x) for x in c.right)])
    if 4 + left_w + 3 + right_w <= total:
        lines = [f"    {pad(c.left_title, left_w)} │ {c.right_title}",
                 f"    {'─' * left_w}─┼─{'─' * right_w}"]
        for i in range(max(len(c.left), len(c.right))):
            left = c.left[i] if i < len(c.left) else ""
            right = c.right[i] if i < len(c.right) else ""
            lines.append(f"    {pad(left, left_w)} │ {right}".rstrip())
        return lines
    return ([f"    {c.left_title}:"] + [f"      {x}" for x in c.left]
            + [f"    {c.right_title}:"] + [f"      {x}" for x in c.right])


def format_blocks(blocks: Sequence[Block], style: Style = plain,
                  figure_paths: Callable[[Figure], list[str]] | None = None) -> str:
    """All blocks as one string (figures through ``figure_paths``)."""
    parts: list[str] = []
    for b in blocks:
        if isinstance(b, Prose):
            parts.append(markup.to_terminal(b.text, style if style is not plain else None))
        elif isinstance(b, Math):
            parts.append("\n".join("    " + line for line in b.lines))
        elif isinstance(b, Table):
            parts.append("\n".join(format_table(b)))
        elif isinstance(b, Columns):
            parts.append("\n".join(format_columns(b)))
        elif isinstance(b, Note):
            mark = "⚠" if b.tone == "warn" else "ℹ"
            body = markup.to_terminal(f"{mark} {b.text}", style if style is not plain else None)
            parts.append(style(body, fg="yellow" if b.tone == "warn" else "cyan"))
        elif isinstance(b, Command):
            parts.append(f"    $ {b.text}")
        elif isinstance(b, Figure):
            lines = figure_paths(b) if figure_paths else [
                f"[diagram{': ' + b.caption if b.caption else ''} — write it with --out DIR]"]
            parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def save_figure(fig: Figure, folder: Path) -> tuple[list[Path], str]:
    """Write each frame as SVG; without Graphviz, the DOT text instead. -> (paths, note)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LessonError(f"cannot create the diagram folder {folder}: {e.strerror}") from None
    paths: list[Path] = []
    note = ""
    multi = len(fig.frames) > 1
    for k, frame in enumerate(fig.frames, start=1):
        stem = f"{fig.slug}-{k:02d}" if multi else fig.slug
        try:
            paths.append(frame.save(folder / f"{stem}.svg"))
        except RenderError as e:
            note = f"diagram not drawn: {e}"
            try:  # the DOT text needs no Graphviz; a user can draw it later
                paths.append(frame.save(folder / f"{stem}.dot"))
            except GradgraphError:
                pass
    return paths, note
