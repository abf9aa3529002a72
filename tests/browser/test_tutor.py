"""The tutor's pages in real Chromium: every page, click, key and stream a student uses.

Each test drives `gradgraph serve`'s app (uvicorn on a free port, serve_fixture.py)
through Playwright; the `page` fixture (conftest.py) records console errors, which
include Content-Security-Policy violations. Screenshots go to /tmp/gradgraph-shots/.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from .serve_fixture import server  # noqa: F401 - the live server fixture

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/gradgraph-shots")
# GRADGRAPH_README_SHOTS=1 also refreshes the README's pictures (the window, not the page).
README_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"
README_NAMES = {"playground-derivation", "lesson-exercise", "check-wrong", "train-done"}
NEURON = "z = w*x + b; a = sigma(z); C = (a - y)^2"
NEURON_VALUES = '{"w": 2, "x": 0.48, "b": -0.2967, "y": 1}'
WRONG = "x*sigma(z)*2*(a - y)"  # σ where σ′ belongs: the classic slip
RIGHT = "x*sigma'(z)*2*(a - y)"
ACTIVE = "#pg-diagram g.edge.active"  # the backward pass's current edge (render.steps)


def url(base: str, view: str, **query: str) -> str:
    qs = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    return f"{base}/#/{view}" + (f"?{qs}" if qs else "")


def open_view(page, address: str, view: str) -> None:
    page.goto(address)
    # Generous: a lesson renders all its diagrams on first load, and CI machines are shared.
    page.wait_for_selector(f"body[data-ready='{view}']", timeout=60_000)


def shot(page, name: str, focus=None) -> None:
    """The whole page to SHOTS; for the README, the window around `focus` (a locator)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if os.environ.get("GRADGRAPH_README_SHOTS") and name in README_NAMES:
        if focus is not None:
            focus.evaluate("el => el.scrollIntoView({block: 'center'})")
        page.screenshot(path=str(README_SHOTS / f"tutor-{name}.png"))


def node(page, name: str):
    """The diagram's <g> for the node called `name` (its aria-label starts with it)."""
    return page.locator(f"#pg-diagram g.node[aria-label^='{name}:']")


def adjoint_cell(page, name: str):
    row = page.locator("#pg-numbers tbody tr", has=page.locator(f"th button:text-is('{name}')"))
    return row.locator("td").nth(1)


# --- pages load -------------------------------------------------------------------------


@pytest.mark.parametrize("view, path, ready", [
    ("playground", "#/playground", "#pg-diagram svg g.node"),
    ("lessons", "#/lessons", "ol.lesson-list a.card"),
    ("lessons", "#/lessons/chain-rule", "li.step"),
    ("check", "#/check", "#ck-example option:nth-child(2)"),
    ("train", "#/train", "#tr-form fieldset"),
])
def test_each_page_loads_without_console_errors(page, server, view, path, ready):  # noqa: F811
    page.add_init_script("window.__csp = []; document.addEventListener("
                         "'securitypolicyviolation', e => window.__csp.push(e.violatedDirective))")
    open_view(page, f"{server}/{path}", view)
    page.wait_for_selector(ready, state="attached")
    name = re.sub(r"[^a-z]+", "-", path.strip("#/")).strip("-")
    shot(page, name)
    assert page.evaluate("window.__csp") == []
    assert page.console_errors == []


# --- playground ---------------------------------------------------------------------------


def test_clicking_a_node_shows_its_derivation_with_sigma_prime(page, server):  # noqa: F811
    open_view(page, url(server, "playground", g=NEURON, v=NEURON_VALUES), "playground")
    node(page, "w").click()
    inspector = page.locator("#pg-inspector .derivation")
    inspector.wait_for()
    assert "σ′" in inspector.inner_text() or "σ′" in page.locator("#pg-inspector").text_content()
    assert page.locator("#pg-inspector math").count() >= 3  # typeset, not just text
    assert "sel=" in page.url  # the selection is in the shareable link
    node(page, "z").focus()  # every node is a keyboard button
    page.keyboard.press("Enter")
    page.wait_for_selector("#pg-inspector .reuses")  # cached form: reuses ∂C/∂a
    page.locator("#pg-inspector button:text-is('Expand')").click()
    page.wait_for_selector("#pg-inspector .drow:has-text('In the leaves') math")
    shot(page, "playground-derivation")
    assert page.console_errors == []


