"""The chain rule: the slides' derivations factor by factor, and random graphs
against sympy.diff of the expanded expression and central differences."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings

from gradgraph import DerivationError, Graph, adjoints, derive, examples, ops
from gradgraph.parse import symbol

from .strategies import points, programs

S = symbol
sigma, sigma_p = ops.SIGMA.func, ops.SIGMA.prime


def same(got: list[sp.Expr], expected: list) -> bool:
    """Factor lists equal as expressions (SymPy distributes 2(a − y) when built)."""
    return len(got) == len(expected) and all(
        sp.expand(g - e) == 0 for g, e in zip(got, expected, strict=True))


def test_slides_dC_dw() -> None:
    g = examples.chain(1)
    d = derive(g, "C_0", "w^(L)")
    assert d.paths == (("w^(L)", "z^(L)", "a^(L)", "C_0"),)
    [factors] = d.factors
    assert [(f.child, f.parent) for f in factors] == [
        ("z^(L)", "w^(L)"), ("a^(L)", "z^(L)"), ("C_0", "a^(L)")]
    assert same([f.expr for f in factors], [
        S("a^(L-1)"), sigma_p(S("z^(L)")), 2 * (S("a^(L)") - S("y"))])
    assert str(d) == (
        "∂C₀/∂w⁽ᴸ⁾ = ∂z⁽ᴸ⁾/∂w⁽ᴸ⁾ · ∂a⁽ᴸ⁾/∂z⁽ᴸ⁾ · ∂C₀/∂a⁽ᴸ⁾\n"
        "          = a⁽ᴸ⁻¹⁾ · σ′(z⁽ᴸ⁾) · 2(a⁽ᴸ⁾ − y)"
    )


def test_slides_dC_db_reuses_the_cached_adjoint() -> None:
    g = examples.chain(1)
    d = derive(g, wrt="b^(L)")
    assert same([f.expr for f in d.factors[0]],
                [1, sigma_p(S("z^(L)")), 2 * (S("a^(L)") - S("y"))])
    assert d.reuses == ("z^(L)",)
    assert d.cached_unicode() == "∂C₀/∂b⁽ᴸ⁾ = ∂z⁽ᴸ⁾/∂b⁽ᴸ⁾ · ∂C₀/∂z⁽ᴸ⁾"
    assert "↻ reuses ∂C₀/∂z⁽ᴸ⁾" in str(adjoints(g))


def test_slides_dC_da_previous_layer() -> None:
    d = derive(examples.chain(1), wrt="a^(L-1)")
    assert same([f.expr for f in d.factors[0]], [
        S("w^(L)"), sigma_p(S("z^(L)")), 2 * (S("a^(L)") - S("y"))])
    assert d.latex() == (
        r"\frac{\partial C_{0}}{\partial a^{(L-1)}} = \frac{\partial z^{(L)}}{\partial a^{(L-1)}}"
        r" \frac{\partial a^{(L)}}{\partial z^{(L)}} \frac{\partial C_{0}}{\partial a^{(L)}}"
        r" = w^{(L)} \cdot \sigma'\left(z^{(L)}\right) \cdot 2 \left(a^{(L)} - y\right)"
    )


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_chain_every_layer_has_the_product_of_its_path(depth: int) -> None:
    g = examples.chain(depth)
    tags = ["L" if i == 0 else f"L-{i}" for i in range(depth)]
    for i, tag in enumerate(tags):
        d = derive(g, wrt=f"w^({tag})")
        [factors] = d.factors
        assert len(factors) == 3 + 2 * i  # ∂z/∂w, then σ′ and w per layer, then ∂C/∂a
        assert factors[0].expr == S(f"a^(L-{i + 1})")
        assert same([factors[-1].expr], [2 * (S("a^(L)") - S("y"))])
        sigmas = [f.expr for f in factors if isinstance(f.expr, ops.PrimeFunction)]
        assert sigmas == [sigma_p(S(f"z^({t})")) for t in reversed(tags[: i + 1])]


def test_fan_out_sums_the_paths() -> None:
    g = Graph.from_text("u = 2x; v = x^2; C = u*v + u")
    d = derive(g, wrt="x")
    assert len(d.paths) == 2
    assert sp.expand(d.expanded - sp.diff(g.expand("C"), S("x"))) == 0


def test_expanded_is_in_the_leaves() -> None:
    d = derive(Graph.from_text("z = w*x + b; a = sigma(z); C = (a - y)^2"), wrt="w")
    assert d.expanded.free_symbols == {S("w"), S("x"), S("b"), S("y")}


def test_no_path_and_unknown_node() -> None:
    g = Graph.from_text("z = w*x; C = z + y; D = 2y")
    with pytest.raises(DerivationError, match="'w' does not feed into 'D'"):
        derive(g, "D", "w")
    with pytest.raises(Exception, match="no node named 'q'"):
        derive(g, "C", "q")


def _numeric(expr: sp.Expr, at: dict[str, float]) -> float:
    return float(ops.elementary(expr).xreplace({S(k): sp.Float(v, 30) for k, v in at.items()})
                 .evalf(30))


@given(programs(), points)
@settings(max_examples=40)
def test_random_graphs_match_sympy_diff_of_the_expanded_expression(text: str, at) -> None:
    g = Graph.from_text(text)
    total = ops.elementary(g.expand("C"))
    for leaf in g.leaves:
        if leaf not in adjoints(g).adjoints:
            continue
        ours = _numeric(derive(g, wrt=leaf).expanded, at)
        truth = float(sp.diff(total, S(leaf)).xreplace(
            {S(k): sp.Float(v, 30) for k, v in at.items()}).evalf(30))
        assert ours == pytest.approx(truth, rel=1e-9, abs=1e-9)


@given(programs(), points)
@settings(max_examples=40)
def test_random_graphs_numeric_gradients_match_central_differences(text: str, at) -> None:
    g = Graph.from_text(text)
    at = {k: v for k, v in at.items() if k in g}
    grads = g.gradients(at)
    h = 1e-6
    for leaf in g.leaves:
        up, down = dict(at), dict(at)
        up[leaf] += h
        down[leaf] -= h
        numeric = (g.evaluate(up)["C"] - g.evaluate(down)["C"]) / (2 * h)
        assert grads.get(leaf, 0.0) == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_derivation_value_matches_gradients() -> None:
    g = examples.chain(1)
    d = derive(g, wrt="w^(L)")
    vals = examples.SLIDES_VALUES
    a_prev, w, b, y = vals["a^(L-1)"], vals["w^(L)"], vals["b^(L)"], vals["y"]
    a = 1 / (1 + np.exp(-(w * a_prev + b)))
    assert d.value(vals) == pytest.approx(a_prev * a * (1 - a) * 2 * (a - y), rel=1e-12)


# --- display defects (notation) ---------------------------------------------------------


def test_a_float_times_a_name_has_a_product_sign_and_its_exact_value() -> None:
    from gradgraph.notation import to_unicode
    assert to_unicode(sp.Float(1 / 0.9) * sp.Symbol("mask_i^(1)")) == "1.1111111111111112·maskᵢ⁽¹⁾"
    assert to_unicode(sp.Float(0.25) * sp.Symbol("w")) == "0.25·w"
    assert to_unicode(2 * sp.Symbol("x")) == "2x"


@pytest.mark.parametrize(("name", "text", "latex"), [
    ("var_i^(1)", "varᵢ⁽¹⁾", r"\mathrm{var}_{i}^{(1)}"),
    ("zhat_i", "zhatᵢ", r"\mathrm{zhat}_{i}"),
    ("mask_i", "maskᵢ", r"\mathrm{mask}_{i}"),
    ("dropout_rate", "dropout_rate", r"\mathrm{dropout\_rate}"),
])
def test_an_index_subscript_splits_whatever_the_base(name: str, text: str, latex: str) -> None:
    from gradgraph.notation import latex_name, unicode_name
    assert (unicode_name(name), latex_name(name)) == (text, latex)


def test_a_squared_root_is_parenthesised() -> None:
    from gradgraph.notation import to_unicode
    x = sp.Symbol("x")
    assert to_unicode(sp.Pow(sp.sqrt(x), 2, evaluate=False)) == "(√x)²"
    assert to_unicode(ops.REGISTRY["sqrt"].func(x) ** 2) == "(√x)²"


def test_huge_numbers_print_in_scientific_form() -> None:
    from gradgraph.notation import to_latex, to_unicode
    big = sp.Integer(10) ** 5000
    assert to_unicode(big) == "1.0×10⁵⁰⁰⁰"
    assert to_unicode(-3 * big * sp.Symbol("x")) == "−3.0×10⁵⁰⁰⁰·x"
    assert to_unicode(sp.Rational(1, 10**80)) == "1/(1.0×10⁸⁰)"
    assert to_latex(big) == r"1.0 \times 10^{5000}"


# --- LaTeX in Jupyter and the user's factor order (#16 item 4) -------------------------


def test_repr_latex_of_derivation_adjoints_and_matrix_form() -> None:
    g = Graph.from_text("z = w*x + b; a = sigma(z); C = (a - y)^2")
    d = derive(g, wrt="w")
    assert d._repr_latex_() == f"$\\displaystyle {d.latex()}$"
    all_ = adjoints(g)
    assert all_._repr_latex_() == f"$$ {all_.latex()} $$"
    assert all_.latex().count("\\begin{aligned}") == all_.latex().count("\\end{aligned}") == 1
    assert d.matrix._repr_latex_() == f"$$ {d.matrix_latex()} $$"
    assert str(d.matrix) == d.matrix_unicode() == "∂C/∂w = x · σ′(z) · 2(a − y)"


def test_the_users_factor_order_is_kept() -> None:
    g = Graph.from_text("z = w3*x1; C = z^2")
    assert str(adjoints(g)).splitlines()[1] == "∂C/∂x₁ = ∂z/∂x₁ · ∂C/∂z = w₃ · 2z   ↻ reuses ∂C/∂z"
    assert g["z"].definition(g.order) == "z = w₃·x₁"


# --- the edge partials' fast path (issue #14 item 4) -----------------------------------

EVERY_OP = "\n".join(
    [f"v{i} = {op}(w*x + b)" for i, op in enumerate(ops.REGISTRY)]
    + ["f(t) = t^3 + sigma(t)", "q = f(v0)", "r = v1*v2*3 + x*y - v3/v4 + v5^2 + exp(v6)*v7",
       "C = (q + r - y)^2 + w*w"])
EDGE_GRAPHS = {
    "every op": lambda: Graph.from_text(EVERY_OP),
    "chain": lambda: examples.chain(3),
    "mlp": lambda: examples.mlp([2, 3, 2]),
    "mazur": lambda: examples.mazur()[0],
    "u-chain": lambda: Graph.from_text("u1 = x*w\nu2 = u1*w\nu3 = 2*u2*w*x\nC = u3^2"),
}


def _slow_partial(g: Graph, child: str, parent: str) -> sp.Expr:
    """What local_partial returned before its fast paths: SymPy's own diff."""
    return sp.factor_terms(sp.diff(g[child].expr, g[parent].element_symbol))


