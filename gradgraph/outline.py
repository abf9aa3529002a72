"""A cheap look at a program's shape before it is parsed into SymPy.

Plain Python over the text and the lexer's tokens (no SymPy): a caller can refuse a
text that is too big for what it asks before the parse, which for 10,000 lines takes
seconds. Every bound here errs low, so what the outline refuses the full build would
refuse too.
"""

from __future__ import annotations

import re

from .errors import ParseError
from .lexer import _GREEK_CHARS, Token, parse_name, tokenize

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


def paths_at_least(text: str, wrt: str, of: str | None, cap: int) -> tuple[str, int] | None:
    """``wrt`` as the user first typed it (``w1``), and a lower bound on the chain-rule
    paths from it to ``of`` (default: the cost, the last assignment nothing reads) in the
    graph ``text`` builds, counted up to ``cap + 1``; ``None`` when the outline cannot
    tell (a name it does not find, a redefinition, a cycle, a cost it cannot pick for
    sure).

    Each assignment is an edge from every name its right side surely reads; the
    builder's graph has all those edges and maybe more (an op application becomes a
    node of its own), so it has at least as many paths. A right side whose SymPy form
    might lose a name (a name written twice, as in ``a − a``; a power; a zero; two
    numbers) adds no edge. Tokenizing is the only work, so a 10,000-line text is
    counted in a fraction of the time its parse takes.
    """
    shape = _Shape.read(tokenize(text))
    if shape is None:
        return None
    try:
        source = parse_name(wrt)
        target = parse_name(of) if of is not None else shape.cost()
    except ParseError:
        return None
    if target is None or target not in shape.reads or source not in shape.mentioned:
        return None
    paths = shape.count(source, target, cap)
    return None if paths is None else (shape.typed.get(source, source), paths)


class _Shape:
    """Each assignment's sure reads, every name a right side mentions, text order."""

    def __init__(self) -> None:
        self.reads: dict[str, set[str]] = {}
        self.mentioned: set[str] = set()
        self.order: list[str] = []
        self.typed: dict[str, str] = {}  # canonical -> first spelling (w_1 -> w1)

    @classmethod
    def read(cls, tokens: list[Token]) -> _Shape | None:
        shape = cls()
        statement: list[Token] = []
        for tok in tokens:
            if tok.kind == "NAME":
                shape.typed.setdefault(tok.text, tok.typed or tok.text)
            if tok.kind in ("NL", "EOF") or (tok.kind == "OP" and tok.text == ";"):
                if statement and not shape.take(statement):
                    return None
                statement = []
            else:
                statement.append(tok)
        return shape

    def take(self, st: list[Token]) -> bool:
        """Record one statement; False for a redefinition (the outline stops there)."""
        if len(st) < 3 or st[0].kind != "NAME" or st[1].kind != "OP" or st[1].text != "=":
            return True  # a declaration, an op definition, or the parser's to refuse
        name, right = st[0].text, st[2:]
        if name in self.reads:
            return False
        self.order.append(name)
        self.mentioned.update(t.text for t in right if t.kind == "NAME")
        self.reads[name] = _sure_reads(right)
        return True

    def cost(self) -> str | None:
        """The builder's cost (the last assignment nothing reads), when it is sure: the
        last sink by every name mentioned equals the last sink by sure reads."""
        read = set().union(*self.reads.values()) if self.reads else set()
        by_mention = [n for n in self.order if n not in self.mentioned]
        by_reads = [n for n in self.order if n not in read]
        if by_mention and by_reads and by_mention[-1] == by_reads[-1]:
            return by_mention[-1]
        return None

    def count(self, source: str, target: str, cap: int) -> int | None:
        """Paths from ``source`` to ``target`` (``None`` on a cycle), capped at cap + 1."""
        readers: dict[str, list[str]] = {}
        for name, reads in self.reads.items():
            for r in reads:
                readers.setdefault(r, []).append(name)
        memo: dict[str, int] = {target: 1}
        active: set[str] = set()
        stack = [source]
        while stack:
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            todo = [r for r in readers.get(node, ()) if r not in memo]
            if not todo:
                memo[node] = min(sum(memo[r] for r in readers.get(node, ())), cap + 1)
                active.discard(node)
                stack.pop()
                continue
            if node in active:
                return None  # came back to a node still being counted: a cycle
            active.add(node)
            stack.extend(todo)
        return memo[source]


def _sure_reads(right: list[Token]) -> set[str]:
    """The names a right side certainly still holds once SymPy has built it."""
    numbers = [t for t in right if t.kind == "NUM"]
    if len(numbers) > 1 or any(float(t.text) == 0 for t in numbers):
        return set()  # 2 − 2, 0·a, 1e-999: a name can vanish
    if any(t.kind == "SUP" or (t.kind == "OP" and t.text == "^") for t in right):
        return set()  # a^0, 1^a
    names = [t.text for i, t in enumerate(right) if t.kind == "NAME" and not _called(right, i)]
    if len(names) != len(set(names)):
        return set()  # a − a, a/a
    return set(names)


def _called(right: list[Token], i: int) -> bool:
    """A name used as a function (``sigma(z)``, ``σ′(z)``, ``tanh²(z)``) reads nothing."""
    nxt = right[i + 1] if i + 1 < len(right) else None
    return nxt is not None and (nxt.kind in ("PRIME", "SUP") or nxt.text == "(")
