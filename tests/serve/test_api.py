"""The tutor's JSON API through Starlette's TestClient: every endpoint, every error kind,
escaping, static files, the deadline, training."""

from __future__ import annotations

import json
import re
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

import gradgraph as gg
from gradgraph.serve import create_app

with warnings.catch_warnings():  # starlette asks for httpx2, which is not installed here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
SLIDES, VALUES = gg.examples.SLIDES, gg.examples.SLIDES_VALUES
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
            '"><svg onload=alert(1)>', "javascript:alert(1)"]


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(deadline=2.0)) as c:
        yield c


def error(r, status: int, kind: str | None = None) -> str:
    assert r.status_code == status, r.text[:300]
    body = r.json()["error"]
    assert "\n" not in body["message"] and "Traceback" not in body["message"]
    if kind is not None:
        assert body["kind"] == kind
    return body["message"]


# --- happy paths ----------------------------------------------------------------------


def test_health_and_security_headers(client):
    r = client.get("/api/health")
    assert r.json()["version"] == gg.__version__
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/no/such/page").headers["content-security-policy"] == CSP


def test_graph_structure_has_ids_edges_and_backward_steps(client):
    r = client.post("/api/graph", json={"graph": SLIDES})
    g = r.json()
    assert [n["id"] for n in g["nodes"]] == [f"n{i}" for i in range(7)]
    assert g["cost"] == "C_0" and g["params"] == ["w^(L)", "b^(L)"]
    edge = next(e for e in g["edges"] if e["parent"] == "z^(L)")
    assert edge["id"] == "e_n3_n4" and edge["partial"]["unicode"] == "σ′(z⁽ᴸ⁾)"
    assert edge["partial"]["mathml"].startswith("<math")
    assert len(g["backward"]) == len(g["edges"])
    assert g["backward"][0]["text"].startswith("∂C₀/∂")
    assert set(g["defaults"]) == set(g["leaves"])


def test_backward_steps_read_as_a_teacher_says_them(client):
    """Seed ∂C/∂C = 1, then each edge: ∂C/∂z += ∂a/∂z · ∂C/∂a = σ′(z) · ∂C/∂a."""
    g = client.post("/api/graph", json={"graph": SLIDES}).json()
    assert g["seed"]["unicode"] == "∂C₀/∂C₀ = 1" and g["seed"]["mathml"].startswith("<math")
    steps = {(s["parent"], s["child"]): s for s in g["backward"]}
    first = g["backward"][0]
    assert (first["parent"], first["child"]) == ("a^(L)", "C_0")
    assert first["text"] == "∂C₀/∂a⁽ᴸ⁾ += ∂C₀/∂a⁽ᴸ⁾ · ∂C₀/∂C₀ = 2(a⁽ᴸ⁾ − y) · 1"
    assert steps[("z^(L)", "a^(L)")]["text"] == (
        "∂C₀/∂z⁽ᴸ⁾ += ∂a⁽ᴸ⁾/∂z⁽ᴸ⁾ · ∂C₀/∂a⁽ᴸ⁾ = σ′(z⁽ᴸ⁾) · ∂C₀/∂a⁽ᴸ⁾")
    assert all(s["text"].count("+=") == 1 for s in g["backward"])
    assert "<mo>+=</mo>" in first["mathml"] and "<mn>1</mn>" in first["mathml"]
    other = client.post("/api/graph", json={"graph": SLIDES, "of": "a^(L)"}).json()
    assert other["seed"]["unicode"] == "∂a⁽ᴸ⁾/∂a⁽ᴸ⁾ = 1"


