"""Reading a lesson file safely: size caps, TOML only, errors that name file and line.

TOML (not YAML) because it has no tags, no aliases and no code: ``tomllib`` builds only
strings, numbers, booleans, dates, lists and tables, and refuses duplicate keys. Two
things it does not do are done here: a size cap before parsing, and catching
``RecursionError`` (arrays nested ~1000 deep raise it instead of ``TOMLDecodeError``).
``tomllib`` reports a line only for syntax errors, so :class:`KeyLines` scans the text
once to find the line of every table and key, for messages about content ("step 4:
unknown key 'hint'").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import LessonError
from ..fileio import read_file
from .model import Where

# Lesson files are named NN-name.toml; the number orders the catalog.
_NUMBERED = re.compile(r"^(\d{1,3})-([a-z0-9][a-z0-9-]*)$")


def split_stem(stem: str) -> tuple[int | None, str]:
    """``03-backwards`` -> (3, ``backwards``); an unnumbered stem is its own name."""
    hit = _NUMBERED.match(stem)
    return (int(hit.group(1)), hit.group(2)) if hit else (None, stem)


try:  # Python 3.11+; the package still supports 3.10 through the tomli backport
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - depends on the interpreter
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]

MAX_LESSON_BYTES = 256 * 1024  # the longest deck lesson is ~15 KB
MAX_ASSET_BYTES = 64 * 1024
MAX_NESTING = 32  # brackets/braces open at once; lessons need 3

# Characters that would break a one-line message or drive the terminal: C0/C1 controls
# (newline, ESC sequences), line/paragraph separators and bidi overrides (Trojan Source).
UNPRINTABLE = {c for c in range(0x20)} | {0x7F} | set(range(0x80, 0xA0)) | {
    0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def one_line(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``),
    so a message that echoes user input stays one line and cannot drive a terminal."""
    if not any(ord(c) in UNPRINTABLE for c in text):
        return text
    return "".join(c.encode("unicode_escape").decode("ascii") if ord(c) in UNPRINTABLE
                   else c for c in text)


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


def read_capped(path: Path, cap: int, what: str = "lesson file") -> str:
    """UTF-8 text of the regular file ``path``, refusing files larger than ``cap`` (and
    folders, devices and pipes) before reading them."""
    data = read_file(path, cap, what, LessonError)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise LessonError(f"{path}: not a {what}: it is not UTF-8 text (line {line}), so it "
                          "cannot be read as TOML") from None


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """The TOML document, or one :class:`LessonError` naming the file and line."""
    if tomllib is None:  # pragma: no cover - Python 3.10 without tomli
        raise LessonError("reading lessons needs Python 3.11 or the 'tomli' package")
    _check_nesting(text, path)
    try:
        data = tomllib.loads(text)
        _check_printable(data, (), path, text)
        return data
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        m = _AT.search(message)
        line = int(m.group(1)) if m else None
        if _AT_END.search(message):
            line = max(1, len(text.rstrip("\n").splitlines()))
            message = _AT_END.sub(" at the end of the file", message)
        where = Where(path, line)
        message = _AT.sub("", message)
        if m:
            message += f" (column {m.group(2)})"
        if message.startswith("Illegal character '\\n'"):
            message = "a string is not closed before the end of the line"
        elif message.startswith("Cannot overwrite a value") or "declared twice" in message:
            message += ": a key or table is defined twice"
        raise LessonError(f"{where}: invalid TOML: {message[:1].lower()}{message[1:]}") from None
    except RecursionError:
        raise LessonError(f"{path}: invalid TOML: nested too deeply") from None


_ALLOWED = {ord("\n"), ord("\t")}
_CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL"}


