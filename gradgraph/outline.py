"""A cheap look at a program's shape before it is parsed into SymPy.

Plain Python over the text (no SymPy): a caller can refuse a text that is too big for
what it asks before the parse, which for 10,000 lines takes seconds.
"""

from __future__ import annotations

import re

from .lexer import _GREEK_CHARS

_OP_HEAD = re.compile(rf"\s*[A-Za-z{_GREEK_CHARS}][A-Za-z0-9_]*\(")


def count_assignments(text: str) -> int:
    """How many assignments ``text`` holds, by a look at each statement, without parsing.

    Each assignment is a node of its own, so this is a lower bound on a graph's size
    that a caller can check before the (linear but SymPy-heavy) parse of a huge file.
    """
    count = 0
    for line in text.split("\n"):
        for statement in line.split("#", 1)[0].split(";"):
            head, eq, _ = statement.partition("=")
            if eq and not _OP_HEAD.match(head):
                count += 1
    return count
