"""`qa ask -`: exactly one output line per input line, so answer N is question N; a bad line
is an error object (JSON) or a one-line message (text) and the batch goes on; the exit code
says whether any line failed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qa.cli import cli

pytestmark = pytest.mark.slow  # the real model and corpus

EN = "When did the US send its written response?"
RU = "Когда США передали России письменный ответ?"


def run(settings, *args, input: str):
    where = ["--index", str(settings.index), "--corpus", str(settings.corpus), "-q"]
    return CliRunner().invoke(cli, ["ask", "-", *args, *where], input=input)


def test_one_json_line_per_input_line(real_pipeline, real_settings):
    lines = [EN, "", "?", "😉", "   ", RU, "x" * 2000]
    result = run(real_settings, "--json", input="\n".join(lines))  # no newline at the end
    assert result.exit_code == 1
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(out) == len(lines)
    assert [o["question"] for o in out] == lines
    ok = [i for i, o in enumerate(out) if "error" not in o]
    assert ok == [0, 5]
    assert out[0]["answer"] and out[5]["answer"]
    for i in (1, 2, 3, 4):
        assert "empty question" in out[i]["error"]
    assert "keep it under" in out[6]["error"]
    assert "Traceback" not in result.output


def test_longest_question_is_answered_or_declined(real_pipeline, real_settings):
    """Under the 1000-character limit, but more than the span model's 256 tokens alone."""
    question = "Who signed " + "x " * 490 + "?"
    result = run(real_settings, "--json", input=question + "\n")
    assert result.exit_code == 0, result.output
    assert "answer" in json.loads(result.stdout)


def test_all_good_lines_exit_zero(real_pipeline, real_settings):
    result = run(real_settings, "--json", input=f"{EN}\n{RU}\n")
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["language"] for x in result.stdout.splitlines()] == ["en", "ru"]


def test_text_mode_reports_the_bad_line_in_place(real_pipeline, real_settings):
    result = run(real_settings, input=f"?\n{EN}\n")
    assert result.exit_code == 1
    first, *rest = result.stdout.splitlines()
    assert first.startswith("qa: error: empty question")
    assert rest and "January 26" in rest[0]


def test_broken_index_stops_the_batch(real_settings, tmp_path):
    where = ["--index", str(tmp_path / "none"), "--corpus", str(real_settings.corpus), "-q"]
    result = CliRunner().invoke(cli, ["ask", "-", "--json", *where], input=f"{EN}\n{RU}\n")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("qa: error: no index")
