"""Notebook-style: what gradgraph returns is plain SymPy that plain SymPy can use.

Each graph is taken the way a practitioner would take it: ``d.expanded`` and ``d.expr``
(its intermediates replaced by their definitions) through ``evalf``, ``subs(...).evalf()``,
``sympy.lambdify`` with the default modules (and numpy and math by name), ``.rewrite(exp)``
and ``sympy.diff``; every number is compared with ``g.gradients``.
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
import sympy as sp

import gradgraph as gg
from gradgraph import ops

SWISH = "swish(t) = t*sigma(t)\n"
# Every element-wise op of the registry, and a user-defined one. log and sqrt are fed
# w*x + b > 0 at every point below; relu and abs never sit at their kink.
OPS = [*ops.REGISTRY, "swish"]


def op_graph(name: str) -> gg.Graph:
    head = SWISH if name == "swish" else ""
    return gg.Graph.from_text(f"{head}z = w*x + b; a = {name}(z); C = (a - y)^2")


def op_points(seed: int = 0, n: int = 3) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    return [{"w": float(rng.uniform(0.5, 2)), "x": float(rng.uniform(0.3, 1.5)),
             "b": float(rng.uniform(0.1, 1)), "y": float(rng.uniform(-1, 1))}
            for _ in range(n)]


def symbols_of(g: gg.Graph) -> dict[str, sp.Symbol]:
    return {n.name: n.element_symbol for n in g.nodes}


def in_leaves(g: gg.Graph, expr: sp.Expr) -> sp.Expr:
    """``expr`` with every intermediate replaced by its definition, as a user would do."""
    defs: dict[sp.Symbol, sp.Expr] = {}
    for node in g.nodes:
        if node.expr is not None:
            defs[node.element_symbol] = node.expr.xreplace(defs)
    return expr.xreplace(defs)


def gg_functions(expr: sp.Basic) -> list[sp.Basic]:
    return [e for e in sp.preorder_traversal(expr)
            if isinstance(e, ops.OpFunction | ops.PrimeFunction)]


def at(g: gg.Graph, values: dict[str, float]) -> dict[sp.Symbol, sp.Float]:
    syms = symbols_of(g)
    return {syms[k]: sp.Float(v) for k, v in values.items()}


def check_everything(g: gg.Graph, wrt: str, points: list[dict[str, float]]) -> None:
    """The notebook session, for one derivative, at each point."""
    d = gg.derive(g, wrt=wrt)
    leaves = [symbols_of(g)[n] for n in g.leaves]
    forms = {"expanded": d.expanded, "expr": in_leaves(g, d.expr)}
    cost = in_leaves(g, symbols_of(g)[d.of])
    by_sympy = sp.diff(cost, symbols_of(g)[wrt])
    for label, expr in forms.items():
        assert expr.free_symbols <= set(leaves), label
        plain = expr.rewrite(sp.exp)
        assert gg_functions(plain) == [], label
        runs = [sp.lambdify(leaves, expr), sp.lambdify(leaves, expr, "numpy"),
                sp.lambdify(leaves, expr, "math"), sp.lambdify(leaves, plain)]
        for values in points:
            truth = float(g.gradients(values)[wrt])
            subs = at(g, values)
            numbers = [expr.subs(subs).evalf(), expr.evalf(subs=subs), plain.subs(subs).evalf(),
                       by_sympy.subs(subs).evalf()]
            for n in numbers:
                assert n.is_Number, (label, n)
                assert float(n) == pytest.approx(truth, rel=1e-12, abs=1e-12), (label, n)
            args = [values[name] for name in g.leaves]
            for f in runs:
                assert float(f(*args)) == pytest.approx(truth, rel=1e-12, abs=1e-12), label


# --- one op at a time ----------------------------------------------------------------


@pytest.mark.parametrize("name", OPS)
def test_each_op_goes_through_plain_sympy(name: str) -> None:
    check_everything(op_graph(name), "w", op_points())


@pytest.mark.parametrize("name", OPS)
def test_factors_and_adjoints_evaluate_and_lambdify(name: str) -> None:
    g = op_graph(name)
    exprs = [f.expr for fs in gg.derive(g, wrt="w").factors for f in fs]
    exprs += [t.expr for adj in gg.adjoints(g) for t in adj.terms]
    values = op_points(1, 1)[0]
    leaf_values = at(g, values)
    node_values = {symbols_of(g)[k]: sp.Float(float(v))
                   for k, v in g.evaluate(values).items()}
    for expr in exprs:
        syms = sorted(expr.free_symbols, key=str)
        number = expr.subs(node_values).evalf()
        assert number.is_Number, expr
        f = sp.lambdify(syms, expr)
        got = f(*[float(node_values[s]) for s in syms])
        assert float(got) == pytest.approx(float(number), rel=1e-12)
        assert gg_functions(expr.rewrite(sp.exp)) == []
    assert leaf_values  # the leaves are among the node values used above


@pytest.mark.parametrize("name", OPS)
def test_op_and_prime_evalf_to_50_digits(name: str) -> None:
    spec = ops.user_op("swish", sp.Symbol("t"), sp.Symbol("t") * ops.SIGMA.func(sp.Symbol("t"))) \
        if name == "swish" else ops.REGISTRY[name]
    t = sp.Symbol("t", real=True)
    exact = spec.define(t)
    for v in (sp.Rational(3, 7), sp.Integer(2)):
        got = spec.func(v).evalf(50)
        assert got.is_Float and abs(got - exact.subs(t, v).evalf(60)) < sp.Float(10) ** -48
        got = spec.prime(v).evalf(50)
        assert got.is_Float
        assert abs(got - sp.diff(exact, t).subs(t, v).evalf(60)) < sp.Float(10) ** -48


def test_a_prime_with_a_symbol_keeps_the_symbol_and_evaluates_its_numbers() -> None:
    z = sp.Symbol("z")
    out = ops.SIGMA.prime(z + sp.Rational(1, 2)).evalf()
    assert out.func is ops.SIGMA.prime and out.args[0] == z + sp.Float(0.5)


def test_sympy_diff_agrees_with_the_prime_definitions_to_third_order() -> None:
    t = sp.Symbol("t", real=True)
    for spec in (ops.SIGMA, ops.TANH, ops.SOFTPLUS):
        ours = sp.diff(spec.func(t), t, 3)
        truth = sp.diff(spec.define(t), t, 3)
        for v in (-2.5, 0.3, 1.7):
            assert float(ours.subs(t, v).evalf()) == pytest.approx(float(truth.subs(t, v)),
                                                                   rel=1e-12)


def test_relu_prime_is_zero_at_its_kink_everywhere() -> None:
    t = sp.Symbol("t")
    expr = ops.RELU.prime(t)
    assert expr.subs(t, 0).evalf() == 0
    assert expr.rewrite(sp.exp).subs(t, 0) == 0
    for module in (None, "numpy", "math"):
        f = sp.lambdify(t, expr) if module is None else sp.lambdify(t, expr, module)
        assert float(f(0.0)) == 0.0 and float(f(2.0)) == 1.0


# --- printed code needs no gradgraph names, and stays finite where floats overflow ----


@pytest.mark.parametrize("name", OPS)
def test_printed_code_names_nothing_of_gradgraph(name: str) -> None:
    g = op_graph(name)
    expr = gg.derive(g, wrt="w").expanded
    allowed = {"math", "numpy", "abs", "x"} | {s.name for s in expr.free_symbols}
    for code in (sp.pycode(expr), sp.printing.numpy.NumPyPrinter(
            {"allow_unknown_functions": True}).doprint(expr)):
        # Only modules, a builtin, the leaves and our lambdas' x are named: SymPy's own
        # functions print qualified (numpy.tanh, math.exp), ours print as those.
        names = {n.id for n in ast.walk(ast.parse(code, mode="eval")) if isinstance(n, ast.Name)}
        assert names <= allowed, code


@pytest.mark.parametrize("name", ["sigma", "tanh", "softplus", "swish"])
@pytest.mark.parametrize("module", ["numpy", "math"])
def test_lambdified_ops_are_finite_and_exact_far_out(name: str, module: str) -> None:
    t = sp.Symbol("t")
    spec = op_graph(name).nodes[4].expr.func.spec  # a = op(z)
    f = sp.lambdify(t, spec.func(t), module)
    fp = sp.lambdify(t, spec.prime(t), module)
    for v in (-745.0, -700.0, -40.0, 40.0, 700.0, 745.0):
        with np.errstate(all="raise", under="ignore"):
            got, got_p = float(f(v)), float(fp(v))
        want = float(spec.func(sp.Float(v)).evalf(30))
        want_p = float(spec.prime(sp.Float(v)).evalf(30))
        assert got == pytest.approx(want, rel=1e-12, abs=1e-300)
        assert got_p == pytest.approx(want_p, rel=1e-12, abs=1e-300)
        assert math.isfinite(got) and math.isfinite(got_p)


def test_gradgraphs_own_compiler_still_calls_the_kernels() -> None:
    source = gg.compile(op_graph("sigma")).source
    assert "_k_sigma(" in source


# --- the README's graph, the slides' chain, a layer expanded to scalars ---------------


def test_readme_graph() -> None:
    g = gg.Graph.from_text("z = w*x + b; a = sigma(z); C = (a - y)^2")
    check_everything(g, "w", [{"w": 2.0, "x": 0.48, "b": -0.2967, "y": 1.0}, *op_points(2)])


def chain_points(g: gg.Graph, n: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(3)
    return [{name: float(rng.normal()) for name in g.leaves} for _ in range(n)]


def test_slides_chain_deepest_weight() -> None:
    g = gg.examples.chain(3)
    check_everything(g, "w^(L-2)", chain_points(g, 1))


@pytest.mark.slow
def test_slides_chain_every_parameter() -> None:
    g = gg.examples.chain(3)
    for wrt in g.params:
        check_everything(g, wrt, chain_points(g, 2))


def mazur_scalars() -> tuple[gg.Graph, dict[str, float]]:
    net, numbers = gg.examples.mazur()
    g = gg.expand_to_scalars(net)
    return g, dict(zip(g.leaves, _flat_leaves(numbers, g), strict=True))


def test_layer_expanded_to_scalars_first_weight() -> None:
    g, values = mazur_scalars()
    check_everything(g, "W_00^(1)", [values])


@pytest.mark.slow
def test_layer_expanded_to_scalars_more_parameters() -> None:
    g, values = mazur_scalars()
    for wrt in ("b_0^(1)", "W_11^(1)", "W_11^(2)", "b_1^(2)"):
        check_everything(g, wrt, [values])


def _flat_leaves(numbers: dict, g: gg.Graph) -> list[float]:
    """The scalar graph's leaf values, read from the tensor example's numbers."""
    out = []
    for name in g.leaves:
        stem, _, rest = name.partition("_")
        idx, _, tag = rest.partition("^")
        base = stem + (f"^{tag}" if tag else "")
        arr = np.asarray(numbers[base], dtype=float)
        if len(idx) < arr.ndim:  # inputs carry a batch axis of one example
            arr = arr[0]
        out.append(float(arr[tuple(int(c) for c in idx)] if idx else arr))
    return out


@pytest.mark.parametrize("expr", [ops.LOG.func(-1), ops.LOG.func(0), ops.LOG.prime(0),
                                  ops.SQRT.func(-2), ops.SQRT.prime(0),
                                  ops.SIGMA.func(ops.LOG.func(-1))])
def test_evalf_outside_the_real_domain_stays_unevaluated(expr: sp.Expr) -> None:
    # SymPy's assumption queries evaluate numbers: they must get "unknown", never an error.
    assert expr.evalf() == expr
    assert (expr - 1).is_positive is None


def test_assumptions_see_the_numbers() -> None:
    assert (ops.SIGMA.func(2) - 1).is_negative
    assert ops.SIGMA.prime(-800).is_positive


@pytest.mark.parametrize("name", OPS)
def test_second_derivative_by_sympy_diff_agrees_with_the_elementary_form(name: str) -> None:
    # σ′′, swish′′, …: fdiff of the primes, against SymPy differentiating exp/log/Max.
    g = op_graph(name)
    w = symbols_of(g)["w"]
    expanded = gg.derive(g, wrt="w").expanded
    ours, truth = sp.diff(expanded, w), sp.diff(ops.elementary(expanded), w)
    for values in op_points(4):
        subs = at(g, values)
        assert float(ours.subs(subs).evalf()) == pytest.approx(
            float(truth.subs(subs).evalf()), rel=1e-12, abs=1e-12)
