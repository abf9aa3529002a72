"""The expression grammar of gradgraph's text language: a small Pratt parser over the
lexer's tokens that builds SymPy directly (``2x``, ``σ′(z)``, ``a^(L-1)``, ``Σₖ``,
``max(a, b)``, calls of registered and user ops). Statements (assignments, op
definitions, declarations) are read on top of it in :mod:`gradgraph.parse`.

The builder creates only ``Symbol``, ``Integer``, ``Float``, arithmetic and registered
ops; nesting depth, token count, digits and exponents are checked as the text is read.
"""

from __future__ import annotations

import functools
import math
import re

import sympy as sp

from . import ops
from .errors import ParseError, UnknownOpError
from .lexer import MAX_DEPTH, MAX_DIGITS, MAX_EXPONENT, MAX_TOKENS, Token
from .names import SUBSCRIPT


@functools.lru_cache(maxsize=1 << 16)
def symbol(name: str) -> sp.Symbol:
    """The one way gradgraph makes a symbol for a user's name (always real).

    Cached here because SymPy's own cache holds 1,000 entries: past ~1,000 nodes it
    would evict and rebuild symbols, and deriving would slow down per node.
    """
    return sp.Symbol(name, real=True)


def tensor_symbol(name: str) -> sp.Symbol:
    """A declared tensor in matrix-form text; non-commutative, so ``W x`` keeps its order."""
    return sp.Symbol(name, commutative=False)


class IndexSum(sp.Function):
    """``sum_k <term>`` in index-form text; gradgraph.build turns it into layer ops."""

    nargs = 2


# --- parser --------------------------------------------------------------------------


