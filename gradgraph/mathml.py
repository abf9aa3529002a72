"""Presentation MathML for gradgraph's notation, mirroring :mod:`gradgraph.notation`.

The browser tutor and the HTML export typeset maths as MathML (rendered natively by
Chromium, Firefox and Safari: no network, no script). Every function here prints the
same SymPy objects as the Unicode printer, in the same order and with the same
parentheses, ``·`` and implicit products (``2(a − y)``), so the MathML and the Unicode
text beside it always show the same maths. Names are printed as structure (a⁽ᴸ⁻¹⁾ is an
``<msup>``), √ as ``<msqrt>``, ∂C/∂w as an ``<mfrac>``; everything else is inline, as the
Unicode has it. Every text node is escaped; nothing here parses user text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from .derivation import broken_rows
from .notation import (
    GREEK,
    _index_like,
    implicit_after,
    number_text,
    partial_unicode,
    reorder,
    scientific,
    split_name,
    unicode_name,
)
from .ops import OpFunction, PrimeFunction
from .parse import IndexSum

if TYPE_CHECKING:
    from .derive import Adjoint, Adjoints, Derivation, Factor
    from .graph import Graph, Node

NS = "http://www.w3.org/1998/Math/MathML"
MINUS = "−"
APPLY = "\u2061"  # invisible function application: σ⁡(z)
TIMES = "\u2062"  # invisible times: 2⁢(a − y)

_PREC_ADD, _PREC_MUL, _PREC_POW, _PREC_ATOM = 1, 2, 3, 4


# --- tokens ----------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def mi(text: str, normal: bool = False) -> str:
    attr = ' mathvariant="normal"' if normal else ""
    return f"<mi{attr}>{_esc(text)}</mi>"


def mn(text: str) -> str:
    return f"<mn>{_esc(text)}</mn>"


def mo(text: str) -> str:
    return f"<mo>{_esc(text)}</mo>"


def fence(text: str) -> str:
    """A bracket at the text's size, as on the slides (a stretchy one would grow to
    wrap every super- and subscript of its content, symmetrically, and dwarf it)."""
    return f'<mo stretchy="false">{_esc(text)}</mo>'


def mrow(parts: Sequence[str]) -> str:
    """One element: a single part as is, several in an ``<mrow>``."""
    return parts[0] if len(parts) == 1 else f"<mrow>{''.join(parts)}</mrow>"


def math(inner: str, display: bool = False, text: str | None = None,
         namespace: bool = True) -> str:
    """A complete ``<math>`` element; ``text`` (the Unicode) rides along as an annotation.

    ``namespace=False`` leaves out ``xmlns``, which HTML does not need (its parser puts
    ``<math>`` in the MathML namespace itself); XML and XHTML need it.
    """
    mode = "block" if display else "inline"
    if text is not None:
        inner = (f"<semantics>{_wrap_row(inner)}"
                 f'<annotation encoding="text/plain">{_esc(text)}</annotation></semantics>')
    xmlns = f' xmlns="{NS}"' if namespace else ""
    return f'<math{xmlns} display="{mode}">{inner}</math>'


def _wrap_row(inner: str) -> str:
    # <semantics> takes exactly one presentation child.
    return f"<mrow>{inner}</mrow>"


# --- names -----------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+|[A-Za-z]|.", re.DOTALL)


def _tokens(text: str) -> list[str]:
    """``L-1`` -> <mi>L</mi><mo>−</mo><mn>1</mn>: digits as numbers, letters one a token."""
    out = []
    for t in _TOKEN.findall(text):
        if t.isdigit():
            out.append(mn(t))
        elif t.isalpha():
            out.append(mi(GREEK.get(t, t)))
        else:
            out.append(mo(MINUS if t == "-" else t))
    return out


def name_mathml(name: str) -> str:
    """``a^(L-1)`` -> ``<msup><mi>a</mi><mrow><mo>(</mo>…<mo>)</mo></mrow></msup>``."""
    base, sub, tag = split_name(name)
    if base == name and not sub and not tag and not name.isalpha():
        return mi(name, normal=len(name) > 1)  # not a name split_name understands
    text = GREEK.get(base, base)
    if sub and not _index_like(base, sub):
        # dropout_rate is a word that happens to contain "_": one upright identifier.
        core = mi(f"{text}_{sub}", normal=True)
        sub = ""
    else:
        core = mi(text, normal=len(text) > 1)
    lower = mrow(_tokens(sub)) if sub else ""
    upper = mrow([mo("("), *_tokens(tag), mo(")")]) if tag else ""
    if lower and upper:
        return f"<msubsup>{core}{lower}{upper}</msubsup>"
    if lower:
        return f"<msub>{core}{lower}</msub>"
    if upper:
        return f"<msup>{core}{upper}</msup>"
    return core


def partial_mathml(of: str, wrt: str) -> str:
    """∂C/∂w as a fraction of two ``∂``-rows."""
    return (f"<mfrac><mrow>{mo('∂')}{name_mathml(of)}</mrow>"
            f"<mrow>{mo('∂')}{name_mathml(wrt)}</mrow></mfrac>")


# --- expressions -------------------------------------------------------------------------


@dataclass(frozen=True)
class _M:
    """Printed piece: sibling elements, precedence, and the Unicode text's first character.

    ``lead`` stands in for the Unicode printer's text tests (starts with "−", with "(",
    with a digit), so the two printers make the same choices. When ``lead`` is "−",
    ``parts[0]`` is always ``<mo>−</mo>`` and can be dropped to negate the text.
    """

    parts: tuple[str, ...]
    prec: int
    lead: str


def _paren(m: _M) -> _M:
    return _M((fence("("), *m.parts, fence(")")), _PREC_ATOM, "(")


def _seq(*pieces: _M | str, prec: int, lead: str) -> _M:
    parts: list[str] = []
    for p in pieces:
        parts.extend(p.parts if isinstance(p, _M) else (p,))
    return _M(tuple(parts), prec, lead)


def expr_mathml(expr: sp.Expr, order: Mapping[str, int] | None = None) -> str:
    """``expr`` as inner MathML, printed as :func:`notation.to_unicode` prints it."""
    return mrow(_m(reorder(sp.sympify(expr), order)).parts)


def _m(e: sp.Expr) -> _M:
    if isinstance(e, sp.Symbol):
        return _M((name_mathml(e.name),), _PREC_ATOM, unicode_name(e.name)[:1])
    if isinstance(e, sp.Number):
        return _number(e)
    if isinstance(e, OpFunction):
        return _op(e)
    if isinstance(e, PrimeFunction):
        name = f"<msup>{_op_name(e.spec.unicode)}{mo('′')}</msup>"
        return _seq(name, mo(APPLY), _paren(_m(e.args[0])), prec=_PREC_ATOM,
                    lead=e.spec.unicode[:1])
    if isinstance(e, sp.Add):
        return _add(e)
    if isinstance(e, sp.Mul):
        return _mul(e)
    if isinstance(e, sp.Pow):
        return _pow(e)
    if isinstance(e, IndexSum):
        return _index_sum(e)
    if isinstance(e, sp.KroneckerDelta):
        low = mrow([p for arg in e.args for p in _m(arg).parts])
        return _M((f"<msub>{mi('δ')}{low}</msub>",), _PREC_ATOM, "δ")
    if isinstance(e, sp.Function):
        return _call(type(e).__name__, e.args)
    text = str(e)
    token = mi(text) if text.isalnum() else f"<mtext>{_esc(text)}</mtext>"
    return _M((token,), _PREC_ATOM, text[:1])


def _op_name(text: str) -> str:
    """An op's display name: σ, tanh, swish as identifiers, √ as an operator."""
    return mi(text) if text.replace("_", "").isalnum() else mo(text)


