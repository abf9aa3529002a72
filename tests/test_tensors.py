"""Layers: tensor nodes, index-form derivations, kernels against their definitions,
layered against scalar-expanded graphs, gradcheck, Mazur's worked example."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

import gradgraph as gg
from gradgraph import Graph, ShapeError, ValueInputError, derive, examples, ops
from gradgraph.build import expand_to_scalars
from gradgraph.parse import symbol
from gradgraph.shapes import scalar_name

MATRIX = """W: param(2, 2); b: param(2); x: input(2); y: input(2)
z = W x + b
a = sigma(z)
C = sum((a - y)^2)
"""
INDEX = """W: param(2, 2); b: param(2); x: input(2); y: input(2)
z_j = sum_k W_jk x_k + b_j
a = sigma(z)
C = sum_j (a_j - y_j)^2
"""


def random_values(graph: Graph, batch: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = {}
    for n in graph.nodes:
        if n.is_leaf:
            shape = (batch, *n.shape) if n.role == "input" else n.shape
            values[n.name] = rng.normal(size=shape)
    if "y" in values and graph[graph.cost].kind == "cross_entropy":
        k = graph["y"].shape[0]
        values["y"] = np.eye(k)[rng.integers(0, k, batch)]
    return values


def test_matrix_and_index_forms_are_the_same_graph() -> None:
    one, two = Graph.from_text(MATRIX), Graph.from_text(INDEX)
    assert one.definitions() == two.definitions() == (
        "zⱼ = Σₖ Wⱼₖ·xₖ + bⱼ\naⱼ = σ(zⱼ)\nC = Σⱼ (aⱼ − yⱼ)²")
    values = random_values(one)
    assert gg.compile(one)(values).loss == gg.compile(two)(values).loss
    assert [n.kind for n in one] == [n.kind for n in two]


def test_slides_index_notation() -> None:
    g = Graph.from_text(MATRIX)
    assert str(derive(g, wrt="W")) == (
        "∂C/∂Wⱼₖ = ∂zⱼ/∂Wⱼₖ · ∂aⱼ/∂zⱼ · ∂C/∂aⱼ\n"
        "        = xₖ · σ′(zⱼ) · 2(aⱼ − yⱼ)")
    assert str(derive(g, wrt="x")) == (
        "∂C/∂xₖ = Σⱼ ∂zⱼ/∂xₖ · ∂aⱼ/∂zⱼ · ∂C/∂aⱼ\n"
        "       = Σⱼ Wⱼₖ · σ′(zⱼ) · 2(aⱼ − yⱼ)")
    assert derive(g, wrt="x").latex().startswith(
        r"\frac{\partial C}{\partial x_{k}} = \sum_{j} \frac{\partial z_{j}}{\partial x_{k}}")


def test_matrix_form_of_backprop() -> None:
    g = examples.mlp([4, 5, 3], activation="sigma")
    assert derive(g, wrt="W^(1)").matrix_unicode() == (
        "δ⁽²⁾ = ∂C/∂z⁽²⁾ = a⁽²⁾ − y\n"
        "δ⁽¹⁾ = ∂C/∂z⁽¹⁾ = σ′(z⁽¹⁾) ⊙ W⁽²⁾ᵀ δ⁽²⁾\n"
        "∂C/∂W⁽¹⁾ = δ⁽¹⁾ xᵀ")


def test_softmax_with_cross_entropy_gives_a_minus_y() -> None:
    g = examples.mlp([3, 4])
    d = derive(g, wrt="z^(1)")
    assert d.factors_unicode() == "aⱼ⁽¹⁾ − yⱼ"
    assert d.factors[0][0].via == "a^(1)"
    assert g.definitions().splitlines()[-2:] == [
        "aⱼ⁽¹⁾ = exp(zⱼ⁽¹⁾) / Σᵢ exp(zᵢ⁽¹⁾)", "C = −Σⱼ yⱼ·log(aⱼ⁽¹⁾)"]


SOFTMAX_ALONE = "W: param(3, 2); x: input(2); y: input(3)\nz = W x\na = softmax(z)\n" \
                "C = sum((a - y)^2)"


def test_softmax_without_cross_entropy_sums_over_its_outputs() -> None:
    """∂C/∂zⱼ = Σᵢ ∂C/∂aᵢ · ∂aᵢ/∂zⱼ: every aᵢ depends on zⱼ, so i is summed, not free."""
    d = derive(Graph.from_text(SOFTMAX_ALONE), "C", "z")
    assert str(d).splitlines() == ["∂C/∂zⱼ = Σᵢ ∂aᵢ/∂zⱼ · ∂C/∂aᵢ",
                                   "       = Σᵢ aᵢ(δᵢⱼ − aⱼ) · 2(aᵢ − yᵢ)"]
    assert r"\sum_{i} a_{i} \left(\delta_{ij} - a_{j}\right)" in d.latex()
    assert d.matrix_unicode().splitlines()[0] == "δ = ∂C/∂z = (diag(a) − a aᵀ) 2(a − y)"


def test_softmax_derivation_agrees_with_sympy_diff_of_the_scalar_expansion() -> None:
    g = Graph.from_text(SOFTMAX_ALONE)
    scalar = expand_to_scalars(g)
    rng = np.random.default_rng(3)
    w, x, y = rng.normal(size=(3, 2)), rng.normal(size=2), rng.uniform(size=3)
    leaves = {symbol(scalar_name("W", (r, c))): w[r, c] for r in range(3) for c in range(2)}
    leaves.update({symbol(scalar_name("x", (k,))): x[k] for k in range(2)})
    leaves.update({symbol(scalar_name("y", (k,))): y[k] for k in range(3)})
    z = w @ x
    a = np.exp(z) / np.exp(z).sum()
    layer = derive(g, "C", "z").expr  # one path; i is the Jacobian's summed letter
    for j in range(3):
        expected = float(ops.elementary(derive(scalar, "C", scalar_name("z", (j,)))
                                        .expanded).xreplace(leaves))
        total = 0.0
        for i in range(3):
            values = {symbol("a_i"): a[i], symbol("a_j"): a[j], symbol("y_i"): y[i],
                      sp.Symbol("i"): i, sp.Symbol("j"): j}
            total += float(layer.xreplace(values))
        assert total == pytest.approx(expected, rel=1e-10)


def test_notation_prints_kronecker_delta_and_index_sums() -> None:
    from gradgraph.notation import to_latex, to_unicode
    from gradgraph.parse import IndexSum

    delta = sp.KroneckerDelta(sp.Symbol("i"), sp.Symbol("j"))
    assert to_unicode(delta) == "δᵢⱼ" and to_latex(delta) == r"\delta_{ij}"
    term = IndexSum(symbol("W_jk") * symbol("x_k"), sp.Symbol("k"))
    assert to_unicode(term) == "Σₖ Wⱼₖ·xₖ"
    assert to_latex(term) == r"\sum_{k} W_{jk} x_{k}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("W: param(3, 4); x: input(2)\nC = sum(W x)", "layer 'C' expects 4 inputs, got 2"),
        ("W: param(3, 2); b: param(2); x: input(2)\nz = W x + b\nC = sum(z)",
         "layer 'z' has 3 units but its bias has shape (2,)"),
        ("a: input(2); y: input(3)\nC = sum(a - y)", "cannot combine shapes (2,) and (3,)"),
        ("W: param(3, 2); x: input(2)\nC = sum(x W)", "write the matrix first"),
        ("x: input(2)\nC = softmax(x)\nD = sum(C)", "D"),
        ("x: input(2)\nC = softmax(x)", "the cost 'C' must be a number, but it has shape (2,)"),
    ],
)
def test_shapes_are_checked_when_the_graph_is_built(text: str, message: str) -> None:
    if message == "D":
        g = Graph.from_text(text)  # a softmax output is a legal (vector) node
        assert g["C"].shape == (2,)
        return
    with pytest.raises(ShapeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Graph.from_text(text)


def test_binary_cross_entropy_from_logits_gives_sigma_minus_y() -> None:
    g = Graph.from_text("W: param(1, 2); x: input(2); y: input(1)\n"
                        "z = W x\nC = sum(softplus(z) - y*z)")
    assert derive(g, wrt="z").factors_unicode() == "σ(zⱼ) · 1 − yⱼ"
    values = {"W": np.array([[1000.0, 0.0]]), "x": np.array([[1.0, 0.0]]),
              "y": np.array([[0.0]])}
    with np.errstate(all="raise", under="ignore"):
        result = gg.compile(g)(values)
    assert np.isfinite(result.loss) and result.loss == pytest.approx(1000.0)


def test_values_must_have_the_declared_shapes() -> None:
    g = Graph.from_text(MATRIX)
    values = random_values(g)
    values["W"] = np.ones((3, 2))
    with pytest.raises(ValueInputError, match=r"'W' must have shape \(2, 2\), got \(3, 2\)"):
        gg.compile(g)(values)


# --- kernels against their symbolic definitions ------------------------------------

KERNEL_GRAPHS = {
    "affine+sum": MATRIX,
    "softmax+cross_entropy": "W: param(3, 2); b: param(3); x: input(2); y: input(3)\n"
                             "z = W x + b\na = softmax(z)\nC = cross_entropy(a, y)",
    "softmax alone": "W: param(3, 2); x: input(2); y: input(3)\n"
                     "z = W x\na = softmax(z)\nC = sum((a - y)^2)",
    "cross_entropy alone": "W: param(3, 2); x: input(2); y: input(3)\n"
                           "a = sigma(W x)\nC = cross_entropy(a, y)",
    "user op, binary cross-entropy from logits":
        "W: param(2, 2); b: param(2); x: input(2); y: input(2)\nswish(t) = t*sigma(t)\n"
        "a = swish(W x + b)\nC = sum(softplus(a) - y*a)",
    "tanh, regulariser": "W: param(2, 3); b: param(2); x: input(3); y: input(2)\n"
                         "a = tanh(W x + b)\nC = sum((a - y)^2) + 0.1*sum(W^2)",
}


def scalar_values(graph: Graph, values: dict, example: int) -> dict[str, float]:
    out = {}
    for name in graph.leaves:
        arr = np.asarray(values[name])
        arr = arr[example] if graph[name].role == "input" else arr
        for index in np.ndindex(*arr.shape):
            out[scalar_name(name, index)] = float(arr[index])
    return out


@pytest.mark.parametrize("text", KERNEL_GRAPHS.values(), ids=KERNEL_GRAPHS.keys())
def test_tensor_kernels_equal_the_expanded_scalar_definition(text: str) -> None:
    g = Graph.from_text(text)
    values = random_values(g, batch=2)
    forward = gg.compile(g).forward(values)
    scalar = expand_to_scalars(g)
    for example in range(2):
        at = {symbol(k): sp.Rational(v) for k, v in scalar_values(g, values, example).items()}
        exact = ops.elementary(scalar.expand(scalar.cost)).xreplace(at)
        assert float(exact.evalf(30)) == pytest.approx(forward[g.cost][example], rel=1e-12)


@pytest.mark.parametrize("text", KERNEL_GRAPHS.values(), ids=KERNEL_GRAPHS.keys())
def test_tensor_backward_passes_central_differences(text: str) -> None:
    g = Graph.from_text(text)
    report = gg.gradcheck(g, random_values(g, batch=3))
    assert report.ok, str(report)


def test_gradcheck_catches_a_wrong_partial() -> None:
    g = examples.mlp([3, 4, 2], activation="tanh")
    object.__setattr__(ops.TANH, "prime_from_output", lambda a: 1 + a**2)
    try:
        report = gg.gradcheck(g, random_values(g))
    finally:
        object.__setattr__(ops.TANH, "prime_from_output", lambda a: 1 - a**2)
    assert not report.ok
    assert report.worst.node in ("W^(1)", "b^(1)", "x", "z^(1)")
    assert "disagrees" in str(report)


# --- layered = scalar-expanded -----------------------------------------------------


def instantiate(d: gg.Derivation, index: dict[str, int], graph: Graph) -> sp.Expr:
    """The layered derivation at given index values, in scalar names (Σ expanded)."""
    free = set(graph[d.wrt].letters)
    total = sp.S.Zero
    for factors in d.factors:
        letters = sorted({c for f in factors for n in (f.child, f.parent, f.via) if n
                          for c in graph[n].letters} - free)
        extents = {c: graph[n].shape[graph[n].letters.index(c)]
                   for f in factors for n in (f.child, f.parent) for c in graph[n].letters}
        for values in itertools.product(*(range(extents[c]) for c in letters)):
            at = {**index, **dict(zip(letters, values, strict=True))}
            subs = {n.element_symbol: symbol(scalar_name(n.name, tuple(at[c]
                    for c in n.letters))) for n in graph.nodes
                    if n.letters and all(c in at for c in n.letters)}
            total += sp.Mul(*(f.expr.xreplace(subs) for f in factors))
    return total


@pytest.mark.parametrize("sizes", [[1, 1], [2, 3], [3, 2, 2], [2, 2, 3]])
def test_layered_derivations_equal_scalar_expanded_ones(sizes: list[int]) -> None:
    g = examples.mlp(sizes, activation="sigma", output="sigma", loss="squared")
    scalar = expand_to_scalars(g)
    for name in g.params:
        node = g[name]
        for index in np.ndindex(*node.shape):
            d = derive(g, wrt=name)
            ours = instantiate(d, dict(zip(node.letters, index, strict=True)), g)
            theirs = derive(scalar, wrt=scalar_name(name, index)).expr
            assert sp.expand(ours - theirs) == 0, (name, index)


@pytest.mark.parametrize("sizes", [[2, 3], [3, 2, 2]])
def test_layered_and_scalar_graphs_give_the_same_numbers(sizes: list[int]) -> None:
    g = examples.mlp(sizes)
    values = random_values(g, batch=1, seed=3)
    layered = gg.compile(g)(values).gradients
    scalar = expand_to_scalars(g)
    grads = scalar.gradients(scalar_values(g, values, 0))
    for name in g.params:
        for index in np.ndindex(*g[name].shape):
            assert grads[scalar_name(name, index)] == pytest.approx(
                layered[name][index], rel=1e-10, abs=1e-14)


def test_mazur_worked_example() -> None:
    g, values = examples.mazur()
    result = gg.compile(g)(values)
    assert result.loss == pytest.approx(0.298371109, abs=1e-9)
    w2 = values["W^(2)"] - 0.5 * result.gradients["W^(2)"]
    w1 = values["W^(1)"] - 0.5 * result.gradients["W^(1)"]
    assert w2[0, 0] == pytest.approx(0.35891648, abs=1e-8)  # his w5
    assert w1[0, 0] == pytest.approx(0.149780716, abs=1e-9)  # his w1


def test_vanishing_gradients_are_one_call_away() -> None:
    def layer_norms(activation: str) -> list[float]:
        g = examples.mlp([8] * 11 + [2], activation=activation)  # 10 hidden layers
        rng = np.random.default_rng(0)
        values = random_values(g, batch=16)
        for name in g.params:  # He-like scale, zero biases
            values[name] = (rng.normal(scale=np.sqrt(2 / 8), size=g[name].shape)
                            if name.startswith("W") else np.zeros(g[name].shape))
        grads = gg.compile(g)(values).gradients
        return [float(np.linalg.norm(grads[f"W^({i})"])) for i in range(1, 12)]

    sigmoid, relu = layer_norms("sigma"), layer_norms("relu")
    assert sigmoid[0] / sigmoid[-1] < 1e-3
    assert relu[0] / relu[-1] > 0.05


def test_training_step_matches_the_full_program() -> None:
    g = examples.mlp([5, 4, 3])
    values = random_values(g, batch=7)
    compiled = gg.compile(g)
    full = compiled(values)
    loss, grads = compiled.step(values)
    assert loss == pytest.approx(full.loss, rel=1e-14)
    for name in g.params:
        np.testing.assert_allclose(grads[name], full.gradients[name], rtol=1e-13)
    assert "g0 " not in compiled.source.split("def step")[1]  # no input adjoint in training


@pytest.mark.parametrize("text", [
    examples.mlp_text([6, 5, 4, 3], activation="relu"),
    # a layer's bias computed from another layer: its adjoint is the layer's own (g_v = g_z),
    # so the step must not scale it in place
    "x: input(2); y: input(3)\nU: param(2, 2); W: param(3, 2); V: param(3, 2); c: param(3)\n"
    "h = tanh(U x)\nv = tanh(V x + c)\nz = W h + v\na = relu(z)\nC = sum((a - y)^2)",
])
def test_in_place_scaling_in_the_step_changes_no_number(text: str) -> None:
    g = Graph.from_text(text)
    values = random_values(g, batch=5, seed=4)
    compiled = gg.compile(g)
    full = compiled(values)
    loss, grads = compiled.step(values)
    for name in g.params:
        np.testing.assert_allclose(grads[name], full.gradients[name], rtol=1e-12)
