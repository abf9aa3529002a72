"""Keras-shaped models on the graph: layers, losses, :class:`Sequential`.

``model.graph`` is an ordinary gradgraph :class:`~gradgraph.Graph`: derive, render and
check it like any other. See :mod:`gradgraph.nn.layers` for how dropout and batch
normalisation are written into the graph.
"""

from __future__ import annotations

from .layers import INITIALIZERS, Activation, BatchNormalization, Dense, Dropout, Layer
from .losses import LOSSES
from .model import Sequential

__all__ = [
    "Activation",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "INITIALIZERS",
    "LOSSES",
    "Layer",
    "Sequential",
]
