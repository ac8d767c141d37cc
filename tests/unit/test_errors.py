"""The one error boundary: every expected failure is one line on stderr and exit code 1."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from qa import errors
from qa.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result, *needles):
    assert result.exit_code == 1, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error:"), result.stderr
    assert "Traceback" not in result.output
    for n in needles:
        assert n in result.stderr


def test_every_error_is_a_qaerror():
    for name in ("UsageError", "IndexMissing", "IndexCorrupt", "IndexBusy", "CorpusError"):
        assert issubclass(getattr(errors, name), errors.QAError)
    assert issubclass(errors.BackendError, errors.QAError)
    assert issubclass(errors.MissingExtra, errors.QAError)


def test_need_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if qa[postgres] were not installed
    with pytest.raises(errors.MissingExtra, match=r"install qa\[postgres\]"):
        errors.need("postgres", "psycopg")


def test_need_does_not_hide_other_import_errors(monkeypatch, tmp_path):
    """An installed extra that fails on a dependency of its own is a real bug: not hidden."""
    (tmp_path / "qa_fake_extra.py").write_text("import qa_fake_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="qa_fake_missing_dependency"):
        errors.need("postgres", "qa_fake_extra")
    assert errors.need("postgres", "json").dumps([]) == "[]"


@pytest.mark.slow  # loads the model before it opens the index
def test_missing_postgres_extra_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    result = run("ask", "Who?", "--backend", "postgres", "--dsn", "postgresql://x@127.0.0.1/x")
    one_line_error(result, "qa[postgres]")


def test_missing_index_is_one_line(tmp_path):
    result = run("show", "abc", "--index", tmp_path / "none")
    one_line_error(result, "qa build")


def test_bad_setting_is_one_line(monkeypatch):
    monkeypatch.setenv("QA_K", "many")
    one_line_error(run("show", "abc"), "QA_K")


@pytest.mark.slow  # imports torch before it reads the data
@pytest.mark.parametrize("content", ["not json", '{"data": [{"title": "x"}]}', '{"data": 3}'])
def test_train_reader_bad_data_is_one_line(tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    out = tmp_path / "reader.safetensors"
    result = run("train-reader", "--data", bad, bad, "--out", out)
    one_line_error(result, "SQuAD")
    assert not out.exists()