def test_evaluate_matches_the_library(client):
    r = client.post("/api/evaluate", json={"graph": SLIDES, "values": VALUES})
    out = r.json()
    expected = gg.Graph.from_text(SLIDES).gradients(VALUES)
    for name, value in expected.items():
        assert out["adjoints"][name] == pytest.approx(float(value), rel=1e-12)
    assert out["values"]["a^(L)"] == pytest.approx(0.66, abs=1e-3)
    assert out["batch"] is None
    again = client.post("/api/evaluate", json={"graph": SLIDES,
                                               "values": {**VALUES, "w^(L)": 1.0}}).json()
    assert again["adjoints"]["w^(L)"] != out["adjoints"]["w^(L)"]  # served from the cache


def test_evaluate_a_batch_on_a_layer_graph(client):
    text = (ROOT / "lessons" / "graphs" / "layer.gg").read_text(encoding="utf-8")
    values = {"W^(L)": [[1, 2], [3, 4]], "b^(L)": [0, 1], "a^(L-1)": [[0.5, -1], [1, 2]],
              "y": [[1, 0], [0, 1]]}
    out = client.post("/api/evaluate", json={"graph": text, "values": values}).json()
    expected = gg.Graph.from_text(text).gradients(
        {k: np.array(v, dtype=float) for k, v in values.items()})
    assert np.allclose(out["adjoints"]["W^(L)"], expected["W^(L)"])
    assert out["batch"] == 2


def test_derive_gives_the_chain_and_its_value(client):
    r = client.post("/api/derive", json={"graph": SLIDES, "wrt": "w^(L)", "expand": True,
                                         "values": VALUES})
    d = r.json()
    assert d["paths"] == [["w^(L)", "z^(L)", "a^(L)", "C_0"]]
    assert d["chain"]["unicode"] == "∂z⁽ᴸ⁾/∂w⁽ᴸ⁾ · ∂a⁽ᴸ⁾/∂z⁽ᴸ⁾ · ∂C₀/∂a⁽ᴸ⁾"
    assert [f["edge"] for f in d["factors"][0]] == ["e_n0_n3", "e_n3_n4", "e_n4_n6"]
    assert d["cached"]["reuses"] == ["z^(L)"]
    grads = gg.Graph.from_text(SLIDES).gradients(VALUES)
    assert d["value"] == pytest.approx(float(grads["w^(L)"]), rel=1e-12)
    assert "expanded" in d and d["expanded"]["mathml"].startswith("<math")


def test_render_draws_svg_with_the_pages_ids(client):
    r = client.post("/api/render", json={"graph": SLIDES, "wrt": "w^(L)", "values": VALUES})
    out = r.json()
    if out["svg"] is None:
        pytest.skip(out["message"])
    assert 'id="e_n3_n4"' in out["svg"] and 'id="n0"' in out["svg"]
    step = client.post("/api/render", json={"graph": SLIDES, "step": 0}).json()
    assert step["steps"] == 6
    msg = error(client.post("/api/render", json={"graph": SLIDES, "step": 99}), 400,
                "RenderError")
    assert "out of range" in msg


def test_check_names_the_wrong_edge(client):
    wrong = client.post("/api/check", json={
        "graph": SLIDES, "question": "dC_0/dw^(L)",
        "answer": "a^(L-1)*sigma(z^(L))*2*(a^(L)-y)"}).json()
    assert wrong["verdict"] == "not equal" and wrong["wrong_edges"] == ["e_n3_n4"]
    right = client.post("/api/check", json={
        "graph": SLIDES, "question": "dC_0/dw^(L)",
        "answer": "a^(L-1)*sigma'(z^(L))*2*(a^(L)-y)"}).json()
    assert right["correct"] is True and right["wrong_edges"] == []
    bad = client.post("/api/check", json={"graph": SLIDES, "answer": "x +* 2",
                                          "question": "dC_0/dw^(L)"}).json()
    assert bad["verdict"] == "invalid"


