"""Optimizers: compiled steps against the papers' algorithms written out by hand."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest

from gradgraph import optim
from gradgraph.errors import GradgraphError, TrainingError

# f(θ) = ½·Σ aᵢθᵢ², so g = a ⊙ θ. A zero curvature gives an element whose gradient is 0.
A = [1.0, 10.0, 0.5]
THETA0 = [1.0, -2.0, 0.5]


# --------------------------------------------------------------------------------------
# Independent references: the algorithms written directly in plain Python floats, one
# element at a time, from the papers (not from the module).
# --------------------------------------------------------------------------------------
def ref_sgd(lr, momentum=0.0, nesterov=False, lrs=None):
    def run(theta, steps):
        out, v = [], [0.0] * len(theta)
        theta = list(theta)
        for t in range(1, steps + 1):
            rho = lrs(t) if lrs else lr
            for i in range(len(theta)):
                g = A[i] * theta[i]
                if momentum == 0 and not nesterov:
                    theta[i] = theta[i] - rho * g
                    continue
                v[i] = momentum * v[i] - rho * g
                if nesterov:
                    theta[i] = theta[i] + momentum * v[i] - rho * g
                else:
                    theta[i] = theta[i] + v[i]
            out.append(list(theta))
        return out

    return run


def ref_sign(lr):
    def run(theta, steps):
        theta, out = list(theta), []
        for _ in range(steps):
            for i in range(len(theta)):
                g = A[i] * theta[i]
                s = (g > 0) - (g < 0)
                theta[i] -= lr * s
            out.append(list(theta))
        return out

    return run


def ref_adagrad(lr, eps, init):
    def run(theta, steps):
        theta, out, G = list(theta), [], [init] * len(theta)
        for _ in range(steps):
            for i in range(len(theta)):
                g = A[i] * theta[i]
                G[i] += g * g
                theta[i] -= lr * g / (math.sqrt(G[i]) + eps)
            out.append(list(theta))
        return out

    return run


def ref_rmsprop(lr, rho, eps, placement, centered):
    def run(theta, steps):
        n = len(theta)
        theta, out, r, gbar = list(theta), [], [0.0] * n, [0.0] * n
        for _ in range(steps):
            for i in range(n):
                g = A[i] * theta[i]
                r[i] = rho * r[i] + (1 - rho) * g * g
                scale = r[i]
                if centered:
                    gbar[i] = rho * gbar[i] + (1 - rho) * g
                    scale = r[i] - gbar[i] ** 2
                if placement == "keras":
                    theta[i] -= lr * g / math.sqrt(scale + eps)
                else:
                    theta[i] -= lr * g / (math.sqrt(scale) + eps)
            out.append(list(theta))
        return out

    return run


def ref_adam(lr, b1, b2, eps, correct=True, decay=0.0):
    """Kingma & Ba Alg. 1 (and Loshchilov & Hutter's decoupled decay when decay > 0)."""

    def run(theta, steps):
        n = len(theta)
        theta, out, m, v = list(theta), [], [0.0] * n, [0.0] * n
        for t in range(1, steps + 1):
            for i in range(n):
                g = A[i] * theta[i]  # gradient at θ_{t−1}, before the decay
                theta[i] -= lr * decay * theta[i]
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                mh, vh = (m[i] / (1 - b1**t), v[i] / (1 - b2**t)) if correct else (m[i], v[i])
                theta[i] -= lr * mh / (math.sqrt(vh) + eps)
            out.append(list(theta))
        return out

    return run


def ref_adamax(lr, b1, b2):
    def run(theta, steps):
        n = len(theta)
        theta, out, m, u = list(theta), [], [0.0] * n, [0.0] * n
        for t in range(1, steps + 1):
            for i in range(n):
                g = A[i] * theta[i]
                m[i] = b1 * m[i] + (1 - b1) * g
                u[i] = max(b2 * u[i], abs(g))
                theta[i] -= (lr / (1 - b1**t)) * m[i] / u[i]
            out.append(list(theta))
        return out

    return run


CASES = {
    "sgd": (lambda: optim.SGD(lr=0.05), ref_sgd(0.05)),
    "sgd-step-decay": (
        lambda: optim.SGD(lr=0.05, schedule=optim.StepDecay(every=2, factor=0.5)),
        ref_sgd(0.05, lrs=lambda t: 0.05 * 0.5 ** ((t - 1) // 2)),
    ),
    "momentum": (lambda: optim.SGD(lr=0.05, momentum=0.9), ref_sgd(0.05, 0.9)),
    "momentum-alias": (lambda: optim.Momentum(lr=0.05), ref_sgd(0.05, 0.9)),
    "nesterov": (lambda: optim.SGD(lr=0.05, momentum=0.8, nesterov=True), ref_sgd(0.05, 0.8, True)),
    "nesterov-alias": (lambda: optim.Nesterov(lr=0.05), ref_sgd(0.05, 0.9, True)),
    "sign": (lambda: optim.Sign(lr=0.1), ref_sign(0.1)),
    "adagrad": (lambda: optim.Adagrad(), ref_adagrad(1e-2, 1e-10, 0.0)),
    "adagrad-init": (
        lambda: optim.Adagrad(lr=0.1, epsilon=1e-3, initial_accumulator=0.1),
        ref_adagrad(0.1, 1e-3, 0.1),
    ),
    "rmsprop-keras": (lambda: optim.RMSprop(), ref_rmsprop(1e-3, 0.9, 1e-7, "keras", False)),
    "rmsprop-pytorch": (
        lambda: optim.RMSprop(lr=1e-2, rho=0.99, epsilon=1e-8, eps_placement="pytorch"),
        ref_rmsprop(1e-2, 0.99, 1e-8, "pytorch", False),
    ),
    "rmsprop-centered": (
        lambda: optim.RMSprop(lr=1e-2, centered=True),
        ref_rmsprop(1e-2, 0.9, 1e-7, "keras", True),
    ),
    "rmsprop-centered-pytorch": (
        lambda: optim.RMSprop(lr=1e-2, epsilon=1e-8, eps_placement="pytorch", centered=True),
        ref_rmsprop(1e-2, 0.9, 1e-8, "pytorch", True),
    ),
    "adam": (lambda: optim.Adam(lr=0.1), ref_adam(0.1, 0.9, 0.999, 1e-8)),
    "adam-no-correction": (
        lambda: optim.Adam(lr=0.1, bias_correction=False),
        ref_adam(0.1, 0.9, 0.999, 1e-8, correct=False),
    ),
    "adamax": (lambda: optim.AdaMax(lr=0.1), ref_adamax(0.1, 0.9, 0.999)),
    "adamw": (
        lambda: optim.AdamW(lr=0.1, weight_decay=0.5),
        ref_adam(0.1, 0.9, 0.999, 1e-8, decay=0.5),
    ),
}


def run_module(opt, steps=3):
    params = {"w": np.array(THETA0)}
    w = params["w"]
    out = []
    for _ in range(steps):
        opt.step(params, {"w": np.array(A) * params["w"]})
        out.append(params["w"].tolist())
    assert params["w"] is w  # updated in place, never rebound
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_first_three_steps_match_the_papers_algorithm(case):
    make, ref = CASES[case]
    got = run_module(make())
    want = ref(THETA0, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    # ...and the reference really moved (a test that could not fail proves nothing).
    assert want[0] != THETA0


def test_every_named_optimizer_is_covered_by_a_reference():
    covered = {type(make()).__name__ for make, _ in CASES.values()}
    assert covered == {cls.__name__ for cls in optim._REGISTRY.values()}


def test_step_is_in_place_and_state_is_kept_by_name():
    opt = optim.Adam(lr=0.1)
    w, b = np.ones((2, 3)), np.zeros(3)
    params = {"W": w, "b": b}
    opt.step(params, {"W": np.ones((2, 3)), "b": np.full(3, -1.0)})
    assert params["W"] is w and params["b"] is b
    np.testing.assert_allclose(w, 0.9, rtol=1e-6)
    np.testing.assert_allclose(b, 0.1, rtol=1e-6)
    assert set(opt.state) == {"W", "b"}
    assert set(opt.state["W"]) == {"m", "v"}
    np.testing.assert_allclose(opt.state["b"]["m"], -0.1)
    assert opt.iterations == 1
    opt.reset()
    assert opt.state == {} and opt.iterations == 0


def test_float32_parameters_stay_float32():
    opt = optim.Adam()
    w = np.ones(4, dtype=np.float32)
    opt.step({"w": w}, {"w": np.ones(4, dtype=np.float32)})
    assert w.dtype == np.float32 and opt.state["w"]["m"].dtype == np.float32
    assert w[0] < 1


def test_adam_without_bias_correction_first_step_is_the_ablation_size():
    lr, b1, b2 = 1e-3, 0.9, 0.999
    opt = optim.Adam(lr=lr, beta_1=b1, beta_2=b2, bias_correction=False)
    g = np.array([2.0, -0.5, 3.0])
    w = np.zeros(3)
    opt.step({"w": w}, {"w": g})
    expected = -lr * (1 - b1) / math.sqrt(1 - b2) * np.sign(g)
    np.testing.assert_allclose(w, expected, rtol=1e-5)
    # With the correction the first step is about α·sign(g): 1/√(1−β2)·(1−β1) ≈ 3.16× smaller.
    corrected = np.zeros(3)
    optim.Adam(lr=lr).step({"w": corrected}, {"w": g})
    np.testing.assert_allclose(corrected, -lr * np.sign(g), rtol=1e-5)


def test_rmsprop_epsilon_placement_first_step_for_tiny_gradients():
    g, lr, rho = 1e-4, 1e-3, 0.9
    steps = {}
    for placement, eps in (("keras", 1e-7), ("pytorch", 1e-8)):
        w = np.zeros(1)
        optim.RMSprop(lr=lr, rho=rho, epsilon=eps, eps_placement=placement).step(
            {"w": w}, {"w": np.array([g])}
        )
        steps[placement] = -w[0]
    r = (1 - rho) * g * g
    assert steps["keras"] == pytest.approx(lr * g / math.sqrt(r + 1e-7), rel=1e-12)
    assert steps["pytorch"] == pytest.approx(lr * g / (math.sqrt(r) + 1e-8), rel=1e-12)
    # The values the seed notes document (3 significant figures): a 10x difference.
    assert f"{steps['keras']:.2e}" == "3.15e-04"
    assert f"{steps['pytorch']:.2e}" == "3.16e-03"


def test_sign_of_zero_gradient_is_no_step():
    w = np.array([1.0, 2.0])
    optim.Sign(lr=0.5).step({"w": w}, {"w": np.array([0.0, -3.0])})
    np.testing.assert_array_equal(w, [1.0, 2.5])


def test_adamax_zero_gradient_from_the_start_gives_no_step_and_no_warning():
    w = np.array([1.0, 2.0])
    opt = optim.AdaMax()
    for _ in range(2):
        opt.step({"w": w}, {"w": np.array([0.0, 1.0])})
    assert w[0] == 1.0 and w[1] < 2.0
    np.testing.assert_array_equal(opt.state["w"]["u"][0], 0.0)


def test_adamw_decay_is_not_divided_by_the_second_moment():
    # Zero gradient: Adam's step is 0, so only the decoupled decay θ ← θ − ρλθ acts.
    w = np.array([2.0, -4.0])
    optim.AdamW(lr=0.1, weight_decay=0.5).step({"w": w}, {"w": np.zeros(2)})
    np.testing.assert_allclose(w, [2.0 * 0.95, -4.0 * 0.95])


# --------------------------------------------------------------------------------------
# The slides' Adam (E2: trailing ·∇C) runs away; ours converges.
# --------------------------------------------------------------------------------------
def slides_adam(theta, lr, b1, b2, eps, steps):
    """The deck's rule: constant 1/(1−β) correction and Δθ = −ρ·v̂/(√η̂+ε)·∇C."""
    m = v = 0.0
    for _ in range(steps):
        g = theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1)) / (math.sqrt(v / (1 - b2)) + eps) * g
    return theta


def test_slides_erroneous_adam_is_not_what_adam_does():
    opt = optim.Adam(lr=0.01, beta_1=0.9, beta_2=0.99)
    w = np.array(-1.0)
    traj = []
    for _ in range(200):
        opt.step({"w": w}, {"w": w.copy()})  # f = θ²/2, g = θ
        traj.append(float(w))
    assert traj[0] == pytest.approx(-0.99, abs=1e-6)
    assert traj[1] == pytest.approx(-0.98, abs=1e-4)
    assert all(b > a for a, b in zip(traj[:50], traj[1:51], strict=True))  # heads to 0
    assert abs(traj[-1]) < 0.01
    wrong = slides_adam(-1.0, 0.01, 0.9, 0.99, 1e-8, 200)
    assert wrong < -5  # the ·∇C version moves away from the minimum


# --------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------
def test_schedule_values():
    assert optim.Constant()(0) == 1.0 and optim.Constant()(99) == 1.0
    sd = optim.StepDecay(every=10, factor=0.5)
    assert [sd(k) for k in (0, 9, 10, 19, 20, 35)] == [1, 1, 0.5, 0.5, 0.25, 0.125]
    ex = optim.Exponential(rate=0.1)
    assert ex(0) == 1.0 and ex(10) == pytest.approx(math.exp(-1.0))
    it = optim.InverseTime(decay=0.5)
    assert it(0) == 1.0 and it(4) == pytest.approx(1 / 3)
    lf = optim.LinearToFloor(tau=100, floor=0.01)
    assert lf(0) == 1.0
    assert lf(50) == pytest.approx(0.5 + 0.5 * 0.01)
    assert lf(100) == pytest.approx(0.01) and lf(1000) == pytest.approx(0.01)
    cs = optim.Cosine(total=10)
    assert cs(0) == 1.0 and cs(5) == pytest.approx(0.5) and cs(10) == pytest.approx(0.0)
    assert cs(50) == pytest.approx(0.0)
    assert optim.Cosine(total=10, floor=0.2)(10) == pytest.approx(0.2)


def test_lr_at_uses_the_schedule_with_k_equal_to_steps_taken():
    opt = optim.SGD(lr=0.2, schedule=optim.StepDecay(every=3, factor=0.1))
    assert [opt.lr_at(t) for t in (1, 3, 4, 7)] == pytest.approx([0.2, 0.2, 0.02, 0.002])
    assert optim.Adam(lr=0.5).lr_at(1000) == 0.5
    with pytest.raises(TrainingError):
        opt.lr_at(0)


def test_schedule_formulas_are_shown_with_the_equations():
    opt = optim.SGD(lr=0.1, schedule=optim.InverseTime(decay=0.5))
    assert opt.equations_text()[-1] == "ρₖ = ρ₀/(1 + 0.5·k)"
    assert optim.StepDecay(10, 0.5).formula() == "ρₖ = ρ₀·0.5^⌊k/10⌋"
    assert r"\lfloor" in optim.StepDecay(10, 0.5).latex()
    assert opt.equations_latex()[-1].startswith(r"\rho_{k} = \frac{\rho_{0}}")


@pytest.mark.parametrize(
    "make",
    [
        lambda: optim.StepDecay(every=0),
        lambda: optim.StepDecay(every=2, factor=1.5),
        lambda: optim.Exponential(rate=-1),
        lambda: optim.InverseTime(decay=float("nan")),
        lambda: optim.LinearToFloor(tau=0),
        lambda: optim.LinearToFloor(tau=10, floor=2),
        lambda: optim.Cosine(total=10, floor=-0.1),
        lambda: optim.SGD(schedule=lambda k: 1.0),
    ],
)
def test_bad_schedules_are_refused(make):
    with pytest.raises(TrainingError):
        make()


# --------------------------------------------------------------------------------------
# Equations and generated source
# --------------------------------------------------------------------------------------
STATE_NAMES = {
    "sgd": ["θ ←"],
    "momentum": ["v ←", "θ ← θ + v"],
    "nesterov": ["v ← μ·v − ρ·g", "θ ← θ + μ·v − ρ·g"],
    "sign": ["θ ← θ − ρ·sign(g)"],
    "adagrad": ["G ← G + g²", "θ ← θ − ρ·g/(√G + ε)"],
    "rmsprop": ["r ← ρ·r + (1 − ρ)·g²", "θ ← θ − α·g/√(r + ε)"],
    "adam": [
        "m ← β₁·m + (1 − β₁)·g",
        "v ← β₂·v + (1 − β₂)·g²",
        "m̂ ← m/(1 − β₁ᵗ)",
        "v̂ ← v/(1 − β₂ᵗ)",
        "θ ← θ − α·m̂/(√v̂ + ε)",
    ],
    "adamax": ["m ←", "u ← max(β₂·u, |g|)", "θ ← θ − (α/(1 − β₁ᵗ))·m/u"],
    "adamw": ["θ ← θ − α·λ·θ", "m ←", "v ←", "θ ← θ − α·m̂/(√v̂ + ε)"],
}


@pytest.mark.parametrize("name", list(STATE_NAMES))
def test_equations_text_reads_like_the_paper(name):
    opt = optim.get(name)
    text = opt.equations_text()
    for piece in STATE_NAMES[name]:
        assert any(line.startswith(piece) for line in text), (piece, text)
    latex = opt.equations_latex()
    assert len(latex) == len(text) == len(opt.equations)
    assert all(r"\leftarrow" in line for line in latex)
    assert all(eq.lhs.is_Symbol for eq in opt.equations)


def test_rmsprop_variants_show_their_forms():
    torch_form = optim.RMSprop(eps_placement="pytorch").equations_text()[-1]
    assert torch_form == "θ ← θ − α·g/(√r + ε)"
    centered = optim.RMSprop(centered=True).equations_text()
    assert centered[0] == "ḡ ← ρ·ḡ + (1 − ρ)·g"
    assert optim.Adam(bias_correction=False).equations_text()[-1] == "θ ← θ − α·m/(√v + ε)"
    assert optim.Adam().equations_latex()[-1] == (
        r"\theta \leftarrow \theta - \frac{\alpha \hat{m}}{\sqrt{\hat{v}} + \epsilon}"
    )


ALLOWED_NUMPY = {"sqrt", "abs", "sign", "maximum"}


@pytest.mark.parametrize("name", list(STATE_NAMES))
def test_generated_source_is_plain_numpy_from_our_own_symbols(name):
    opt = optim.get(name)
    tree = ast.parse(opt.source)
    (func,) = tree.body
    assert isinstance(func, ast.FunctionDef)
    known = {a.arg for a in func.args.args} | {"numpy", "_safe_div"}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            (target,) = node.targets
            known.add(target.id)
    for node in ast.walk(func):
        # Only arithmetic, names we made, and a short list of numpy functions.
        assert not isinstance(node, ast.Constant) or isinstance(node.value, int)
        if isinstance(node, ast.Name):
            assert node.id in known, node.id
        if isinstance(node, ast.Attribute):
            assert isinstance(node.value, ast.Name) and node.value.id == "numpy"
            assert node.attr in ALLOWED_NUMPY
    assert {a.arg for a in func.args.args} <= {
        "theta", "g", "m", "v", "u", "G", "r", "gbar", "t",
        "alpha", "rho", "mu", "beta_1", "beta_2", "epsilon", "lamda",
    }  # fmt: skip


def test_source_is_compiled_once_and_never_sees_parameter_names():
    opt = optim.Adam()
    before = opt.source
    evil = "x'); __import__('os').system('touch PWNED'); ('"
    opt.step({evil: np.ones(2)}, {evil: np.ones(2)})
    assert opt.source == before and evil not in opt.source and "PWNED" not in opt.source
    assert "numpy.sqrt" in opt.source and "beta_1**t" in opt.source


# --------------------------------------------------------------------------------------
# Validation and errors
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "word"),
    [
        (lambda: optim.Adam(lr=-1), "lr"),
        (lambda: optim.Adam(lr=0), "lr"),
        (lambda: optim.SGD(lr=float("nan")), "lr"),
        (lambda: optim.SGD(lr=float("inf")), "lr"),
        (lambda: optim.SGD(lr="0.1"), "lr"),
        (lambda: optim.Adam(beta_1=1.0), "beta_1"),
        (lambda: optim.Adam(beta_2=-0.1), "beta_2"),
        (lambda: optim.AdaMax(beta_2=1.5), "beta_2"),
        (lambda: optim.Adam(epsilon=-1e-8), "epsilon"),
        (lambda: optim.SGD(momentum=1.0), "momentum"),
        (lambda: optim.Momentum(momentum=-0.5), "momentum"),
        (lambda: optim.RMSprop(rho=1.0), "rho"),
        (lambda: optim.RMSprop(eps_placement="tf"), "eps_placement"),
        (lambda: optim.AdamW(weight_decay=-0.1), "weight_decay"),
        (lambda: optim.Adagrad(initial_accumulator=-1), "initial_accumulator"),
        (lambda: optim.SGD(nesterov="yes"), "nesterov"),
    ],
)
def test_bad_hyperparameters_raise_one_line_training_errors(make, word):
    with pytest.raises(TrainingError) as info:
        make()
    message = str(info.value)
    assert word in message and "\n" not in message
    assert isinstance(info.value, GradgraphError)