def _call(name: str, args: Sequence[sp.Expr]) -> _M:
    inner: list[str] = []
    for i, a in enumerate(args):
        if i:
            inner.append(mo(","))
        inner.extend(_m(a).parts)
    return _seq(_op_name(name), mo(APPLY), fence("("), *inner, fence(")"),
                prec=_PREC_ATOM, lead=name[:1])


_FORM = re.compile(r"\{name\}|\{arg\}|.", re.DOTALL)


def _op(e: OpFunction) -> _M:
    spec = e.spec
    arg = _m(e.args[0])
    if spec.unicode_form.startswith("√("):
        return _M((f"<msqrt>{mrow(arg.parts)}</msqrt>",), _PREC_ATOM, "√")
    # The registry's print template ("{name}({arg})", "|{arg}|") read token by token,
    # so a new op's form prints here without code that knows its name.
    parts: list[str] = []
    for tok in _FORM.findall(spec.unicode_form):
        if tok == "{name}":
            parts.append(_op_name(spec.unicode))
            parts.append(mo(APPLY))
        elif tok == "{arg}":
            parts.extend(arg.parts)
        elif not tok.isspace():
            parts.append(fence(tok) if tok in "()|" else mo(tok))
    lead = spec.unicode_form.format(name=spec.unicode, arg="x")[:1]
    return _M(tuple(parts), _PREC_ATOM, lead)