@pytest.mark.parametrize("make", EDGE_GRAPHS.values(), ids=EDGE_GRAPHS)
def test_every_edge_partial_is_exactly_sympys(make) -> None:  # noqa: ANN001
    from gradgraph.derive import local_partial

    g = make()
    for node in g.nodes:
        if node.expr is None or (node.tspec is not None and node.tspec.jacobian is not None):
            continue
        for parent in node.parents:
            got = local_partial(g, node.name, parent)
            assert got == _slow_partial(g, node.name, parent), (node.name, parent)
            assert sp.srepr(got) == sp.srepr(_slow_partial(g, node.name, parent))


@given(programs())
@settings(max_examples=40)
def test_random_edge_partials_are_exactly_sympys(text: str) -> None:
    from gradgraph.derive import local_partial

    g = Graph.from_text(text)
    for node in g.nodes:
        for parent in node.parents:
            assert sp.srepr(local_partial(g, node.name, parent)) == \
                sp.srepr(_slow_partial(g, node.name, parent))


# abs′ is shown as sign(w) (∂a/∂w of a = abs(w)); the checker and the parser refused the
# derivation as shown ("unknown function 'sign'"). Found by test_user_op_properties.py.
@pytest.mark.parametrize("text", ["a = abs(w)\nC = a*w", "f(x) = x\nv0 = f(abs(w))\nC = v0 + w*v0"])
def test_a_derivation_with_sign_reads_back_as_shown(text: str) -> None:
    import gradgraph as gg

    g = Graph.from_text(text)
    shown = str(derive(g, wrt="w").expanded)
    assert "sign(" in shown
    assert gg.check(g, "dC/dw", shown).correct is True
    h = Graph.from_text(f"{text}\nD = {shown}")
    for w in (-0.8, 0.6):
        assert h.evaluate({"w": w})["D"] == pytest.approx(g.gradients({"w": w})["w"])


def test_sign_stays_a_name_where_it_is_one() -> None:
    g = Graph.from_text("sign(x) = -x\nC = sign(w)")
    assert g.evaluate({"w": 0.5})["C"] == -0.5
