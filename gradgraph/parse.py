"""A safe grammar for user text: programs of statements over a Pratt expression parser.

User text never reaches ``eval``, ``sympify``, ``parse_expr`` or ``lambdify``: the
tokenizer accepts a fixed alphabet, the parser knows a fixed grammar, and the builder
creates only ``Symbol``, ``Integer``, ``Float``, arithmetic and registered ops. Limits
(length, nesting depth, digits, exponent size) are checked as the text is read, so
hostile input fails fast with a :class:`ParseError` that names the column.

Grammar (one statement a line, or ``;``-separated; ``#`` starts a comment)::

    statement := NAME "=" expr                 # assignment: a named node
               | NAME "(" NAME ")" "=" expr    # user-defined op: swish(x) = x*sigma(x)
               | NAME ("," NAME)* ":" KIND ["(" INT ("," INT)* ")"]   # w: param
    expr      := sums, products, "^" or "**" (right-assoc), unary ±, implicit
                 products (2x, 2(a - y), a(1 - a)), calls of ops, op′(x) / op'(x)

Names: ASCII letters/digits/underscore (``w_jk``), one Greek letter (``σ``, ``λ``),
an optional layer tag written ``a^(L-1)`` or ``a⁽ᴸ⁻¹⁾`` (a numeric ``x^(2)`` only in a
program that has layers; elsewhere it is refused as a likely ``x^2``), optional
subscript digits (``C₀``). ``gamma``, ``beta``, ``lambda``, ``E``, ``I``, ``N`` are plain names.

This module reads statements and keeps names as typed (``w1`` stays ``w1``); the
expression grammar is :mod:`gradgraph.grammar`, the tokens :mod:`gradgraph.lexer`; the
names of both are public here too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import sympy as sp

from . import ops
from .errors import ParseError
from .grammar import (  # noqa: F401 - the grammar's names are public here too
    ExprParser,
    IndexSum,
    _describe,
    symbol,
    tensor_symbol,
)
from .lexer import (  # noqa: F401 - the limits and tokenize are public here too
    KINDS,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_LINE,
    MAX_NAME,
    MAX_TEXT,
    MAX_TOKENS,
    RESERVED,
    Token,
    canonical_name,
    parse_name,
    tokenize,
)
from .outline import count_assignments  # noqa: F401 - public here too


@dataclass(frozen=True)
class Assign:
    name: str
    expr: sp.Expr
    line: int


@dataclass(frozen=True)
class OpDef:
    name: str
    param: sp.Symbol
    body: sp.Expr
    line: int
    spec: ops.OpSpec


@dataclass(frozen=True)
class Declare:
    names: tuple[str, ...]
    kind: str
    shape: tuple[int, ...]
    line: int


Statement = Assign | OpDef | Declare


@dataclass(frozen=True)
class Program:
    """Parsed statements, and each name's rank by where the user first wrote it."""

    statements: list[Statement]
    order: dict[str, int]
    typed: dict[str, str] = field(default_factory=dict)  # canonical -> first spelling


class Parser(ExprParser):
    """The statements of a program, each read with the expression grammar."""

    def program(self) -> list[Statement]:
        out: list[Statement] = []
        while self.peek().kind != "EOF":
            if self.peek().kind == "NL" or self.at_op(";"):
                self.take()
                continue
            self.count = 0
            out.append(self.statement())
            tok = self.peek()
            if not (tok.kind in ("NL", "EOF") or self.at_op(";")):
                raise self.error(f"unexpected {_describe(tok)} after the statement", tok)
        return out

    def statement(self) -> Statement:
        first = self.peek()
        if first.kind != "NAME":
            raise self.error("a statement starts with a name, as in 'z = w*x + b'", first)
        nxt = self.peek(1)
        if nxt.kind == "OP" and nxt.text in (",", ":"):
            return self.declaration()
        if nxt.kind == "OP" and nxt.text == "(" and not nxt.space_before:
            return self.op_definition()
        name = self.take().text
        self.expect("=")
        expr = self.expression()
        self.names.add(name)
        return Assign(name, expr, first.line)

    def declaration(self) -> Declare:
        first = self.peek()
        names = [self.take().text]
        while self.at_op(","):
            self.take()
            tok = self.take()
            if tok.kind != "NAME":
                raise self.error(f"expected a name, found {_describe(tok)}", tok)
            names.append(tok.text)
        self.expect(":")
        tok = self.take()
        if tok.kind != "NAME" or tok.text not in KINDS:
            raise self.error(f"expected one of {', '.join(KINDS)}, found {_describe(tok)}", tok)
        shape: list[int] = []
        if self.at_op("("):
            self.take()
            shape.append(self.dimension())
            while self.at_op(","):
                self.take()
                shape.append(self.dimension())
            self.expect(")")
        self.names.update(names)
        if shape:
            self.tensors.update(names)
        return Declare(tuple(names), tok.text, tuple(shape), first.line)

    def dimension(self) -> int:
        tok = self.take()
        if tok.kind != "NUM" or not tok.text.isdigit() or not 1 <= int(tok.text) <= 100_000:
            raise self.error("a dimension is a whole number from 1 to 100000", tok)
        return int(tok.text)

    def op_definition(self) -> OpDef:
        head = self.take()
        if head.text in self.names:
            raise self.error(f"'{head.text}' is already a variable", head)
        if ops.lookup(head.text) is not None:
            raise self.error(f"'{head.text}' is a built-in op and cannot be redefined", head)
        self.expect("(")
        arg = self.take()
        if arg.kind != "NAME":
            raise self.error(f"expected the argument's name, found {_describe(arg)}", arg)
        self.expect(")")
        self.expect("=")
        param = symbol(arg.text)
        # An op's body is scalar maths, even inside a program with layers.
        tensors, self.tensors = self.tensors, set()
        try:
            body = self.expression()
        finally:
            self.tensors = tensors
        extra = sorted(s.name for s in body.free_symbols - {param})
        if extra:
            raise self.error(f"op '{head.text}' uses '{extra[0]}', which is not its argument",
                             head)
        try:
            spec = ops.user_op(head.text, param, body)
        except ParseError as e:
            raise self.error(str(e), head) from None
        self.user_ops[head.text] = spec
        return OpDef(head.text, param, body, head.line, spec)


