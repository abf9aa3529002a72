"""Training throughput: gradgraph on numpy and on JAX against hand-written numpy, JAX, torch.

Two nets, tanh hidden layers, softmax + cross-entropy, plain SGD (lr 0.01), batch 128,
float32, one epoch of synthetic data per timing:

    (a) 784-256-256-10        (b) 784-4096-4096-10 (the wide one)

Contenders, timed in alternation (each round runs every one once; best round kept):
gradgraph ``model.fit`` on numpy and on JAX (``model.compile(backend="jax")``: the step
jitted, the epoch under ``lax.scan``), hand-written numpy, hand-written JAX
(``jax.value_and_grad`` + ``lax.scan``) and torch when installed. Each is warmed up
once first (JAX's compile is not timed). Printed: samples/s and ratios to hand-written
numpy (higher is better) and gradgraph-jax ÷ hand-written JAX.

Threads: one BLAS thread for numpy, one intra-op thread for torch and XLA's CPU client
single-threaded (``XLA_FLAGS`` below), so the comparison is of the code, not of the
thread pools; ``--threads`` lifts all three.

    python benchmarks/jax_vs_numpy.py [--quick] [--rounds 3] [--threads]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

THREADED = "--threads" in sys.argv
if not THREADED:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

from gradgraph import optim  # noqa: E402
from gradgraph.nn import Activation, Dense, Sequential  # noqa: E402

LR, BATCH = 0.01, 128


def data(n: int, sizes: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(np.float32)
    Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    return X, Y


def init(sizes: list[int], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for n_in, n_out in zip(sizes, sizes[1:], strict=False):
        limit = np.sqrt(6.0 / (n_in + n_out))
        out += [rng.uniform(-limit, limit, (n_out, n_in)).astype(np.float32),
                np.zeros(n_out, np.float32)]
    return out


# --- contenders: each ``make(sizes, X, Y)`` gives a function running one epoch ----------

def gradgraph_fit(backend: str):  # noqa: ANN201
    def make(sizes: list[int], X: np.ndarray, Y: np.ndarray):  # noqa: ANN202
        layers = [Dense(sizes[1], input_dim=sizes[0]), Activation("tanh")]
        for units in sizes[2:-1]:
            layers += [Dense(units), Activation("tanh")]
        layers += [Dense(sizes[-1]), Activation("softmax")]
        model = Sequential(layers)
        model.compile(optimizer=optim.SGD(lr=LR), loss="categorical_crossentropy",
                      dtype="float32", backend=backend)
        return lambda: model.fit(X, Y, epochs=1, batch_size=BATCH, shuffle=False)
    return make


def numpy_hand(sizes: list[int], X: np.ndarray, Y: np.ndarray):  # noqa: ANN201
    params = init(sizes)

    def epoch() -> None:
        for start in range(0, len(X), BATCH):
            x, y = X[start:start + BATCH], Y[start:start + BATCH]
            acts = [x]
            for i in range(0, len(params) - 2, 2):
                acts.append(np.tanh(acts[-1] @ params[i].T + params[i + 1]))
            z = acts[-1] @ params[-2].T + params[-1]
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(axis=1, keepdims=True)
            delta = (p - y) / len(x)
            for layer in range(len(params) // 2 - 1, -1, -1):
                w, b = params[2 * layer], params[2 * layer + 1]
                gw, gb = delta.T @ acts[layer], delta.sum(axis=0)
                if layer:
                    a = acts[layer]
                    delta = (delta @ w) * (1 - a * a)
                w -= LR * gw
                b -= LR * gb
    return epoch


def jax_hand(sizes: list[int], X: np.ndarray, Y: np.ndarray):  # noqa: ANN201
    import jax
    import jax.numpy as jnp

    steps = len(X) // BATCH
    Xb = jnp.asarray(X[:steps * BATCH].reshape(steps, BATCH, -1))
    Yb = jnp.asarray(Y[:steps * BATCH].reshape(steps, BATCH, -1))
    state = {"params": [jnp.asarray(p) for p in init(sizes)]}

    def loss(params: list, x: jnp.ndarray, y: jnp.ndarray) -> jnp.ndarray:
        a = x
        for i in range(0, len(params) - 2, 2):
            a = jnp.tanh(a @ params[i].T + params[i + 1])
        z = a @ params[-2].T + params[-1]
        return -(y * jax.nn.log_softmax(z)).sum(axis=1).mean()

    @jax.jit
    def run(params: list, Xb: jnp.ndarray, Yb: jnp.ndarray) -> list:
        def body(p: list, xy: tuple) -> tuple:
            value, grads = jax.value_and_grad(loss)(p, *xy)
            return [w - LR * g for w, g in zip(p, grads, strict=True)], value
        return jax.lax.scan(body, params, (Xb, Yb))[0]

    def epoch() -> None:
        state["params"] = run(state["params"], Xb, Yb)
        jax.block_until_ready(state["params"])
    return epoch


def torch_hand(sizes: list[int], X: np.ndarray, Y: np.ndarray):  # noqa: ANN201
    import torch

    if not THREADED:
        torch.set_num_threads(1)
    layers: list = []
    for n_in, n_out in zip(sizes, sizes[1:], strict=False):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Tanh()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    x, y = torch.from_numpy(X), torch.from_numpy(Y.argmax(1))

    def epoch() -> None:
        for start in range(0, len(X), BATCH):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x[start:start + BATCH]),
                                              y[start:start + BATCH]).backward()
            opt.step()
    return epoch


def contenders() -> dict[str, object]:
    out = {"numpy (hand)": numpy_hand, "gradgraph numpy": gradgraph_fit("numpy")}
    try:
        import jax  # noqa: F401
        out.update({"gradgraph jax": gradgraph_fit("jax"), "jax (hand)": jax_hand})
    except ImportError:
        print("jax not installed: pip install gradgraph[jax]")
    try:
        import torch  # noqa: F401
        out["torch"] = torch_hand
    except ImportError:
        print("torch not installed: its row is left out")
    return out


def bench(label: str, sizes: list[int], n: int, rounds: int) -> None:
    X, Y = data(n, sizes)
    runs = {name: make(sizes, X, Y) for name, make in contenders().items()}
    for fn in runs.values():
        fn()  # warm up: JAX compiles here, numpy pages in
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):  # interleaved: machine noise hits every contender alike
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    base = n / best["numpy (hand)"]
    print(f"{label}: {n} samples/epoch, batch {BATCH}, float32, best of {rounds}")
    for name, t in best.items():
        print(f"  {name:<16} {n / t:11.0f} samples/s   ÷ numpy (hand) {n / t / base:6.3f}")
    if "gradgraph jax" in best:
        print(f"  gradgraph jax ÷ jax (hand): {best['jax (hand)'] / best['gradgraph jax']:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds: small epochs")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--threads", action="store_true", help="let BLAS/XLA/torch use threads")
    args = ap.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    try:
        import jax
        devices = ", ".join(str(d) for d in jax.devices())
    except ImportError:
        devices = "no jax"
    print(f"devices: {devices} (CPU only: no GPU on this machine)"
          if "cpu" in devices.lower() else f"devices: {devices}")
    print("threads: " + ("as the libraries choose" if args.threads else
                         "1 (BLAS, XLA CPU, torch)"))
    bench("(a) 784-256-256-10 tanh", [784, 256, 256, 10], 512 if args.quick else 8192,
          rounds)
    bench("(b) 784-4096-4096-10 tanh", [784, 4096, 4096, 10], 128 if args.quick else 1024,
          rounds)


if __name__ == "__main__":
    main()
