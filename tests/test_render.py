"""Diagrams: exact DOT, the SVG that dot makes of it, escaping, caps, the stepper."""

from __future__ import annotations

import dataclasses
import html
import importlib
import os
import re
import stat
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import sympy as sp

import gradgraph as gg
from gradgraph import Graph, derive, examples, ops
from gradgraph.derive import local_partial
from gradgraph.errors import RenderError
from gradgraph.graph import Node
from gradgraph.parse import symbol
from gradgraph.render import (
    MAX_DRAWN_EDGES,
    MAX_DRAWN_NODES,
    Rendering,
    find_dot,
    render,
    steps,
)
from gradgraph.render import output as render_output
from gradgraph.render.dense import MAX_LABELLED_LINKS, dense_size, detect_dense
from gradgraph.render.labels import esc, fmt_number
from gradgraph.render.scene import numeric_value
from gradgraph.render.steps import backward_edges

needs_dot = pytest.mark.skipif(find_dot() is None, reason="Graphviz dot is not installed")
SVG = "{http://www.w3.org/2000/svg}"
SLIDES = examples.SLIDES_VALUES
SIMPLE = "z = w*x + b; a = sigma(z); C = (a - y)^2"
SIMPLE_VALUES = {"w": 2.0, "x": 0.48, "b": -0.2967, "y": 1.0}


# --- helpers -------------------------------------------------------------------------


def svg_root(r: Rendering) -> ET.Element:
    return ET.fromstring(r.pipe("svg"))


def groups(root: ET.Element, cls: str) -> dict[str, ET.Element]:
    """SVG <g> elements whose class list holds ``cls``, by id."""
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g")
            if cls in (g.get("class") or "").split()}


def texts(el: ET.Element) -> list[str]:
    return [(t.text or "").replace("\xa0", " ").strip() for t in el.iter(f"{SVG}text")]


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def hostile_graph() -> tuple[Graph, dict[str, float], str]:
    """A graph built around the parser, so names and an op name carry markup."""
    evil = '<<TABLE><TR><TD HREF="javascript:alert(1)">x</TD></TR></TABLE>>'
    slash = "w\\N\\G\\l\\"
    t = sp.Symbol("t", real=True)
    op = ops.user_op('<script>alert("op")</script>', t, t**2)
    nodes = (
        Node("n0", evil, "input"),
        Node("n1", slash, "param"),
        Node("n2", "z", "intermediate", symbol(slash) * symbol(evil), (slash, evil)),
        Node("n3", "C", "cost", op.func(symbol("z")), ("z",), op.name),
    )
    return Graph(nodes, "C"), {evil: 0.5, slash: 2.0}, slash


# --- exact DOT ---------------------------------------------------------------------------

TINY_DOT = """\
digraph gradgraph {
  graph [rankdir="LR", fontname="DejaVu Sans,Helvetica,Arial,sans-serif", fontsize="13", \
fontcolor="#222222", bgcolor="white", pad="0.25", nodesep="0.35", ranksep="0.55", \
labelloc="b", labeljust="l", label=<<FONT COLOR="#3D9AD1" POINT-SIZE="14">■</FONT> input\
    <FONT COLOR="#D18E00" POINT-SIZE="14">■</FONT> parameter    \
<FONT COLOR="#B8558F" POINT-SIZE="14">■</FONT> output<BR ALIGN="LEFT"/>>]
  node [shape="plain", fontname="DejaVu Sans,Helvetica,Arial,sans-serif", fontsize="12", \
fontcolor="#222222"]
  edge [fontname="DejaVu Sans,Helvetica,Arial,sans-serif", fontsize="11", color="#6B6B6B", \
fontcolor="#222222", arrowsize="0.7", penwidth="1.2"]
  n0 [id="n0", class="param normal", label=<<TABLE BORDER="1" CELLBORDER="0" \
CELLSPACING="0" CELLPADDING="4" COLOR="#D18E00" BGCOLOR="white"><TR><TD COLSPAN="2" \
BGCOLOR="#FBE7BE"><FONT POINT-SIZE="14" COLOR="#222222"><B>w</B></FONT></TD></TR></TABLE>>]
  n1 [id="n1", class="input normal", label=<<TABLE BORDER="1" CELLBORDER="0" \
CELLSPACING="0" CELLPADDING="4" COLOR="#3D9AD1" BGCOLOR="white"><TR><TD COLSPAN="2" \
BGCOLOR="#D6EBF8"><FONT POINT-SIZE="14" COLOR="#222222"><B>x</B></FONT></TD></TR></TABLE>>]
  n2 [id="n2", class="cost normal", label=<<TABLE BORDER="1" CELLBORDER="0" \
CELLSPACING="0" CELLPADDING="4" COLOR="#B8558F" BGCOLOR="white"><TR><TD COLSPAN="2" \
BGCOLOR="#F4DCEA"><FONT POINT-SIZE="14" COLOR="#222222"><B>C</B></FONT></TD></TR><HR/><TR>\
<TD COLSPAN="2" BGCOLOR="white"><FONT COLOR="#222222">= w·x</FONT></TD></TR></TABLE>>]
  n0 -> n2 [id="e_n0_n2", class="normal", color="#6B6B6B", fontcolor="#222222", \
penwidth="1.2", label=<∂C/∂w = x>]
  n1 -> n2 [id="e_n1_n2", class="normal", color="#6B6B6B", fontcolor="#222222", \
penwidth="1.2", label=<∂C/∂x = w>]
}
"""


def test_tiny_graph_exact_dot():
    assert render(Graph.from_text("C = w*x"), show="names,defs,partials").source == TINY_DOT