def _int_parts(n: int) -> list[str]:
    """An integer's tokens: ``<mn>12</mn>``, or 1.0×10⁵⁰⁰⁰ as the Unicode prints it."""
    sci = scientific(n)
    if sci is None:
        return [mn(str(n))]
    return [mn(sci[0]), mo("×"), f"<msup>{mn('10')}{mn(str(sci[1]))}</msup>"]


def _number(e: sp.Number) -> _M:
    text = number_text(e)
    negative = text.startswith("-")
    text = text.lstrip("-")
    if isinstance(e, sp.Rational) and not isinstance(e, sp.Integer):
        bot = _int_parts(int(e.q))
        if len(bot) > 1:
            bot = [fence("("), *bot, fence(")")]
        parts = [*_int_parts(abs(int(e.p))), mo("/"), *bot]
        prec = _PREC_MUL
    elif isinstance(e, sp.Integer) and scientific(int(e.p)) is not None:
        parts = _int_parts(abs(int(e.p)))
        prec = _PREC_MUL
    else:
        parts = [mn(text.replace("-", MINUS))] if text[:1].isdigit() else [mi(text)]
        prec = _PREC_ATOM
    if negative:
        return _M((mo(MINUS), *parts), _PREC_ADD, MINUS)
    return _M(tuple(parts), prec, text[:1])


def _add(e: sp.Add) -> _M:
    terms = [_m(t) for t in e.args]
    parts = list(terms[0].parts)
    for t in terms[1:]:
        if t.lead == MINUS:
            parts.extend((mo(MINUS), *t.parts[1:]))
        else:
            parts.extend((mo("+"), *t.parts))
    return _M(tuple(parts), _PREC_ADD, terms[0].lead)


def _mul(e: sp.Mul) -> _M:
    if e.could_extract_minus_sign():
        inner = _m(-e)
        return _seq(mo(MINUS), inner if inner.prec > _PREC_ADD else _paren(inner),
                    prec=_PREC_ADD, lead=MINUS)
    num, den = sp.fraction(e, exact=True)
    if den != 1:
        top, bot = _m(num), _m(den)
        top = top if top.prec >= _PREC_MUL else _paren(top)
        bot = bot if bot.prec > _PREC_MUL else _paren(bot)
        return _seq(top, mo("/"), bot, prec=_PREC_MUL, lead=top.lead)
    return _join_factors([_m(f) for f in e.args], [implicit_after(f) for f in e.args])


def _join_factors(factors: Sequence[_M], numbers: Sequence[bool]) -> _M:
    """``a(1 − a)``, ``2(a − y)``, ``2x`` implicit; ``·`` elsewhere, as the Unicode has it.

    ``numbers[i]`` says factor ``i`` is a whole number the next factor may touch.
    """
    parts: list[str] = []
    lead = ""
    prev_number = False
    for f, is_number in zip(factors, numbers, strict=True):
        if f.prec <= _PREC_ADD:
            f = _paren(f)
        if not parts:
            lead = f.lead
        elif f.lead == "(" or (prev_number and not f.lead.isdigit()):
            parts.append(mo(TIMES))
        else:
            parts.append(mo("·"))
        parts.extend(f.parts)
        prev_number = is_number
    return _M(tuple(parts), _PREC_MUL, lead)


