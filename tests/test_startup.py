"""Start-up stays light: which packages a command imports, never how long it takes.

Each case runs a fresh interpreter under ``-X importtime`` and reads the modules it
imported from that log, so modules a previous test imported cannot hide a regression.
"""

from __future__ import annotations

import re
import subprocess
import sys
import types

import click
import pytest

import gradgraph as gg
from gradgraph import cli as cli_module

HEAVY = ("sympy", "matplotlib", "sklearn", "starlette", "uvicorn")
NO_NUMPY = (*HEAVY, "numpy")

def imported(*args: str) -> set[str]:
    """The modules ``python -X importtime ARGS`` imports (it must exit 0)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)\s*$", done.stderr,
                          flags=re.M))


def heavy_in(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [h for h in names if any(m == h or m.startswith(h + ".") for m in modules)]


def test_the_importtime_reader_sees_a_heavy_import() -> None:
    """The check itself can fail: a command that does import SymPy is seen to."""
    assert heavy_in(imported("-c", "import sympy"), HEAVY) == ["sympy"]


@pytest.mark.parametrize("code", ["import gradgraph", "import gradgraph.cli",
                                  "import gradgraph.errors; import gradgraph.commands.common"])
def test_importing_the_package_is_light(code: str) -> None:
    assert heavy_in(imported("-c", code), NO_NUMPY) == []


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["-h"],
    ["--version"],
    ["derive", "--help"],
    ["render", "--help"],
    ["lesson", "--help"],
    ["lesson", "list", "--help"],
    ["lesson", "run", "--help"],
    ["serve", "--help"],
])
def test_help_imports_neither_sympy_nor_numpy(argv: list[str]) -> None:
    assert heavy_in(imported("-m", "gradgraph", *argv), NO_NUMPY) == []


@pytest.mark.parametrize("argv", [
    ["train", "--help"],
    ["experiment", "--help"],
    ["experiment", "vanishing", "--help"],
    ["check", "--help"],
])
def test_help_of_the_numeric_commands_imports_no_sympy(argv: list[str]) -> None:
    assert heavy_in(imported("-m", "gradgraph", *argv), HEAVY) == []


@pytest.mark.parametrize("argv", [
    ["derive", "C = w*x", "--wrt", "w"],
    ["render", "C = w*x", "--wrt", "w", "--values", "w=2,x=3"],
])
def test_symbolic_commands_import_no_plotting_learning_or_web(argv: list[str]) -> None:
    modules = imported("-m", "gradgraph", *argv)
    assert heavy_in(modules, HEAVY) == ["sympy"]


def test_lesson_list_builds_no_graph() -> None:
    assert heavy_in(imported("-m", "gradgraph", "lesson", "list"), HEAVY) == []


def test_a_graph_is_built_with_sympy_sized_by_gradgraph() -> None:
    """The SYMPY_CACHE_SIZE block still runs before SymPy is first imported."""
    code = ("import os, sys, gradgraph as gg; assert 'sympy' not in sys.modules; "
            "gg.Graph.from_text('C = w*x'); import sympy.core.cache as c; "
            "print(c.SYMPY_CACHE_SIZE)")
    env_free = {k: v for k, v in __import__("os").environ.items() if k != "SYMPY_CACHE_SIZE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env_free, timeout=120, check=True).stdout
    assert out.strip() == "20000"
    mine = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env_free, "SYMPY_CACHE_SIZE": "123"}, timeout=120,
                          check=True).stdout
    assert mine.strip() == "123"  # the user's own setting wins


# --- the lazy package: every public name, and the names shared with submodules ---------

def test_every_public_name_resolves() -> None:
    for name in gg.__all__:
        assert getattr(gg, name) is not None, name
    assert gg.compile is gg.compile_graph
    assert set(gg.__all__) <= set(dir(gg))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        _ = gg.no_such_thing
    assert not hasattr(gg, "_private_thing")


def test_submodules_load_as_attributes() -> None:
    assert isinstance(gg.ops, types.ModuleType)
    assert isinstance(gg.nn, types.ModuleType)


@pytest.mark.parametrize("name", ["check", "derive", "render"])
def test_importing_a_submodule_keeps_the_public_function(name: str) -> None:
    function = getattr(gg, name)
    assert callable(function) and not isinstance(function, types.ModuleType)
    gg.__setattr__(name, sys.modules[f"gradgraph.{name}"])  # what `import` does
    assert getattr(gg, name) is function
    gg.__setattr__(name, function)


def test_submodule_imports_in_a_fresh_interpreter_keep_the_functions() -> None:
    """``import gradgraph.derive`` after (or before) ``import gradgraph`` binds nothing
    over the functions; ``from gradgraph import derive`` is the function too."""
    code = """
