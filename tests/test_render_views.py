"""Views of big graphs (#16 item 7): path-only, neighbourhood, "× N" folds, rows, Σ nodes.

Each view is checked on what it keeps (against an oracle written independently of
render/views.py), on the drawn size against the layout caps, and at the command line
for its one-line refusals. The 10⁴-node versions are marked slow; their quick twins
use a few hundred nodes.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from gradgraph import Graph, examples
from gradgraph.cli import cli
from gradgraph.errors import GradgraphError, RenderError
from gradgraph.render import MAX_DRAWN_EDGES, MAX_DRAWN_NODES, check_size, find_dot, render
from gradgraph.render.views import Rep, ViewOptions, plan_view, rep_box

NODE_LINE = re.compile(r"^  (\w+) \[id=\"(\w+)\"", re.MULTILINE)


def u_chain(n: int) -> str:
    """u₁ = x·w, uᵢ₊₁ = uᵢ·w: issue #11's long chain (one shared weight)."""
    return "\n".join(["u1 = x*w"] + [f"u{i + 1} = u{i}*w" for i in range(1, n)])


def wide_layer(units: int) -> str:
    """One layer of ``units`` units reading one input, summed into the cost."""
    lines = []
    for j in range(1, units + 1):
        lines += [f"z{j} = w{j}*x + b{j}", f"h{j} = sigma(z{j})"]
    lines.append("s = " + " + ".join(f"h{j}" for j in range(1, units + 1)))
    lines.append("C = (s - y)^2")
    return "\n".join(lines)


def drawn_ids(source: str) -> list[str]:
    return [m.group(1) for m in NODE_LINE.finditer(source)]


def under_caps(plan) -> bool:  # noqa: ANN001
    nodes, edges = plan.size
    return nodes <= MAX_DRAWN_NODES and edges <= MAX_DRAWN_EDGES


def one_line_error(result) -> str:  # noqa: ANN001
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


# --- "× N": repeated layers and long chains ----------------------------------------------


def test_deep_chain_folds_to_first_times_n_last():
    g = examples.chain(60)
    plan = plan_view(g, ViewOptions(repeat=True))
    assert under_caps(plan) and plan.size[0] < 30
    (rep,) = plan.reps.values()
    # Layer L-59 reads the input a^(L-60), so it differs; L-58 … L are alike: the first
    # (L-58) and last (L) are drawn, the 57 between are one box.
    hidden = {f"L-{k}" for k in range(1, 58)}
    assert rep.count == 57 == len(hidden)
    assert {n.split("^(")[1][:-1] for n in rep.members} == hidden
    drawn = {n for n, u in plan.unit.items() if not u.startswith("rep_")}
    assert {"z^(L-58)", "a^(L-58)", "z^(L)", "a^(L)", "C_0"} <= drawn


def test_long_untagged_chain_folds():
    g = Graph.from_text(u_chain(500))
    plan = plan_view(g, ViewOptions(repeat=True))
    (rep,) = plan.reps.values()
    # u1 reads x, u500 is the cost: u2 … u499 are alike, u3 … u498 are folded.
    assert rep.count == 496 and rep.kind == "chain"
    assert set(rep.members) == {f"u{i}" for i in range(3, 499)}  # names as typed
    assert under_caps(plan)


def test_wide_layer_folds_units_side_by_side():
    g = Graph.from_text(wide_layer(60))
    plan = plan_view(g, ViewOptions(repeat=True))
    counts = sorted((r.kind, r.count) for r in plan.reps.values())
    assert counts == [("parallel", 58), ("parallel", 58)]  # the z-blocks and the h's
    assert plan.sums == frozenset({"s"})
    assert under_caps(plan)
    source = render(g, repeat=True).source
    assert "× 58" in source and "(60 terms)" in source


def test_repeat_refused_without_repeats():
    with pytest.raises(RenderError, match="no repeated structure"):
        render(examples.chain(2), repeat=True)


# --- path-only and neighbourhood ---------------------------------------------------------


def all_paths_nodes(g: Graph, start: str, end: str) -> set[str]:
    """Oracle: every node of every path, by listing the paths (small graphs only)."""
    found: set[str] = set()

    def walk(node: str, path: list[str]) -> None:
        if node == end:
            found.update(path)
            return
        for child in g.children(node):
            walk(child, [*path, child])

    walk(start, [start])
    return found


@pytest.mark.parametrize("wrt", ["w^(L-3)", "b^(L-1)", "a^(L-5)", "w^(L)"])
def test_path_only_keeps_exactly_the_path_nodes(wrt):
    g = examples.chain(5)
    plan = plan_view(g, ViewOptions(path_only=True), wrt=wrt)
    assert set(plan.unit) == all_paths_nodes(g, g.resolve(wrt), g.cost)