def test_get_factory():
    assert isinstance(optim.get("ADAM"), optim.Adam)
    assert optim.get("sgd", lr=0.5).lr == 0.5
    assert optim.get("nesterov").nesterov is True
    opt = optim.RMSprop()
    assert optim.get(opt) is opt
    for name in ("sgd", "momentum", "nesterov", "sign", "adagrad", "rmsprop", "adam",
                 "adamax", "adamw"):  # fmt: skip
        assert optim.get(name).name == name
    with pytest.raises(TrainingError, match="did you mean 'adam'"):
        optim.get("Adamm")
    with pytest.raises(TrainingError):
        optim.get(42)
    with pytest.raises(TrainingError, match="unexpected keyword"):
        optim.get("adam", momentum=0.9)


def test_step_refuses_bad_inputs_and_leaves_parameters_untouched():
    opt = optim.SGD(lr=0.1)
    w = np.ones(3)
    with pytest.raises(TrainingError, match="shape"):
        opt.step({"w": w}, {"w": np.ones(2)})
    with pytest.raises(TrainingError, match="not finite"):
        opt.step({"w": w}, {"w": np.array([1.0, np.nan, 1.0])})
    with pytest.raises(TrainingError, match="no gradient"):
        opt.step({"w": w}, {})
    with pytest.raises(TrainingError, match="float numpy array"):
        opt.step({"w": np.ones(3, dtype=int)}, {"w": np.ones(3)})
    with pytest.raises(TrainingError, match="float numpy array"):
        opt.step({"w": 1.0}, {"w": 1.0})
    np.testing.assert_array_equal(w, 1.0)
    assert opt.iterations == 0