def test_clicking_an_edge_shows_its_local_partial(page, server):  # noqa: F811
    open_view(page, url(server, "playground", g=NEURON), "playground")
    page.locator("#pg-diagram g.edge[aria-label^='edge z → a']").click()
    page.wait_for_selector("#pg-inspector .badge.edge")
    assert "σ′(z)" in page.locator("#pg-inspector").inner_text()
    # Five paths from w: folded under one line, so the chain stays in view.
    many = "a = w*x; " + "; ".join(f"b{i} = a*{i + 2}" for i in range(5)) + "; C = b0+b1+b2+b3+b4"
    page.goto(url(server, "playground", g=many))
    page.wait_for_selector("body[data-ready='playground'] #pg-diagram svg g.node")
    node(page, "w").click()
    folded = page.locator("#pg-inspector details.paths")
    folded.wait_for(state="attached")
    assert folded.locator("summary").inner_text() == "5 paths, factor by factor"
    assert folded.get_attribute("open") is None and folded.locator(".drow").count() == 5
    assert page.console_errors == []


def test_changing_a_value_changes_an_adjoint(page, server):  # noqa: F811
    open_view(page, url(server, "playground", g=NEURON, v=NEURON_VALUES), "playground")
    before = adjoint_cell(page, "w").inner_text()
    assert before == "−0.07324"
    page.locator("#pg-values .leaf:has-text('y') input[type=number]").fill("0")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#pg-numbers tbody tr')]"
        ".some(r => r.textContent.startsWith('w') && !r.textContent.includes('−0.07324'))")
    after = adjoint_cell(page, "w").inner_text()
    assert after != before and after == "0.1422"  # 0.48 · σ′(0.6633) · 2(0.66 − 0)
    assert '"y":0' in page.url.replace("%22", '"').replace("%3A", ":")
    # Dragging a slider and letting go redraws the diagram with the new value on the node.
    page.locator("#pg-values .leaf:has-text('w') input[type=range]").fill("3")
    page.wait_for_function("() => [...document.querySelectorAll('#pg-diagram g.node text')]"
                           ".some(t => t.textContent === '3')")
    assert page.locator("#pg-values .leaf:has-text('w') input[type=number]").input_value() == "3"
    assert page.console_errors == []


def test_arrow_keys_step_the_backward_pass(page, server):  # noqa: F811
    open_view(page, url(server, "playground", g=NEURON, v=NEURON_VALUES), "playground")
    count = page.locator("#pg-step-count")
    total = int(re.search(r"(\d+) edges", count.inner_text()).group(1))
    page.locator("body").press("ArrowRight")
    page.wait_for_selector("#pg-diagram g.edge.active")
    assert count.inner_text() == f"Edge 1 of {total}"
    # Read as a teacher says it: start from ∂C/∂C = 1, then local partial × child's adjoint.
    assert page.locator("#pg-step .seed .m").get_attribute("title") == "∂C/∂C = 1"
    assert page.locator("#pg-step code.copy").inner_text() == (
        "∂C/∂a += ∂C/∂a · ∂C/∂C = 2(a − y) · 1")
    first = page.locator("#pg-diagram g.edge.active").get_attribute("id")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector('{ACTIVE}')?.id !== '{first}'")
    assert count.inner_text() == f"Edge 2 of {total}"
    assert "Step 2" in page.locator("#pg-step").inner_text()
    assert page.locator("#pg-step .seed").count() == 0
    assert "step=1" in page.url
    shot(page, "playground-step")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => document.querySelector('{ACTIVE}')?.id === '{first}'")
    assert count.inner_text() == f"Edge 1 of {total}"
    assert page.console_errors == []


def test_keyboard_only_pick_a_node_then_step_keeps_focus(page, server):  # noqa: F811
    open_view(page, url(server, "playground", g=NEURON, v=NEURON_VALUES, sel="n0"), "playground")
    page.wait_for_selector("#pg-inspector .derivation")
    for _ in range(80):  # Tab from the top of the page to the diagram's w, as a keyboard user
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('#pg-diagram g.node')"):
            break
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("w:")
    page.keyboard.press("Enter")  # w is already selected: Enter must not hide it
    page.wait_for_timeout(200)
    assert page.locator("#pg-inspector .derivation").count() == 1
    page.keyboard.press("ArrowRight")
    page.wait_for_selector(ACTIVE)
    # The diagram was redrawn for the step; the keyboard user is still on w.
    assert page.evaluate("document.activeElement.id") == "n0"
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('#pg-step-count').textContent"
                           ".startsWith('Edge 2')")
    assert page.console_errors == []