def _check_printable(value: Any, where: tuple[Any, ...], path: Path, text: str) -> None:
    """Refuse terminal control codes in any key or string (written as ``\\u001b`` in
    TOML): lesson text is printed to a terminal, where ESC sequences can clear the
    screen, retitle the window or hide text, and bidi overrides can reorder it."""
    if isinstance(value, str | int | float | bool) or value is None:
        bad = [c for c in value if ord(c) in UNPRINTABLE and ord(c) not in _ALLOWED] \
            if isinstance(value, str) else []
        if bad:
            table, key = (where[:-1], where[-1]) if where else ((), None)
            line = KeyLines(text).line(table, key if isinstance(key, str) else None)
            name = ".".join(str(p) for p in where) or "the document"
            code = ord(bad[0])
            label = _CONTROL_NAMES.get(code) or unicodedata.name(bad[0], "")
            raise LessonError(f"{Where(path, line)}: {name} contains the control character "
                              f"U+{code:04X}{f' ({label})' if label else ''}; lesson text "
                              "must be printable")
        return
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, item in items:
        _check_printable(str(key), (*where, key), path, text)
        _check_printable(item, (*where, key), path, text)


def _check_nesting(text: str, path: Path) -> None:
    """Refuse deep ``[[[…`` / ``{{{…`` nesting quickly, before the recursive parser.

    Strings and comments are skipped, so brackets in prose do not count. The scan is
    approximate where the TOML is invalid anyway; tomllib then reports the error.
    """
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith(('"""', "'''"), i):
            end = text.find(text[i:i + 3], i + 3)
            end = n if end < 0 else end + 3
        elif c in "\"'":
            end = _string_end(text, i)
        elif c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
        else:
            if c in "[{":
                depth += 1
                if depth > MAX_NESTING:
                    raise LessonError(f"{path}, line {line}: nested too deeply "
                                      f"(more than {MAX_NESTING} open brackets)")
            elif c in "]}":
                depth = max(0, depth - 1)
            elif c == "\n":
                line += 1
            i += 1
            continue
        line += text.count("\n", i, end)
        i = end


def _string_end(text: str, i: int) -> int:
    """Index just past the one-line string that starts at ``text[i]``."""
    quote, j = text[i], i + 1
    while j < len(text) and text[j] not in (quote, "\n"):
        j += 2 if (quote == '"' and text[j] == "\\") else 1
    return j + 1 if j < len(text) and text[j] == quote else j


class KeyLines:
    """Line numbers of tables and keys, found by one scan of the TOML text.

    Tables are identified as ``()`` (top level), ``("graphs", "chain")`` or
    ``("steps", 3)`` (the fourth ``[[steps]]``). Multi-line strings are skipped so a
    ``key = …`` inside lesson prose is not mistaken for a key.
    """

    def __init__(self, text: str):
        self.tables: dict[tuple[Any, ...], int] = {}
        self.keys: dict[tuple[tuple[Any, ...], str], int] = {}
        counts: dict[str, int] = {}
        table: tuple[Any, ...] = ()
        in_string: str | None = None
        for lineno, line in enumerate(text.splitlines(), start=1):
            if in_string:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            header = _HEADER.match(line)
            if header and "=" not in line.split("]")[0]:
                table = self._table(header.group(1), header.group(2), counts)
                self.tables.setdefault(table, lineno)
            else:
                key = _KEY.match(line)
                if key:
                    self.keys.setdefault((table, key.group(1).strip("\"'")), lineno)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote
                    break

    @staticmethod
    def _table(brackets: str, name: str, counts: dict[str, int]) -> tuple[Any, ...]:
        parts = tuple(p.strip().strip("\"'") for p in name.split("."))
        if brackets == "[[":
            counts[name] = counts.get(name, -1) + 1
            return (*parts, counts[name])
        return parts

    def line(self, table: tuple[Any, ...], key: str | None = None) -> int | None:
        if key is not None and (table, key) in self.keys:
            return self.keys[(table, key)]
        if table in self.tables:
            return self.tables[table]
        return self.keys.get(((), table[0])) if table else None


def scalar_table(value: Any, what: str, where: Where) -> dict[str, Any]:
    """A table whose values are strings, numbers, booleans or lists of those."""
    if not isinstance(value, Mapping):
        raise LessonError(f"{where}: {what} must be a table (key = value pairs)")
    out: dict[str, Any] = {}
    for k, v in value.items():
        items = v if isinstance(v, list) else [v]
        if not all(isinstance(i, str | int | float | bool) for i in items) or len(items) > 64:
            raise LessonError(f"{where}: {what}.{k} must be a string, number, boolean "
                              "or a short list of them")
        out[str(k)] = v
    return out
