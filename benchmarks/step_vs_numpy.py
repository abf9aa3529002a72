"""One forward+backward step: gradgraph's compiled graph vs hand-written numpy.

(a) the deck's network 64-100-10, tanh then softmax + cross-entropy, batch 32;
(b) 784-256-256-10 ReLU, softmax + cross-entropy, batch 128.
Targets: gradgraph/reference ≤ 1.15 for (a) and ≤ 1.05 for (b).

Then the Python overhead of the training loop (issue #14's "≤ 5 %"): the deck's
``model.fit`` (digits 64-100-10 tanh, SGD 0.1, batch 32, 15 epochs in one call, no
metrics, no shuffling, float32) per step ÷ a bare step on the same batches: the compiled
forward+backward of the same graph and ``w -= lr*g`` per parameter. Target ≤ 1.05.

    python benchmarks/step_vs_numpy.py [float64] [float32]   (default: both, in that order)
"""

from __future__ import annotations

import os
import time

# One BLAS thread: on a small shared machine this keeps both sides' timings steady.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import gradgraph as gg  # noqa: E402


def network_text(sizes: list[int], activation: str) -> str:
    lines = [f"x: input({sizes[0]}); y: input({sizes[-1]})"]
    prev = "x"
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False), start=1):
        lines.append(f"W^({i}): param({n_out}, {n_in}); b^({i}): param({n_out})")
        lines.append(f"z^({i}) = W^({i}) {prev} + b^({i})")
        last = i == len(sizes) - 1
        lines.append(f"a^({i}) = {'softmax' if last else activation}(z^({i}))")
        prev = f"a^({i})"
    lines.append(f"C = cross_entropy({prev}, y)")
    return "\n".join(lines)


def reference_step(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, act: str):
    """Hand-written numpy: forward, softmax cross-entropy, backward, batch-mean grads."""
    n = x.shape[0]
    acts = [x]
    for i in range(0, len(params) - 2, 2):
        z = acts[-1] @ params[i].T + params[i + 1]
        acts.append(np.tanh(z) if act == "tanh" else np.maximum(z, 0.0))
    z = acts[-1] @ params[-2].T + params[-1]
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -(y * (z - np.log(e.sum(axis=1, keepdims=True)))).sum(axis=1).mean()
    delta = (p - y) / n
    grads = []
    for layer in range(len(params) // 2 - 1, -1, -1):
        w = params[2 * layer]
        grads[:0] = [delta.T @ acts[layer], delta.sum(axis=0)]
        if layer:
            back = delta @ w
            a = acts[layer]
            delta = back * (1 - a * a) if act == "tanh" else back * (a > 0)
    return loss, grads


def setup(sizes: list[int], batch: int, act: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    graph = gg.Graph.from_text(network_text(sizes, act))
    params = []
    values: dict[str, np.ndarray] = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False), start=1):
        w = rng.normal(scale=np.sqrt(2 / n_in), size=(n_out, n_in))
        b = np.zeros(n_out)
        params += [w, b]
        values[f"W^({i})"], values[f"b^({i})"] = w, b
    x = rng.normal(size=(batch, sizes[0]))
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    values["x"], values["y"] = x, y
    return graph, params, values


def timed_pair(ours, ref, repeat: int, number: int) -> tuple[float, float]:  # noqa: ANN001
    """Best time per call of each, measured in alternation so noise hits both alike."""
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for k, fn in enumerate((ours, ref)):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            best[k] = min(best[k], (time.perf_counter() - start) / number)
    return best[0], best[1]


def compare(label: str, sizes: list[int], batch: int, act: str, number: int,
            dtype: str = "float64") -> float:
    graph, params, values = setup(sizes, batch, act)
    params = [p.astype(dtype) for p in params]
    values = {k: v.astype(dtype) for k, v in values.items()}
    tol = 1e-9 if dtype == "float64" else 1e-4
    compiled = gg.compile(graph)

    def step(v: dict) -> tuple:
        return compiled.step(v, check=False)  # as the training loop calls it

    ref_loss, ref_grads = reference_step(params, values["x"], values["y"], act)
    loss, grads = step(values)
    assert abs(loss - ref_loss) < tol
    for name, ref in zip(graph.params, ref_grads, strict=True):
        assert grads[name].dtype == dtype, f"{name} came back {grads[name].dtype}"
        assert np.allclose(grads[name], ref, rtol=tol, atol=tol * 1e-3), name
    x, y = values["x"], values["y"]
    ours, ref = timed_pair(lambda: step(values), lambda: reference_step(params, x, y, act),
                           repeat=15, number=number)
    ratio = ours / ref
    print(f"{label + ', ' + dtype:<47} gradgraph {ours * 1e6:9.1f} µs   "
          f"numpy {ref * 1e6:9.1f} µs   ratio {ratio:5.3f}")
    return ratio


def fit_overhead(epochs: int = 15, repeat: int = 9) -> float:
    """``model.fit`` time per step ÷ a bare compiled step plus SGD update, float32.

    The deck's 15 epochs in one fit call, as the deck runs it: fit's set-up (checks,
    casts) counts, spread over its steps. The bare loop slices its batches as fit does.
    """
    from gradgraph import optim
    from gradgraph.data import load_digits_split
    from gradgraph.nn import Activation, Dense, Sequential

    split = load_digits_split()
    X, Y = split.X_train.astype(np.float32), split.Y_train.astype(np.float32)
    model = Sequential([Dense(100, input_dim=64), Activation("tanh"), Dense(10),
                        Activation("softmax")])
    model.compile(optimizer=optim.SGD(lr=0.1), loss="categorical_crossentropy",
                  metrics=[], dtype="float32")
    compiled = gg.compile(model.graph)
    weights = {k: v.astype(np.float32) for k, v in model.get_weights().items()}
    starts = range(0, len(X), 32)
    steps = epochs * len(starts)

    def fit() -> None:
        model.fit(X, Y, epochs=epochs, batch_size=32, shuffle=False)

    def bare() -> None:
        values = dict(weights)
        for _ in range(epochs):
            for s in starts:
                values["x"], values["y"] = X[s:s + 32], Y[s:s + 32]
                _, grads = compiled.step(values, check=False)
                for name, w in weights.items():
                    w -= 0.1 * grads[name]

    ours, ref = timed_pair(fit, bare, repeat=repeat, number=1)
    ratio = ours / ref
    print(f"{'model.fit per step ÷ bare step, deck, float32':<47} fit {ours / steps * 1e6:9.1f} "
          f"µs   bare {ref / steps * 1e6:9.1f} µs   ratio {ratio:5.3f}   (target ≤ 1.05)")
    return ratio


def main() -> None:
    import sys

    dtypes = sys.argv[1:] or ["float64", "float32"]  # e.g. step_vs_numpy.py float32
    for dtype in dtypes:
        compare("(a) 64-100-10 tanh, batch 32", [64, 100, 10], 32, "tanh", 300, dtype)
        compare("(b) 784-256-256-10 ReLU, batch 128", [784, 256, 256, 10], 128, "relu", 30,
                dtype)
    fit_overhead()


if __name__ == "__main__":
    main()
