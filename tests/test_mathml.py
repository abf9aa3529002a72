"""gradgraph.mathml: the MathML shows what the Unicode printer shows, and is always valid XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import gradgraph as gg
from gradgraph import mathml as M
from gradgraph.notation import FROM_SUBSCRIPT, from_superscript, to_unicode
from gradgraph.ops import REGISTRY
from gradgraph.parse import IndexSum, symbol
from tests.strategies import programs

ROOT = Path(__file__).resolve().parent.parent
NS = "{http://www.w3.org/1998/Math/MathML}"
TOKENS = {"mi", "mn", "mo", "mtext"}
LP, RP = '<mo stretchy="false">(</mo>', '<mo stretchy="false">)</mo>'
CHAIN = "z = w*x + b; a = sigma(z); C = (a - y)^2"


def parse(inner: str) -> ET.Element:
    """The inner MathML wrapped in <math>, parsed: raises on invalid XML."""
    root = ET.fromstring(M.math(inner))
    assert root.tag == f"{NS}math"
    return root


def linear(el: ET.Element) -> str:
    """The MathML read aloud in a line: token text; √(…) for a root, a/b for a fraction."""
    tag = el.tag.removeprefix(NS)
    if tag in TOKENS:
        return el.text or ""
    if tag == "annotation":
        return ""
    kids = [linear(k) for k in el]
    if tag == "msqrt":
        return "√(" + "".join(kids) + ")"
    if tag == "mfrac":
        return f"{kids[0]}/{kids[1]}"
    return "".join(kids)


def text_of(inner: str) -> str:
    return norm(linear(parse(inner)))


def norm(text: str) -> str:
    """Spaces, sub/superscript characters and the markers MathML draws as layout removed."""
    text = from_superscript(text)
    text = "".join(FROM_SUBSCRIPT.get(c, c) for c in text)
    text = text.replace("−", "-").replace("∑", "Σ")
    return re.sub(r"[\s^_\u2061\u2062]", "", text)


def unicode_norm(text: str) -> str:
    """``norm`` of the Unicode, with each root's argument bracketed: √x -> √(x)."""
    return norm(_bracket_roots(text))


def _bracket_roots(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "√" and text[i + 1:i + 2] not in ("(", "′"):  # √′(x) is a name
            end = _atom_end(text, i + 1)
            out.append("√(" + _bracket_roots(text[i + 1:end]) + ")")
            i = end
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _atom_end(text: str, i: int) -> int:
    """End of the atom that starts at ``i``: a name or number, a call f(…), |…| or √atom."""
    if text[i] == "√":
        return _atom_end(text, i + 1) if text[i + 1] != "(" else _group_end(text, i + 1)
    if text[i] == "|":
        return _bar_end(text, i)
    j, tag = i, False
    while j < len(text) and text[j] not in " +−·/()|√":
        tag = (tag or text[j] == "⁽") and text[j] != "⁾"
        if not tag and text[j] in "⁰¹²³⁴⁵⁶⁷⁸⁹":
            break  # √x² is (√x)²: a power's digits follow the atom, a name's sit in ⁽⁾
        j += 1
    return _group_end(text, j) if j < len(text) and text[j] == "(" else j


def _bar_end(text: str, i: int) -> int:
    """End of |…| from ``i``: a bar opens after an operator, "(" or an opening bar."""
    depth, prev_opening = 0, False
    for j in range(i, len(text)):
        if text[j] != "|":
            prev_opening = False
            continue
        opening = j == i or text[j - 1] in "(+−·/√ " or (text[j - 1] == "|" and prev_opening)
        depth += 1 if opening else -1
        if depth == 0:
            return j + 1
        prev_opening = opening
    raise AssertionError(f"unbalanced bars: {text}")


def _group_end(text: str, i: int) -> int:
    depth = 0
    for j in range(i, len(text)):
        depth += (text[j] == "(") - (text[j] == ")")
        if depth == 0:
            return j + 1
    raise AssertionError(f"unbalanced: {text}")


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("a^(L-1)", "<msup><mi>a</mi><mrow><mo>(</mo><mi>L</mi><mo>−</mo><mn>1</mn><mo>)</mo>"
                "</mrow></msup>"),
    ("w_jk^(L)", "<msubsup><mi>w</mi><mrow><mi>j</mi><mi>k</mi></mrow><mrow><mo>(</mo>"
                 "<mi>L</mi><mo>)</mo></mrow></msubsup>"),
    ("C_0", "<msub><mi>C</mi><mn>0</mn></msub>"),
    ("x1", "<msub><mi>x</mi><mn>1</mn></msub>"),
    ("lambda", "<mi>λ</mi>"),
    ("w", "<mi>w</mi>"),
    ("dropout_rate", '<mi mathvariant="normal">dropout_rate</mi>'),
    ("lr", '<mi mathvariant="normal">lr</mi>'),
])
def test_names(name: str, expected: str) -> None:
    assert M.name_mathml(name) == expected
    parse(expected)


