"""15 epochs of the deck's Keras example: gradgraph's fit vs hand-written numpy.

Digits (1527/270, StandardScaler), Dense(100) tanh → Dense(10) softmax, categorical
cross-entropy, SGD lr 0.1, batch 32, 15 epochs. Both loops start from the same Glorot
weights, see the same batches (epoch e's order is the e-th ``permutation(n)`` of
``numpy.random.default_rng(seed)``) and report the same History (train loss and
accuracy over the epoch's batches, validation loss and accuracy after each epoch).
Target: gradgraph / numpy ≤ 1.2. PyTorch (CPU) and scikit-learn's MLPClassifier on the
same task are timed when installed, for information only.

    python benchmarks/train_vs_numpy.py [--repeat 5] [--seed 0] [--dtype float64]

``--dtype`` sets both sides' precision (model.compile's dtype; the numpy loop's arrays);
float32 by default, as model.compile's and every framework's training default.
"""

from __future__ import annotations

import argparse
import os
import time

# One BLAS thread: on a small shared machine this keeps both sides' timings steady.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from gradgraph import optim  # noqa: E402
from gradgraph.data import load_digits_split  # noqa: E402
from gradgraph.nn import Activation, Dense, Sequential  # noqa: E402

EPOCHS, BATCH, LR = 15, 32, 0.1


def glorot(rng: np.random.Generator, fan_out: int, fan_in: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_out, fan_in))


def numpy_fit(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, Xv: np.ndarray,
              Yv: np.ndarray, seed: int) -> dict[str, list[float]]:
    """The same training, written by hand."""
    W1, b1, W2, b2 = (params[k] for k in ("W^(1)", "b^(1)", "W^(2)", "b^(2)"))
    rng = np.random.default_rng(seed)
    n = len(X)
    hist: dict[str, list[float]] = {k: [] for k in ("loss", "accuracy", "val_loss",
                                                    "val_accuracy")}
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        total_loss = total_acc = 0.0
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            x, y = X[idx], Y[idx]
            m = len(idx)
            a1 = np.tanh(x @ W1.T + b1)
            z2 = a1 @ W2.T + b2
            z2 = z2 - z2.max(axis=1, keepdims=True)
            logp = z2 - np.log(np.exp(z2).sum(axis=1, keepdims=True))
            p = np.exp(logp)
            loss = -(y * logp).sum(axis=1).mean()
            d2 = (p - y) / m
            d1 = (d2 @ W2) * (1 - a1 * a1)
            W2 -= LR * (d2.T @ a1)
            b2 -= LR * d2.sum(axis=0)
            W1 -= LR * (d1.T @ x)
            b1 -= LR * d1.sum(axis=0)
            total_loss += loss * m
            total_acc += np.mean(p.argmax(1) == y.argmax(1)) * m
        hist["loss"].append(total_loss / n)
        hist["accuracy"].append(total_acc / n)
        a1 = np.tanh(Xv @ W1.T + b1)
        z2 = a1 @ W2.T + b2
        z2 = z2 - z2.max(axis=1, keepdims=True)
        logp = z2 - np.log(np.exp(z2).sum(axis=1, keepdims=True))
        hist["val_loss"].append(float(-(Yv * logp).sum(axis=1).mean()))
        hist["val_accuracy"].append(float(np.mean(logp.argmax(1) == Yv.argmax(1))))
    return hist


def gradgraph_model(init: dict[str, np.ndarray], dtype: str = "float32") -> Sequential:
    model = Sequential([Dense(100, input_dim=64), Activation("tanh"), Dense(10),
                        Activation("softmax")])
    model.compile(optimizer=optim.SGD(lr=LR), loss="categorical_crossentropy",
                  metrics=["accuracy"], dtype=dtype)
    model.set_weights({k: v.copy() for k, v in init.items()})
    return model