def test_path_only_on_a_graph_with_branches():
    g = Graph.from_text("p = w*x; q = w*y; r = sigma(p) + tanh(q); s = v*x; C = r*s")
    plan = plan_view(g, ViewOptions(path_only=True), wrt="w")
    assert set(plan.unit) == all_paths_nodes(g, "w", "C")
    assert "v" not in plan.unit and "s" not in plan.unit and "u_2" in plan.unit


def test_path_only_needs_wrt():
    with pytest.raises(RenderError, match="needs wrt"):
        render(examples.chain(3), path_only=True)


def test_neighbourhood_is_exactly_k_hops():
    g = examples.chain(20)
    plan = plan_view(g, ViewOptions(around="z^(L-10)", hops=2))
    assert set(plan.unit) == {"z^(L-10)", "w^(L-10)", "a^(L-11)", "b^(L-10)", "a^(L-10)",
                              "z^(L-11)", "z^(L-9)"}
    plan0 = plan_view(g, ViewOptions(around="z^(L-10)", hops=0))
    assert set(plan0.unit) == {"z^(L-10)"}


@pytest.mark.parametrize("hops", [0, 1, 3, 5])
def test_neighbourhood_matches_distances(hops):
    g = examples.chain(8)
    dist = undirected_distances(g, "a^(L-4)")
    plan = plan_view(g, ViewOptions(around="a^(L-4)", hops=hops))
    assert set(plan.unit) == {n for n, d in dist.items() if d <= hops}


def undirected_distances(g: Graph, start: str) -> dict[str, int]:
    """Oracle: Bellman-Ford style relaxation over the edge list, both directions."""
    edges = [(p, n.name) for n in g.nodes for p in n.parents]
    dist = {n.name: 10**9 for n in g.nodes}
    dist[start] = 0
    for _ in range(len(g)):
        for a, b in edges:
            dist[b] = min(dist[b], dist[a] + 1)
            dist[a] = min(dist[a], dist[b] + 1)
    return dist


def test_neighbourhood_refuses_bad_input():
    g = examples.chain(3)
    with pytest.raises(RenderError, match="hops must be 0 or more"):
        render(g, around="z^(L)", hops=-1)
    with pytest.raises(GradgraphError, match="no node named 'zz'"):
        render(g, around="zz")


# --- rows and Σ nodes --------------------------------------------------------------------


def test_wrap_cuts_rows_of_at_most_m():
    g = examples.chain(12)
    plan = plan_view(g, ViewOptions(wrap=7))
    assert plan.rows and all(len(r) <= 7 for r in plan.rows)
    assert sorted(u for r in plan.rows for u in r) == sorted(plan.order)
    row_of = {u: i for i, r in enumerate(plan.rows) for u in r}
    for tag in ("L-11", "L-5", "L"):  # a layer is never cut across two rows
        assert len({row_of[g[f"{b}^({tag})"].id] for b in "wbza"}) == 1
    source = render(g, wrap=7).source
    assert source.count("rank=same") == len(plan.rows)
    assert "rankdir=\"TB\"" in source


def test_wide_sum_is_a_sigma_node():
    text = "s = " + " + ".join(f"x{i}" for i in range(1, 41)) + "\nC = (s - y)^2"
    g = Graph.from_text(text)
    source = render(g).source  # Σ by default once a sum is this wide
    assert "(40 terms)" in source and "x₁ + x₂" not in source
    assert source.count(" -> n") == 42  # still fed by every term: 40 + s, y into C
    plain = render(g, sums=False).source
    assert "x₁ + x₂" in plain and "(40 terms)" not in plain


def test_narrow_sum_keeps_its_formula():
    g = Graph.from_text("s = x1 + x2 + x3; C = s^2")
    assert render(g).source == render(g, sums=False).source
    with pytest.raises(RenderError, match="no drawn node is a sum"):
        render(g, sums=True)


# --- ids, determinism, escaping, caps ---------------------------------------------------


def test_drawn_nodes_keep_graph_ids_and_dot_is_deterministic():
    g = examples.chain(40)
    a = render(g, wrt="w^(L-20)", path_only=True, repeat=True, wrap=6).source
    b = render(examples.chain(40), wrt="w^(L-20)", path_only=True, repeat=True, wrap=6).source
    assert a == b
    ids = {n.id for n in g.nodes}
    for uid in drawn_ids(a):
        assert uid in ids or uid.startswith("rep_")
    assert 'class="repeat"' in a


def test_rep_box_escapes_text():
    rep = Rep("rep_0", 5, "chain", ("a",), "<b>x</b>", 'q"&')
    label = rep_box(_scene(), rep)
    assert "<b>x" not in label and "&lt;b&gt;" in label and "&quot;&amp;" in label


def _scene():
    from gradgraph.render.scene import build_scene

    return build_scene(examples.chain(1))


