"""Regenerate the README's diagrams with the tool itself (needs Graphviz ``dot``).

Every image is made by running the ``gradgraph`` command line printed next to it, so the
README can quote the exact command a reader would type (a Dense network's values are
whole arrays, so that one is drawn by the Python printed next to it):

    python scripts/make_readme_images.py          # writes docs/images/*.png
    python scripts/make_readme_images.py --print  # only print the commands
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from gradgraph.cli import cli
from gradgraph.render import find_dot

ROOT = Path(__file__).resolve().parent.parent
IMAGES = Path("docs/images")

SLIDES = "z^(L) = w^(L) a^(L-1) + b^(L); a^(L) = sigma(z^(L)); C_0 = (a^(L) - y)^2"
SLIDES_VALUES = "a^(L-1)=0.48,w^(L)=2,b^(L)=-0.2967,y=1"
DEEP = ("z^(L-1) = w^(L-1) a^(L-2) + b^(L-1); a^(L-1) = sigma(z^(L-1)); "
        "z^(L) = w^(L) a^(L-1) + b^(L); a^(L) = sigma(z^(L)); C_0 = (a^(L) - y)^2")
DEEP_VALUES = "a^(L-2)=0.9,w^(L-1)=-2,b^(L-1)=1,w^(L)=2,b^(L)=-0.2967,y=1"
# Matt Mazur's step-by-step example: a 2-2-2 logistic network.
MAZUR = ("z1 = w1*x1 + w2*x2 + b1; h1 = sigma(z1); z2 = w3*x1 + w4*x2 + b1; h2 = sigma(z2); "
         "z3 = w5*h1 + w6*h2 + b2; o1 = sigma(z3); z4 = w7*h1 + w8*h2 + b2; o2 = sigma(z4); "
         "E = ((o1 - t1)^2 + (o2 - t2)^2)/2")
MAZUR_VALUES = ("x1=0.05,x2=0.10,w1=0.15,w2=0.20,w3=0.25,w4=0.30,w5=0.40,w6=0.45,"
                "w7=0.50,w8=0.55,b1=0.35,b2=0.60,t1=0.01,t2=0.99")

# Lesson 04's numbers for the layer of lessons/graphs/layer.gg, entry by entry.
LAYER_VALUES = ("a_0^(L-1)=0.48,a_1^(L-1)=0.8,W_00^(L)=2,W_01^(L)=-1,W_10^(L)=0.5,"
                "W_11^(L)=1.5,b_0^(L)=0.1,b_1^(L)=-0.5,y_0=1,y_1=0")

COMMANDS: list[list[str]] = [
    ["render", SLIDES, "--wrt", "w^(L)", "--values", SLIDES_VALUES,
     "-o", str(IMAGES / "chain.png")],
    ["render", SLIDES, "--wrt", "b^(L)", "--values", SLIDES_VALUES, "--rankdir", "BT",
     "-o", str(IMAGES / "chain-bt.png")],
    ["render", SLIDES, "--view", "network", "--values", SLIDES_VALUES,
     "-o", str(IMAGES / "network.png")],
    ["render", MAZUR, "--view", "network", "--wrt", "w1", "--values", MAZUR_VALUES,
     "-o", str(IMAGES / "network-2-2-2.png")],
    ["render", DEEP, "--wrt", "w^(L-1)", "--values", DEEP_VALUES, "--collapse",
     "-o", str(IMAGES / "collapsed.png")],
    ["render", SLIDES, "--values", SLIDES_VALUES, "--steps", str(IMAGES / "steps"),
     "--format", "png"],
    ["render", "--file", "lessons/graphs/layer.gg", "--wrt", "W^(L)", "--values", LAYER_VALUES,
     "-o", str(IMAGES / "layer.png")],
]

# Run as printed, so the README can quote it exactly.
PYTHON: list[str] = [f"""\
import numpy as np
import gradgraph as gg

g = gg.examples.mlp([4, 3, 2])  # x -> tanh layer of 3 -> softmax layer of 2
rng = np.random.default_rng(137)
values = {{n.name: rng.normal(size=n.shape) for n in g.nodes if n.role == "param"}}
values |= {{"x": rng.normal(size=(1, 4)), "y": np.array([[1.0, 0.0]])}}  # one example
gg.render(g, values=values, view="network").save("{IMAGES / 'network-mlp.png'}")
""", f"""\
import gradgraph as gg

g = gg.examples.chain(2500)  # 2,500 one-neuron layers: 10,003 nodes
picture = gg.render(g, wrt="w^(L-2499)", repeat=True, wrap=6)  # one "× N" box, rows of 6
picture.save("{IMAGES / 'deep-chain-view.png'}")
""", f"""\
import gradgraph as gg

units = [f"z{{j}} = w{{j}}*x + b{{j}}; h{{j}} = sigma(z{{j}})" for j in range(1, 2501)]
sums = [f"s{{k}} = " + " + ".join(f"h{{j}}" for j in range(100 * k - 99, 100 * k + 1))
        for k in range(1, 26)]
text = "\\n".join([*units, *sums, "s = " + " + ".join(f"s{{k}}" for k in range(1, 26)),
                   "C = (s - y)^2"])  # a layer of 2,500 units: 10,029 nodes
g = gg.Graph.from_text(text)
gg.render(g, wrt="w1", repeat=True).save("{IMAGES / 'wide-layer-view.png'}")  # Σ nodes, × N
"""]


def shell_line(args: list[str]) -> str:
    return "gradgraph " + " ".join(shlex.quote(a) for a in args)


def main() -> None:
    if "--print" in sys.argv:
        for args in COMMANDS:
            print(shell_line(args))
        for code in PYTHON:
            print(code)
        return
    if find_dot() is None:
        sys.exit("Graphviz dot is not installed; see the README for how to install it")
    steps = ROOT / IMAGES / "steps"
    if steps.exists():  # frames are renumbered from 1; drop any stale ones
        shutil.rmtree(steps)
    (ROOT / IMAGES).mkdir(parents=True, exist_ok=True)
    for args in COMMANDS:
        print(shell_line(args))
        try:
            cli.main(args, prog_name="gradgraph", standalone_mode=False)
        except SystemExit as stop:  # pragma: no cover - a failed command stops the script
            if stop.code:
                raise
    for code in PYTHON:
        print(code)
        exec(code, {})  # our own constant code: the README shows exactly what ran


if __name__ == "__main__":
    os.chdir(ROOT)  # the commands use paths relative to the repository root
    main()