def test_highlighted_edge_and_caption_exact():
    src = render(Graph.from_text("C = w*x"), wrt="w", values={"w": 2, "x": 3}).source
    assert ('  n0 -> n2 [id="e_n0_n2", class="on", color="#D55E00", fontcolor="#D55E00", '
            'penwidth="2.8", label=<<B>∂C/∂w = x<BR/>= 3</B>>]\n') in src
    assert ('  n1 -> n2 [id="e_n1_n2", class="dim", color="#C4C4C4", fontcolor="#8F8F8F", '
            'penwidth="1.0", label=<∂C/∂x = w<BR/>= 2>]\n') in src
    assert ('label=<<B>∂C/∂w</B> = x<BR ALIGN="LEFT"/><FONT COLOR="white"><B>∂C/∂w</B>'
            '</FONT> = <FONT COLOR="#D55E00"><B>3</B></FONT><BR ALIGN="LEFT"/>') in src


def test_same_input_gives_byte_identical_dot():
    first = render(Graph.from_text(SIMPLE), wrt="w", values=SIMPLE_VALUES).source
    second = render(Graph.from_text(SIMPLE), wrt="w", values=SIMPLE_VALUES).source
    assert first == second
    assert "0x" not in first  # no id()-based names anywhere


def test_the_caption_is_the_derivation():
    g = examples.chain(1)
    src = render(g, wrt="w^(L)", values=SLIDES).source
    d = derive(g, wrt="w^(L)")
    chain_line, factors_line = (line.split(" = ", 1)[1] for line in str(d).splitlines())
    assert esc(chain_line) in src and esc(factors_line) in src
    assert "0.48 · 0.2244 · (−0.68)" in src
    assert fmt_number(g.gradients(SLIDES)["w^(L)"]) == "−0.07324"


def test_a_constant_partial_gets_no_second_number():
    src = render(Graph.from_text(SIMPLE), values=SIMPLE_VALUES).source
    assert "label=<∂z/∂b = 1>" in src


def test_show_switches_each_part_off():
    g = Graph.from_text(SIMPLE)
    full = render(g, values=SIMPLE_VALUES).source
    assert "label=<∂z/∂w = x<BR/>= 0.48>" in full and ">value<" in full
    bare = render(g, values=SIMPLE_VALUES, show="names,partials").source
    assert "label=<∂z/∂w = x>" in bare  # numbers belong to "values"
    assert ">value<" not in bare and "∂C/∂z<" not in bare and "= w·x + b" not in bare
    names_only = render(g, values=SIMPLE_VALUES, show=["names"]).source
    assert "∂" not in names_only and ">value<" not in names_only


# --- the SVG -------------------------------------------------------------------------------


@needs_dot
def test_edge_from_w_to_z_carries_its_partial():
    g = Graph.from_text(SIMPLE)
    root = svg_root(render(g, wrt="w", values=SIMPLE_VALUES))
    edges = groups(root, "edge")
    w_to_z = edges[f"e_{g['w'].id}_{g['z'].id}"]
    assert texts(w_to_z) == ["∂z/∂w = x", "= 0.48"]
    assert texts(edges[f"e_{g['z'].id}_{g['a'].id}"]) == ["∂a/∂z = σ′(z)", "= 0.2244"]


@needs_dot
def test_highlighted_edges_are_exactly_the_path_edges():
    # Two paths from w: through u and through v.
    g = Graph.from_text("z = w*x + b; u = sigma(z); v = tanh(z); C = (u - y)^2 + v")
    d = derive(g, wrt="w")
    assert len(d.paths) == 2
    want = {f"e_{g[p[i]].id}_{g[p[i + 1]].id}" for p in d.paths for i in range(len(p) - 1)}
    root = svg_root(render(g, wrt="w"))
    assert set(groups(root, "on")) - {n.id for n in g.nodes} == want
    dimmed = {k for k in groups(root, "dim") if k.startswith("e_")}
    assert dimmed and not dimmed & want
    for g_el in groups(root, "on").values():
        if g_el.get("id", "").startswith("e_"):
            assert {p.get("stroke") for p in g_el.iter(f"{SVG}path")} == {"#d55e00"}


@needs_dot
def test_node_values_and_adjoints_equal_the_graphs_numbers():
    g = examples.chain(1)
    values, grads = g.evaluate(SLIDES), g.gradients(SLIDES)
    root = svg_root(render(g, values=SLIDES))
    nodes = groups(root, "node")
    for node in g.nodes:
        t = texts(nodes[node.id])
        value = t[t.index("value") + 1]
        grad = t[t.index(f"∂C₀/∂{node.unicode}") + 1]
        assert value == fmt_number(values[node.name])
        assert number(value) == pytest.approx(values[node.name], rel=1e-3)
        assert number(grad) == pytest.approx(grads[node.name], rel=1e-3)
    assert texts(nodes[g["a^(L-1)"].id])[2] == "0.48"
    assert texts(nodes[g["a^(L)"].id])[3] == "0.66"


@needs_dot
def test_network_view_shows_the_slides_numbers():
    g = examples.chain(1)
    root = svg_root(render(g, values=SLIDES, view="network"))
    nodes = groups(root, "node")
    assert texts(nodes[g["a^(L-1)"].id])[:2] == ["a⁽ᴸ⁻¹⁾", "0.48"]
    assert texts(nodes[g["a^(L)"].id])[:2] == ["a⁽ᴸ⁾", "0.66"]
    assert texts(nodes[g["y"].id]) == ["y", "1.00"]
    synapse = groups(root, "edge")[f"e_{g['a^(L-1)'].id}_{g['a^(L)'].id}"]
    assert texts(synapse)[0] == "w⁽ᴸ⁾ = 2"