def _pow(e: sp.Pow) -> _M:
    base, exp = e.as_base_exp()
    if exp == sp.Rational(1, 2):
        return _M((f"<msqrt>{mrow(_m(base).parts)}</msqrt>",), _PREC_ATOM, "√")
    if exp.is_negative:
        inv = _m(sp.Pow(base, -exp, evaluate=False) if exp != -1 else base)
        return _seq(mn("1"), mo("/"), inv if inv.prec > _PREC_MUL else _paren(inv),
                    prec=_PREC_MUL, lead="1")
    b = _m(base)
    if b.prec < _PREC_ATOM or b.lead in (MINUS, "√"):  # (√x)², not √x²
        b = _paren(b)
    if isinstance(exp, sp.Integer):
        upper = mn(str(exp))
    else:
        x = _m(exp)
        upper = mrow((x if x.prec == _PREC_ATOM else _paren(x)).parts)
    return _M((f"<msup>{mrow(b.parts)}{upper}</msup>",), _PREC_POW, b.lead)


def sum_over(letter: str) -> str:
    """Σ with its index under it: ``<munder><mo>∑</mo><mi>j</mi></munder>``."""
    return f"<munder>{mo('∑')}{mrow(_tokens(letter))}</munder>"


def _index_sum(e: IndexSum) -> _M:
    body = _m(e.args[0])
    body = body if body.prec > _PREC_ADD else _paren(body)
    return _seq(sum_over(str(e.args[1])), body, prec=_PREC_MUL, lead="Σ")


# --- graphs and derivations ------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of equations: ``lhs = rhs`` as inner MathML, with its Unicode beside it.

    ``note`` is a remark after the equation (the cached adjoints it reuses); an empty
    ``lhs`` continues the previous row (``      = x · σ′(z) · 2(a − y)``). ``lines``
    is the right-hand side broken as the Unicode breaks a long sum of paths, one
    :data:`Line` a row (empty when it fits on one): ``rhs`` stays the one-line form.
    """

    lhs: str
    rhs: str
    lhs_text: str
    rhs_text: str
    note: str = ""
    note_text: str = ""
    lines: tuple[Line, ...] = ()


# One row of a broken right-hand side: (relation, inner MathML, its Unicode). The
# relation is "=" where a side starts and "" where a sum goes on after its + sign.
Line = tuple[str, str, str]


def definition_mathml(node: Node, order: Mapping[str, int] | None = None) -> str:
    """``z = w·x + b``, as :meth:`Node.definition` prints it (Σₖ, batch means, softmax)."""
    head = name_mathml(node.element)
    if node.expr is None:
        return head
    return mrow([head, mo("="), definition_rhs_mathml(node, order)])


def definition_rhs_mathml(node: Node, order: Mapping[str, int] | None = None) -> str:
    """The right-hand side of the node's definition (``w·x + b``); leaves have none."""
    from . import ops

    if node.expr is None:
        return ""
    if node.tspec is not None and node.tspec.display.mean_over_batch:
        inner = node.expr * ops.BATCH_SIZE
        body = _m(reorder(inner, order))
        body = _paren(body) if isinstance(inner, sp.Add) else body
        mean = [fence("("), mn("1"), mo("/"), mi("m"), fence(")"),
                f"<munder>{mo('∑')}{mi('B')}</munder>"]
        return mrow([*mean, *body.parts])
    return mrow([*_summed(node, order), *_softmax_tail(node)])


def definition_rows(graph: Graph) -> list[Row]:
    """One row per computed node, as ``graph.definitions()`` prints them."""
    rows = []
    for n in graph.nodes:
        if n.is_leaf:
            continue
        lhs_text, _, rhs_text = n.definition(graph.order).partition(" = ")
        rows.append(Row(name_mathml(n.element), definition_rhs_mathml(n, graph.order),
                        lhs_text, rhs_text))
    return rows


