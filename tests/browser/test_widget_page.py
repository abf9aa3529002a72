"""gg.widget's front end in Chromium, offline: the bundled module renders the diagram, a
click on a node shows its derivation (the playground's view), and nothing is fetched."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

NEURON = "z = w*x + b; a = sigma(z); C = (a - y)^2"

# A stand-in for anywidget's model: get/set/save_changes/on/off over the widget's state.
HARNESS = """async ([source, css, state]) => {
  const style = document.createElement('style');
  style.textContent = css;
  document.head.append(style);
  const handlers = {};
  const model = {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; (handlers[`change:${k}`] || []).forEach((f) => f()); },
    save_changes: () => { window.saved = (window.saved || 0) + 1; },
    on: (ev, f) => { (handlers[ev] = handlers[ev] || []).push(f); },
    off: (ev, f) => { handlers[ev] = (handlers[ev] || []).filter((g) => g !== f); },
  };
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const mod = await import(url);
  const el = document.createElement('div');
  document.body.append(el);
  mod.default.render({ model, el });
}"""


def test_the_widget_module_shows_a_clicked_nodes_derivation(page):
    pytest.importorskip("anywidget")
    from gradgraph import Graph
    from gradgraph.render import find_dot
    from gradgraph.widget import bundle, stylesheet, widget

    if find_dot() is None:
        pytest.skip("Graphviz is not installed: no diagram to click")
    g = Graph.from_text(NEURON)
    w = widget(g, {"w": 2, "x": 0.48, "b": -0.2967, "y": 1})
    fetched: list[str] = []
    page.route("**/*", lambda route: (fetched.append(route.request.url), route.abort()))
    page.set_content("<!doctype html><html><head></head><body></body></html>")
    state = json.loads(json.dumps(w.get_state(["svg", "message", "nodes", "cost",
                                               "derivations", "selected"])))
    page.evaluate(HARNESS, [bundle(), stylesheet(), state])
    assert "Click a node" in page.locator(".gg-widget .gg-panel").inner_text()
    page.locator(f'.gg-widget g.node[id="{g["w"].id}"]').click()
    panel = page.locator(".gg-widget .gg-panel")
    panel.locator(".derivation").wait_for()
    titles = panel.locator(".dhead [title]").evaluate_all("els => els.map((e) => e.title)")
    assert titles[:3] == ["∂C/∂w", "∂z/∂w · ∂a/∂z · ∂C/∂a", "x · σ′(z) · 2(a − y)"]
    assert panel.locator("math").count() >= 3  # typeset, not just text
    assert page.locator(".gg-widget g.node.gg-selected").get_attribute("id") == g["w"].id
    assert page.evaluate("window.saved") == 1  # the choice goes back to Python
    page.locator(f'.gg-widget g.node[id="{g["C"].id}"]').click()
    assert "the output" in panel.inner_text()
    assert fetched == [] and page.console_errors == []