@needs_dot
def test_hostile_labels_come_out_as_literal_text():
    g, values, slash = hostile_graph()
    r = render(g, wrt=slash, values=values)
    assert "<TD HREF" not in r.source and "<script" not in r.source
    root = svg_root(r)
    tags = {el.tag.split("}")[-1] for el in root.iter()}
    assert not tags & {"a", "script", "image", "foreignObject"}
    for el in root.iter():
        for key, val in el.attrib.items():
            assert "javascript:" not in val, (key, val)
    all_text = " ".join(texts(root))
    assert '<<TABLE><TR><TD HREF="javascript:alert(1)">x</TD></TR></TABLE>>' in all_text
    assert '<script>alert("op")</script>' in all_text
    assert "w\\N\\G\\l\\" in all_text  # not expanded to the node's id or the graph's name
    assert "gradgraph" not in all_text


def test_escape_covers_markup_backslashes_and_control_characters():
    assert esc('<a href="javascript:x">&</a>') == \
        "&lt;a href=&quot;javascript:x&quot;&gt;&amp;&lt;/a&gt;"
    assert esc("ends with\\") == "ends with\\\\"
    assert esc("a\\N b\\G") == "a\\\\N b\\\\G"
    assert esc("line\nbreak\x00") == "line break "


@pytest.mark.parametrize(("value", "text"), [
    (0.6600012976, "0.66"), (-0.0732437, "−0.07324"), (2.0, "2"), (0.0, "0"), (-0.0, "0"),
    (1.23e-7, "1.23×10⁻⁷"), (float("nan"), "nan"), (float("-inf"), "−∞"),
    (np.array([0.1, 0.2]), "[0.1, 0.2] (n=2)"),
    (np.array([1.0, 2.0, 3.0, 4.0]), "[1, 2, 3, …] (n=4)"),
])
def test_numbers_are_written_as_a_teacher_writes_them(value, text):
    assert fmt_number(value) == text


def test_edge_numbers_use_the_registry_kernels():
    g = Graph.from_text("swish(t) = t*sigma(t); z = w*x; a = swish(z); C = relu(a) + abs(w)")
    env = g.evaluate({"w": 1.5, "x": -2.0})
    for node in g.nodes:
        for parent in node.parents:
            expr = local_partial(g, node.name, parent)
            got = numeric_value(expr, env)
            want = float(ops.elementary(expr).subs({symbol(k): v for k, v in env.items()}))
            assert got == pytest.approx(want, abs=1e-12), (node.name, parent)


# --- other views and options -----------------------------------------------------------


def test_network_view_needs_neurons():
    with pytest.raises(RenderError, match="neurons"):
        render(Graph.from_text("C = (w*x - y)^2"), view="network")


def test_network_view_finds_layers_of_a_hand_written_net():
    text = ("z1 = w1*x1 + w2*x2 + b1; h1 = sigma(z1); z2 = w3*x1 + w4*x2 + b1; "
            "h2 = sigma(z2); z3 = w5*h1 + w6*h2 + b2; o = sigma(z3); E = (o - t)^2/2")
    src = render(Graph.from_text(text), view="network").source
    for cluster in ("cluster_layer0", "cluster_layer1", "cluster_layer2", "cluster_targets"):
        assert cluster in src
    assert src.count(" -> ") == 4 + 2 + 1  # synapses, then o compared with its target


def test_collapse_draws_one_box_per_layer():
    g = examples.chain(3)
    src = render(g, wrt="w^(L-1)", collapse=True).source
    assert src.count('class="layer"') == 4  # L, L-1, L-2 and the input's L-3
    assert "layer L−1" in src
    assert f"  {g['z^(L)'].id} [" not in src  # inside its layer's box
    assert f"  {g['y'].id} [" in src  # untagged nodes are drawn as usual


