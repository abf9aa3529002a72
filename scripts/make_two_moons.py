"""Write lessons/data/two_moons.csv: 200 points of two interleaved half-moons, 2 classes.

Deterministic (numpy's PCG64 with a fixed seed, values rounded to 4 decimals), so running
it again reproduces the committed file byte for byte. The same construction as
scikit-learn's ``make_moons(noise=0.15)``, written out so the file does not depend on
scikit-learn's version. Usage: ``python scripts/make_two_moons.py [OUT.csv]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

N_PER_CLASS = 100
NOISE = 0.15
SEED = 2024
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "lessons" / "data" / "two_moons.csv"


def two_moons(n: int = N_PER_CLASS, noise: float = NOISE, seed: int = SEED) -> str:
    """The CSV text: header ``x1,x2,label``, then one point per line, label last."""
    rng = np.random.default_rng(seed)
    angle = np.linspace(0.0, np.pi, n)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(scale=noise, size=(2 * n, 2))
    y = np.repeat([0, 1], n)
    order = rng.permutation(2 * n)  # mixed classes: any split sees both
    rows = [f"{a:.4f},{b:.4f},{label}" for (a, b), label in zip(X[order], y[order], strict=True)]
    return "\n".join(["x1,x2,label", *rows]) + "\n"


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(two_moons(), encoding="utf-8")
    tmp.replace(out)  # atomic: never a half-written data file


if __name__ == "__main__":
    main(sys.argv)
