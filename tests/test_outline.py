"""The outline: a program's shape read without SymPy, for refusals before the parse."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from gradgraph import Graph
from gradgraph.cli import cli
from gradgraph.derive import _count_paths
from gradgraph.outline import count_assignments, paths_at_least

from .strategies import programs


def _chain(n: int) -> str:
    return "\n".join(["u1 = x*w", *(f"u{i + 1} = u{i}*w" for i in range(1, n))])


def _real_paths(text: str, wrt: str, of: str | None = None) -> int:
    g = Graph.from_text(text)
    target, name = g.resolve(of or g.cost), g.resolve(wrt)
    return _count_paths(g, name, target, {n.name for n in g.nodes})[0]


@pytest.mark.parametrize(("text", "wrt", "of"), [
    (_chain(40), "w", None),
    (_chain(40), "x", None),
    (_chain(40), "w", "u20"),
    ("a = w*x\nb = a*w + a\nC = a*b + b*w", "w", None),
    ("z = w*x + b; a = sigma(z); C = (a - y)^2", "w", None),
    ("s(t) = t*sigma(t)\na = s(w*x)\nC = a*a + w", "w", None),
    ("a = w*x\nb = a - a + w\nC = b*a", "w", None),  # a − a cancels: not counted
    ("a = w*x\nb = 0*a + w\nC = b*a", "w", None),  # 0·a vanishes: not counted
    ("a = w*x\nb = a^0 + 1^a + w\nC = b*a", "w", None),
    ("w1 = x*w\nC = w_1*w₁ + w1", "w", None),
])
def test_the_outline_never_counts_more_paths_than_the_graph_has(text: str, wrt: str,
                                                                of: str | None) -> None:
    bound = paths_at_least(text, wrt, of, cap=10**6)
    assert bound is None or bound[1] <= _real_paths(text, wrt, of)


@settings(max_examples=60, deadline=None)
@given(programs(max_nodes=8))
def test_random_programs_never_get_a_bound_above_their_paths(text: str) -> None:
    """Random DAGs, x − x and x·x included: the bound errs low or says nothing."""
    g = Graph.from_text(text)
    names = {n.name for n in g.nodes}
    assigned = [line.split(" = ")[0] for line in text.splitlines()]
    counted = 0
    for of in assigned:
        for wrt in names:
            bound = paths_at_least(text, wrt, of, cap=10**6)
            if bound is not None:
                assert bound[1] <= _count_paths(g, wrt, of, names)[0], (wrt, of)
                counted += bound[1] > 0
    assert counted  # some bounds are not zero: each name at least reaches itself


def test_a_long_chain_is_counted_exactly() -> None:
    assert paths_at_least(_chain(300), "w", None, cap=10**6) == ("w", 300)
    assert paths_at_least(_chain(300), "w", None, cap=256) == ("w", 257)  # stops past cap
    assert paths_at_least(_chain(300), "x", "u10", cap=10**6) == ("x", 1)
    assert paths_at_least(_chain(300), "u_5", None, cap=10**6) == ("u5", 1)  # as typed


@pytest.mark.parametrize("text", [
    "a = w*x\na = a*w\nC = a",  # a redefinition: the parser's to refuse
    "a = b*w\nb = a*w\nC = a + b",  # a cycle
])
def test_programs_the_builder_refuses_get_no_bound(text: str) -> None:
    assert paths_at_least(text, "w", None, cap=256) in (None, ("w", 0))


def test_unknown_names_and_other_targets_give_no_bound() -> None:
    assert not paths_at_least(_chain(10), "q", None, cap=256)
    assert not paths_at_least(_chain(10), "w", "nothing", cap=256)
    assert not paths_at_least(_chain(10), "w(", None, cap=256)


def test_count_assignments_skips_op_definitions_and_declarations() -> None:
    assert count_assignments("f(x) = x*x\nw: param\na = f(w); C = a  # c = 2") == 2


def test_derive_refuses_a_huge_chain_before_parsing_it(tmp_path, monkeypatch) -> None:
    path = tmp_path / "n10k.gg"
    path.write_text(_chain(10_000))

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the text was parsed")

    monkeypatch.setattr(Graph, "from_text", no_parse)
    result = CliRunner().invoke(cli, ["derive", "--file", str(path), "--wrt", "w"])
    assert result.exit_code == 2, result.output
    assert "more than 256 chain-rule paths lead to 'w'" in result.output
    assert "Traceback" not in result.output


def test_derive_still_parses_a_big_text_whose_paths_are_few(tmp_path) -> None:
    path = tmp_path / "n300.gg"
    path.write_text(_chain(300))
    result = CliRunner().invoke(cli, ["derive", "--file", str(path), "--wrt", "u299"])
    assert result.exit_code == 0, result.output
    assert result.output == "∂u₃₀₀/∂u₂₉₉ = w\n"


def test_derive_refuses_its_options_before_reading_anything() -> None:
    result = CliRunner().invoke(cli, ["derive", "--file", "/nonexistent.gg"])
    assert result.exit_code == 2 and "give --wrt NODE, or --all" in result.output
