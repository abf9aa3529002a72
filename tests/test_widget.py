"""gg.widget: the tutor's diagram and derivations in a notebook (anywidget, optional).

The front end is the tutor's own ES modules inlined into one (no network, no CDN); the
browser test (tests/browser/test_widget_page.py) runs it in Chromium.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys

import pytest

import gradgraph as gg
from gradgraph.errors import GradgraphError
from gradgraph.render import find_dot
from gradgraph.widget import bundle, stylesheet

NEURON = "z = w*x + b; a = sigma(z); C = (a - y)^2"


def test_the_bundle_is_one_module_with_no_imports() -> None:
    source = bundle()
    assert not re.search(r"^\s*import\b", source, re.M)  # nothing left to fetch
    assert re.findall(r"^export\s+\w+", source, re.M) == ["export default"]
    assert "derivationView" in source and "class Diagram" in source
    assert "http://" not in source.replace("http://www.w3.org/", "")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_bundle_parses_as_an_es_module(tmp_path) -> None:
    path = tmp_path / "widget.mjs"
    path.write_text(bundle(), encoding="utf-8")
    done = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr  # e.g. two modules declaring one name


def test_the_stylesheet_stays_inside_the_widget() -> None:
    css = stylesheet()
    rules = re.findall(r"([^{}]+)\{[^{}]*\}", css)
    assert rules and all(s.strip().startswith(".gg-widget")
                         for r in rules for s in r.split(","))
    assert "--done:" in css and ".gg-widget .dhead" in css


def test_import_gradgraph_never_imports_anywidget() -> None:
    code = ("import sys, gradgraph as gg; gg.Graph.from_text('C = w*x'); "
            "print('anywidget' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_without_anywidget_a_one_line_error(monkeypatch) -> None:
    module = importlib.import_module("gradgraph.widget")  # gg.widget is the function

    monkeypatch.setitem(sys.modules, "anywidget", None)  # import fails
    module._widget_class.cache_clear()
    try:
        with pytest.raises(GradgraphError, match="pip install"):
            module.widget(gg.Graph.from_text(NEURON))
    finally:
        module._widget_class.cache_clear()


def test_the_widget_holds_every_nodes_derivation() -> None:
    pytest.importorskip("anywidget")
    from gradgraph.widget import widget

    g = gg.Graph.from_text(NEURON)
    w = widget(g, {"w": 2, "x": 0.48, "b": -0.2967, "y": 1})
    assert w.cost == "C" and w.selected == ""
    assert set(w.derivations) == {n.id for n in g.nodes if n.name != "C"}
    dw = w.derivations[g["w"].id]
    assert dw["head"]["unicode"] == "∂C/∂w" and dw["product"]["unicode"] == "x · σ′(z) · 2(a − y)"
    assert dw["value"] == pytest.approx(g.gradients({"w": 2, "x": 0.48, "b": -0.2967,
                                                     "y": 1})["w"])
    assert [n["unicode"] for n in w.nodes] == [n.name for n in g.nodes]
    if find_dot() is not None:
        assert f'id="{g["w"].id}"' in w.svg and w.message == ""
    else:
        assert w.svg == "" and "Graphviz" in w.message
    w.selected = g["a"].id  # Python can choose the node shown
    assert w.get_state()["selected"] == g["a"].id


def test_gg_widget_is_the_function() -> None:
    from gradgraph.widget import widget

    assert gg.widget is widget