# --- public entry points -------------------------------------------------------------


def parse_program(text: str) -> Program:
    """Parse a program (assignments, op definitions, declarations)."""
    tokens, typed = respelled(tokenize(text))
    _check_layer_tags(tokens)
    parser = Parser(tokens)
    statements = parser.program()
    return Program(statements, parser.order, typed)


def _check_layer_tags(tokens: list[Token]) -> None:
    """``x^(2)`` is a layer tag only in a program that has layers; elsewhere it reads
    as a typo for the square ``x^2`` and is refused with both readings, never taken
    silently as either.

    A program has layers when a tagged name is assigned or declared (``a^(1) = …``,
    ``x^(2): input``), when one name carries two tags (``w^(1)``, ``w^(2)``), or when a
    tag is a letter (``b^(L)``) or written in superscripts (``x⁽²⁾``): none of these
    can be a power.
    """
    tagged = [t for t in tokens if t.kind == "NAME" and "^(" in t.text]
    numeric = [t for t in tagged if _tag_of(t).isdigit()]
    if not numeric or _has_layers(tokens, tagged):
        return
    tok = numeric[0]
    base, tag = tok.text.split("^(", 1)[0], _tag_of(tok)
    shown = f"{base}⁽{tag}⁾".translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    raise ParseError(f"'{tok.text}' would be a layer tag, and nothing in this program has "
                     f"layers; did you mean {base}^{tag} (a power) or {shown} (layer {tag})?",
                     column=tok.col, line=tok.line)


def _tag_of(tok: Token) -> str:
    return tok.text.split("^(", 1)[1].rstrip(")")


def _has_layers(tokens: list[Token], tagged: list[Token]) -> bool:
    if any(t.superscript_tag or not _tag_of(t).isdigit() for t in tagged):
        return True
    tags: dict[str, set[str]] = {}
    for t in tagged:
        tags.setdefault(t.text.split("^(", 1)[0], set()).add(_tag_of(t))
    if any(len(v) > 1 for v in tags.values()):
        return True
    return any("^(" in name for name in _heads(tokens))


def _heads(tokens: list[Token]) -> list[str]:
    """The names each statement assigns or declares (``a = …``, ``w, b: param``)."""
    out: list[str] = []
    start = True
    for i, tok in enumerate(tokens):
        if start and tok.kind == "NAME":
            j = i
            while tokens[j + 1].kind == "OP" and tokens[j + 1].text == "," and \
                    tokens[j + 2].kind == "NAME":
                j += 2  # a declaration's list of names
            nxt = tokens[j + 1]
            if nxt.kind == "OP" and nxt.text in ("=", ":"):
                out.extend(t.text for t in tokens[i:j + 1:2])
        start = tok.kind == "NL" or (tok.kind == "OP" and tok.text == ";")
    return out


def respelled(tokens: list[Token]) -> tuple[list[Token], dict[str, str]]:
    """Each name as the user first typed it: ``w1`` stays ``w1`` and a later ``w_1`` or
    ``w₁`` means that node too. Returns the tokens and {canonical: spelling used}."""
    first: dict[str, str] = {}
    for tok in tokens:
        if tok.kind == "NAME":
            first.setdefault(tok.text, tok.typed or tok.text)
    typed = {k: v for k, v in first.items() if k != v}
    if not typed:
        return tokens, typed
    out = [dataclasses.replace(t, text=typed[t.text]) if t.kind == "NAME" and t.text in typed
           else t for t in tokens]
    return out, typed


def parse_expression(text: str, user_ops: dict[str, ops.OpSpec] | None = None,
                     names: set[str] | None = None) -> sp.Expr:
    """Parse one expression (no assignment), e.g. a learner's answer."""
    if "\n" in text.strip():
        raise ParseError("an expression is one line")
    tokens = tokenize(text.strip())
    # The graph's names as typed (w1): an answer's w_1 or w₁ means that node.
    spelled = {canonical_name(n): n for n in names or () if canonical_name(n) != n}
    if spelled:
        tokens = [dataclasses.replace(t, text=spelled[t.text])
                  if t.kind == "NAME" and t.text in spelled else t for t in tokens]
    parser = Parser(tokens, user_ops=user_ops, names=names)
    expr = parser.expression()
    tok = parser.peek()
    if tok.kind not in ("NL", "EOF"):
        if tok.kind == "OP" and tok.text == "=":
            raise parser.error("unexpected '=' (an expression, not an assignment)", tok)
        raise parser.error(f"unexpected {_describe(tok)}", tok)
    return expr


def as_expr(value: object, what: str = "the expression") -> sp.Basic:
    """A SymPy object for a value handed to a printer or rewriter; never ``sympify``.

    A string goes through gradgraph's safe parser; a Python int or finite float
    becomes a SymPy number; a SymPy object is taken as it is (printing and rewriting
    run no code); anything else is refused with :class:`GraphError`.
    """
    if isinstance(value, str):
        return parse_expression(value)
    return ops.as_basic(value, what)