def test_a_verdict_names_each_slip_with_its_code_and_why(client):
    # Two slips, as `gradgraph check` names them: ∂a/∂u₁ left out, the 2 dropped.
    v = client.post("/api/check", json={"graph": "C = (a-y)^2; a = sigma(w*x)",
                                        "answer": "dC/dw = x*(a-y)"}).json()
    rows = {f["symbol"]: (f["code"], f["why"]) for f in v["factors"]}
    assert rows["∂a/∂u₁"] == ("MISSING-FACTOR", "a factor is missing")
    assert rows["∂C/∂a"] == ("DROPPED-CONSTANT", "a constant factor was dropped")
    assert rows["∂u₁/∂w"] == ("", "")  # a right factor has no slip
    assert v["slips"] == [{"code": "DROPPED-CONSTANT", "why": "a constant factor was dropped"},
                          {"code": "MISSING-FACTOR", "why": "a factor is missing"}]
    right = client.post("/api/check", json={"graph": "C = (a-y)^2; a = sigma(w*x)",
                                            "answer": "dC/dw = x*sigma'(w*x)*2(a-y)"}).json()
    assert right["correct"] is True and right["slips"] == []
    bad = client.post("/api/check", json={"graph": SLIDES, "answer": "x +* 2",
                                          "question": "dC_0/dw^(L)"}).json()
    assert bad["slips"] == []


def test_a_long_sum_of_paths_comes_with_its_lines(client):
    fan = "p = w*x; q = w*y; r = w*t; s = w*v; k = w*u; C = p*q*r*s*k"
    d = client.post("/api/derive", json={"graph": fan, "wrt": "w"}).json()
    lines = d["chain"]["lines"]
    assert [x["unicode"] for x in lines] == [
        "∂p/∂w · ∂C/∂p +", "∂q/∂w · ∂C/∂q +", "∂r/∂w · ∂C/∂r +", "∂s/∂w · ∂C/∂s +",
        "∂k/∂w · ∂C/∂k"]
    assert all(x["mathml"].startswith("<math") for x in lines)
    assert len(d["product"]["lines"]) == 5 and len(d["cached"]["lines"]) == 5
    short = client.post("/api/derive", json={"graph": SLIDES, "wrt": "w^(L)"}).json()
    assert all("lines" not in short[k] for k in ("chain", "product", "cached"))


def test_a_slip_on_one_of_several_paths_lights_its_edge(client):
    fork = "z = w*x; p = sigma(z); q = tanh(z); C = (p + q - y)^2"
    v = client.post("/api/check", json={
        "graph": fork, "question": "dC/dw",
        "answer": "x*sigma'(z)*2*(p+q-y) + x*tanh'(z)*(p+q-y)"}).json()
    assert v["factors"] == [] and v["codes"] == ["DROPPED-CONSTANT"]
    ids = {n["name"]: n["id"] for n in client.post("/api/graph", json={"graph": fork}).json()[
        "nodes"]}
    assert v["wrong_edges"] == [f"e_{ids['q']}_{ids['C']}"]


def test_examples_are_bundled_graphs(client):
    names = [e["name"] for e in client.get("/api/examples").json()]
    assert names[:2] == ["chain", "mazur"] and "layer" in names


def test_lessons_never_send_answers_and_grade_here(client):
    lessons = client.get("/api/lessons").json()
    assert lessons[0]["name"] == "chain-rule" and lessons[0]["exercises"] > 0
    page = client.get("/api/lessons/chain-rule").json()
    exercises = [s for s in page["steps"] if s["kind"] == "exercise"]
    assert exercises and all("answer" not in s for s in exercises)
    ex = next(s for s in exercises if s["check"] == "derivative")
    verdict = client.post("/api/lessons/chain-rule/answer",
                          json={"exercise": ex["id"], "answer": "1"}).json()
    assert verdict["correct"] is False
    hint = client.post("/api/lessons/chain-rule/hint",
                       json={"exercise": ex["id"], "shown": 0}).json()
    assert hint["hint"] and hint["left"] == ex["hints_count"] - 1
    derive = next(s for s in page["steps"] if s["kind"] == "derive")
    assert "<math" in derive["text_html"] and derive["derivation"]["paths"]
    assert "<math" in ex["prompt_html"]
    for step in page["steps"]:  # the CSP forbids inline styles and scripts
        for markup in markup_fields(step):
            assert not re.search(r"<style|\sstyle=|<script|\son\w+=", markup)
    error(client.get("/api/lessons/no-such-lesson"), 404)
    error(client.post("/api/lessons/chain-rule/answer",
                      json={"exercise": "nope", "answer": "1"}), 404)


