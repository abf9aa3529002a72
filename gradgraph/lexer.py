"""The tokenizer of gradgraph's text language: a fixed alphabet, limits checked as the
text is read (see :mod:`gradgraph.parse` for the grammar built on these tokens).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from .errors import ParseError
from .names import (
    FROM_SUBSCRIPT,
    FROM_SUPERSCRIPT,
    GREEK_TO_ASCII,
    from_superscript,
)

MAX_TEXT = 200_000  # a whole program
MAX_LINE = 2_000  # one statement
MAX_DEPTH = 50  # nested parentheses / operators
MAX_TOKENS = 1_000  # one statement
MAX_DIGITS = 30  # integer literal
MAX_EXPONENT = 1_000  # |total power|, nested powers multiplied
MAX_NAME = 31
KINDS = ("param", "input", "const")

_GREEK_CHARS = "".join(GREEK_TO_ASCII)
_SUPER = "".join(FROM_SUPERSCRIPT)
_SUB = "".join(FROM_SUBSCRIPT)
_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_ASCII_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_TAG = re.compile(r"\^\(((?:[A-Za-z]|\d+)(?:[+-]\d+)?)\)")
_UTAG = re.compile(rf"⁽([{_SUPER}]+)⁾")
_GREEK_SUB = re.compile(r"_[A-Za-z0-9]+")
_SIGMA_LETTER = re.compile(r"_([A-Za-z])(?![A-Za-z0-9])")
_LETTERS_DIGITS = re.compile(r"^([A-Za-z]+)(\d+)$")
_PUNCT = ("**", "+", "-", "−", "*", "·", "⋅", "×", "/", "^", "(", ")", ",", "=", ":", ";")

RESERVED = frozenset(keyword.kwlist) - {"lambda"}


@dataclass(frozen=True)
class Token:
    kind: str  # NUM NAME OP PRIME NL EOF
    text: str
    col: int
    line: int
    space_before: bool = False
    typed: str = ""  # the user's spelling when the name was canonicalised (w1 -> w_1)
    superscript_tag: bool = False  # a layer tag written ⁽²⁾, never a power


# --- tokenizer -----------------------------------------------------------------------


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; any character outside the alphabet is an error."""
    if len(text) > MAX_TEXT:
        raise ParseError(f"text too long ({len(text)} characters; the limit is {MAX_TEXT})")
    tokens: list[Token] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        code = line.split("#", 1)[0]
        if len(code) > MAX_LINE:
            raise ParseError(f"line too long (limit {MAX_LINE} characters)", line=lineno)
        tokens.extend(_tokenize_line(code, lineno))
        tokens.append(Token("NL", "\n", len(code) + 1, lineno))
    tokens.append(Token("EOF", "", 1, text.count("\n") + 1))
    return tokens


def _tokenize_line(code: str, lineno: int) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if c in " \t\r":
            i += 1
            continue
        space = i > 0 and code[i - 1] in " \t"
        tok, i = _next_token(code, i, lineno, space)
        out.append(tok)
    return out


_SUPERSCRIPT_POWER = re.compile("⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")


def _next_token(code: str, i: int, lineno: int, space: bool) -> tuple[Token, int]:
    c = code[i]
    col = i + 1
    if c in "0123456789" or (c == "." and i + 1 < len(code) and code[i + 1] in "0123456789"):
        m = _NUMBER.match(code, i)
        assert m is not None  # guarded by the test above
        return Token("NUM", m.group(0), col, lineno, space), m.end()
    if c.isascii() and c.isalpha() or c in _GREEK_CHARS:
        return _name_token(code, i, lineno, space)
    if c in "'′":
        return Token("PRIME", "′", col, lineno, space), i + 1
    m = _SUPERSCRIPT_POWER.match(code, i)
    if m:  # x², as gradgraph itself prints powers
        return Token("SUP", from_superscript(m.group(0)), col, lineno, space), m.end()
    if c == "√":
        return Token("ROOT", "√", col, lineno, space), i + 1
    for p in _PUNCT:
        if code.startswith(p, i):
            return Token("OP", _canonical_op(p), col, lineno, space), i + len(p)
    raise ParseError(_bad_char_message(c), column=col, line=lineno)