def test_views_do_not_apply_to_network_or_collapse():
    g = examples.chain(3)
    with pytest.raises(RenderError, match="do not apply"):
        render(g, view="network", repeat=True)
    with pytest.raises(RenderError, match="do not apply"):
        render(g, collapse=True, around="z^(L)")


def test_a_view_still_too_big_is_refused_at_layout():
    g = Graph.from_text(u_chain(600))
    picture = render(g, around="w", hops=1)  # w feeds every node
    assert picture.oversize is not None
    with pytest.raises(RenderError, match="view too large.*repeat"):
        picture.pipe("svg")
    assert check_size(g, views=ViewOptions(around="w", hops=1)) is not None
    assert check_size(g, views=ViewOptions(repeat=True)) is None


@pytest.mark.slow
def test_ten_thousand_node_chain_views_are_under_the_caps():
    g = examples.chain(2500)
    assert len(g) > 10_000
    for opts, wrt in ((ViewOptions(repeat=True, wrap=8), None),
                      (ViewOptions(path_only=True, repeat=True), "w^(L-2000)"),
                      (ViewOptions(around="a^(L-1234)", hops=4), None)):
        assert under_caps(plan_view(g, opts, wrt=wrt))
    (rep,) = plan_view(g, ViewOptions(repeat=True)).reps.values()
    assert rep.count == 2497


# --- the command line --------------------------------------------------------------------


CHAIN = "lessons/graphs/chain.gg"


@pytest.mark.parametrize(("args", "message"), [
    (["--around", "nope"], "no node named 'nope'"),
    (["--around", "z^(L)", "--hops", "-1"], "--hops must be 0 or more"),
    (["--hops", "2"], "--hops needs --around"),
    (["--path-only"], "--path-only needs --wrt"),
    (["--repeat"], "no repeated structure"),
    (["--sums"], "no drawn node is a sum"),
    (["--wrap", "1"], "--wrap needs at least 2"),
    (["--repeat", "--view", "network"], "--repeat is a view of the op graph"),
    (["--around", "z^(L)", "--collapse"], "--around is a view of the op graph"),
])
def test_cli_refuses_views_that_do_not_apply(args, message, tmp_path):
    result = CliRunner().invoke(cli, ["render", "--file", CHAIN, *args,
                                      "-o", str(tmp_path / "x.svg")])
    assert message in one_line_error(result)
    assert not (tmp_path / "x.svg").exists()


def test_cli_view_brings_a_long_file_under_the_cap(tmp_path):
    source = tmp_path / "long.gg"
    source.write_text(u_chain(450), encoding="utf-8")
    refused = CliRunner().invoke(cli, ["render", "--file", str(source), "-o",
                                       str(tmp_path / "all.dot.svg")])
    assert "too large" in one_line_error(refused)
    out = tmp_path / "folded.svg"
    done = CliRunner().invoke(cli, ["render", "--file", str(source), "--repeat", "-o",
                                    str(out)])
    assert done.exit_code == 0, done.output
    assert "× 446" in out.read_text(encoding="utf-8")


def test_terms_of_a_wide_sum_fold_side_by_side():
    text = "s = " + " + ".join(f"x{i}" for i in range(1, 41)) + "\nC = (s - y)^2"
    g = Graph.from_text(text)
    plan = plan_view(g, ViewOptions(repeat=True))
    (rep,) = plan.reps.values()
    assert rep.kind == "parallel" and rep.count == 38
    assert set(rep.members) == {f"x{i}" for i in range(2, 40)}
    assert plan.sums == frozenset({"s"}) and plan.size[0] == 6  # x1, × 38, x40, s, y, C


def test_neighbourhood_frames_its_centre():
    source = render(examples.chain(20), around="z^(L-10)", hops=1).source
    centre = examples.chain(20)["z^(L-10)"].id
    assert re.search(rf'^  {centre} \[id="{centre}", class="intermediate on"', source, re.M)
    assert "around z⁽ᴸ⁻¹⁰⁾" in source
    assert source.count(' on"') == 1


@pytest.mark.skipif(find_dot() is None, reason="Graphviz dot is not installed")
def test_a_folded_view_lays_out_and_keeps_ids_in_the_svg():
    g = Graph.from_text(u_chain(450))
    svg = render(g, repeat=True, wrap=4).svg()
    assert 'id="rep_0"' in svg and f'id="{g["u_2"].id}"' in svg
    assert "× 446" in svg


def test_identical_dense_layers_fold():
    g = examples.mlp([4, 3, 3, 3, 3, 3, 3, 2])  # layers 2 … 6 alike (3×3, tanh)
    plan = plan_view(g, ViewOptions(repeat=True))
    (rep,) = plan.reps.values()
    assert rep.count == 3
    assert {n.split("^(")[1][:-1] for n in rep.members} == {"3", "4", "5"}