def test_a_step_that_overflows_is_reported_and_not_applied():
    opt = optim.SGD(lr=1e300)
    params = {"a": np.ones(2), "b": np.array([1e10, 1.0])}
    with pytest.raises(TrainingError, match=r"step 1: .*'b'.*lr=1e\+300"):
        opt.step(params, {"a": np.ones(2), "b": np.array([1e10, 1.0])})
    np.testing.assert_array_equal(params["a"], 1.0)  # all or nothing
    assert opt.iterations == 0 and opt.state == {}


def test_shape_change_needs_reset():
    opt = optim.Adam()
    opt.step({"w": np.ones(2)}, {"w": np.ones(2)})
    with pytest.raises(TrainingError, match="reset"):
        opt.step({"w": np.ones(3)}, {"w": np.ones(3)})


# --------------------------------------------------------------------------------------
# minimize on a duck-typed graph
# --------------------------------------------------------------------------------------
class FakeQuadraticGraph:
    """C = p² + 10·q² with its analytic gradient (stands in for gradgraph.Graph)."""

    def __init__(self):
        self.calls = 0

    def gradients(self, values, of):
        assert of == "C"
        self.calls += 1
        return {"p": 2 * values["p"], "q": 20 * values["q"], "x": 0.0}


@pytest.mark.parametrize(
    ("opt", "steps"),
    [(optim.Adam(lr=0.1), 300), (optim.SGD(lr=0.04), 100), (optim.Nesterov(lr=0.01), 200)],
)
def test_minimize_converges_on_the_fake_quadratic(opt, steps):
    graph = FakeQuadraticGraph()
    traj = opt.minimize(graph, of="C", start={"p": 1.0, "q": -2.0}, steps=steps)
    assert len(traj) == steps + 1 and graph.calls == steps
    assert traj[0] == {"p": 1.0, "q": -2.0}
    assert all(isinstance(v, float) for v in traj[-1].values())
    assert abs(traj[-1]["p"]) < 1e-2 and abs(traj[-1]["q"]) < 1e-2
    assert traj[1] != traj[0] and traj[1] is not traj[2]


