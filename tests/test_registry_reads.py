"""Consumers outside the IR read the tensor-op registry, not op names (issue #13, item 1).

Each test registers a renamed copy of an entry for its duration: a consumer that tests
the op's name misses the copy, one that reads the entry's fields treats it the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest

import gradgraph as gg
from gradgraph import tensor_ops
from gradgraph.errors import TrainingError
from gradgraph.nn import Activation
from gradgraph.train import default_output, default_target


@pytest.fixture
def copy_of() -> Iterator:
    """``copy_of(entry, name, **changes)`` registers a renamed copy until the test ends."""
    added: list[str] = []

    def register(entry: tensor_ops.TensorOpSpec, name: str, **changes):
        spec = dataclasses.replace(entry, name=name, **changes)
        added.append(name)
        return tensor_ops.register_tensor(spec)

    yield register
    for name in added:
        tensor_ops.TENSOR_OPS.pop(name, None)


def test_the_prediction_and_labels_are_a_loss_ops_arguments(copy_of):
    copy_of(tensor_ops.CROSS_ENTROPY, "xent_copy", fusion=None)
    graph = gg.Graph.from_text("x: input(3)\nW: param(2, 3)\nb: param(2)\nz = W x + b\n"
                               "a = softmax(z)\nt: input(2)\nC = xent_copy(a, t)")
    assert (default_output(graph), default_target(graph)) == ("a", "t")


def test_an_activation_is_any_tensor_op_the_registry_marks_as_one(copy_of):
    copy_of(tensor_ops.SOFTMAX, "softmax_copy")
    copy_of(tensor_ops.SOFTMAX, "softmax_off", activation=False)
    assert Activation("softmax_copy").activation == "softmax_copy"
    assert Activation("softmax").activation == "softmax"
    with pytest.raises(TrainingError, match="unknown activation 'softmax_off'"):
        Activation("softmax_off")
    with pytest.raises(TrainingError, match="unknown activation 'affine'"):
        Activation("affine")
    with pytest.raises(TrainingError, match="did you mean 'softmax'"):
        Activation("softmx")


def test_a_model_ending_in_softmax_still_trains_on_cross_entropy():
    model = gg.nn.Sequential([gg.nn.Dense(3, activation="softmax")], seed=0)
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    model.build(2)
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    y = np.eye(3)[[0, 2]]
    assert np.isfinite(model.fit(x, y, epochs=1, verbose=0).history["loss"][0])
