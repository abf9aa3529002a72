"""``gradgraph serve`` at the command line: help, the port in use, the network warning."""

from __future__ import annotations

import socket

import pytest

from gradgraph.cli import cli
from gradgraph.commands import serve as serve_cmd


@pytest.fixture
def served(monkeypatch):
    """Record the app and socket instead of serving forever."""
    calls = {}

    class FakeServer:
        def __init__(self, config):
            calls["app"] = config.app

        def run(self, sockets):
            calls["sockets"] = sockets
            for s in sockets:
                s.close()

    monkeypatch.setattr("uvicorn.Server", FakeServer)
    return calls


def test_help_has_an_example(runner):
    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "gradgraph serve --port 9000" in result.output


def test_port_in_use_is_one_line_and_exit_2(runner, served):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = runner.invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"Error: port {port} on 127.0.0.1 is already in use; pick another " \
                        "with --port"
    assert "app" not in served


def test_loopback_serves_without_warning(runner, served):
    result = runner.invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output and "http://127.0.0.1:" in result.output
    assert served["sockets"][0].family == socket.AF_INET


def test_any_other_host_warns(runner, served):
    result = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert "anyone who can reach this machine" in result.output


def test_lessons_folder_must_exist(runner, served, tmp_path):
    result = runner.invoke(cli, ["serve", "--lessons", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "is not a folder" in result.output


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True),
                                            ("::1", True), ("0.0.0.0", False),
                                            ("192.168.1.4", False), ("example.org", False)])
def test_is_loopback(host, loopback):
    assert serve_cmd.is_loopback(host) is loopback
