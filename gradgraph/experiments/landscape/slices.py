"""Li et al. §4 and §7: filter-normalised directions, and the loss along them.

1-D curves L(θ + αd), 2-D surfaces L(θ + αδ + βη) around a trained θ, and the plane of
an optimisation path's two principal directions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...graph import Graph
from ...numeric import compile_graph
from ...train import evaluate
from ..common import rng_for


def filter_normalized_direction(params: dict[str, np.ndarray],
                                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Li et al. §4: d ~ N(0, I) like θ; each row d[j, :] of a weight matrix scaled to
    ‖θ[j, :]‖ (a neuron's incoming weights, PyTorch's filter); 1-D tensors zeroed."""
    d = {}
    for name, theta in params.items():
        if theta.ndim <= 1:
            d[name] = np.zeros_like(theta)  # ignore='biasbn'
            continue
        r = rng.standard_normal(theta.shape)
        rows = theta.reshape(theta.shape[0], -1)
        scale = np.linalg.norm(rows, axis=1) / (np.linalg.norm(r.reshape(rows.shape), axis=1)
                                                + 1e-10)
        d[name] = r * scale.reshape((-1,) + (1,) * (theta.ndim - 1))
    return d


def _loss_fn(graph: Graph, feed: dict[str, np.ndarray]) -> Any:
    compiled = compile_graph(graph)

    def loss(params: dict[str, np.ndarray]) -> float:
        with np.errstate(all="ignore"):
            value = float(np.mean(compiled.forward({**feed, **params})[graph.cost]))
        return value if np.isfinite(value) else np.nan

    return loss


def _shifted(theta: dict[str, np.ndarray], *steps: tuple[float, dict[str, np.ndarray]]
             ) -> dict[str, np.ndarray]:
    return {k: v + sum(a * d[k] for a, d in steps) for k, v in theta.items()}


def curve(loss: Any, theta: dict[str, np.ndarray], d: dict[str, np.ndarray],
          alphas: np.ndarray) -> np.ndarray:
    """L(θ + αd) for each α."""
    return np.array([loss(_shifted(theta, (a, d))) for a in alphas])


def surface(loss: Any, theta: dict[str, np.ndarray], d1: dict[str, np.ndarray],
            d2: dict[str, np.ndarray], alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """``out[i, j] = L(θ + αᵢd₁ + βⱼd₂)``."""
    return np.array([[loss(_shifted(theta, (a, d1), (b, d2))) for b in betas] for a in alphas])


def _flat(params: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([v.ravel() for v in params.values()])


def _unflat(vector: np.ndarray, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out, start = {}, 0
    for k, v in like.items():
        out[k] = vector[start:start + v.size].reshape(v.shape)
        start += v.size
    return out


def _minimum(graph: Graph, loss: Any, theta: dict[str, np.ndarray], data: Any,
             train: dict[str, np.ndarray], alphas: np.ndarray, directions: int,
             seed: int) -> dict[str, Any]:
    rng = rng_for(seed, 4)
    curves = [curve(loss, theta, filter_normalized_direction(theta, rng), alphas)
              for _ in range(directions)]
    mean = np.mean(curves, axis=0)
    at = np.interp([-0.5, 0.5], alphas, mean)
    base = loss(theta)
    fitted = evaluate(graph, theta, train)
    return {
        "train_loss": base,
        "train_accuracy": fitted["accuracy"],
        "test_accuracy": evaluate(graph, theta, {"x": data.X_test, "y": data.Y_test})["accuracy"],
        "weight_norm": float(np.linalg.norm(_flat(theta))),
        "sharpness": float(np.mean(at) - base),
        "alphas": alphas.tolist(),
        "curve": mean.tolist(),
    }


def _surface(loss: Any, theta: dict[str, np.ndarray], grid: int, seed: int) -> dict[str, Any]:
    rng = rng_for(seed, 5)
    d1 = filter_normalized_direction(theta, rng)
    d2 = filter_normalized_direction(theta, rng)
    axis = np.linspace(-1, 1, grid)
    return {"alphas": axis.tolist(), "betas": axis.tolist(), "base": loss(theta),
            "losses": surface(loss, theta, d1, d2, axis, axis).tolist()}


def _trajectory(loss: Any, theta: dict[str, np.ndarray], path: list[np.ndarray],
                grid: int) -> dict[str, Any]:
    """Li §7: the two principal directions of θ_epoch − θ_final; path and contour there."""
    final = _flat(theta)
    diffs = np.array(path) - final
    _, sv, vt = np.linalg.svd(diffs, full_matrices=False)
    explained = (sv**2 / np.sum(sv**2))[:2]
    basis = vt[:2]
    coords = diffs @ basis.T  # basis rows are orthonormal
    span = np.abs(coords).max(axis=0) * 1.25
    alphas = np.linspace(-span[0], span[0], grid)
    betas = np.linspace(-span[1], span[1], grid)
    d1, d2 = _unflat(basis[0], theta), _unflat(basis[1], theta)
    return {"alphas": alphas.tolist(), "betas": betas.tolist(),
            "losses": surface(loss, theta, d1, d2, alphas, betas).tolist(),
            "path": coords.tolist(), "explained": explained.tolist()}