def torch_fit(X: np.ndarray, Y: np.ndarray, Xt: np.ndarray, seed: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(64, 100), torch.nn.Tanh(),
                              torch.nn.Linear(100, 10))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    x, y = torch.tensor(X, dtype=torch.float32), torch.tensor(Y.argmax(1))
    rng = np.random.default_rng(seed)
    for _ in range(EPOCHS):
        order = torch.tensor(rng.permutation(len(X)))
        for start in range(0, len(X), BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
    with torch.no_grad():
        pred = net(torch.tensor(Xt, dtype=torch.float32)).argmax(1).numpy()
    return pred


def sklearn_fit(X: np.ndarray, y: np.ndarray, Xt: np.ndarray, seed: int) -> np.ndarray:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(100,), activation="tanh", solver="sgd",
                        learning_rate_init=LR, momentum=0.0, batch_size=BATCH,
                        max_iter=EPOCHS, alpha=0.0, random_state=seed,
                        n_iter_no_change=EPOCHS + 1, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf.predict(Xt)


def best_of(fn, repeat: int) -> tuple[float, object]:  # noqa: ANN001
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = ap.parse_args()
    split = load_digits_split()
    dt = np.dtype(args.dtype)
    X, Y, Xt, Yt = (a.astype(dt) for a in (split.X_train, split.Y_train, split.X_test,
                                            split.Y_test))
    rng = np.random.default_rng(args.seed)
    init = {"W^(1)": glorot(rng, 100, 64), "b^(1)": np.zeros(100),
            "W^(2)": glorot(rng, 10, 100), "b^(2)": np.zeros(10)}
    init = {k: v.astype(dt) for k, v in init.items()}

    def ours() -> object:
        model = gradgraph_model(init, args.dtype)
        return model.fit(X, Y, epochs=EPOCHS, batch_size=BATCH, validation_data=(Xt, Yt),
                         seed=args.seed)

    def reference() -> object:
        return numpy_fit({k: v.copy() for k, v in init.items()}, X, Y, Xt, Yt, args.seed)

    ours()  # compile once outside the timing (the graph is cached per model text)
    times = {"gradgraph": float("inf"), "numpy": float("inf")}
    results = {}
    for _ in range(args.repeat):  # alternate, so machine noise hits both alike
        for name, fn in (("gradgraph", ours), ("numpy", reference)):
            t, out = best_of(fn, 1)
            times[name] = min(times[name], t)
            results[name] = out
    h_ours, h_ref = results["gradgraph"].history, results["numpy"]
    worst = max(abs(a - b) for k in h_ref for a, b in zip(h_ours[k], h_ref[k], strict=True))
    print(f"deck example, {EPOCHS} epochs, batch {BATCH}, SGD {LR}, {args.dtype} "
          f"(best of {args.repeat})")
    print(f"  gradgraph  {times['gradgraph'] * 1e3:8.1f} ms   test acc "
          f"{h_ours['val_accuracy'][-1]:.4f}")
    print(f"  numpy      {times['numpy'] * 1e3:8.1f} ms   test acc "
          f"{h_ref['val_accuracy'][-1]:.4f}")
    print(f"  ratio      {times['gradgraph'] / times['numpy']:8.3f}   (target ≤ 1.2); "
          f"largest History difference {worst:.1e}")
    t, pred = best_of(lambda: torch_fit(X, Y, Xt, args.seed), min(args.repeat, 3))
    if pred is None:
        print("  torch      not installed")
    else:
        acc = float(np.mean(pred == split.y_test))
        print(f"  torch CPU  {t * 1e3:8.1f} ms   test acc {acc:.4f}   (float32, torch init)")
    t, pred = best_of(lambda: sklearn_fit(X, split.y_train, Xt, args.seed),
                      min(args.repeat, 3))
    acc = float(np.mean(pred == split.y_test))
    print(f"  sklearn    {t * 1e3:8.1f} ms   test acc {acc:.4f}   (MLPClassifier sgd, "
          f"momentum 0)")


if __name__ == "__main__":
    main()