def test_minimize_with_array_leaves_returns_fresh_copies():
    class VecGraph:
        def gradients(self, values, of):
            return {"w": 2 * values["w"]}

    traj = optim.SGD(lr=0.25).minimize(VecGraph(), of="C", start={"w": [1.0, -1.0]}, steps=2)
    np.testing.assert_allclose(traj[1]["w"], [0.5, -0.5])
    np.testing.assert_allclose(traj[2]["w"], [0.25, -0.25])
    traj[1]["w"][0] = 99.0
    assert traj[2]["w"][0] == 0.25


def test_minimize_errors():
    opt = optim.Adam()
    with pytest.raises(TrainingError, match="gradients"):
        opt.minimize(object(), start={"p": 1.0})
    with pytest.raises(TrainingError, match="no gradient"):
        opt.minimize(FakeQuadraticGraph(), start={"z": 1.0}, inputs={"p": 1, "q": 1}, steps=1)
    with pytest.raises(TrainingError, match="steps"):
        opt.minimize(FakeQuadraticGraph(), start={"p": 1.0}, steps=-1)
    with pytest.raises(TrainingError, match="finite"):
        opt.minimize(FakeQuadraticGraph(), start={"p": float("nan"), "q": 0.0}, steps=1)


# --------------------------------------------------------------------------------------
# One step: prepare/update are the public path that step() and the trainer both take
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CASES))
def test_prepare_and_update_give_the_same_trajectory_as_step(case):
    make, _ = CASES[case]
    a, b = make(), make()
    pa, pb = np.array(THETA0), np.array(THETA0)
    b.prepare({"w": pb})
    for _ in range(5):
        a.step({"w": pa}, {"w": np.array(A) * pa})
        out = b.update({"w": pb}, {"w": np.array(A) * pb})
        assert out["w"] is not pb  # new arrays unless out= is given
        pb = out["w"]
    np.testing.assert_array_equal(pa, pb)
    assert a.iterations == b.iterations == 5