class ExprParser:
    """Pratt parser over one token list; builds SymPy as it goes.

    ``user_ops`` holds ops defined earlier in the same text (``swish``);
    ``names`` are names the caller already knows as variables (``a(1 - a)`` is then
    a product, not a call).
    """

    def __init__(self, tokens: list[Token], user_ops: dict[str, ops.OpSpec] | None = None,
                 names: set[str] | None = None):
        self.toks = tokens
        self.pos = 0
        self.user_ops = dict(user_ops or {})
        self.names = set(names or ())
        self.depth = 0
        self.count = 0
        self.order: dict[str, int] = {}
        self.tensors: set[str] = set()

    # token helpers
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def take(self) -> Token:
        tok = self.peek()
        if tok.kind == "NAME":
            self.order.setdefault(tok.text, len(self.order))
        self.pos += 1
        self.count += 1
        if self.count > MAX_TOKENS:
            raise self.error("expression too long", tok)
        return tok

    def expect(self, text: str) -> Token:
        tok = self.peek()
        if tok.kind == "OP" and tok.text == text:
            return self.take()
        raise self.error(f"expected '{text}', found {_describe(tok)}", tok)

    def error(self, message: str, tok: Token) -> ParseError:
        return ParseError(message, column=tok.col, line=tok.line)

    def at_op(self, *texts: str) -> bool:
        tok = self.peek()
        return tok.kind == "OP" and tok.text in texts

    # statements

    # expressions (Pratt)
    def expression(self, rbp: int = 0) -> sp.Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested too deeply (limit {MAX_DEPTH})", self.peek())
        try:
            left = self.prefix()
            while True:
                lbp = self.infix_power()
                if lbp <= rbp:
                    return left
                left = self.infix(left, lbp)
        finally:
            self.depth -= 1

    def infix_power(self) -> int:
        tok = self.peek()
        if tok.kind == "NAME" or (tok.kind == "OP" and tok.text == "("):
            return 20  # implicit product: 2x, 2(a - y), W x
        if tok.kind == "NUM" and self.pos and self.toks[self.pos - 1].text == ")":
            return 20  # σ′(z) 2(a − y)
        if tok.kind == "SUP":
            return 40
        if tok.kind == "ROOT":
            return 20  # 2√x
        if tok.kind == "OP":
            return {"+": 10, "-": 10, "*": 20, "/": 20, "^": 40}.get(tok.text, 0)
        return 0

    def infix(self, left: sp.Expr, lbp: int) -> sp.Expr:
        tok = self.peek()
        if tok.kind == "SUP":
            self.take()
            return _power(left, sp.Integer(int(tok.text)), tok)
        if tok.kind != "OP" or tok.text == "(":
            right = self.expression(lbp)
            return _checked_mul(left, right)
        self.take()
        if tok.text == "^":
            if isinstance(left, sp.Symbol) and left.name == "e" and "e" not in self.names:
                # Never silently a symbol named e: the reader almost surely meant Euler's e.
                raise self.error("e^(…) would be a variable named e to a power; did you "
                                 "mean exp(…)? (declare 'e: input' for a variable e)", tok)
            right = self.expression(lbp - 1)  # right-associative
            return _power(left, right, tok)
        right = self.expression(lbp)
        if tok.text == "+":
            return left + right
        if tok.text == "-":
            return left - right
        if tok.text == "*":
            return _checked_mul(left, right)
        return left / right

    def prefix(self) -> sp.Expr:
        tok = self.take()
        if tok.kind == "NUM":
            return _number(tok)
        if tok.kind == "NAME":
            return self.name_or_call(tok)
        if tok.kind == "OP" and tok.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if tok.kind == "OP" and tok.text in "+-":
            operand = self.expression(30)  # binds tighter than * but looser than ^
            return -operand if tok.text == "-" else operand
        if tok.kind == "ROOT":  # √x, √(x + 1): binds like a function call
            return ops.SQRT.func(self.expression(45))
        if tok.kind in ("NL", "EOF"):
            raise self.error("the expression ends too early", tok)
        raise self.error(f"unexpected {_describe(tok)}", tok)

    def name_or_call(self, tok: Token) -> sp.Expr:
        nxt = self.peek()
        tspec = ops.tensor_op(tok.text)
        if tspec is not None and nxt.kind == "OP" and nxt.text == "(":
            return tspec.func(*self.call_arguments(tspec.arity, tok.text))
        if tok.text.startswith("sum_") and len(tok.text) == 5 and tok.text[4].isalpha():
            if nxt.kind in ("NL", "EOF") or (nxt.kind == "OP" and nxt.text in ")+-*/^=,;"):
                letter = SUBSCRIPT.get(tok.text[4], "_" + tok.text[4])
                raise self.error(f"Σ{letter} needs a term after it", tok)
            return IndexSum(self.expression(15), sp.Symbol(tok.text[4]))
        if (tok.text in _MAX_MIN and tok.text not in self.user_ops and nxt.kind == "OP"
                and nxt.text == "(" and not nxt.space_before):
            return _max_min(tok.text, *self.call_arguments(2, tok.text))
        if (tok.text == "sign" and tok.text not in self.user_ops and tok.text not in self.names
                and nxt.kind == "OP" and nxt.text == "(" and not nxt.space_before):
            # Derivations show abs′ as sign(w) (its partial); read back as shown, it is
            # abs′ (sign, 0 at 0), so a copied derivation checks and evaluates.
            return self.applied(ops.ABS, tok, prime=True)
        if nxt.kind == "PRIME":
            self.take()
            spec = self.op_for(tok)
            return self.applied(spec, tok, prime=True)
        if nxt.kind == "SUP" and self.peek(1).kind == "OP" and self.peek(1).text == "(":
            spec = self.op_or_none(tok, quiet=True)
            if spec is not None:  # tanh²(z) is tanh(z)², as textbooks write it
                power = self.take()
                return _power(self.applied(spec, tok), sp.Integer(int(power.text)), power)
        if nxt.kind == "OP" and nxt.text == "(" and not nxt.space_before:
            spec = self.op_or_none(tok)
            if spec is not None:
                return self.applied(spec, tok)
        elif self.op_or_none(tok, quiet=True) is not None or tspec is not None:
            raise self.error(f"'{tok.text}' is a function; call it as {tok.text}(...)", tok)
        # Once a program declares tensors, every name keeps its place in products
        # (W x is not x W); gradgraph.build makes scalars commutative again.
        return tensor_symbol(tok.text) if self.tensors else symbol(tok.text)

    def applied(self, spec: ops.OpSpec, tok: Token, prime: bool = False) -> sp.Expr:
        """``op(arg)`` or ``op′(arg)``; a user op whose inlining would explode is refused."""
        arg = self.call_argument()
        try:
            ops.check_application(spec, arg)
        except ParseError as e:
            raise self.error(str(e), tok) from None
        return spec.prime(arg) if prime else spec.func(arg)

    def call_arguments(self, arity: int, name: str) -> list[sp.Expr]:
        open_tok = self.expect("(")
        args = [self.expression()]
        while self.at_op(","):
            self.take()
            args.append(self.expression())
        if not self.at_op(")"):
            raise self.error(f"'(' at column {open_tok.col} is not closed", self.peek())
        self.take()
        if len(args) != arity:
            raise self.error(f"{name} takes {arity} argument{'s' * (arity > 1)}, "
                             f"got {len(args)}", open_tok)
        return args

    def call_argument(self) -> sp.Expr:
        open_tok = self.expect("(")
        arg = self.expression()
        if self.at_op(","):
            raise self.error("ops take one argument", self.peek())
        if not self.at_op(")"):
            raise self.error(f"'(' at column {open_tok.col} is not closed", self.peek())
        self.take()
        return arg

    def op_for(self, tok: Token) -> ops.OpSpec:
        spec = self.op_or_none(tok)
        if spec is None:
            raise self.error(f"'{tok.text}′' needs an op before the prime", tok)
        return spec

    def op_or_none(self, tok: Token, quiet: bool = False) -> ops.OpSpec | None:
        """The op ``tok`` names; None if it is a variable; an error if it looks misspelt."""
        name = tok.text
        spec = self.user_ops.get(name) or ops.lookup(name)
        if spec is not None or quiet:
            return spec
        if name in self.names or _looks_like_variable(name):
            return None
        hint = ops.suggest(name, tuple(self.user_ops))
        tail = f"; did you mean '{hint}'?" if hint else ""
        raise UnknownOpError(f"unknown function '{name}'{tail}", column=tok.col, line=tok.line)