def test_partial_is_a_fraction_of_two_del_rows() -> None:
    assert M.partial_mathml("C", "w") == (
        "<mfrac><mrow><mo>∂</mo><mi>C</mi></mrow><mrow><mo>∂</mo><mi>w</mi></mrow></mfrac>")


def test_math_wraps_and_carries_the_unicode() -> None:
    assert M.math("<mi>x</mi>") == (
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mi>x</mi></math>')
    out = M.math("<mi>x</mi>", display=True, text="x < y")
    root = ET.fromstring(out)
    assert root.get("display") == "block"
    assert root.find(f"{NS}semantics/{NS}annotation").text == "x < y"
    assert "x &lt; y" in out


# --- expressions: the slides' forms, exactly ---------------------------------------------

x, z, a, y = (symbol(n) for n in "xzay")
SIGMA = REGISTRY["sigma"]


def test_the_slides_factor_2_a_minus_y() -> None:
    assert M.expr_mathml(sp.Mul(2, a - y, evaluate=False), {"a": 0, "y": 1}) == (
        f"<mrow><mn>2</mn><mo>\u2062</mo>{LP}<mi>a</mi><mo>−</mo><mi>y</mi>{RP}</mrow>")


def test_sigma_prime() -> None:
    assert M.expr_mathml(SIGMA.prime(z)) == (
        f"<mrow><msup><mi>σ</mi><mo>′</mo></msup><mo>\u2061</mo>{LP}<mi>z</mi>{RP}</mrow>")


def test_sqrt_abs_power_fraction() -> None:
    assert M.expr_mathml(REGISTRY["sqrt"].func(x + 1)) == (
        "<msqrt><mrow><mi>x</mi><mo>+</mo><mn>1</mn></mrow></msqrt>")
    assert M.expr_mathml(REGISTRY["abs"].func(x)) == (
        '<mrow><mo stretchy="false">|</mo><mi>x</mi><mo stretchy="false">|</mo></mrow>')
    assert M.expr_mathml(x**2) == "<msup><mi>x</mi><mn>2</mn></msup>"
    assert M.expr_mathml(1 / x) == "<mrow><mn>1</mn><mo>/</mo><mi>x</mi></mrow>"
    assert M.expr_mathml(-x) == "<mrow><mo>−</mo><mi>x</mi></mrow>"


def test_index_sum_and_kronecker_delta() -> None:
    w, xk = symbol("W_jk"), symbol("x_k")
    assert M.expr_mathml(IndexSum(w * xk, sp.Symbol("k"))) == (
        "<mrow><munder><mo>∑</mo><mi>k</mi></munder><msub><mi>W</mi><mrow><mi>j</mi>"
        "<mi>k</mi></mrow></msub><mo>·</mo><msub><mi>x</mi><mi>k</mi></msub></mrow>")
    assert M.expr_mathml(sp.KroneckerDelta(sp.Symbol("i"), sp.Symbol("j"))) == (
        "<msub><mi>δ</mi><mrow><mi>i</mi><mi>j</mi></mrow></msub>")


# --- derivations ---------------------------------------------------------------------------


def test_chain_rule_derivation_as_on_the_slides() -> None:
    d = gg.derive(gg.Graph.from_text(CHAIN), "C", "w")
    assert M.head_mathml(d) == M.partial_mathml("C", "w")
    assert M.chain_mathml(d) == "<mrow>" + "<mo>·</mo>".join(
        M.partial_mathml(c, p) for c, p in (("z", "w"), ("a", "z"), ("C", "a"))) + "</mrow>"
    assert M.factors_mathml(d) == (
        f"<mrow><mi>x</mi><mo>·</mo><msup><mi>σ</mi><mo>′</mo></msup><mo>\u2061</mo>{LP}"
        f"<mi>z</mi>{RP}<mo>·</mo><mn>2</mn><mo>\u2062</mo>{LP}<mi>a</mi><mo>−</mo>"
        f"<mi>y</mi>{RP}</mrow>")
    assert M.cached_mathml(d) == (
        f"<mrow>{M.partial_mathml('z', 'w')}<mo>·</mo>{M.partial_mathml('C', 'z')}</mrow>")
    assert M.reuses_mathml(d) == M.partial_mathml("C", "z")
    whole = ET.fromstring(M.derivation_mathml(d))
    rows = whole.findall(f".//{NS}mtr")
    assert len(rows) == 2
    assert whole.find(f".//{NS}annotation").text == str(d)


def test_one_edge_into_the_output_is_one_line() -> None:
    d = gg.derive(gg.Graph.from_text(CHAIN), "C", "a")
    assert M.derivation_rows(d) == [M.Row(M.partial_mathml("C", "a"), M.factors_mathml(d),
                                          "∂C/∂a", "2(a − y)")]
    assert text_of(M.factors_mathml(d)) == unicode_norm(d.factors_unicode())


FAN = "p = w*x; q = w*y; r = w*t; s = w*v; k = w*u; C = p*q*r*s*k"  # five paths from w


def mtr_lines(block: str) -> list[str]:
    """Each row of an equation table read aloud: what one line of the Unicode shows."""
    return [norm(linear(tr)) for tr in ET.fromstring(block).iter(f"{NS}mtr")]


def test_a_long_sum_of_paths_breaks_where_the_unicode_does() -> None:
    d = gg.derive(gg.Graph.from_text(FAN), "C", "w")
    block = M.derivation_mathml(d)
    assert mtr_lines(block) == [unicode_norm(line) for line in str(d).splitlines()]
    rows = ET.fromstring(block).findall(f".//{NS}mtr")
    assert len(rows) == 10 and all(  # a continued line has no relation of its own
        (r.findall(f"{NS}mtd")[1].findtext(f".//{NS}mo") or "") == ("=" if i in (0, 5) else "")
        for i, r in enumerate(rows))
    chain, product = M.derivation_rows(d)
    assert [text for _, _, text in chain.lines] == [
        "∂p/∂w · ∂C/∂p +", "∂q/∂w · ∂C/∂q +", "∂r/∂w · ∂C/∂r +", "∂s/∂w · ∂C/∂s +",
        "∂k/∂w · ∂C/∂k"]
    assert chain.rhs == M.chain_mathml(d)  # the one-line form is still there
    for _rel, inner, text in (*chain.lines, *product.lines):
        assert text_of(inner) == unicode_norm(text)


def test_a_short_derivation_is_not_broken() -> None:
    d = gg.derive(gg.Graph.from_text(CHAIN), "C", "w")
    assert all(r.lines == () for r in M.derivation_rows(d))
    assert mtr_lines(M.derivation_mathml(d)) == [unicode_norm(x) for x in str(d).splitlines()]


def test_a_long_cached_adjoint_breaks_after_its_plus_signs() -> None:
    all_ = gg.adjoints(gg.Graph.from_text(FAN))
    row = next(r for r in M.adjoints_rows(all_) if r.lhs_text == "∂C/∂w")
    rels = [rel for rel, _, _ in row.lines]
    assert rels == ["="] + [""] * 4 + ["="] + [""] * 4  # cached, then the product
    assert row.lines[0][2] == "∂p/∂w · ∂C/∂p +" and row.lines[5][2] == "x · q·r·s·k +"
    assert all(r.lines == () for r in M.adjoints_rows(all_) if r.lhs_text != "∂C/∂w")
    block = M.math(M.table(M.adjoints_rows(all_)), display=True)
    assert len(mtr_lines(block)) == len(all_.adjoints) - 1 + 9


LAYER = ("W^(L): param(2, 2); b^(L): param(2); a^(L-1): input(2); y: input(2)\n"
         "z^(L) = W^(L) a^(L-1) + b^(L)\na^(L) = sigma(z^(L))\nC_0 = sum((a^(L) - y)^2)")


@pytest.mark.parametrize("wrt", ["W^(L)", "b^(L)", "a^(L-1)"])
def test_layer_derivations_sum_over_j(wrt: str) -> None:
    g = gg.Graph.from_text(LAYER)
    d = gg.derive(g, wrt=wrt)
    assert text_of(M.chain_mathml(d)) == unicode_norm(d.chain_unicode())
    assert text_of(M.factors_mathml(d)) == unicode_norm(d.factors_unicode())
    assert text_of(M.expanded_mathml(d)) == unicode_norm(d.expanded_unicode())
    assert text_of(M.cached_mathml(d)) == unicode_norm(d.cached_unicode().split(" = ", 1)[1])
    if wrt == "a^(L-1)":
        assert M.chain_mathml(d).startswith("<mrow><munder><mo>∑</mo><mi>j</mi></munder>")
    for node in g.nodes:
        assert text_of(M.definition_mathml(node, g.order)) == unicode_norm(
            node.definition(g.order))


def test_softmax_and_batch_norm_definitions() -> None:
    soft = gg.Graph.from_text("W: param(3, 2); x: input(2); y: input(3)\n"
                              "z = W x\na = softmax(z)\nC = cross_entropy(a, y)")
    bn = gg.Graph.from_text(ROOT.joinpath("lessons/graphs/batch-norm.gg").read_text("utf-8"))
    for g in (soft, bn):
        for node in g.nodes:
            assert text_of(M.definition_mathml(node, g.order)) == unicode_norm(
                node.definition(g.order))
        all_ = gg.adjoints(g)
        for row in M.adjoints_rows(all_):
            assert text_of(row.lhs) == unicode_norm(row.lhs_text)
            assert text_of(row.rhs or "<mrow></mrow>") == unicode_norm(row.rhs_text)
            assert text_of(row.note or "<mrow></mrow>") == unicode_norm(row.note_text)


# --- properties: every op, many expressions ------------------------------------------------

NAMES = ("w", "x", "b", "y", "a^(L-1)", "w_jk^(L)", "C_0", "lambda", "dropout_rate", "z_j",
         "a^(M)", "u1")
numbers = st.one_of(
    st.integers(-4, 4).map(sp.Integer),
    st.tuples(st.integers(-5, 5), st.integers(2, 5)).map(lambda t: sp.Rational(*t)),
    st.sampled_from([0.5, -0.25, 1e-05, 2.75]).map(sp.Float),
)
leaves = st.one_of(st.sampled_from(NAMES).map(symbol), numbers)
OPS = sorted(REGISTRY)


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    op = st.sampled_from(OPS).map(lambda n: REGISTRY[n])
    return st.one_of(
        st.tuples(op, children).map(lambda t: t[0].func(t[1])),
        st.tuples(op, children).map(lambda t: t[0].prime(t[1])),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: sp.Add(*xs)),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: sp.Mul(*xs)),
        st.tuples(children, st.sampled_from([2, 3, -1, -2, sp.Rational(1, 2)])).map(
            lambda t: t[0] ** t[1]),
        st.tuples(children, children).map(lambda t: sp.Pow(t[0], t[1])),
    )


