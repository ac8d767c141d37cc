"""`qa ask` and `qa show` (qa.cli.ask) without an index: exit 1 and one line that names the
fix. With the real model and index: tests/e2e/test_cli.py."""

from __future__ import annotations

import pytest

from tests.clirun import assert_fails, run

ISSUE_EN = "When did the US send its written response?"


def test_ask_without_index_fake_model(tmp_path, cli_fake):
    """As tests/e2e/test_cli.py::test_ask_without_index, with the fake embedder: the error
    path itself, in the fast lane."""
    result = run("ask", ISSUE_EN, "--index", tmp_path / "none", "--corpus", tmp_path)
    assert_fails(result, "qa build")


@pytest.mark.parametrize("question", ["", "?", "😉", "x" * 100_000], ids=repr)
def test_ask_bad_question_without_index(tmp_path, cli_fake, question):
    """A question that is no question is refused before the model or the index is needed."""
    result = run("ask", question, "--index", tmp_path / "none", "--corpus", tmp_path)
    assert_fails(result)
    assert "qa build" not in result.stderr  # the question is the problem, not the index


def test_show_without_index(tmp_path):
    assert_fails(run("show", "abc", "--index", tmp_path / "none"), "qa build")