def _summed(node: Node, order: Mapping[str, int] | None) -> list[str]:
    if not node.sums:
        return list(_m(reorder(node.expr, order)).parts)
    terms = node.expr.args if isinstance(node.expr, sp.Add) else (node.expr,)
    inner = [t for t in terms if any(c in split_name(s.name)[1]
                                     for s in t.free_symbols for c in node.sums)]
    outer = [t for t in terms if t not in inner]
    summed = sp.Add(*inner)
    negative = len(inner) == 1 and summed.could_extract_minus_sign()
    body = _m(reorder(-summed if negative else summed, order))
    if len(inner) > 1:
        body = _paren(body)
    parts = [mo(MINUS)] if negative else []
    parts.extend(sum_over(c) for c in node.sums)
    parts.extend(body.parts)
    for t in outer:
        parts.extend((mo("+"), *_m(reorder(t, order)).parts))
    return parts


def _softmax_tail(node: Node) -> list[str]:
    normaliser = node.tspec.display.normaliser if node.tspec is not None else None
    if normaliser is None:
        return []
    from .shapes import element_name

    z = element_name(node.tensor_expr.args[0].name, ("i",))
    return [mo("/"), sum_over("i"), mi(normaliser), mo(APPLY), fence("("), name_mathml(z),
            fence(")")]


def _summed_letters(graph: Graph, names: tuple[str, ...], wrt: str, of: str,
                    extra: tuple[str, ...] = ()) -> list[str]:
    """The letters a path sums over (Σⱼ): exactly derive's choice, read from its prefix."""
    from .derive import _sigma_prefix
    from .notation import FROM_SUBSCRIPT

    prefix = _sigma_prefix(graph, names, wrt, of, extra)
    return [FROM_SUBSCRIPT.get(p[1:], p[2:]) for p in prefix.split()]


def _path_sums(d: Derivation, fs: tuple[Factor, ...]) -> list[str]:
    names = tuple(f.child for f in fs) + tuple(f.via for f in fs if f.via)
    extra = tuple(c for f in fs for c in f.sums)
    return [sum_over(c) for c in _summed_letters(d.graph, names, d.wrt, d.of, extra)]


def factor_symbol_mathml(f: Factor) -> str:
    """The edge's partial ∂z/∂w (between elements for layers: ∂zⱼ/∂Wⱼₖ)."""
    return partial_mathml(f.child_el or f.child, f.parent_el or f.parent)


def head_mathml(d: Derivation) -> str:
    """``∂C/∂w``; for layers between elements, ``∂C/∂Wⱼₖ``."""
    return partial_mathml(d.graph[d.of].element, d.graph[d.wrt].element)


def _join_terms(terms: Sequence[_M]) -> str:
    parts = list(terms[0].parts)
    for t in terms[1:]:
        parts.extend((mo(MINUS), *t.parts[1:]) if t.lead == MINUS else (mo("+"), *t.parts))
    return mrow(parts)


def chain_mathml(d: Derivation) -> str:
    """``∂z/∂w · ∂a/∂z · ∂C/∂a``; several paths added, Σⱼ where a path sums an index."""
    return _join_terms(_chain_terms(d))


def _chain_terms(d: Derivation) -> list[_M]:
    if not d.factors:
        return [_M((mn("0"),), _PREC_ATOM, "0")]
    terms = []
    for fs in d.factors:
        parts = _path_sums(d, fs)
        symbols = [factor_symbol_mathml(f) for f in fs] or [mn("1")]
        parts.extend(_interleave(symbols, mo("·")))
        terms.append(_M(tuple(parts), _PREC_ADD, "∂"))
    return terms


def chain_lines(d: Derivation) -> tuple[Line, ...]:
    """:func:`chain_mathml` a path a row when the Unicode breaks it (else ``()``)."""
    return broken_lines(_chain_terms(d), d.chain_terms())


def factor_lines(d: Derivation) -> tuple[Line, ...]:
    """:func:`factors_mathml` a path a row when the Unicode breaks it (else ``()``)."""
    return broken_lines(_factor_terms(d), d.factor_terms())


def cached_lines(d: Derivation) -> tuple[Line, ...]:
    """:func:`cached_mathml` a term a row when it is too long for one line."""
    adj = d._all.adjoints.get(d.wrt)
    return broken_lines(_cached_terms(adj), _cached_texts(adj)) if adj is not None else ()