exprs = st.recursive(leaves, _extend, max_leaves=8)
orders = st.one_of(st.none(), st.permutations(NAMES).map(
    lambda ns: {n: i for i, n in enumerate(ns)}))


@given(exprs, orders)
def test_mathml_reads_as_the_unicode(expr: sp.Expr, order: dict | None) -> None:
    assert text_of(M.expr_mathml(expr, order)) == unicode_norm(to_unicode(expr, order))


@pytest.mark.parametrize("name", OPS)
def test_every_op_and_its_prime_round_trip(name: str) -> None:
    spec = REGISTRY[name]
    for arg in (x, x + 1, -x, 2 * x, x**2, SIGMA.func(z), a * (1 - a)):
        for e in (spec.func(arg), spec.prime(arg), 2 * spec.func(arg) * (y - a),
                  spec.func(arg) ** 2, 1 / spec.func(arg)):
            assert text_of(M.expr_mathml(e)) == unicode_norm(to_unicode(e)), e


@given(programs())
def test_every_derivation_reads_as_its_unicode(text: str) -> None:
    g = gg.Graph.from_text(text)
    all_ = gg.adjoints(g)
    for name in all_.adjoints:
        if name == all_.of:
            continue
        d = all_.derivation(name)
        assert text_of(M.head_mathml(d)) == unicode_norm(d.head_unicode)
        assert text_of(M.chain_mathml(d)) == unicode_norm(d.chain_unicode())
        assert text_of(M.factors_mathml(d)) == unicode_norm(d.factors_unicode())
        assert text_of(M.cached_mathml(d)) == unicode_norm(d.cached_unicode().split(" = ", 1)[1])
        ET.fromstring(M.derivation_mathml(d))
    lines = [f"{r.lhs_text} = {r.rhs_text}" + (f"   ↻ reuses {r.note_text}" if r.note else "")
             for r in M.adjoints_rows(all_)]
    assert "\n".join(lines) == str(all_)
    for r in M.adjoints_rows(all_):
        assert text_of(r.rhs) == unicode_norm(r.rhs_text)
    defs = M.definition_rows(g)
    assert "\n".join(f"{r.lhs_text} = {r.rhs_text}" for r in defs) == g.definitions()
    for r in defs:
        assert text_of(r.lhs) == unicode_norm(r.lhs_text)
        assert text_of(r.rhs) == unicode_norm(r.rhs_text)