def test_wrong_input_gets_one_line_beside_its_box(page, server):  # noqa: F811
    visible = "el => !el.hidden && el.textContent.trim() !== ''"
    open_view(page, url(server, "playground", g=NEURON, v=NEURON_VALUES), "playground")
    number = page.locator("#pg-values .leaf:has-text('w') input[type=number]")
    number.fill("")
    line = page.locator("#pg-values-error")
    line.wait_for()
    assert line.inner_text().startswith("w is empty")
    number.fill("1e300")  # z = w·x + b is then 1e600: no float holds it
    page.locator("#pg-values .leaf:has-text('x') input[type=number]").fill("1e300")
    page.wait_for_function("() => /^z\\b.*overflows? at these values/.test("
                           "document.querySelector('#pg-values-error').textContent)")
    number.fill("3")
    page.wait_for_function(f"() => !({visible})(document.querySelector('#pg-values-error'))")
    too_long = "x + " * 15_001  # just past the 60,000 characters the server reads
    page.locator("#pg-text").fill("z = w*x; C = " + too_long + "z")
    page.wait_for_function(f"() => ({visible})(document.querySelector('#pg-error'))")
    assert "characters long" in page.locator("#pg-error").inner_text()
    # Check: an unknown name in the derivative box is said beside that box, not as a verdict.
    page.goto(url(server, "check", g=NEURON, q="dC/dq", a=RIGHT))
    page.wait_for_selector("#ck-question-error:not([hidden])")
    assert "no node named 'q'" in page.locator("#ck-question-error").inner_text()
    assert page.locator("#ck-result").is_hidden()
    page.locator("#ck-question").fill("dC/dw")
    page.locator("#ck-answer").fill(WRONG)
    page.locator("#ck-submit").click()
    page.wait_for_selector("#ck-result .verdict.bad")
    assert page.locator("#ck-question-error").is_hidden()
    page.locator("#ck-answer").fill(too_long + "x")  # a 200 KB paste is answered alike
    page.locator("#ck-submit").click()
    page.wait_for_selector("#ck-answer-error:not([hidden])")
    assert "characters long" in page.locator("#ck-answer-error").inner_text()
    assert page.locator("#ck-result").is_hidden()  # the last verdict was for another answer
    shot(page, "check-too-long")


def test_an_xss_payload_typed_as_graph_text_stays_text(page, server):  # noqa: F811
    open_view(page, url(server, "playground", g=NEURON), "playground")
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    page.locator("#pg-text").fill(f"z = w*x; C = {payload}")
    page.wait_for_selector("#pg-error:not([hidden])")
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0 and page.locator("main script").count() == 0
    page.goto(url(server, "check", g=NEURON, q="dC/dw", a=payload))
    page.wait_for_selector("#ck-result:not([hidden]), #ck-answer-error:not([hidden])")
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0
    # Echoed back in an error message, the payload is shown as the characters typed.
    page.goto(f"{server}/#/train")
    page.locator("#tr-hidden").fill(payload)
    page.locator("#tr-start").click()
    assert payload in page.locator("#tr-error").inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0 and page.locator("main script").count() == 0


def test_narrow_window_has_no_sideways_scroll(page, server):  # noqa: F811
    page.set_viewport_size({"width": 420, "height": 900})
    fits = "document.documentElement.scrollWidth <= window.innerWidth + 1"
    open_view(page, url(server, "playground", g=NEURON, v=NEURON_VALUES), "playground")
    node(page, "w").click()
    page.wait_for_selector("#pg-inspector .derivation")
    shot(page, "playground-narrow")
    assert page.evaluate(fits)
    for view, path, ready in [("lessons", "lessons/chain-rule?step=4", "li.step svg"),
                              ("check", "check", "#ck-form"), ("train", "train", "#tr-form")]:
        open_view(page, f"{server}/#/{path}", view)
        page.wait_for_selector(ready)
        shot(page, f"{view}-narrow")
        assert page.evaluate(fits), view
    assert page.console_errors == []


FAN = "p = w*x; q = w*y; r = w*t; s = w*v; k = w*u; C = p*q*r*s*k"  # five paths from w