# --- errors ---------------------------------------------------------------------------


def test_bad_json_wrong_fields_and_types(client):
    error(client.post("/api/graph", content=b"{nope",
                      headers={"content-type": "application/json"}), 422)
    error(client.post("/api/graph", json=[1, 2]), 422)
    error(client.post("/api/graph", json={"graph": SLIDES, "colour": 1}), 422)
    error(client.post("/api/graph", json={"graph": 3}), 422)
    error(client.post("/api/evaluate", json={"graph": SLIDES, "values": {"w^(L)": True}}),
          400, "ValueInputError")
    error(client.post("/api/evaluate", json={"graph": SLIDES}), 422)
    error(client.post("/api/graph", content=b'{"graph": NaN}',
                      headers={"content-type": "application/json"}), 422)
    error(client.post("/api/graph", content=b"graph", headers={"content-type": "text/plain"}),
          415)


def test_body_too_large(client):
    error(client.post("/api/graph", json={"graph": "C = x" + " + x" * 20_000}), 413)


def test_parse_error_is_one_line(client):
    msg = error(client.post("/api/graph", json={"graph": "z = w*"}), 400, "ParseError")
    assert msg == "the expression ends too early at line 1, column 7"


def test_unknown_node(client):
    msg = error(client.post("/api/derive", json={"graph": SLIDES, "wrt": "q"}), 400,
                "GraphError")
    assert "no node named 'q'" in msg
    error(client.post("/api/evaluate", json={"graph": SLIDES, "values": {"q": 1}}), 400)


def test_no_state_change_on_get(client):
    for path in ("/api/graph", "/api/evaluate", "/api/check", "/api/train"):
        error(client.get(path), 405)


def test_deadline_stops_a_hostile_graph_without_blocking_others():
    slow = gg.examples.chain_text(600)  # seconds of SymPy work; the deadline is 0.5 s
    with TestClient(create_app(deadline=0.5)) as client:
        client.post("/api/evaluate", json={"graph": SLIDES, "values": VALUES})  # cached now
        deadline_case(client, slow)


def deadline_case(client, slow: str) -> None:
    answers = {}
    worker = threading.Thread(target=lambda: answers.setdefault(
        "slow", client.post("/api/graph", json={"graph": slow})))
    worker.start()
    cheap = client.post("/api/evaluate", json={"graph": SLIDES, "values": VALUES})
    still_running = worker.is_alive()
    worker.join()
    assert cheap.status_code == 200 and still_running
    error(answers["slow"], 408, "SandboxTimeout")


def test_a_check_that_cannot_finish_is_undecided(client):
    r = client.post("/api/check", json={"graph": "C = a*b*c*d*e*f*g*h",
                                        "question": "dC/da",
                                        "answer": "(a+b+c+d+e+f+g+h)^100"})
    assert r.json()["verdict"] in ("not equal", "undecided")  # never "correct", never a hang