def test_update_writes_into_out_buffers_and_leaves_old_state_untouched():
    opt = optim.Adam(lr=0.1, schedule=optim.StepDecay(every=1, factor=0.5))
    w, buf = np.ones(3), np.empty(3)
    opt.prepare({"w": w})
    before = opt.state["w"]
    got = opt.update({"w": w}, {"w": np.ones(3)}, out={"w": buf})
    assert got["w"] is buf and opt.state["w"] is not before
    np.testing.assert_array_equal(before["m"], 0.0)  # the fallback stays valid
    np.testing.assert_allclose(buf, 0.9)
    np.testing.assert_array_equal(w, 1.0)
    got = opt.update({"w": buf}, {"w": np.ones(3)})
    np.testing.assert_allclose(got["w"], 0.85)  # t = 2 uses lr·0.5


def test_update_before_prepare_is_a_training_error():
    with pytest.raises(TrainingError, match="prepare"):
        optim.Adam().update({"w": np.ones(2)}, {"w": np.ones(2)})


@pytest.mark.parametrize("name", sorted(optim._REGISTRY))
def test_settings_are_exactly_the_constructor_keywords(name):
    import inspect

    cls = optim._REGISTRY[name]
    params = set(inspect.signature(cls.__init__).parameters) - {"self", "schedule"}
    assert set(cls.settings) == params
    assert repr(cls()).startswith(f"{cls.__name__}(lr=")