def test_a_long_derivation_breaks_its_lines_in_a_narrow_window(page, server):  # noqa: F811
    page.set_viewport_size({"width": 420, "height": 900})
    open_view(page, url(server, "playground", g=FAN), "playground")
    node(page, "w").click()
    page.wait_for_selector("#pg-inspector .derivation .dhead")
    head = page.locator("#pg-inspector .derivation .dhead")
    assert head.locator(".dline").count() == 10  # five paths, chain then product
    shot(page, "playground-long-derivation")
    # Every formula inside the window, none cut off in a box that scrolls sideways.
    overflow = page.evaluate("""() => [...document.querySelectorAll('#pg-inspector math')]
        .filter((m) => m.getBoundingClientRect().right > window.innerWidth + 1)
        .map((m) => m.closest('[title]')?.title || m.textContent)""")
    assert overflow == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.console_errors == []


# --- check -----------------------------------------------------------------------------------


def test_checker_gives_factor_feedback_and_highlights_the_wrong_edge(page, server):  # noqa: F811
    open_view(page, url(server, "check", g=NEURON, q="dC/dw", a=WRONG), "check")
    page.wait_for_selector("#ck-result .verdict.bad")
    wrong_rows = page.locator("#ck-result table.factortable tr.wrong")
    assert wrong_rows.count() == 1 and "σ′(z)" in wrong_rows.inner_text()
    # The slip's code and its reason on the factor's row; no list repeats it.
    assert "OP-NOT-DERIVATIVE" in wrong_rows.locator("td.note code").inner_text()
    assert "not its derivative" in wrong_rows.locator("td.note").inner_text()
    assert page.locator("#ck-result ul.slips").count() == 0
    page.wait_for_selector("#ck-diagram g.edge.gg-wrong")
    wrong = page.locator("#ck-diagram g.edge.gg-wrong")
    assert wrong.count() == 1
    assert wrong.get_attribute("id") == "e_n3_n4"  # z (n3) → a (n4): where σ′ belongs
    shot(page, "check-wrong")
    page.locator("#ck-answer").fill("x + sigma'(z) + 2*(a - y)")  # a slip of the whole
    page.locator("#ck-submit").click()
    page.wait_for_selector("#ck-result ul.slips")
    assert page.locator("#ck-result ul.slips li").all_inner_texts() == [
        "SUM-NOT-PRODUCT the chain rule multiplies the factors along a path; this adds them"]
    page.locator("#ck-answer").fill(RIGHT)
    page.locator("#ck-submit").click()
    page.wait_for_selector("#ck-result .verdict.ok")
    assert "✓" in page.locator("#ck-result .vmark").inner_text()
    assert page.locator("#ck-diagram g.edge.gg-wrong").count() == 0
    assert page.console_errors == []


# --- lessons ---------------------------------------------------------------------------------


def test_a_lesson_exercise_gets_hints_factor_feedback_then_a_tick(page, server):  # noqa: F811
    page.goto(f"{server}/")
    page.evaluate("localStorage.clear()")
    open_view(page, f"{server}/#/lessons/chain-rule", "lessons")
    # Reveal steps with Continue until the full-chain exercise is on the page.
    exercise = page.locator("li.step:has(input#ex-dc-dw)")
    for _ in range(20):
        if exercise.count():
            break
        page.locator("#ls-continue").click()
    answer = exercise.locator("input#ex-dc-dw")
    exercise.locator("button:has-text('Hint')").click()
    exercise.locator("ol.hints li").first.wait_for()
    assert exercise.locator("ol.hints li").count() == 1  # one hint at a time
    answer.fill("a^(L-1)*sigma(z^(L))*2*(a^(L) - y)")
    exercise.locator("button[type=submit]").click()
    exercise.locator(".verdict.bad").wait_for()
    assert exercise.locator("table.factortable tr.wrong").count() >= 1
    assert "OP-NOT-DERIVATIVE" in exercise.locator("tr.wrong td.note").inner_text()
    exercise.locator(".diagram g.edge.gg-wrong").wait_for()  # the slip, on the graph
    shot(page, "lesson-exercise", focus=exercise.locator(".verdict"))
    answer.fill("a^(L-1)*sigma'(z^(L))*2*(a^(L) - y)")
    exercise.locator("button[type=submit]").click()
    exercise.locator(".verdict.ok").wait_for()
    # Progress survives a reload: the step is still revealed, the answer remembered.
    page.reload()
    page.wait_for_selector("body[data-ready='lessons']")
    page.wait_for_selector("li.step input#ex-dc-dw")
    assert page.locator("input#ex-dc-dw").input_value().startswith("a^(L-1)*sigma'")
    assert page.console_errors == []