def test_a_graph_over_the_cap_gives_dot_text_but_no_layout():
    g = examples.chain(MAX_DRAWN_NODES // 4 + 1)
    assert len(g.nodes) > MAX_DRAWN_NODES or len(g.nodes) - 1 > MAX_DRAWN_EDGES
    big = render(g)  # the DOT text is cheap; only dot's layout is capped
    assert big.source.startswith("digraph gradgraph {") and big.oversize is not None
    assert big.pipe("dot") == big.source.encode("utf-8")
    for fmt in ("svg", "png", "pdf"):
        with pytest.raises(RenderError, match=r"graph too large to lay out .*collapse=True"):
            big.pipe(fmt)
    collapsed = render(g, collapse=True)
    assert collapsed.oversize is None
    assert collapsed.source.count('class="layer"') == MAX_DRAWN_NODES // 4 + 2


def test_a_graph_without_layer_tags_does_not_collapse():
    with pytest.raises(RenderError, match="no layer tags to collapse by"):
        render(Graph.from_text(SIMPLE), collapse=True)
    lines = ["h1 = w1*x"] + [f"h{i} = w{i}*h{i - 1}" for i in range(2, 251)] + ["C = h250"]
    wide = Graph.from_text("\n".join(lines))
    message = render(wide).oversize.message()
    assert "no layer tags" in message and "collapse=True" not in message


@pytest.mark.parametrize(("values", "message"), [
    ({**SIMPLE_VALUES, "z": 5.0}, "z is computed from its inputs; give values for the "
                                  "leaves: w, x, b, y"),
    ({"w": 2.0, "y": 1.0}, "no value given for x, b$"),
    ({**SIMPLE_VALUES, "n0": 3.0}, r"w is given twice \(as w and n0\)"),
])
def test_values_must_be_each_leaf_once_and_only_leaves(values, message):
    with pytest.raises(gg.errors.ValueInputError, match=message):
        render(Graph.from_text(SIMPLE), values=values)


def test_the_stepper_refuses_a_graph_over_the_cap_without_suggesting_collapse():
    g = examples.chain(MAX_DRAWN_NODES // 4 + 1)
    with pytest.raises(RenderError, match="too large to step through") as caught:
        steps(g)
    assert "collapse" not in str(caught.value)  # the stepper has no collapsed view


def test_collapse_is_refused_with_the_network_view():
    with pytest.raises(RenderError, match="does not apply to the network view"):
        render(examples.chain(2), view="network", collapse=True)


def test_the_oversize_message_speaks_python_or_cli():
    g = examples.chain(MAX_DRAWN_NODES // 4 + 1)
    oversize = render(g).oversize
    assert "collapse=True" in oversize.message() and "--" not in oversize.message()
    cli = oversize.message(cli=True)
    assert "--collapse" in cli and "--format dot" in cli and "collapse=True" not in cli


def _collapsed_lines(source: str) -> list[list[str]]:
    return [re.findall(r"layer_\d+", m) for m in re.findall(r"\{ rank=same; ([^}]*)\}", source)]


def test_a_long_collapsed_chain_wraps_into_lines():
    short = render(examples.chain(5), collapse=True).source  # 6 boxes: one line
    assert "rank=same" not in short and 'rankdir="LR"' in short
    g = examples.chain(20)  # 21 layer boxes
    src = render(g, collapse=True).source
    lines = _collapsed_lines(src)
    assert [len(line) for line in lines] == [6, 6, 6, 3]
    assert 'rankdir="TB"' in src  # lines follow each other down the page
    flat = [box for line in lines for box in line]
    tags = [re.search(rf'  {box} \[.*?<B>layer (L[^<]*)</B>', src).group(1) for box in flat]
    assert tags[0] == "L−20" and tags[-1] == "L"  # in the order values flow
    assert tags == [f"L−{k}" for k in range(20, 0, -1)] + ["L"]
    assert src.count("style=\"invis\"") == 3  # each line starts under the one before
    tb = render(g, collapse=True, rankdir="TB").source
    assert 'rankdir="LR"' in tb and len(_collapsed_lines(tb)) == 4


@needs_dot
def test_a_wrapped_chain_is_a_page_not_a_strip(tmp_path):
    png = render(examples.chain(20), collapse=True).pipe("png")
    width, height = struct.unpack(">II", png[16:24])
    assert width < 3 * height and width < 6000, (width, height)


def test_unknown_show_view_and_rankdir_are_refused():
    g = Graph.from_text(SIMPLE)
    with pytest.raises(RenderError, match="cannot show 'colour'"):
        render(g, show="names,colour")
    with pytest.raises(RenderError, match="unknown view"):
        render(g, view="tree")
    with pytest.raises(RenderError, match="rankdir"):
        render(g, rankdir="XY")


def test_batches_of_values_render():
    values = {**SIMPLE_VALUES, "x": [0.48, 0.1, -0.3, 0.9]}
    src = render(Graph.from_text(SIMPLE), wrt="w", values=values).source
    assert "(n=4)" in src


def test_too_many_paths_still_highlights_and_captions_the_cached_form():
    lines = ["h0 = w*x"] + [f"h{i} = sigma(h{i - 1}) + tanh(h{i - 1})" for i in range(1, 10)]
    g = Graph.from_text("; ".join(lines) + "; C = h9")
    src = render(g, wrt="w").source
    assert 'class="on"' in src
    assert "∂h₀/∂w · ∂C/∂h₀" in src


def test_bottom_to_top_flow():
    assert 'rankdir="BT"' in render(Graph.from_text(SIMPLE), rankdir="BT").source


# --- the stepper ---------------------------------------------------------------------------


def test_stepper_one_frame_per_edge_in_reverse_topological_order():
    g = examples.chain(1)
    order = backward_edges(g, g.cost)
    assert order[0] == ("a^(L)", "C_0") and order[-1][1] == "z^(L)"
    frames = steps(g, values=SLIDES)
    assert len(frames) == len(order) == 6
    for frame, (parent, child) in zip(frames, order, strict=True):
        active = [line for line in frame.source.splitlines() if 'class="active"' in line]
        assert len(active) == 1
        assert active[0].startswith(f"  {g[parent].id} -> {g[child].id} ")


def test_stepper_ends_with_the_graphs_adjoints():
    g = examples.chain(1)
    last = steps(g, values=SLIDES)[-1].source
    grads = g.gradients(SLIDES)
    for name in ("w^(L)", "b^(L)", "a^(L-1)", "z^(L)"):
        assert f">{esc(fmt_number(grads[name]))}</FONT>" in last
    first = steps(g, values=SLIDES)[0].source
    assert ">?</FONT>" in first  # adjoints not reached yet


@needs_dot
def test_stepper_frame_svg_highlights_the_active_edge():
    g = examples.chain(1)
    root = svg_root(steps(g, values=SLIDES)[2])
    assert set(groups(root, "active")) == {f"e_{g['z^(L)'].id}_{g['a^(L)'].id}"}
    assert len(groups(root, "done")) == 2


# --- layers: the op graph ------------------------------------------------------------------

TINY_LAYER = "W: param(2, 2); x: input(2)\nz = W x\nC = sum(z^2)"
TINY_VALUES = {"W": np.array([[1.0, -2.0], [0.5, 3.0]]), "x": np.array([[1.0, 2.0]])}


def layer_graph() -> tuple[Graph, dict[str, np.ndarray]]:
    """lessons/graphs/layer.gg at lesson 04's numbers (one example)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "lessons", "graphs", "layer.gg"), encoding="utf-8") as fh:
        g = Graph.from_text(fh.read())
    return g, {"a^(L-1)": np.array([[0.48, 0.8]]), "W^(L)": np.array([[2.0, -1.0], [0.5, 1.5]]),
               "b^(L)": np.array([0.1, -0.5]), "y": np.array([[1.0, 0.0]])}


def test_layer_nodes_show_shape_and_index_form_exact():
    src = render(Graph.from_text(TINY_LAYER), show="names,defs,partials").source
    assert ('  n0 [id="n0", class="param normal", label=<<TABLE BORDER="1" CELLBORDER="0" '
            'CELLSPACING="0" CELLPADDING="4" COLOR="#D18E00" BGCOLOR="white"><TR><TD '
            'COLSPAN="2" BGCOLOR="#FBE7BE"><FONT POINT-SIZE="14" COLOR="#222222"><B>W</B> '
            '∈ ℝ²ˣ²</FONT></TD></TR><HR/><TR><TD COLSPAN="2" BGCOLOR="white"><FONT '
            'COLOR="#222222">entries Wⱼₖ</FONT></TD></TR></TABLE>>]\n') in src
    assert '<B>z</B> ∈ ℝ²</FONT></TD></TR><HR/><TR><TD COLSPAN="2" BGCOLOR="white"><FONT ' \
           'COLOR="#222222">zⱼ = Σₖ Wⱼₖ·xₖ</FONT>' in src
    assert '<B>C</B></FONT></TD></TR><HR/><TR><TD COLSPAN="2" BGCOLOR="white"><FONT ' \
           'COLOR="#222222">= Σⱼ zⱼ²</FONT>' in src  # a scalar: its name is already above
    assert ('  n0 -> n2 [id="e_n0_n2", class="normal", color="#6B6B6B", fontcolor="#222222", '
            'penwidth="1.2", label=<∂zⱼ/∂Wⱼₖ = xₖ>]\n') in src
    assert 'label=<∂zⱼ/∂xₖ = Wⱼₖ>]' in src and 'label=<∂C/∂zⱼ = 2zⱼ>]' in src


def test_layer_values_are_small_grids_and_edges_get_indexed_numbers():
    src = render(Graph.from_text(TINY_LAYER), wrt="W", values=TINY_VALUES,
                 show="values,partials").source
    grid = ('<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2" COLOR="#D4D4D4" '
            'BGCOLOR="#FAFAFA"><TR><TD ALIGN="RIGHT"><FONT COLOR="#222222">1</FONT></TD><TD '
            'ALIGN="RIGHT"><FONT COLOR="#222222">−2</FONT></TD></TR><TR><TD ALIGN="RIGHT"><FONT '
            'COLOR="#222222">0.5</FONT></TD><TD ALIGN="RIGHT"><FONT COLOR="#222222">3</FONT>'
            '</TD></TR></TABLE>')
    assert grid in src  # W as its matrix, rows as rows
    assert ('  n0 -> n2 [id="e_n0_n2", class="on", color="#D55E00", fontcolor="#D55E00", '
            'penwidth="2.8", label=<<B>∂zⱼ/∂Wⱼₖ = xₖ<BR/>= [1, 2]ₖ</B>>]\n') in src
    assert 'label=<∂zⱼ/∂xₖ = Wⱼₖ<BR/>= [[1, −2], [0.5, 3]]ⱼₖ>]' in src  # rows j, columns k
    assert "label=<<B>∂C/∂zⱼ = 2zⱼ<BR/>= [−6, 13]ⱼ</B>>]" in src  # z = W x = (−3, 6.5)


def test_layer_caption_is_the_index_form_derivation_with_its_sums():
    g, values = examples.mazur()
    src = render(g, wrt="W^(1)", values=values).source
    d = derive(g, wrt="W^(1)")
    head, chain = d.chain_unicode().split(" ", 1)[0], d.chain_unicode()
    assert head == "Σⱼ"  # j runs over the units of layer 2 that W⁽¹⁾ reaches
    assert f"<B>{esc(d.head_unicode)}</B> = {esc(chain)}" in src
    assert esc(d.factors_unicode()) in src
    for line in d.matrix_unicode().splitlines()[:-1]:  # the δ form, layer by layer
        assert esc(line) in src
    assert "<B>∂C/∂W⁽¹⁾</B> = δ⁽¹⁾ xᵀ" in src
    # Mazur's ∂E/∂w1 … ∂E/∂w4 as the matrix, in the caption's highlight.
    assert '<B>⎡0.0004386  0.0008771⎤</B>' in src and '<B>⎣0.0004977  0.0009954⎦</B>' in src


@needs_dot
def test_layer_svg_nodes_carry_the_graphs_numbers_and_the_lit_path():
    g, values = layer_graph()
    r = render(g, wrt="W^(L)", values=values)
    root = svg_root(r)
    nodes = groups(root, "node")
    assert texts(nodes[g["W^(L)"].id])[:6] == ["W⁽ᴸ⁾", "∈ ℝ²ˣ²", "entries Wⱼₖ⁽ᴸ⁾", "value",
                                              "2", "−1"]
    grads = g.gradients(values)
    w_texts = texts(nodes[g["W^(L)"].id])
    shown = [number(t) for t in w_texts[w_texts.index("∂C₀/∂W⁽ᴸ⁾") + 1:]]
    assert shown == pytest.approx(grads["W^(L)"].ravel(), rel=1e-3)
    a_texts = texts(nodes[g["a^(L)"].id])  # a batched node: its (only) example
    value = g.evaluate(values)["a^(L)"][0]
    assert [number(t) for t in a_texts[a_texts.index("value") + 1:][:2]] == \
        pytest.approx(value, rel=1e-3)
    d = derive(g, wrt="W^(L)")
    want = {f"e_{g[p[i]].id}_{g[p[i + 1]].id}" for p in d.paths for i in range(len(p) - 1)}
    assert {k for k in groups(root, "on") if k.startswith("e_")} == want
    edge = groups(root, "edge")[f"e_{g['W^(L)'].id}_{g['z^(L)'].id}"]
    assert texts(edge) == ["∂zⱼ⁽ᴸ⁾/∂Wⱼₖ⁽ᴸ⁾ = aₖ⁽ᴸ⁻¹⁾", "= [0.48, 0.8]ₖ"]


def test_big_tensors_are_summarised_and_a_batch_shows_its_first_example():
    g = examples.mlp([6, 5, 2])
    rng = np.random.default_rng(3)
    values = {n.name: rng.normal(size=n.shape) for n in g.nodes if n.role == "param"}
    values["x"], values["y"] = rng.normal(size=(3, 6)), np.eye(2)[[0, 1, 1]]
    src = render(g, values=values).source
    norm = fmt_number(float(np.linalg.norm(values["W^(1)"])))
    assert f"5×6, ‖·‖ = {norm}" in src  # 5 × 6 is past the 4 × 4 written out
    assert "Numbers: example 1 of 3; parameter gradients are means over the 3 examples." in src
    summary = fmt_number(float(np.linalg.norm(g.evaluate(values)["a^(1)"][0])))
    assert f"5, ‖·‖ = {summary}" in src  # a batched node: the first example's
    first = g.evaluate(values)["a^(2)"][0]
    assert f">{esc(fmt_number(first[1]))}</FONT>" in src


def test_layer_collapse_and_steps_render_with_values():
    g, values = examples.mazur()
    collapsed = render(g, wrt="W^(1)", values=values, collapse=True).source
    assert collapsed.count('class="layer"') == 2 and "[[0.15, 0.2], [0.25, 0.3]]" in collapsed
    frames = steps(g, values=values)
    assert len(frames) == len(backward_edges(g, g.cost))
    last, grads = frames[-1].source, g.gradients(values)
    assert "∂C/∂x</FONT>" in last and ">?</FONT>" not in last
    assert f">{esc(fmt_number(grads['W^(1)'][0, 0]))}</FONT>" in last
    assert ">?</FONT>" in frames[0].source  # adjoints not reached yet
    w2 = [f for f in frames if 'class="active"' in f.source.split(f"{g['W^(2)'].id} -> ")[-1]
          .split("\n")[0]]
    assert w2 and "<B>∂C/∂Wⱼₖ⁽²⁾</B> = ∂C/∂zⱼ⁽²⁾ · ∂zⱼ⁽²⁾/∂Wⱼₖ⁽²⁾" in w2[0].source


def test_a_layer_step_sums_over_the_units_above():
    g, values = examples.mazur()
    order = backward_edges(g, g.cost)
    k = order.index(("a^(1)", "z^(2)"))
    src = steps(g, values=values)[k].source
    assert "<B>∂C/∂aₖ⁽¹⁾</B> = Σⱼ ∂C/∂zⱼ⁽²⁾ · ∂zⱼ⁽²⁾/∂aₖ⁽¹⁾" in src


@needs_dot
def test_hostile_names_in_a_layer_graph_come_out_as_literal_text():
    evil = '<TD HREF="javascript:alert(1)">W\\N'
    # z in a layer, so the collapsed view has a box whose lines must be escaped too
    g = Graph.from_text(TINY_LAYER.replace("z", "z^(1)"))

    def rename(e):  # noqa: ANN001, ANN202
        if e is None:
            return None
        return e.xreplace({s: symbol(evil + s.name[1:]) for s in e.free_symbols
                           if s.name.startswith("W")})

    def rn(name: str) -> str:
        return evil if name == "W" else name

    nodes = tuple(dataclasses.replace(n, name=rn(n.name), parents=tuple(map(rn, n.parents)),
                                      expr=rename(n.expr), tensor_expr=rename(n.tensor_expr))
                  for n in g.nodes)
    hostile = Graph(nodes, "C", order={rn(k): v for k, v in g.order.items()})
    values = {evil: np.eye(2), "x": np.array([[1.0, 2.0]])}
    for r in (render(hostile, wrt=evil, values=values), steps(hostile, values=values)[-1],
              render(hostile, values=values, collapse=True)):
        assert "<TD HREF" not in r.source
        root = svg_root(r)
        assert not {el.tag.split("}")[-1] for el in root.iter()} & {"a", "script"}
        assert '<TD HREF="javascript:alert(1)">W\\N' in " ".join(texts(root))


# --- layers: the network view --------------------------------------------------------------


def mlp_values(sizes: list[int], batch: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    g = examples.mlp(sizes)
    rng = np.random.default_rng(seed)
    values = {n.name: rng.normal(size=n.shape) for n in g.nodes if n.role == "param"}
    values["x"] = rng.normal(size=(batch, sizes[0]))
    values["y"] = np.eye(sizes[-1])[np.arange(batch) % sizes[-1]]
    return values


def unit_order(source: str) -> dict[str, list[int]]:
    """Each layer's unit ids in the order their rank lists them."""
    out = {}
    for ids in re.findall(r'\{rank="same"; title_\w+; ([^}]*)\}', source):
        units = [u for u in ids.split("; ") if not u.endswith("_more")]
        out[units[0].split("_")[0]] = [int(u.split("_")[1]) for u in units]
    return out


def test_dense_network_draws_units_in_layers_with_weights_by_sign_and_size():
    g = examples.mlp([4, 3, 2])
    values = mlp_values([4, 3, 2])
    src = render(g, values=values, view="network").source
    assert unit_order(src) == {g["x"].id: [0, 1, 2, 3], g["a^(1)"].id: [0, 1, 2],
                               g["a^(2)"].id: [0, 1], g["y"].id: [0, 1]}
    w = values["W^(1)"]
    scale = max(abs(values["W^(1)"]).max(), abs(values["W^(2)"]).max())
    j, k = np.unravel_index(np.argmin(w), w.shape)  # the most negative weight
    edge = re.search(rf'  {g["x"].id}_{k} -> {g["a^(1)"].id}_{j} \[[^\n]*', src).group(0)
    assert 'color="#D55E00"' in edge  # vermillion: negative
    assert f'penwidth="{1.0 + 5.0 * abs(w[j, k]) / scale:.2f}"' in edge
    j, k = np.unravel_index(np.argmax(w), w.shape)
    edge = re.search(rf'  {g["x"].id}_{k} -> {g["a^(1)"].id}_{j} \[[^\n]*', src).group(0)
    assert 'color="#0072B2"' in edge  # blue: positive
    assert 3 * 4 + 2 * 3 > MAX_LABELLED_LINKS and "too many to label" in src
    # Circles: one example's activation, bias and the gradient overlay ∂C/∂a.
    a1, grads = g.evaluate(values)["a^(1)"][0], g.gradients(values)["a^(1)"][0]
    unit = re.search(rf'  {g["a^(1)"].id}_2 \[[^\n]*', src).group(0)
    assert f"<B>{esc(f'{a1[2]:.2f}'.replace('-', '−'))}</B>" in unit
    assert f"∂C/∂a₂⁽¹⁾ = {esc(fmt_number(grads[2], 3))}" in unit
    assert f"b₂⁽¹⁾ = {esc(fmt_number(values['b^(1)'][2], 3))}" in unit
    assert "example 1 of 3" in src


def scalar_mazur() -> tuple[Graph, dict[str, float]]:
    """Mazur's network written neuron by neuron (as in the README's picture)."""
    text = ("z1 = w1*x1 + w2*x2 + b1; h1 = sigma(z1); z2 = w3*x1 + w4*x2 + b1; "
            "h2 = sigma(z2); z3 = w5*h1 + w6*h2 + b2; o1 = sigma(z3); z4 = w7*h1 + w8*h2 + b2; "
            "o2 = sigma(z4); E = ((o1 - t1)^2 + (o2 - t2)^2)/2")
    values = dict(x1=0.05, x2=0.10, w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45,
                  w7=0.50, w8=0.55, b1=0.35, b2=0.60, t1=0.01, t2=0.99)
    return Graph.from_text(text), values


def picture_numbers(root: ET.Element) -> dict[str, list[str]]:
    """The numbers in circles and on synapses, each list sorted (names differ)."""
    out: dict[str, list[str]] = {}
    for cls in ("neuron", "target", "synapse"):
        found = []
        for el in groups(root, cls).values():
            for t in texts(el):
                found.append(t.rsplit("= ", 1)[-1] if "=" in t else t)
        out[cls] = sorted(x for x in found if re.fullmatch(r"−?[\d.]+(×10\S+)?", x))
    return out


@needs_dot
def test_mazur_layered_network_shows_the_scalar_pictures_numbers():
    g, values = examples.mazur()
    layered = picture_numbers(svg_root(render(g, values=values, view="network")))
    sg, svalues = scalar_mazur()
    scalar = picture_numbers(svg_root(render(sg, values=svalues, view="network")))
    assert layered == scalar
    assert {"0.05", "0.10", "0.59", "0.60", "0.75", "0.77"} <= set(layered["neuron"])
    assert "0.000439" in layered["synapse"] and "−0.0226" in layered["synapse"]


def test_mazur_layered_network_lights_the_chain_and_names_units_as_expand_to_scalars():
    g, values = examples.mazur()
    src = render(g, wrt="W^(1)", values=values, view="network").source
    names = {n.name for n in gg.expand_to_scalars(g).nodes}
    assert {"a_0^(1)", "W_01^(2)", "x_1"} <= names
    assert "a₀⁽¹⁾" in src and "W₀₁⁽²⁾ = 0.45" in src and "x₁" in src
    assert src.count('class="on"') == 8  # W⁽¹⁾'s synapses, and all after them
    x0 = re.search(rf'  {g["x"].id}_0 \[[^\n]*', src).group(0)
    assert 'color="#C4C4C4"' in x0  # the inputs are off the chain
    assert esc(derive(g, wrt="W^(1)").factors_unicode()) in src


def test_a_wide_layer_draws_its_first_units_and_says_how_many_more():
    g = examples.mlp([64, 100, 10])
    src = render(g, values=mlp_values([64, 100, 10], batch=2), view="network").source
    assert "59 more" in src and "95 more" in src
    assert unit_order(src)[g["a^(1)"].id] == [0, 1, 2, 3, 4]
    circles = len(re.findall(r"^  n\d+_(?:\d+|more) \[id=", src, re.MULTILINE))
    links = len(re.findall(r" -> n\d+_\d+ \[id=", src))
    want = (6 + 6 + 10 + 10, 5 * 5 + 5 * 10 + 10)  # 5 units and a mark; 10 outputs, targets
    assert (circles, links) == dense_size(g, detect_dense(g)) == want
    assert circles <= MAX_DRAWN_NODES and links <= MAX_DRAWN_EDGES


def test_a_dense_network_over_the_cap_is_not_laid_out():
    g = examples.mlp([12] * 6)  # 5 × 144 synapses, even at most 12 units a layer
    picture = render(g, view="network")
    with pytest.raises(RenderError, match="network too large to lay out"):
        picture.pipe("svg")


def test_the_network_view_needs_a_chain_of_dense_layers():
    with pytest.raises(RenderError, match="dense layers"):
        render(Graph.from_text("x: input(2); y: input(2)\nC = sum((x - y)^2)"), view="network")
    skip = ("x: input(2); W: param(2, 2); V: param(2, 2); y: input(2)\n"
            "h = sigma(W x); o = sigma(V x); C = sum((o - h - y)^2)")
    with pytest.raises(RenderError, match="chain of dense layers"):
        render(Graph.from_text(skip), view="network")


def test_the_dot_shim_is_gone_and_its_names_live_where_they_are_drawn():
    for shim in ("gradgraph.render.dot", "gradgraph.lessons"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(shim)
    from gradgraph.render.collapse import collapsed_dot
    from gradgraph.render.scene import build_scene

    assert collapsed_dot(build_scene(examples.chain(2))).count('class="layer"') == 3


# --- output --------------------------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize(("suffix", "magic"), [
    ("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF"), ("dot", b"digraph"),
])
def test_save_by_suffix(tmp_path, suffix, magic):
    path = render(Graph.from_text("C = w*x")).save(tmp_path / f"out.{suffix}")
    assert path.read_bytes().startswith(magic)
    assert os.listdir(tmp_path) == [f"out.{suffix}"]  # no temp file left behind


@needs_dot
def test_notebook_display():
    r = render(Graph.from_text("C = w*x"))
    assert "<svg" in (r._repr_svg_() or "")
    bundle = r._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"] and bundle["text/plain"] == r.source


def test_missing_dot_says_how_to_install_and_dot_text_still_works(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    r = render(Graph.from_text(SIMPLE), wrt="w")
    with pytest.raises(RenderError, match="apt-get install graphviz") as err:
        r.svg()
    assert "\n" not in str(err.value)
    assert r.save(tmp_path / "g.dot").read_text(encoding="utf-8") == r.source
    assert r._repr_svg_() is None
    assert r.source in r._repr_mimebundle_()["text/plain"]


def _fake_dot(tmp_path, monkeypatch, body: str) -> None:
    exe = tmp_path / "dot"
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(render_output, "find_dot", lambda: str(exe))


def test_a_slow_dot_is_stopped(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, "exec sleep 5")
    with pytest.raises(RenderError, match="longer than 0.3 s"):
        Rendering("digraph g {}", timeout=0.3).svg()


def test_a_failing_dot_gives_its_first_line(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, "echo 'Error: syntax error' >&2; exit 1")
    with pytest.raises(RenderError, match="dot failed: Error: syntax error"):
        Rendering("digraph g {}").pipe("png")


def test_svg_with_a_link_is_refused(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, "cat >/dev/null; echo '<svg><a href=\"x\">x</a></svg>'")
    with pytest.raises(RenderError, match="link or script"):
        Rendering("digraph g {}").svg()


def test_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "g.dot"
    target.write_text("old")

    def broken(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(render_output.os, "replace", broken)
    with pytest.raises(RenderError, match="No space left"):
        render(Graph.from_text("C = w*x")).save(target)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["g.dot"]


def test_unknown_format_is_refused(tmp_path):
    r = render(Graph.from_text("C = w*x"))
    with pytest.raises(RenderError, match="unknown format 'gif'"):
        r.save(tmp_path / "g.gif")
    with pytest.raises(RenderError, match="cannot tell the format"):
        r.save(tmp_path / "g")


def _caption_lines(source: str) -> list[str]:
    """The stepper caption's equation lines as read: tags and white (alignment) text gone."""
    label = source[source.index("Backward pass"):]
    label = label[:label.index("<BR ALIGN=\"LEFT\"/><BR")]
    lines = [re.sub(r'<FONT COLOR="white">.*?</FONT>', "", line)
             for line in label.split('<BR ALIGN="LEFT"/>')]
    return [html.unescape(re.sub(r"<[^>]+>", "", line)).strip() for line in lines]


def test_stepper_caption_reads_as_a_teacher_would():
    g = examples.chain(1)
    frames = steps(g, values=SLIDES)
    assert _caption_lines(frames[1].source) == [
        "Backward pass, step 2 of 6: edge y → C₀",
        "∂C₀/∂y = 2(y − a⁽ᴸ⁾)",
        "= 0.68",
    ]
    assert _caption_lines(frames[2].source) == [
        "Backward pass, step 3 of 6: edge z⁽ᴸ⁾ → a⁽ᴸ⁾",
        "∂C₀/∂z⁽ᴸ⁾ = ∂C₀/∂a⁽ᴸ⁾ · ∂a⁽ᴸ⁾/∂z⁽ᴸ⁾",
        "= ∂C₀/∂a⁽ᴸ⁾ · σ′(z⁽ᴸ⁾)",
        "= (−0.68) · 0.2244 = −0.1526",
    ]