# --- escaping and files ---------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_stay_text(client, payload):
    responses = [
        client.post("/api/graph", json={"graph": f"# {payload}\nC = w*x"}),
        client.post("/api/graph", json={"graph": f"C = {payload}"}),
        client.post("/api/derive", json={"graph": SLIDES, "wrt": payload}),
        client.post("/api/check", json={"graph": SLIDES, "question": "dC_0/dw^(L)",
                                         "answer": payload}),
        client.post("/api/check", json={"graph": SLIDES, "question": payload,
                                         "answer": "1"}),
        client.post("/api/lessons/chain-rule/answer",
                    json={"exercise": "cost-value", "answer": payload}),
        client.post("/api/evaluate", json={"graph": SLIDES, "values": {payload: 1}}),
        client.get(f"/api/lessons/{payload}"),
    ]
    for r in responses:
        # No byte of a response can open a tag; fields the page inserts as markup
        # (MathML, SVG, *_html) never carry the payload; the rest is set as text.
        assert b"<script" not in r.content and b"<img" not in r.content
        assert b"<svg onload" not in r.content
        for markup in markup_fields(r.json()):
            for bad in ("<script", "onerror", "onload", "javascript:"):
                assert bad not in markup


def markup_fields(data, key: str = ""):
    if isinstance(data, dict):
        for k, v in data.items():
            yield from markup_fields(v, k)
    elif isinstance(data, list):
        for v in data:
            yield from markup_fields(v, key)
    elif isinstance(data, str) and (key in ("mathml", "svg", "frames")
                                    or key.endswith("_html")):
        yield data