@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_state_follows_the_parameter_even_with_float64_gradients(case):
    make, _ = CASES[case]
    opt = make()
    w = np.array(THETA0, dtype=np.float32)
    for _ in range(3):
        opt.step({"w": w}, {"w": np.array(A) * w.astype(np.float64)})
    assert w.dtype == np.float32
    assert all(s.dtype == np.float32 for s in opt.state["w"].values())
    pb = np.array(THETA0, dtype=np.float32)
    other = make()
    other.prepare({"w": pb})
    for _ in range(3):
        pb = other.update({"w": pb}, {"w": np.array(A) * pb.astype(np.float64)})["w"]
    assert pb.dtype == np.float32
    assert all(s.dtype == np.float32 for s in other.state["w"].values())


def test_train_update_module_is_gone():
    import importlib

    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("gradgraph.train.update")


# --------------------------------------------------------------------------------------
# update(out=): the in-place twin of the generated program, double-buffered
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_update_into_out_is_bit_for_bit_the_new_array_update(case, dtype):
    make, _ = CASES[case]
    rng = np.random.default_rng(1)
    a, b = make(), make()
    pa = rng.normal(size=(4, 3)).astype(dtype)
    pb, spare = pa.copy(), np.empty_like(pa)
    a.prepare({"w": pa})
    b.prepare({"w": pb})
    for k in range(6):
        g = rng.normal(size=pa.shape).astype(dtype) * (k % 3 != 1)  # zeros: 0/0 guard
        pa = a.update({"w": pa}, {"w": g})["w"]
        new = b.update({"w": pb}, {"w": g}, out={"w": spare})["w"]
        assert new is spare
        pb, spare = new, pb
        np.testing.assert_array_equal(pa, pb)
        for s in a.state["w"]:
            np.testing.assert_array_equal(a.state["w"][s], b.state["w"][s])
            assert b.state["w"][s].dtype == dtype


