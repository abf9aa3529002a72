"""Saves under SIGKILL, and output paths checked before the work (issue #11, items 6-8).

The kill loop runs a real writer in a child process and kills it with SIGKILL while
its temporary file exists, a few times over: the target must stay loadable (or the
mix be detected), the leftovers must be recognisable and never taken for models, and
the next save to the same target must clean them up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import gradgraph
from gradgraph import fileio
from gradgraph.errors import FileFormatError

# The child loads gradgraph.fileio without the package's __init__ (SymPy and all), so a
# writer starts in a fraction of a second and the loop stays quick.
WRITER = textwrap.dedent("""
    import sys, types
    import numpy as np
    package = types.ModuleType("gradgraph")
    package.__path__ = [sys.argv[1]]
    sys.modules["gradgraph"] = package
    from gradgraph import fileio
    weights = np.random.default_rng(0).random(2_000_000)  # 16 MB: the write takes a while
    i = 0
    while True:
        fileio.save_npz(sys.argv[2], {"W": weights + i}, {"i": i})
        i += 1
""")


def temps_of(folder: Path, pid: int) -> list[Path]:
    return [p for p in folder.iterdir() if f"gradgraph-tmp-{pid}-" in p.name]


def kill_mid_save(target: Path) -> None:
    """Start a writer, SIGKILL it while its temporary file exists."""
    child = subprocess.Popen([sys.executable, "-c", WRITER,
                              str(Path(gradgraph.__file__).parent), str(target)])
    try:
        deadline = time.monotonic() + 20
        while not temps_of(target.parent, child.pid):
            assert child.poll() is None, "the writer died on its own"
            assert time.monotonic() < deadline, "the writer never started a save"
            time.sleep(0.002)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


def test_sigkill_mid_save_leaves_no_lasting_litter_and_no_lost_model(tmp_path):
    target = tmp_path / "model.npz"
    for _ in range(3):
        kill_mid_save(target)
        if target.exists():  # each kill leaves the last complete save, or a detected mix
            try:
                arrays, meta = fileio.load_npz(target)
                assert arrays["W"].shape == (2_000_000,)
            except FileFormatError as e:  # killed between the renames of the pair
                assert "come from different saves" in str(e)
    leftovers = [p for p in tmp_path.iterdir() if fileio.is_temp_file(p)]
    assert leftovers, "the kills landed outside the write: the test proves nothing"
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == (["model.npz"] if
                                                              target.exists() else [])
    fileio.save_npz(target, {"W": np.ones(3)}, {"i": -1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "model.npz.json"]
    assert fileio.load_npz(target)[1] == {"i": -1}


def test_ctrl_c_during_a_save_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "model.npz"
    fileio.save_npz(target, {"W": np.zeros(2)}, {"i": 0})

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fileio.save_npz(target, {"W": np.ones(2)}, {"i": 1})
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "model.npz.json"]
    assert fileio.load_npz(target)[1] == {"i": 0}