@pytest.mark.parametrize("path", [
    "/static/../../etc/passwd", "/static/..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/etc/passwd", "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/.%2e/app.py", "/static/", "/static/.", "/static//etc/passwd",
    "/static/..\\..\\app.py", "/static/%00index.html",
])
def test_static_refuses_traversal_and_listing(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert b"root:" not in r.content and b"create_app" not in r.content


def test_static_serves_pages_with_module_types(client):
    assert client.get("/").headers["content-type"].startswith("text/html")
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


# --- training -------------------------------------------------------------------------


def events(client, job: str) -> list[tuple[str, dict]]:
    out = []
    with client.stream("GET", f"/api/train/{job}/events") as stream:
        kind = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                out.append((kind, json.loads(line[6:])))
    return out


def test_training_streams_epochs_then_done(client):
    job = client.post("/api/train", json={"hidden": [8], "epochs": 3}).json()["job"]
    got = events(client, job)
    assert [k for k, _ in got] == ["epoch", "epoch", "epoch", "done"]
    assert [d["epoch"] for _, d in got[:3]] == [1, 2, 3]
    done = got[-1][1]
    assert 0 < done["test"]["accuracy"] <= 1 and len(done["history"]["loss"]) == 3
    assert done["derivation"]["head"]["unicode"].startswith("∂")


def test_training_cancel_stops_the_run(client):
    job = client.post("/api/train", json={"hidden": [8], "epochs": 200}).json()["job"]
    assert client.post(f"/api/train/{job}/cancel").json() == {"cancelled": True}
    got = events(client, job)
    assert got[-1][0] == "cancelled" and len(got) < 200


def test_training_options_are_checked(client):
    error(client.post("/api/train", json={"epochs": 201}), 400, "TrainingError")
    error(client.post("/api/train", json={"hidden": [2000]}), 400, "TrainingError")
    error(client.post("/api/train", json={"optimizer": "adom"}), 400, "TrainingError")
    error(client.post("/api/train", json={"schedule": {"kind": "wobbly"}}), 400)
    error(client.post("/api/train", json={"data": "/etc/passwd"}), 400)
    error(client.get("/api/train/nope/events"), 404)


def test_too_many_jobs_is_429_at_once():
    app = create_app(deadline=0.5, max_jobs=1, max_queue=0)
    with TestClient(app) as client:
        jobs = app.state.server.jobs
        worker = threading.Thread(target=lambda: client.post(
            "/api/graph", json={"graph": gg.examples.chain_text(600)}))
        worker.start()
        while jobs.pending == 0 and worker.is_alive():
            threading.Event().wait(0.01)
        busy = client.post("/api/derive", json={"graph": "C = 3*v*u", "wrt": "v"})
        worker.join()
        assert "busy" in error(busy, 429, "http")
        ok = client.post("/api/derive", json={"graph": "C = 3*v*u", "wrt": "v"})
        assert ok.json()["product"]["unicode"] == "3u"


def test_at_most_the_training_limit_runs_at_once():
    with TestClient(create_app(max_training=1)) as client:
        first = client.post("/api/train", json={"hidden": [8], "epochs": 200}).json()["job"]
        error(client.post("/api/train", json={"hidden": [8], "epochs": 3}), 429)
        client.post(f"/api/train/{first}/cancel")
        assert events(client, first)[-1][0] == "cancelled"
        assert "job" in client.post("/api/train", json={"hidden": [8], "epochs": 1}).json()


def test_remembered_answers_stay_within_their_budget():
    from gradgraph.serve.jobs import Results

    results = Results(size=3, budget=800)
    for i in range(5):
        results.put(i, f"answer {i}", 90)
    assert [results.get(i) for i in range(5)] == [None, None, "answer 2", "answer 3",
                                                  "answer 4"]
    results.put("big", "x", 101)  # over an eighth of the budget: not kept
    assert results.get("big") is None and results.weight == 270
    results.put(5, "answer 5", 700)
    assert results.get(5) is None  # also over an eighth
    for i in range(6, 14):
        results.put(i, "y", 100)
    assert results.weight <= 800 and len(results._items) <= 3


def test_without_graphviz_svg_is_null_and_the_rest_works(client, monkeypatch):
    monkeypatch.setattr("gradgraph.serve.drawing.find_dot", lambda: None)
    health = client.get("/api/health").json()
    assert health["graphviz"] is False and "Graphviz" in health["graphviz_message"]
    out = client.post("/api/render", json={"graph": "C = (u - 2)^2", "wrt": "u"}).json()
    assert out["svg"] is None and out["message"] == health["graphviz_message"]
    assert "\n" not in out["message"]
    d = client.post("/api/derive", json={"graph": "C = (u - 2)^2", "wrt": "u"}).json()
    assert d["product"]["unicode"] == "2(u − 2)"


def test_a_wrong_lesson_answer_names_the_edge_but_not_the_answer(client):
    page = client.get("/api/lessons/chain-rule").json()
    ex = next(s for s in page["steps"] if s["kind"] == "exercise" and s["id"] == "dc-dw")
    r = client.post("/api/lessons/chain-rule/answer",
                    json={"exercise": ex["id"],
                          "answer": "a^(L-1)*sigma(z^(L))*2*(a^(L)-y)"}).json()
    assert r["correct"] is False and r["wrong_edges"] == ["e_n3_n4"]
    assert "∂a⁽ᴸ⁾/∂z⁽ᴸ⁾" in r["message"] and "σ′" not in r["message"]
    assert all(f["expected"] is None for f in r["factors"])
    assert r["slips"] == [{"code": "OP-NOT-DERIVATIVE",
                           "why": "this is the function itself, not its derivative"}]
    # The playground's checker, asked the same, does name the expected factor.
    assert "σ′" in client.post("/api/check", json={
        "graph": SLIDES, "question": "dC_0/dw^(L)",
        "answer": "a^(L-1)*sigma(z^(L))*2*(a^(L)-y)"}).json()["message"]


# --- training: every option gradgraph train has ------------------------------------------

# (optimizer, a setting it takes and a value, a setting it does not take)
SETTINGS = [
    ("sgd", "momentum", 0.5, "beta_1"),
    ("momentum", "momentum", 0.8, "nesterov"),
    ("nesterov", "momentum", 0.8, "rho"),
    ("sign", "lr", 0.01, "momentum"),
    ("adagrad", "initial_accumulator", 0.1, "rho"),
    ("rmsprop", "centered", True, "beta_1"),
    ("adam", "bias_correction", False, "weight_decay"),
    ("adamax", "beta_2", 0.99, "epsilon"),
    ("adamw", "weight_decay", 0.05, "bias_correction"),
]
TINY = {"hidden": [4], "epochs": 1, "batch_size": 256}


@pytest.mark.parametrize("name, takes, value, refuses", SETTINGS)
def test_each_optimizer_takes_its_settings_and_refuses_others(client, name, takes, value,
                                                              refuses):
    job = client.post("/api/train", json={**TINY, "optimizer": name, takes: value}).json()["job"]
    kind, done = events(client, job)[-1]
    assert kind == "done" and f"{takes}={value!r}" in done["optimizer"]
    wrong = {"nesterov": True, "bias_correction": False}.get(refuses, 0.5)
    message = error(client.post("/api/train", json={"optimizer": name, refuses: wrong}), 400,
                    "TrainingError")
    assert message.startswith(f"{refuses} does not apply to {name}")


def test_a_schedule_and_float64_reach_the_optimizer(client):
    body = {**TINY, "optimizer": "adam", "dtype": "float64",
            "schedule": {"kind": "cosine", "total": 20, "floor": 0.1}}
    kind, done = events(client, client.post("/api/train", json=body).json()["job"])[-1]
    assert kind == "done" and "Cosine(total=20, floor=0.1)" in done["optimizer"]
    assert done["dtype"] == "float64"
    error(client.post("/api/train", json={"schedule": {"kind": "cosine"}}), 400, "TrainingError")
    message = error(client.post("/api/train", json={"schedule": {"kind": "step", "every": 5,
                                                                 "rate": 2}}), 400)
    assert "rate" in message
    error(client.post("/api/train", json={"dtype": "float16"}), 400, "TrainingError")


def test_a_validation_split_reports_val_metrics_on_held_out_training_data(client):
    body = {**TINY, "epochs": 2, "validation_split": 0.2}
    got = events(client, client.post("/api/train", json=body).json()["job"])
    assert [k for k, _ in got] == ["epoch", "epoch", "done"]
    assert all(0 <= d["val_accuracy"] <= 1 and d["val_loss"] > 0 for _, d in got[:2])
    done = got[-1][1]
    # 1527 training digits: ⌈0.2·1527⌉ = 306 held out, as gradgraph train does.
    assert done["validation"] == {"of": "training data", "examples": 306}
    assert done["train_examples"] == 1221 and len(done["history"]["val_loss"]) == 2
    plain = events(client, client.post("/api/train", json=TINY).json()["job"])[-1][1]
    assert plain["validation"] == {"of": "test set", "examples": 270}
    for bad in (0, 1, 1.5):
        error(client.post("/api/train", json={"validation_split": bad}), 400, "TrainingError")
    assert "leaves" in error(client.post("/api/train", json={"validation_split": 0.999}), 400)


def test_train_options_lists_every_optimizer_and_schedule_with_defaults(client):
    got = client.get("/api/train/options").json()
    optimizers = {o["name"]: {s["name"]: s for s in o["settings"]} for o in got["optimizers"]}
    assert set(optimizers) == set(gg.optim.names())
    assert optimizers["sgd"]["lr"]["default"] == 0.1  # the deck's rate, as the CLI
    assert optimizers["adam"]["beta_1"] == {"name": "beta_1", "type": "number",
                                            "default": 0.9, "required": False}
    assert optimizers["adam"]["bias_correction"]["type"] == "boolean"
    assert optimizers["rmsprop"]["eps_placement"]["choices"] == ["keras", "pytorch"]
    assert "momentum" not in optimizers["adam"]
    schedules = {s["name"]: {x["name"]: x for x in s["settings"]} for s in got["schedules"]}
    assert list(schedules) == list(gg.optim.schedule_names())
    assert schedules["cosine"]["total"] == {"name": "total", "type": "integer",
                                            "default": None, "required": True}
    assert schedules["step"]["factor"]["default"] == 0.5 and schedules["constant"] == {}
    assert got["dtypes"] == ["float32", "float64"] and got["caps"]["epochs"] == 200
