"""The error boundary where the failure shows only after a model has loaded: still one line
on stderr, exit code 1, nothing written."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from qa.cli import cli
from tests.unit.test_errors import one_line_error

pytestmark = pytest.mark.slow


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


# The model loads before the index opens.
def test_missing_postgres_extra_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    result = run("ask", "Who?", "--backend", "postgres", "--dsn", "postgresql://x@127.0.0.1/x")
    one_line_error(result, "qa[postgres]")


# torch is imported before the data is read.
@pytest.mark.parametrize("content", ["not json", '{"data": [{"title": "x"}]}', '{"data": 3}'])
def test_train_reader_bad_data_is_one_line(tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    out = tmp_path / "reader.safetensors"
    result = run("train-reader", "--data", bad, bad, "--out", out)
    one_line_error(result, "SQuAD")
    assert not out.exists()


def test_train_reader_base_already_trained_is_one_line(tmp_path):
    """--base must be a stage-1 reader: the shipped one had stage 2 already, and training it
    again would not reproduce anything. One line, nothing written."""
    from qa.read import span_model

    data = tmp_path / "data.json"
    data.write_text('{"data": []}', encoding="utf-8")
    out = tmp_path / "reader.safetensors"
    result = run("train-reader", "--data", data, data, "--base", span_model.DELTA, "--out", out)
    one_line_error(result, "stage-1 reader")
    assert not out.exists() and not list(tmp_path.glob("reader*"))