_MAX_MIN = ("max", "min")


def _max_min(name: str, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """max(a, b) = a + relu(b − a), min(a, b) = a − relu(a − b): the registry's ops take
    one argument, and relu carries the subgradient convention relu′(0) = 0. So
    ∂max(a, b)/∂a = 1 where a ≥ b, 0 where a < b; ∂min(a, b)/∂a = 1 where a ≤ b: at a
    tie the whole derivative goes to the first argument. The hinge max(0, 1 − y·z)
    reads as relu(1 − y·z)."""
    if name == "max":
        return a + ops.RELU.func(b - a)
    return a - ops.RELU.func(a - b)


def _looks_like_variable(name: str) -> bool:
    # a(1 - a), w_jk(x + 1), a^(L)(1 - a): one letter (maybe indexed/tagged) is a
    # variable times a bracket, as on a blackboard; longer words must be ops.
    base = name.split("^", 1)[0].split("_", 1)[0]
    return len(base.rstrip("0123456789")) == 1


# Python keywords are never names, so "x if y else z" is an error, not a product.
# "lambda" stays a plain name (the regularisation strength λ).


def _describe(tok: Token) -> str:
    if tok.kind == "EOF":
        return "the end of the text"
    if tok.kind == "NL":
        return "the end of the line"
    return f"'{tok.text}'"


def _number(tok: Token) -> sp.Number:
    text = tok.text
    mantissa = re.split(r"[eE]", text)[0]
    if len(mantissa.replace(".", "").lstrip("0")) > MAX_DIGITS:
        raise ParseError(f"number has more than {MAX_DIGITS} digits", column=tok.col, line=tok.line)
    if text.isdigit():
        return sp.Integer(int(text))
    value = float(text)  # C strtod: fast even for 1e999999999
    if not math.isfinite(value):
        raise ParseError("number out of range", column=tok.col, line=tok.line)
    return sp.Float(value)


def _degree(e: sp.Expr) -> float:
    """An upper bound on the total power in ``e`` (nested powers multiply)."""
    if isinstance(e, sp.Pow):
        exp = e.exp
        factor = abs(float(exp)) if exp.is_Number else 1.0
        return max(1.0, factor) * _degree(e.base)
    if isinstance(e, sp.Mul | sp.Add):
        return sum(_degree(a) for a in e.args) if isinstance(e, sp.Mul) else max(
            _degree(a) for a in e.args
        )
    if e.args:
        return max(_degree(a) for a in e.args)
    return 1.0


def _checked_mul(left: sp.Expr, right: sp.Expr) -> sp.Expr:
    out = left * right
    if _degree(out) > MAX_EXPONENT:
        raise ParseError(f"exponent too large (the total power is limited to {MAX_EXPONENT})")
    return out


def _power(base: sp.Expr, exp: sp.Expr, tok: Token) -> sp.Expr:
    if exp.is_Number and abs(float(exp)) > MAX_EXPONENT:
        raise ParseError(f"exponent too large (limit {MAX_EXPONENT})",
                         column=tok.col, line=tok.line)
    if base.is_Number and exp.is_Number:
        digits = abs(float(exp)) * math.log10(max(abs(float(base)), 2.0))
        if digits > 300:
            raise ParseError("number too large", column=tok.col, line=tok.line)
    out = sp.Pow(base, exp)
    if _degree(out) > MAX_EXPONENT:
        raise ParseError(
            f"exponent too large (nested powers multiply; limit {MAX_EXPONENT})",
            column=tok.col, line=tok.line,
        )
    return out