def test_update_into_out_reuses_two_sets_of_state_arrays_and_keeps_one_step_of_fallback():
    opt = optim.Adam(lr=0.1)
    w, spare = np.ones(3), np.empty(3)
    opt.prepare({"w": w})
    first = opt.state["w"]
    w2 = opt.update({"w": w}, {"w": np.ones(3)}, out={"w": spare})["w"]
    second = opt.state["w"]
    kept = {k: v.copy() for k, v in second.items()}
    opt.update({"w": w2}, {"w": np.ones(3)}, out={"w": w})
    third = opt.state["w"]
    # Step 3 wrote into step 1's arrays; step 2's (the fallback) are untouched.
    assert all(third[k] is first[k] for k in first)
    for k, v in kept.items():
        np.testing.assert_array_equal(second[k], v)


def test_update_into_out_after_the_fallback_was_put_back_does_not_overwrite_its_input():
    ref, opt = optim.Adam(lr=0.1), optim.Adam(lr=0.1)
    w, spare = np.ones(3), np.empty(3)
    opt.prepare({"w": w})
    ref.prepare({"w": w.copy()})
    old = opt.state["w"]
    opt.update({"w": w}, {"w": np.ones(3)}, out={"w": spare})
    opt.state["w"] = old  # as the training loop does after a non-finite step
    opt.iterations -= 1
    got = opt.update({"w": w}, {"w": np.ones(3)}, out={"w": spare})["w"]
    want = ref.update({"w": w.copy()}, {"w": np.ones(3)})["w"]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(opt.state["w"]["m"], ref.state["w"]["m"])


