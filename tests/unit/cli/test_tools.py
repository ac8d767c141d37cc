"""`qa serve` (qa.cli.tools) failing before it serves: a port in use, no index."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from qa.cli import cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_port_in_use(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("qa: error: cannot listen") and "--port" in result.stderr


def test_serve_without_index(tmp_path):
    port = str(_free_port())
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path / "none"), "--port", port])
    assert result.exit_code == 1, result.output
    assert "qa build" in result.stderr and "Traceback" not in result.output
