"""The safe grammar: what it accepts, and hostile input it refuses fast."""

from __future__ import annotations

import time

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from gradgraph import ParseError, UnknownOpError, ops
from gradgraph.parse import parse_expression, parse_name, parse_program, symbol

from .strategies import programs

x, y, a, z, w, b = (symbol(n) for n in "xyazwb")


def sig(e: sp.Expr) -> sp.Expr:
    return ops.SIGMA.func(e)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2x", 2 * x),
        ("2(a - y)", 2 * (a - y)),
        ("a(1 - a)", a * (1 - a)),
        ("x^2", x**2),
        ("x**2", x**2),
        ("-x^2", -(x**2)),
        ("2^3^2", sp.Integer(2) ** 9),
        ("x^-1", 1 / x),
        ("sigma(z)", sig(z)),
        ("sigmoid(z)", sig(z)),
        ("σ(z)", sig(z)),
        ("sigma'(z)", ops.SIGMA.prime(z)),
        ("σ′(z)", ops.SIGMA.prime(z)),
        ("w x + b", w * x + b),
        ("x·y − a", x * y - a),
        ("1.5e-3 x", sp.Float(1.5e-3) * x),
    ],
)
def test_accepts_the_notation_of_the_slides(text: str, expected: sp.Expr) -> None:
    assert parse_expression(text) == expected


@pytest.mark.parametrize("name", ["gamma", "beta", "lambda", "E", "I", "N", "S", "Q", "O", "pi"])
def test_sympy_traps_are_plain_symbols(name: str) -> None:
    e = parse_expression(f"{name} * x + 1")
    assert e == symbol(name) * x + 1
    assert e.free_symbols == {symbol(name), x}


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a^(L-1)", "a^(L-1)"),
        ("a⁽ᴸ⁻¹⁾", "a^(L-1)"),
        ("w^(2)", "w^(2)"),
        ("w_jk", "w_jk"),
        ("C₀", "C_0"),
        ("λ", "lambda"),
        ("b⁽ᴸ⁾", "b^(L)"),
    ],
)
def test_names_with_layer_tags_and_subscripts(text: str, canonical: str) -> None:
    assert parse_name(text) == canonical


def test_program_with_assignments_user_ops_and_declarations() -> None:
    program = parse_program("w, b: param\nswish(x) = x*sigma(x)\nz = w*x + b; a = swish(z)")
    kinds = [type(s).__name__ for s in program.statements]
    assert kinds == ["Declare", "OpDef", "Assign", "Assign"]
    assert program.order["w"] < program.order["x"] < program.order["z"]


def test_misspelt_function_names_the_column_and_suggests() -> None:
    with pytest.raises(UnknownOpError) as err:
        parse_expression("2 + sigmod(x)")
    assert str(err.value) == (
        "unknown function 'sigmod' at line 1, column 5; did you mean 'sigmoid'?"
    )


CANARY_PAYLOADS = [
    "__import__('os').system('touch {canary}')",
    "().__class__.__base__.__subclasses__()",
    "sin(\"__import__('os').system('touch {canary}')\")",
    "lambda:1",
    "[x for x in y]",
    "f'{{x}}'",
    "x if y else z",
    "x;y",
    "x=1",
    "9**9**9**9",
    "((9**9)**999)**999",
    "1e999999999",
    "1e309",
    "factorial(10**10)",
    "gamma(10**20)",
    "(" * 5000 + "x" + ")" * 5000,
    "+".join(["x"] * 20000),
    "x" * 10_000_000,
    "-" * 5000 + "x",
    "open('{canary}', 'w')",
    "exec('1')",
    "x\x00y",
    "х + 1",  # Cyrillic
    'x"',
    "x\\",
]


@pytest.mark.parametrize("payload", CANARY_PAYLOADS, ids=lambda p: repr(p[:25]))
def test_hostile_input_is_refused_fast_and_runs_nothing(payload: str, tmp_path) -> None:
    canary = tmp_path / "canary"
    text = payload.replace("{canary}", str(canary))
    start = time.perf_counter()
    with pytest.raises(ParseError):
        parse_expression(text)
    assert time.perf_counter() - start < 1.0
    assert not canary.exists()


def test_exponent_limit_message() -> None:
    with pytest.raises(ParseError, match="exponent too large"):
        parse_expression("9**9**9**9")
    with pytest.raises(ParseError, match="out of range"):
        parse_expression("1e999999999")


TOKENS = st.sampled_from(
    ["x", "y", "2", "0.5", "+", "-", "*", "/", "^", "**", "(", ")", "sigma", "σ", "'", "′",
     " ", "=", ",", ";", "a^(L-1)", "w_jk", "sigmod", "__", ".", "\"", "[", "e9", "1e999"]
)


@given(st.lists(TOKENS, max_size=30).map("".join))
def test_token_soup_gives_an_expression_or_a_parse_error(text: str) -> None:
    try:
        result = parse_expression(text)
    except ParseError:
        return
    assert isinstance(result, sp.Basic)


@given(st.text(max_size=40))
def test_any_text_gives_an_expression_or_a_parse_error(text: str) -> None:
    try:
        parse_expression(text)
    except ParseError:
        pass