def broken_lines(terms: Sequence[_M], texts: Sequence[str]) -> tuple[Line, ...]:
    """A sum of paths one term a row, each ending in the next one's sign, where
    :func:`gradgraph.derivation.broken_rows` breaks its Unicode ``texts``; ``()`` when
    it fits on one line. The first row's relation is "=", the others have none."""
    rows = broken_rows(list(texts))
    if len(rows) == 1:
        return ()
    lines: list[Line] = []
    for i, (t, text) in enumerate(zip(terms, rows, strict=True)):
        parts = list(t.parts[1:] if i and t.lead == MINUS else t.parts)
        if i + 1 < len(terms):
            parts.append(mo(MINUS if terms[i + 1].lead == MINUS else "+"))
        lines.append(("" if i else "=", mrow(parts), text))
    return tuple(lines)


def _interleave(items: Sequence[str], sep: str) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(items):
        out.extend((sep, item) if i else (item,))
    return out


def factors_mathml(d: Derivation) -> str:
    """``x · σ′(z) · 2(a − y)``: each edge's local partial, in the user's order."""
    return _join_terms(_factor_terms(d))


def _factor_terms(d: Derivation) -> list[_M]:
    if not d.factors:
        return [_M((mn("0"),), _PREC_ATOM, "0")]
    order = d.graph.order
    grouped = len(d.factors) > 1
    terms = []
    for fs in d.factors:
        sums = _path_sums(d, fs)
        pieces: list[_M] = []
        for f in fs:
            m = _m(reorder(sp.sympify(f.expr), order))
            pieces.append(_paren(m) if (grouped or len(fs) > 1) and isinstance(f.expr, sp.Add)
                          else m)
        if not pieces:
            pieces = [_M((mn("1"),), _PREC_ATOM, "1")]
        parts = [*sums]
        for i, p in enumerate(pieces):
            parts.extend((mo("·"), *p.parts) if i else p.parts)
        terms.append(_M(tuple(parts), _PREC_ADD, "Σ" if sums else pieces[0].lead))
    return terms


def adjoint_cached_mathml(adj: Adjoint) -> str:
    """``∂z/∂b · ∂C/∂z``: the local partial times the child's cached adjoint."""
    return _join_terms(_cached_terms(adj))


def _cached_texts(adj: Adjoint) -> list[str]:
    """The Unicode of each term of ``adj.cached_unicode()`` (its + joins them)."""
    return adj.cached_unicode().split(" + ")


def _cached_terms(adj: Adjoint) -> list[_M]:
    if not adj.terms:
        return [_M((mn("1" if adj.node == adj.of else "0"),), _PREC_ATOM, "1")]
    graph = adj.graph
    of_el = graph[adj.of].element if graph is not None else adj.of
    terms = []
    for t in adj.terms:
        parts = ([sum_over(c) for c in _summed_letters(graph, (t.child,), adj.node, adj.of,
                                                       t.sums)]
                 if graph is not None else [])
        parts.append(factor_symbol_mathml(t))
        if t.child != adj.of:
            parts.extend((mo("·"), partial_mathml(of_el, t.child_el)))
        terms.append(_M(tuple(parts), _PREC_ADD, "∂"))
    return terms


def cached_mathml(d: Derivation) -> str:
    """The right-hand side of ``∂C/∂b = ∂z/∂b · ∂C/∂z`` (the form that reuses ∂C/∂z)."""
    adj = d._all.adjoints.get(d.wrt)
    return adjoint_cached_mathml(adj) if adj is not None else mn("0")


def reuses_mathml(d: Derivation) -> str:
    """``∂C/∂z, …``: the cached adjoints the derivation reuses ("" when none)."""
    of_el = d.graph[d.of].element
    items = [partial_mathml(of_el, d.graph[r].element) for r in d.reuses]
    return mrow(_interleave(items, mo(","))) if items else ""


def expanded_mathml(d: Derivation) -> str:
    """``expanded`` in the leaves; for layers each path keeps its Σ over summed indices."""
    order = d.graph.order
    if not d.graph.is_tensor:
        return expr_mathml(d.expanded, order)
    if not d.factors:
        return mn("0")
    terms = []
    for fs in d.factors:
        body = _m(reorder(sp.Mul(*(f.expr for f in fs)).xreplace(d._definitions), order))
        sums = _path_sums(d, fs)
        terms.append(_M((*sums, *body.parts), _PREC_ADD, "Σ" if sums else body.lead))
    return _join_terms(terms)


