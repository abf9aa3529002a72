"""Issue #16 item 3: one batch convention for g.gradients and gradcheck.

Parameters: the batch mean (1/n) Σₖ ∂Cₖ/∂w. Per-example nodes (inputs and what is
computed from them): ∂Cₖ/∂(node)ₖ, example k's own cost — not divided by n.
"""

import numpy as np
import pytest

import gradgraph as gg

TEXT = "z = w*x + b\nC = (sigma(z) - y)^2"
VALUES = {"w": 0.5, "b": 0.1, "x": np.array([1.0, 2.0, 3.0]), "y": np.array([0.0, 1.0, 0.0])}


def _row(report, name):
    return next(r for r in report.rows if r.node == name)


def test_gradcheck_reports_the_numbers_gradients_gives():
    g = gg.Graph.from_text(TEXT)
    grads = g.gradients(VALUES)
    report = gg.gradcheck(g, VALUES, samples=3)
    assert report.ok
    for name in ("x", "z", "w", "b"):
        row = _row(report, name)
        want = np.asarray(grads[name])[row.index] if row.index else grads[name]
        assert row.analytic == pytest.approx(float(want), rel=1e-12)
        assert row.numeric == pytest.approx(float(want), rel=1e-6)


def test_per_example_adjoint_is_that_examples_own_cost():
    g = gg.Graph.from_text(TEXT)
    one = g.gradients({k: (v[1] if np.ndim(v) else v) for k, v in VALUES.items()})
    batch = g.gradients(VALUES)
    assert np.asarray(batch["x"])[1] == pytest.approx(one["x"])
    means = [g.gradients({k: (v[i] if np.ndim(v) else v) for k, v in VALUES.items()})["w"]
             for i in range(3)]
    assert batch["w"] == pytest.approx(np.mean(means))


def test_the_report_and_the_docstrings_state_the_convention():
    g = gg.Graph.from_text(TEXT)
    text = str(gg.gradcheck(g, VALUES))
    assert "batch mean" in text and "per example" in text
    assert "per example" in gg.Graph.gradients.__doc__
    assert "per example" in gg.Graph.evaluate.__doc__
    assert "per example" in gg.gradcheck.__doc__