@given(programs())
def test_what_gradgraph_prints_reads_back(text: str) -> None:
    """Copying a printed formula (x², σ′(z), u₁, √x, 2(a − y)) back in gives the same maths."""
    from gradgraph import Graph, adjoints
    from gradgraph.notation import to_unicode

    g = Graph.from_text(text)
    printed = [n.expr for n in g.nodes if n.expr is not None]
    printed += [t.expr for a in adjoints(g) for t in a.terms]
    for expr in printed:
        again = parse_expression(to_unicode(expr, g.order), names={n.name for n in g.nodes})
        assert sp.expand(again - expr) == 0, to_unicode(expr)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(a − y)²", (a - y) ** 2),
        ("x⁻¹", 1 / x),
        ("1 − tanh²(w)", 1 - ops.TANH.func(w) ** 2),
        ("w⋅x", w * x),
        ("√x + 2√(x + 1)", ops.SQRT.func(x) + 2 * ops.SQRT.func(x + 1)),
        ("u₁ + u1 + u_1", 3 * symbol("u_1")),
    ],
)
def test_printed_unicode_forms(text: str, expected: sp.Expr) -> None:
    assert parse_expression(text) == expected


def test_max_and_min_read_through_relu_with_the_tie_to_the_first_argument() -> None:
    """Issue #16 item 6: max/min and the hinge loss, with a stated subgradient."""
    import numpy as np

    import gradgraph as gg
    from gradgraph import Graph, ops

    relu = ops.RELU.func
    assert parse_expression("max(0, 1 - y*z)") == relu(1 - symbol("y") * symbol("z"))
    assert parse_expression("min(a, b)") == symbol("a") - relu(symbol("a") - symbol("b"))
    g = Graph.from_text("C = max(w, x)")
    assert g.gradients({"w": 2.0, "x": 2.0})["w"] == 1.0  # a tie goes to the first
    assert g.gradients({"w": 1.0, "x": 2.0})["w"] == 0.0
    assert Graph.from_text("C = min(w, x)").gradients({"w": 2.0, "x": 2.0})["w"] == 1.0
    hinge = Graph.from_text("C = max(0, 1 - y*(w*x + b))")
    assert gg.gradcheck(hinge, {"w": 0.5, "b": 0.1, "x": np.array([1.0, 2.0, -3.0]),
                             "y": np.array([1.0, -1.0, 1.0])}).ok
    with pytest.raises(ParseError, match="max takes 2 arguments"):
        parse_expression("max(x)")


def test_e_to_a_power_is_refused_unless_e_is_declared() -> None:
    """Issue #16 item 6: e^x is never silently a symbol named e."""
    from gradgraph import Graph

    with pytest.raises(ParseError, match=r"did you mean exp\(…\)"):
        Graph.from_text("C = e^x")
    with pytest.raises(ParseError, match=r"did you mean exp\(…\)"):
        parse_expression("2*e^(-x)")
    g = Graph.from_text("e: input\nx: input\nC = e^x")
    assert g["C"].expr == symbol("e") ** symbol("x")
    assert parse_expression("exp(x)") == ops.EXP.func(symbol("x"))


def test_a_lone_numeric_layer_tag_is_refused_as_a_likely_power() -> None:
    """Issue #16 item 6: x^(2) with no layer structure elsewhere is not silently a tag."""
    from gradgraph import Graph

    with pytest.raises(ParseError, match=r"did you mean x\^2 \(a power\) or x⁽²⁾ \(layer 2\)"):
        Graph.from_text("C = x^(2) + y")
    assert Graph.from_text("C = x^2 + y")["C"].expr == symbol("x") ** 2 + symbol("y")
    g = Graph.from_text("a^(1) = sigma(w^(1)*x)\nC = (a^(1) - y)^2")
    assert "w^(1)" in g


@pytest.mark.parametrize("text", [
    "C = x^(2) + y^(2)",  # issue #16: two squares, not two layer-2 leaves
    "C = x^(2)*w + y^(3)",
    "u = w*x^(2)\nC = u + y^(2)",  # tags on leaves only: nothing is layered
])
def test_numeric_tags_in_a_program_without_layers_are_refused(text: str) -> None:
    with pytest.raises(ParseError, match=r"nothing in this program has layers at line \d, "
                                         r"column \d+; did you mean x\^2 \(a power\) or "
                                         r"x⁽²⁾ \(layer 2\)\?"):
        parse_program(text)


@pytest.mark.parametrize(("text", "layered"), [
    ("a^(1) = sigma(w*x)\nC = (a^(1) - y^(2))^2", "y^(2)"),  # an assignment has a tag
    ("C = w^(1)*x + w^(2)*y", "w^(2)"),  # one name in two layers
    ("C = b^(L) + x^(2)", "x^(2)"),  # a letter tag is never a power
    ("x^(2): input\nC = x^(2) + y", "x^(2)"),  # declared as written
    ("C = x⁽²⁾ + y", "x^(2)"),  # written as a superscript tag
    ("C = x⁽²⁾ + y^(2)", "y^(2)"),
])
def test_numeric_tags_are_layer_tags_where_the_program_has_layers(text: str,
                                                                  layered: str) -> None:
    program = parse_program(text)
    assert layered in {s.name for st in program.statements if hasattr(st, "expr")
                       for s in st.expr.free_symbols}


def test_a_square_written_as_a_power_reads_as_a_square() -> None:
    from gradgraph import Graph

    g = Graph.from_text("C = x^2 + y^2")
    assert g["C"].expr == symbol("x") ** 2 + symbol("y") ** 2