# --- train -----------------------------------------------------------------------------------


def test_a_training_run_streams_epochs_into_the_curves(page, server):  # noqa: F811
    open_view(page, f"{server}/#/train", "train")
    page.locator("#tr-hidden").fill("8")
    page.locator("#tr-epochs").fill("3")
    page.locator("#tr-start").click()
    page.wait_for_function("() => /^Done/.test(document.querySelector('#tr-status').textContent)",
                           timeout=30_000)
    points = page.locator("#tr-loss polyline.train").get_attribute("points").split()
    assert len(points) == 3  # one point per streamed epoch
    assert page.locator("#tr-acc polyline.val").get_attribute("points").count(",") == 3
    page.wait_for_selector("#tr-result .derivation")
    assert "hidden" in page.url
    shot(page, "train-done")
    # A long run, cancelled once it has started streaming.
    page.locator("#tr-epochs").fill("200")
    page.locator("#tr-start").click()
    status = "document.querySelector('#tr-status').textContent"
    page.wait_for_function(f"() => /^Epoch/.test({status})")
    page.locator("#tr-cancel").click()
    page.wait_for_function(f"() => /^Cancelled/.test({status})", timeout=15_000)
    assert page.locator("#tr-start").is_enabled() and page.locator("#tr-cancel").is_disabled()
    assert page.console_errors == []


def test_adam_with_beta_1_a_cosine_schedule_and_a_validation_split(page, server):  # noqa: F811
    open_view(page, f"{server}/#/train", "train")
    beta_1 = page.locator("#tr-beta_1")
    assert beta_1.is_hidden()  # sgd does not take β₁
    page.locator("#tr-optimizer").select_option("adam")
    assert beta_1.is_visible() and beta_1.get_attribute("placeholder") == "0.9"
    assert page.locator("#tr-momentum").is_hidden()
    beta_1.fill("0.8")
    page.locator("#tr-schedule").select_option("cosine")
    page.locator("#tr-schedule-total").fill("30")
    page.locator("#tr-validation_split").fill("0.2")
    page.locator("#tr-hidden").fill("4")
    page.locator("#tr-epochs").fill("3")
    page.locator("#tr-batch_size").fill("256")
    with page.expect_request("**/api/train") as posted:
        page.locator("#tr-start").click()
    assert posted.value.post_data_json == {
        "data": "digits", "hidden": [4], "activation": "tanh", "optimizer": "adam",
        "beta_1": 0.8, "epochs": 3, "batch_size": 256, "seed": 0, "validation_split": 0.2,
        "schedule": {"kind": "cosine", "total": 30}}
    page.wait_for_function("() => /^Done/.test(document.querySelector('#tr-status').textContent)",
                           timeout=30_000)
    assert len(page.locator("#tr-loss polyline.train").get_attribute("points").split()) == 3
    assert len(page.locator("#tr-acc polyline.val").get_attribute("points").split()) == 3
    assert page.locator("#tr-loss text.legend", has_text="validation").count() == 1
    assert "306 held-out" in page.locator("#tr-status").text_content()
    shot(page, "train-parity")
    # The link holds the options: a reload restores adam's β₁ and the schedule.
    page.reload()
    page.wait_for_selector("body[data-ready='train']", timeout=60_000)
    assert page.locator("#tr-optimizer").input_value() == "adam" and beta_1.input_value() == "0.8"
    assert page.locator("#tr-schedule-total").input_value() == "30"
    assert page.locator("#tr-validation_split").input_value() == "0.2"
    assert page.console_errors == []


# --- the pages' pure logic, run in the browser -----------------------------------------------


