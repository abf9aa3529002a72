"""The lessons' Markdown-ish prose, for the terminal and for HTML.

Deliberately small: paragraphs, ``- `` lists, ``#`` headings, display maths (lines
indented four spaces, or fenced with ```` ```math ````: equations written in Unicode),
code (any other fenced block, shown verbatim), and inline ``**bold**``, ``*italic*`` and
```code```. There are no links and no raw HTML: in HTML every character of lesson text
is escaped *before* the inline rules run, so a lesson can never put a tag, a
``<script>`` or a ``javascript:`` link into a page.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")
_LIST = re.compile(r"^\s{0,3}[-*•]\s+")
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
WIDTH = 88


@dataclass(frozen=True)
class Chunk:
    kind: str  # para | list | pre (display maths) | code | heading
    lines: tuple[str, ...]
    level: int = 0


def chunks(text: str) -> list[Chunk]:
    """Split prose into paragraphs, lists, display blocks and headings."""
    out: list[Chunk] = []
    lines = textwrap.dedent(text).strip("\n").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.strip().startswith("```"):
            end = next((j for j in range(i + 1, len(lines))
                        if lines[j].strip().startswith("```")), len(lines))
            # A fence is code unless it says ```math: aligning code on "=" (as the HTML
            # does for equations) would split keyword arguments and comments.
            kind = "pre" if line.strip()[3:].strip().lower() == "math" else "code"
            out.append(Chunk(kind, tuple(textwrap.dedent("\n".join(lines[i + 1:end]))
                                         .splitlines())))
            i = end + 1
        elif line.startswith("    "):
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            block = textwrap.dedent("\n".join(lines[i:j])).strip("\n")
            out.append(Chunk("pre", tuple(block.splitlines())))
            i = j
        elif _HEADING.match(line):
            hit = _HEADING.match(line)
            assert hit is not None
            out.append(Chunk("heading", (hit.group(2).strip(),), len(hit.group(1))))
            i += 1
        elif _LIST.match(line):
            items: list[str] = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith("    "):
                if _LIST.match(lines[i]):
                    items.append(_LIST.sub("", lines[i]).strip())
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            out.append(Chunk("list", tuple(items)))
        else:
            para: list[str] = []
            while (i < len(lines) and lines[i].strip() and not lines[i].startswith("    ")
                   and not _LIST.match(lines[i]) and not lines[i].strip().startswith("```")):
                para.append(lines[i].strip())
                i += 1
            out.append(Chunk("para", (" ".join(para),)))
    return out


# --- terminal --------------------------------------------------------------------------


def to_terminal(text: str, style: Callable[..., str] | None = None,
                width: int = WIDTH) -> str:
    """Plain text for the terminal; ``style`` (click.style) adds bold where wanted."""

    def inline(s: str) -> str:
        s = _CODE.sub(lambda m: m.group(1), s)
        bold = (lambda m: style(m.group(1), bold=True)) if style else (lambda m: m.group(1))
        s = _BOLD.sub(bold, s)
        return _ITALIC.sub(lambda m: m.group(1), s)

    parts: list[str] = []
    for c in chunks(text):
        if c.kind in ("pre", "code"):
            parts.append("\n".join("    " + line for line in c.lines))
        elif c.kind == "heading":
            parts.append(inline(style(c.lines[0], bold=True) if style else c.lines[0]))
        elif c.kind == "list":
            parts.append("\n".join(textwrap.fill(inline(item), width, initial_indent="  • ",
                                                 subsequent_indent="    ")
                                   for item in c.lines))
        else:
            parts.append(textwrap.fill(inline(c.lines[0]), width))
    return "\n\n".join(parts)


# --- HTML ------------------------------------------------------------------------------


def inline_html(text: str) -> str:
    """One line of prose as escaped HTML with the three inline rules applied."""
    s = html.escape(text, quote=True)
    s = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", s)
    s = _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", s)
    return _ITALIC.sub(lambda m: f"<em>{m.group(1)}</em>", s)


def to_html(text: str, pre: Callable[[tuple[str, ...]], str] | None = None) -> str:
    """Prose as HTML; every character of ``text`` is escaped first.

    ``pre`` draws display maths (it must escape them too); by default they are ``<pre>``.
    Code is always ``<pre class="code">``, verbatim.
    """
    parts: list[str] = []
    for c in chunks(text):
        if c.kind == "pre" and pre is not None:
            parts.append(pre(c.lines))
        elif c.kind in ("pre", "code"):
            body = html.escape("\n".join(c.lines), quote=True)
            parts.append(f'<pre class="{"math" if c.kind == "pre" else "code"}">{body}</pre>')
        elif c.kind == "heading":
            level = min(c.level + 2, 5)
            parts.append(f"<h{level}>{inline_html(c.lines[0])}</h{level}>")
        elif c.kind == "list":
            items = "".join(f"<li>{inline_html(item)}</li>" for item in c.lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{inline_html(c.lines[0])}</p>")
    return "\n".join(parts)
