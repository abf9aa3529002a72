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