# --- escaping ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a<b", "x&y", "<script>", "q\"'>"])
def test_every_text_node_is_escaped(name: str) -> None:
    for out in (M.name_mathml(name), M.expr_mathml(sp.Symbol(name) + 1),
                M.expr_mathml(sp.Function(name)(x)), M.partial_mathml(name, name)):
        root = parse(out)  # well-formed despite the markup in the name
        assert "<script" not in out and "<b" not in out
        assert name in "".join(root.itertext())


# --- the HTML export -------------------------------------------------------------------------

MATH_ELEMENT = re.compile(r"<math display=\"(?:inline|block)\">.*?</math>", re.DOTALL)


@pytest.mark.parametrize("lesson", ["01-chain-rule", "02-bias-and-caching", "04-many-units",
                                    "11-batch-norm"])
def test_exported_formulas_read_as_their_unicode(lesson: str) -> None:
    from gradgraph.lesson.html_export import lesson_html
    from gradgraph.lesson.loader import load_lesson

    page = lesson_html(load_lesson(ROOT / "lessons" / f"{lesson}.toml"))
    found = MATH_ELEMENT.findall(page)
    assert len(found) >= 6
    for element in found:
        root = ET.fromstring(element.replace("<math ", f'<math xmlns="{NS[1:-1]}" ', 1))
        shown, note = root.find(f"{NS}semantics")
        assert norm(linear(shown)) == unicode_norm(note.text or ""), element
    assert "http://" not in page.split("<svg", 1)[0]  # HTML needs no namespace URL