def test_sanitiser_and_helpers(page, server):  # noqa: F811
    open_view(page, f"{server}/#/train", "train")
    result = page.evaluate("""async () => {
      const safe = await import('/static/safe.js');
      const values = await import('/static/values.js');
      const route = await import('/static/route.js');
      const chart = await import('/static/chart.js');
      const check = await import('/static/check.js');
      const train = await import('/static/train.js');
      const refused = (f, x) => { try { f(x); return null; } catch (e) { return e.message; } };
      const svg = safe.svgElement('<?xml version="1.0"?><svg width="75pt" onload="window.__x=1">'
        + '<script>window.__x=2</script><g id="n0" class="node" style="fill:red">'
        + '<a href="javascript:alert(1)"><text>t</text></a><foreignObject><p>x</p></foreignObject>'
        + '<polygon points="0,0" fill="url(#g)"/></g></svg>');
      const math = safe.mathFragment('<math><mi onclick="x()">a</mi><mtext>b</mtext>'
        + '<img src=x onerror="window.__x=3"></math>');
      const prose = document.createElement('div');
      prose.append(safe.proseFragment('<p class="c" id="main">hi <a href="javascript:1">l</a>'
        + '<iframe src="x"></iframe><code>c</code></p>'));
      const table = document.createElement('div');
      table.append(safe.mathFragment('<math display="block"><mtable class="gg-eq">'
        + '<mtr><mtd><mi>C</mi></mtd><mtd><mo>=</mo></mtd><mtd><mi>x</mi></mtd></mtr>'
        + '<mtr><mtd><mrow></mrow></mtd><mtd><mo>=</mo></mtd><mtd><mi>x</mi><mo>+</mo><mi>y</mi>'
        + '<mo>+</mo><mi>z</mi></mtd></mtr></mtable></math>'));
      document.querySelector('main').append(table);
      const lefts = [...table.querySelectorAll('mtd:last-child')]
        .map((td) => Math.round(td.firstElementChild.getBoundingClientRect().left));
      table.remove();
      const state = {g: 'z = w*x; C = z^2', v: {w: 1}};
      const h = route.parseHash(route.formatHash('playground', [], state));
      return {
        svg: svg.outerHTML, math: math.outerHTML, prose: prose.innerHTML, lefts,
        pretty: ['a^(L-1)', 'C_0', 'w_jk^(L)', 'gamma'].map(values.prettyName),
        slider: values.sliderRange(0.48), ticks: chart.niceTicks(0, 1),
        route: [h.view, h.query.get('g'), route.jsonParam(h.query, 'v', null)],
        limits: check.parseLimits('x: 0..1; y_1: -2.5..1e3'),
        badLimits: refused(check.parseLimits, 'x: 1..0'),
        hidden: train.parseHidden('64, 32'), badHidden: refused(train.parseHidden, '64,0'),
        cost: check.costOf('z = w*x # note\\nC_0 = z^2'),
        targets: [["! invalid: no node named 'q' in the graph", 'dC/dq', 'x'],
                  ["! invalid: no node named 'q' in the graph", 'dC/dw', 'q*x'],
                  ["! invalid: write one equation, dC/dw = …", 'dC/dw', '<b>'],
                  ["! invalid: say which derivative: write 'dC/dw = …'", '', 'x']]
          .map((args) => check.unreadableTarget(...args)),
      };
    }""")
    assert "onload" not in result["svg"] and "script" not in result["svg"]
    assert "fill:red" not in result["svg"] and "<a" not in result["svg"]
    assert "foreignObject" not in result["svg"] and 'fill="url(#g)"' in result["svg"]
    assert 'id="n0"' in result["svg"] and "max-width: 100px" in result["svg"]
    assert "onclick" not in result["math"] and "img" not in result["math"]
    assert "<mtext>b</mtext>" in result["math"]
    assert result["prose"] == '<p class="c">hi <code>c</code></p>'
    assert result["lefts"][0] == result["lefts"][1]  # right-hand sides start together
    assert result["pretty"] == ["a⁽ᴸ⁻¹⁾", "C₀", "wⱼₖ⁽ᴸ⁾", "γ"]
    assert result["slider"] == [-1, 1, 0.005]
    assert result["ticks"] == [0, 0.25, 0.5, 0.75, 1]
    assert result["route"] == ["playground", "z = w*x; C = z^2", {"w": 1}]
    assert result["limits"] == {"x": [0, 1], "y_1": [-2.5, 1000]}
    assert result["badLimits"].startswith("“x: 1..0”")
    assert result["hidden"] == [64, 32] and "whole numbers" in result["badHidden"]
    assert result["cost"] == "C_0"
    assert result["targets"] == ["#ck-question-error", "#ck-answer-error", "#ck-answer-error",
                                 "#ck-question-error"]
    assert page.evaluate("window.__x") is None
    assert page.console_errors == []