def derivation_rows(d: Derivation) -> list[Row]:
    """The lines of ``str(d)``: ``∂C/∂w = chain``, then ``= factors`` when they differ."""
    head, head_text = head_mathml(d), d.head_unicode
    chain = d.chain_unicode()
    chain_terms, factor_terms = _chain_terms(d), _factor_terms(d)
    factors = Row(head if chain == head_text else "", _join_terms(factor_terms),
                  head_text if chain == head_text else "", d.factors_unicode(),
                  lines=broken_lines(factor_terms, d.factor_terms()))
    if chain == head_text:  # one edge straight into the output
        return [factors]
    rows = [Row(head, _join_terms(chain_terms), head_text, chain,
                lines=broken_lines(chain_terms, d.chain_terms()))]
    if factors.rhs_text != chain:
        rows.append(factors)
    return rows


def table(rows: Sequence[Row]) -> str:
    """Equations aligned on "=": an ``<mtable>`` of left, "=", right; a long sum of
    paths goes on in the right column of the rows below, as the Unicode breaks it."""
    empty = "<mrow></mrow>"
    cells = "".join(
        f"<mtr><mtd>{r.lhs if i == 0 and r.lhs else empty}</mtd>"
        f"<mtd>{mo(rel) if rel else empty}</mtd><mtd>{rhs}</mtd></mtr>"
        for r in rows for i, (rel, rhs, _) in enumerate(r.lines or (("=", r.rhs, ""),)))
    # displaystyle: full-size fractions and Σ with its index under it (MathML Core makes
    # a table compact by default). columnalign is honoured by Firefox and Safari; in
    # Chromium, the page aligns them with CSS on mtable.gg-eq mtd.
    return (f'<mtable class="gg-eq" displaystyle="true" columnalign="right center left">'
            f"{cells}</mtable>")


def derivation_mathml(d: Derivation) -> str:
    """The whole derivation as ``str(d)`` shows it, a complete block ``<math>`` element."""
    return math(table(derivation_rows(d)), display=True, text=str(d))


def adjoints_rows(all_: Adjoints) -> list[Row]:
    """One row per node, as ``str(adjoints(...))`` prints them, backwards from the output.

    The right-hand side is ``cached = factors`` with the Unicode's rules: no tautology
    (∂C/∂a = ∂C/∂a), and the factors dropped when equal to the cached form or too long.
    """
    from .derive import MAX_LINE

    rows = []
    graph = all_.graph
    of_el = graph[all_.of].element
    for name, adj in all_.adjoints.items():
        if name == all_.of:
            continue
        d = all_.derivation(name)
        cached = _cached_terms(adj)
        pieces = [(adj.cached_unicode(), cached, _cached_texts(adj)),
                  (d.factors_unicode(), _factor_terms(d), d.factor_terms())]
        pieces = [p for p in pieces if p[0] != d.head_unicode]
        if len(pieces) == 2 and (pieces[0][0] == pieces[1][0] or len(pieces[1][0]) > MAX_LINE):
            pieces.pop()
        rhs = mrow(_interleave([_join_terms(t) for _, t, _ in pieces], mo("="))) if pieces else ""
        reused = [partial_mathml(of_el, graph[c].element) for c in adj.reuses]
        reused_text = ", ".join(partial_unicode(of_el, graph[c].element) for c in adj.reuses)
        rows.append(Row(head_mathml(d), rhs, d.head_unicode, " = ".join(u for u, _, _ in pieces),
                        mrow(_interleave(reused, mo(","))) if reused else "", reused_text,
                        _side_lines(pieces)))
    return rows


def _side_lines(sides: Sequence[tuple[str, Sequence[_M], Sequence[str]]]) -> tuple[Line, ...]:
    """The sides ``cached = factors`` a row each (a long one broken): only when one of
    them is too long for one line, as the LaTeX of ``--all`` lays them out."""
    broken = [broken_lines(terms, texts) for _, terms, texts in sides]
    if not any(broken):
        return ()
    return tuple(line for b, (text, terms, _) in zip(broken, sides, strict=True)
                 for line in (b or (("=", _join_terms(terms), text),)))
