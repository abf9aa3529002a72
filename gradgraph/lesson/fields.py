"""Typed fields of a lesson file, each refused with the file and line when wrong.

:class:`Fields` is the loader's base: it knows where every key is (through
:class:`~gradgraph.lesson.toml_source.KeyLines`) and turns a wrong type, a missing key or
an unknown key into one :class:`LessonError` that names the file and line.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import LessonError
from . import model as m
from .toml_source import KeyLines, one_line

MAX_STRING = 20_000
MAX_LIST = 12  # hints, choices, slide lines


class Fields:
    def __init__(self, path: Path, lines: KeyLines):
        self.path = path
        self.lines = lines

    # --- errors -------------------------------------------------------------------------

    def where(self, table: tuple[Any, ...] = (), key: str | None = None) -> m.Where:
        return m.Where(self.path, self.lines.line(table, key))

    def fail(self, table: tuple[Any, ...], key: str | None, message: str) -> LessonError:
        return LessonError(one_line(f"{self.where(table, key)}: {message}"))

    def unknown_keys(self, table: tuple[Any, ...], got: Mapping[str, Any],
                     allowed: tuple[str, ...], what: str) -> None:
        for key in got:
            if key not in allowed:
                raise self.fail(table, key, f"unknown key '{key}' in {what}"
                                f"{did_you_mean(key, allowed)}")

    # --- typed fields -------------------------------------------------------------------

    def string(self, d: Mapping[str, Any], key: str, table: tuple[Any, ...],
               default: str | None = None, limit: int = MAX_STRING) -> str:
        if key not in d:
            if default is None:
                raise self.fail(table, None, f"missing key '{key}'")
            return default
        value = d[key]
        if not isinstance(value, str):
            raise self.fail(table, key, f"'{key}' must be a string")
        if len(value) > limit:
            raise self.fail(table, key, f"'{key}' is longer than {limit} characters")
        if "\x00" in value:
            raise self.fail(table, key, f"'{key}' contains a NUL character")
        return value

    def opt_string(self, d: Mapping[str, Any], key: str, table: tuple[Any, ...]) -> str | None:
        return self.string(d, key, table) if key in d else None

    def strings(self, d: Mapping[str, Any], key: str, table: tuple[Any, ...],
                allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = d.get(key, [])
        if isinstance(value, str):
            # "names,values" is a natural way to write a list of options
            value = [v.strip() for v in value.split(",")] if allowed else [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(table, key, f"'{key}' must be a list of strings")
        if len(value) > MAX_LIST:
            raise self.fail(table, key, f"'{key}' has more than {MAX_LIST} items")
        for v in value:
            if len(v) > MAX_STRING:
                raise self.fail(table, key, f"an item of '{key}' is too long")
            if allowed is not None and v not in allowed:
                raise self.fail(table, key, f"'{key}': '{v}' is not one of "
                                f"{', '.join(allowed)}{did_you_mean(v, allowed)}")
        return tuple(value)

    def boolean(self, d: Mapping[str, Any], key: str, table: tuple[Any, ...]) -> bool:
        value = d.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(table, key, f"'{key}' must be true or false")
        return value

    def integer(self, d: Mapping[str, Any], key: str, table: tuple[Any, ...], default: int,
                low: int, high: int) -> int:
        value = d.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(table, key, f"'{key}' must be a whole number from {low} to {high}")
        return value

    def number(self, value: Any, table: tuple[Any, ...], key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(table, key, f"'{key}' must be a number")
        if not math.isfinite(value):
            raise self.fail(table, key, f"'{key}' must be finite")
        return float(value)


def did_you_mean(word: str, known: tuple[str, ...] | list[str]) -> str:
    """``; did you mean 'values'?`` for a near miss, else ``""``."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