# --- sharing, Graphviz missing, a lesson's training run -----------------------------------


def test_a_shared_link_restores_graph_values_target_and_step(page, server):  # noqa: F811
    open_view(page, url(server, "playground", g=NEURON, v=NEURON_VALUES), "playground")
    page.locator("#pg-values .leaf:has-text('w') input[type=number]").fill("3")
    page.locator("#pg-wrt").select_option("b")
    page.locator("#pg-next").click()
    page.locator("#pg-next").click()
    page.locator("#pg-share").click()
    page.wait_for_selector("#pg-share-msg:not(:empty)")
    shared = page.url
    fresh = page.context.new_page()
    fresh.goto(shared)
    fresh.wait_for_selector("body[data-ready='playground']")
    fresh.wait_for_selector("#pg-diagram g.edge.active")
    assert fresh.locator("#pg-step-count").inner_text().startswith("Edge 2 of")
    assert fresh.locator("#pg-values .leaf:has-text('w') input[type=number]").input_value() == "3"
    assert fresh.locator("#pg-wrt").input_value() == "b"
    assert page.console_errors == []


def test_without_graphviz_a_notice_and_derivations_still_work(page, server):  # noqa: F811
    missing = "Graphviz's dot was not found on PATH"
    page.route("**/api/health", lambda route: route.fulfill(json={
        "version": "test", "graphviz": False, "graphviz_message": missing}))
    page.route("**/api/render", lambda route: route.fulfill(json={"svg": None, "message": missing}))
    open_view(page, url(server, "playground", g=NEURON, v=NEURON_VALUES), "playground")
    banner = page.locator("#health")
    banner.wait_for()
    assert missing in banner.inner_text() and "\n" not in banner.inner_text().strip()
    assert missing in page.locator("#pg-diagram").inner_text()
    page.locator("#pg-numbers button:text-is('w')").click()  # no diagram: pick from the table
    page.wait_for_selector("#pg-inspector .derivation")
    assert "σ′" in page.locator("#pg-inspector").text_content()
    assert adjoint_cell(page, "w").inner_text() == "−0.07324"
    shot(page, "playground-no-graphviz")
    assert page.console_errors == []


def test_a_lessons_training_step_runs_live(page, server):  # noqa: F811
    # The lesson trains the deck's full network; the test shrinks the run it posts.
    def tiny(route):
        route.continue_(post_data={**route.request.post_data_json, "hidden": [8], "epochs": 3})

    page.route("**/api/train", tiny)
    open_view(page, f"{server}/#/lessons/keras-digits?step=99", "lessons")
    step = page.locator("li.step:has(.trainstep)").first
    step.locator("button:has-text('Train it here')").click()
    step.locator(".result .derivation").wait_for(timeout=30_000)
    assert len(step.locator("svg.chart polyline.train").first.get_attribute("points").split()) == 3
    assert step.locator(".status").inner_text().startswith("Done")
    assert page.console_errors == []


def test_a_lesson_file_that_does_not_load_says_why_on_its_card(page, server):  # noqa: F811
    why = "02-broken.toml, line 1: invalid TOML: a string is not closed before the end of the line"
    page.route("**/api/lessons", lambda route: route.fulfill(json=[
        {"name": "broken", "number": None, "title": "02-broken", "summary": "", "exercises": 0,
         "error": why}]))
    open_view(page, f"{server}/#/lessons", "lessons")
    card = page.locator("ol.lesson-list a.card.broken")
    card.wait_for()
    assert why in card.inner_text() and "does not load" in card.inner_text()
    assert page.console_errors == []


def test_an_undecided_check_is_settled_by_giving_ranges(page, server):  # noqa: F811
    open_view(page, url(server, "check", g="C = sqrt(x)^2", q="dC/dx", a="1"), "check")
    page.wait_for_selector("#ck-result .verdict.unsure")
    assert page.locator("#ck-result .vmark").inner_text() == "?"
    page.locator("#ck-more summary").click()
    page.locator("#ck-limits").fill("x: 0..")
    page.locator("#ck-submit").click()
    assert "x: 0.." in page.locator("#ck-limits-error").inner_text()  # beside its input
    page.locator("#ck-limits").fill("x: 0.1..2")
    page.locator("#ck-submit").click()
    page.wait_for_selector("#ck-result .verdict.ok")
    assert "r=x" in page.url
    assert page.console_errors == []