@pytest.mark.parametrize("name", sorted(optim._REGISTRY))
def test_inplace_source_only_calls_numpy_with_out(name):
    src = optim.get(name).inplace_source
    tree = ast.parse(src)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert calls
    for call in calls:
        fn = ast.unparse(call.func)
        assert fn.startswith("numpy.") or fn == "_safe_div_into", fn
    # no array arithmetic left outside the ufunc calls: only scalar operands' own maths
    assert "=" in src and " = numpy" not in src


def test_update_into_out_with_read_only_state_put_back_copies_it_in_prepare():
    opt, ref = optim.Momentum(lr=0.1), optim.Momentum(lr=0.1)
    w, spare = np.ones(3), np.empty(3)
    for o in (opt, ref):
        o.prepare({"w": w})
    frozen = np.full(3, 0.5)
    frozen.flags.writeable = False
    opt.state["w"] = {"v": frozen}
    ref.state["w"] = {"v": np.full(3, 0.5)}
    opt.prepare({"w": w})
    ref_w = np.ones(3)
    for _ in range(3):  # the third step writes into the first step's state arrays
        w, spare = opt.update({"w": w}, {"w": np.ones(3)}, out={"w": spare})["w"], w
        ref_w = ref.update({"w": ref_w}, {"w": np.ones(3)})["w"]
    np.testing.assert_array_equal(w, ref_w)
    np.testing.assert_array_equal(frozen, 0.5)