@pytest.mark.parametrize("e", [
    sp.Float(1 / 0.9) * sp.Symbol("mask_i^(1)"),
    sp.Pow(sp.sqrt(x), 2, evaluate=False),
    sp.Integer(10) ** 5000,
    -3 * sp.Integer(10) ** 5000 * x,
    sp.Rational(1, 10**80) * x + sp.Rational(7, 10**90),
    sp.Symbol("var_i^(1)") * sp.Symbol("zhat_i") + sp.Symbol("dropout_rate"),
])
def test_display_rules_read_the_same_in_mathml(e: sp.Expr) -> None:
    assert text_of(M.expr_mathml(e)) == unicode_norm(to_unicode(e))


def test_an_indexed_long_name_is_a_subscript() -> None:
    assert M.name_mathml("mask_i") == '<msub><mi mathvariant="normal">mask</mi><mi>i</mi></msub>'


def test_an_exported_lesson_breaks_a_long_sum_of_paths_into_rows() -> None:
    from gradgraph.lesson.html_blocks import equations_html

    d = gg.derive(gg.Graph.from_text(FAN), "C", "w")
    rows = M.derivation_rows(d)
    html = equations_html(rows, str(d).splitlines())
    assert html.count("<tr>") == sum(len(r.lines) or 1 for r in rows) == 10
    assert html.count('<td class="rel">=</td>') == 2  # one relation where each side starts