import types
import gradgraph as gg
import gradgraph.derive, gradgraph.check, gradgraph.render
from gradgraph import derive, check, render
g = gg.Graph.from_text("z = w*x + b; C = (z - y)^2")
assert gg.derive is derive and not isinstance(derive, types.ModuleType)
assert gg.check is check and gg.render is render
print(gg.derive(g, wrt="w").expr)
print(gg.check(g, "dC/dw", "2*x*(z - y)").correct)
print(gg.render(g, wrt="w").source.startswith("digraph"))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[1:3] == ["True", "True"]


# --- the command table ---------------------------------------------------------------

def _listing(group: click.Group, width: int) -> str:
    formatter = click.HelpFormatter(width=width)
    group.format_commands(click.Context(group), formatter)
    return formatter.getvalue()


def test_the_summaries_are_the_commands_own() -> None:
    """The table's summary is each command's first paragraph, so ``--help`` lists
    exactly what click would list with every command loaded, at any width."""
    lazy = cli_module._Group("gradgraph")
    loaded = {name: cli_module.cli.get_command(click.Context(cli_module.cli), name)
              for name in cli_module.COMMANDS}
    for name, command in loaded.items():
        first = command.help.split("\n\n")[0]
        assert cli_module.COMMANDS[name][2].split() == first.split(), name
    eager = click.Group("gradgraph", commands=loaded)
    for width in (40, 60, 80, 100, 120, 200):
        assert _listing(lazy, width) == _listing(eager, width)
    assert lazy.commands == {}  # listing loaded nothing


def test_render_choices_match_the_renderer() -> None:
    from gradgraph.commands import render as render_cli
    from gradgraph.render import SHOW_ALL
    from gradgraph.render.output import DEFAULT_TIMEOUT, FORMATS

    assert render_cli.FORMATS == FORMATS
    assert render_cli.SHOW_ALL == SHOW_ALL
    assert render_cli.DEFAULT_TIMEOUT == DEFAULT_TIMEOUT


# --- lesson list reads headers only -------------------------------------------------

def test_every_bundled_header_agrees_with_the_full_loader() -> None:
    from gradgraph.lesson.catalog import lesson_files, read_header
    from gradgraph.lesson.loader import load_lesson

    for path in lesson_files():
        header, lesson = read_header(path), load_lesson(path)
        assert (header.name, header.number, header.title, header.summary) == (
            lesson.name, lesson.number, lesson.title, lesson.summary), path
        assert (header.steps, header.exercises) == (len(lesson.steps),
                                                   len(lesson.exercises)), path


def test_a_listing_builds_no_graph_but_show_still_validates(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from gradgraph.graph import Graph

    monkeypatch.setenv("GRADGRAPH_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "01-odd.toml").write_text(
        'title = "Odd"\nsummary = "s"\n[graphs.g]\ntext = "C = w*"\n'
        '[[steps]]\nkind = "text"\ntext = "hi"\n[[steps]]\nkind = "exercise"\n',
        encoding="utf-8")
    (tmp_path / "02-untitled.toml").write_text('summary = "s"\n[[steps]]\nkind = "text"\n',
                                               encoding="utf-8")

    def no_graphs(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("a listing built a graph")

    runner = CliRunner()
    with monkeypatch.context() as m:
        m.setattr(Graph, "from_text", no_graphs)
        listing = runner.invoke(cli_module.cli, ["lesson", "list", "--dir", str(tmp_path)])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[0].split() == ["1", "odd", "Odd", "(1", "exercise)"]
    assert lines[1].startswith("  !  02-untitled.toml:") and "missing key 'title'" in lines[1]
    shown = runner.invoke(cli_module.cli, ["lesson", "show", "odd", "--dir", str(tmp_path)])
    assert shown.exit_code == 2 and "01-odd.toml" in shown.output  # the loader refuses it
