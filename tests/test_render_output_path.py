"""``gradgraph render -o FILE`` refuses an unwritable FILE before any work is done."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gradgraph.cli import cli
from gradgraph.graph import Graph


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing the graph fails the test: the refusal must come first."""

    def parsed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the graph was parsed before -o was checked")

    monkeypatch.setattr(Graph, "from_text", parsed)


def one_line_error(argv: list[str]) -> str:
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.mark.usefixtures("no_work")
def test_a_missing_folder_is_refused_before_parsing(tmp_path) -> None:
    target = tmp_path / "no-such-folder" / "chain.svg"
    line = one_line_error(["render", "C = w*x", "--wrt", "w", "-o", str(target)])
    assert line.startswith("Error: -o: cannot write") and "no-such-folder" in line
    assert not target.parent.exists()


@pytest.mark.usefixtures("no_work")
def test_a_folder_named_like_a_picture_is_refused_before_parsing(tmp_path) -> None:
    folder = tmp_path / "chain.svg"
    folder.mkdir()
    line = one_line_error(["render", "C = w*x", "-o", str(folder)])
    assert "it is a folder" in line


@pytest.mark.usefixtures("no_work")
def test_a_file_in_proc_is_refused_before_parsing() -> None:
    line = one_line_error(["render", "C = w*x", "-o", "/proc/gradgraph-test.svg"])
    assert "/proc/gradgraph-test.svg" in line


def test_a_writable_path_still_gets_the_dot_text(tmp_path) -> None:
    target = tmp_path / "chain.dot"
    result = CliRunner().invoke(cli, ["render", "C = w*x", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("digraph")