def _canonical_op(p: str) -> str:
    return {"**": "^", "−": "-", "·": "*", "⋅": "*", "×": "*"}.get(p, p)


def _bad_char_message(c: str) -> str:
    if c in "\"'`":
        return "strings are not allowed"
    if c == ".":
        return "'.' is only allowed inside a number (attribute access is not allowed)"
    if c in "[]{}":
        return f"'{c}' is not allowed; use ( )"
    shown = c if c.isprintable() else repr(c)
    return f"unexpected character {shown!s} (U+{ord(c):04X})"


def _name_token(code: str, i: int, lineno: int, space: bool) -> tuple[Token, int]:
    col = i + 1
    if code[i] in "Σ∑":
        return _sigma_token(code, i, lineno, space)
    if code[i] in _GREEK_CHARS:
        base, j = GREEK_TO_ASCII[code[i]], i + 1
        m = _GREEK_SUB.match(code, j)
        if m:
            base, j = base + m.group(0), m.end()
    else:
        m = _ASCII_NAME.match(code, i)
        assert m is not None
        base, j = m.group(0), m.end()
        base = canonical_name(base)
    if base in RESERVED:
        raise ParseError(f"'{base}' is a Python keyword, not allowed here", column=col, line=lineno)
    if len(base) > MAX_NAME:
        raise ParseError(f"name too long (limit {MAX_NAME} characters)", column=col, line=lineno)
    sub = ""
    while j < len(code) and code[j] in _SUB:
        sub += FROM_SUBSCRIPT[code[j]]
        j += 1
    name = base + (("_" + sub) if sub and "_" not in base else sub)
    tag, superscript, j = _layer_tag(code, j)
    if tag:
        name += f"^({tag})"
    # Results are keyed as the user typed the name (w1), when that is plain ASCII.
    shown = code[i:j] if code[i:j] != name and code[i:j].isascii() and "^" not in name else ""
    return Token("NAME", name, col, lineno, space, shown, superscript), j


def _sigma_token(code: str, i: int, lineno: int, space: bool) -> tuple[Token, int]:
    """Σ is the sum, as printed: ``Σⱼ`` / ``Σ_j`` is ``sum_j``, a bare ``Σ(…)`` is ``sum(…)``."""
    j = i + 1
    if j < len(code) and code[j] in FROM_SUBSCRIPT and FROM_SUBSCRIPT[code[j]].isalpha():
        return Token("NAME", "sum_" + FROM_SUBSCRIPT[code[j]], i + 1, lineno, space), j + 1
    m = _SIGMA_LETTER.match(code, j)
    if m:
        return Token("NAME", "sum_" + m.group(1), i + 1, lineno, space), m.end()
    return Token("NAME", "sum", i + 1, lineno, space), j


def _layer_tag(code: str, j: int) -> tuple[str, bool, int]:
    """(tag, written in superscripts, end) of a layer tag at ``j``; ("", False, j) if none."""
    m = _TAG.match(code, j)
    if m:
        return m.group(1), False, m.end()
    m = _UTAG.match(code, j)
    if m:
        tag = "".join(FROM_SUPERSCRIPT[c] for c in m.group(1))
        if _TAG.fullmatch(f"^({tag})"):
            return tag, True, m.end()
    return "", False, j


def canonical_name(name: str) -> str:
    """The lexer's one form of a typed name: ``w1`` -> ``w_1`` (w1, w_1, w₁ are one name;
    gradgraph prints w_1 as w₁)."""
    return _LETTERS_DIGITS.sub(r"\1_\2", name)


def parse_name(text: str) -> str:
    """Canonical form of one name as a user types it (``b^(L)``, ``b⁽ᴸ⁾``, ``β``)."""
    toks = [t for t in tokenize(text.strip()) if t.kind not in ("NL", "EOF")]
    if len(toks) != 1 or toks[0].kind != "NAME":
        raise ParseError(f"'{text}' is not a name")
    return toks[0].text
