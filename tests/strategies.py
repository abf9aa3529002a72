"""Random graphs for property tests: small programs in gradgraph's text language."""

from __future__ import annotations

from hypothesis import strategies as st

LEAVES = ("w", "b", "x", "y")
UNARY = ("sigma({})", "tanh({})", "softplus({})", "({})^2", "exp({}/4)", "2*{}", "-{}")
BINARY = ("{} + {}", "{} - {}", "{}*{}", "{}*{} + {}")


@st.composite
def programs(draw: st.DrawFn, max_nodes: int = 6) -> str:
    """A random DAG: each node combines earlier nodes and leaves (fan-out included)."""
    names = list(LEAVES)
    lines = []
    for i in range(draw(st.integers(1, max_nodes))):
        pick = st.sampled_from(names)
        if draw(st.booleans()):
            body = draw(st.sampled_from(UNARY)).format(draw(pick))
        else:
            form = draw(st.sampled_from(BINARY))
            body = form.format(*(draw(pick) for _ in range(form.count("{}"))))
        name = f"v{i}"
        lines.append(f"{name} = {body}")
        names.append(name)
    # The cost uses the last node and, sometimes, an earlier one (another path).
    extra = draw(st.sampled_from(names[len(LEAVES):]))
    lines.append(f"C = {names[-1]}^2 + {extra}")
    return "\n".join(lines)


points = st.fixed_dictionaries(
    {name: st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3)) for name in LEAVES}
)


# --- programs with user-defined ops (issue #11) ------------------------------------------
# A user op's body is inlined into the generated program, so nesting (2*f(x), f(x)^2,
# f(f(x))) exercises bracketing the plain strategy above never reaches.

USER_OPS = ("f", "g", "k")
# Registry calls a body or an assignment may make; log and sqrt only of positive things.
REGISTRY_CALLS = (
    "sigma({})", "tanh({})", "relu({})", "softplus({})", "exp({}/4)", "log(1 + ({})^2)",
    "sqrt(({})^2 + 1)", "abs({})", "sigma'({})", "tanh'({})", "log(sigma({}))",
)
# How two sub-terms combine; f(x)/g(x) included (points near a pole are filtered out).
COMBINE = ("{} + {}", "{} - {}", "{}*{}", "{}/{}", "({})^2", "({})^3", "2*{}", "-{}",
           "{}/(1 + ({})^2)")


@st.composite
def _term(draw: st.DrawFn, leaves: tuple[str, ...], calls: tuple[str, ...],
          depth: int) -> str:
    """An expression over ``leaves`` using ``calls`` and arithmetic, at most ``depth`` deep."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(leaves))
    if draw(st.booleans()):
        return draw(st.sampled_from(calls)).format(draw(_term(leaves, calls, depth - 1)))
    form = draw(st.sampled_from(COMBINE))
    return form.format(*(draw(_term(leaves, calls, depth - 1))
                         for _ in range(form.count("{}"))))


def _user_calls(name: str) -> tuple[str, ...]:
    return (f"{name}({{}})", f"{name}'({{}})", f"2*{name}({{}})", f"-{name}({{}})",
            f"{name}({{}})^2")


@st.composite
def user_op_programs(draw: st.DrawFn, max_ops: int = 3, max_nodes: int = 3,
                     depth: int = 2) -> str:
    """Op definitions ``f(x) = <body>`` (later ones call earlier ones, primes included),
    then assignments over the leaves that call them, then a cost ``C``."""
    calls: tuple[str, ...] = REGISTRY_CALLS
    lines = []
    for name in USER_OPS[:draw(st.integers(1, max_ops))]:
        body = draw(_term(("x",), calls, depth))
        if "x" not in body:  # a body that ignores its argument is legal but tests nothing
            body = f"{body} + x"
        lines.append(f"{name}(x) = {body}")
        calls = calls + _user_calls(name)
    user = tuple(c for c in calls if c not in REGISTRY_CALLS)
    names = list(LEAVES)
    for i in range(draw(st.integers(1, max_nodes))):
        # Every node calls a user op on a term over earlier nodes.
        inner = draw(_term(tuple(names), REGISTRY_CALLS, 1))
        lines.append(f"v{i} = {draw(st.sampled_from(user)).format(inner)}")
        names.append(f"v{i}")
    extra = draw(st.sampled_from(names))
    lines.append(f"C = {names[-1]} + {extra}*{names[-1]}")
    return "\n".join(lines)
