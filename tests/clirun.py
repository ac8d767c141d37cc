"""Running the `qa` command in-process and checking its contract: exit codes, the one-line
error, the keys of `qa ask --json`. Shared by the unit and the end-to-end CLI tests."""

from __future__ import annotations

from click.testing import CliRunner

from qa.cli import cli

TOP_KEYS = {"question", "language", "answer", "passages"}
ANSWER_KEYS = {"text", "score", "start", "end", "sentence", "article"}
ARTICLE_KEYS = {"id", "path", "title", "outlet", "published", "language", "url"}
PASSAGE_KEYS = {"text", "score", "start", "end", "article", "also_in"}

runner = CliRunner()


def run(*args, input=None, env=None):
    return runner.invoke(cli, [str(a) for a in args], input=input, env=env)


def assert_fails(result, *needles):
    """Exit 1, one line on stderr naming the problem, nothing on stdout, no traceback."""
    out = f"stdout={result.stdout!r} stderr={result.stderr!r} exc={result.exception!r}"
    assert result.exit_code == 1, out
    assert result.exception is None or isinstance(result.exception, SystemExit), out
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error:"), out
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == "", out
    for n in needles:
        assert n in result.stderr, out


def check_contract(obj: dict) -> None:
    assert TOP_KEYS <= obj.keys()
    if obj["answer"] is not None:
        assert ANSWER_KEYS <= obj["answer"].keys()
        assert ARTICLE_KEYS <= obj["answer"]["article"].keys()
    for p in obj["passages"]:
        assert PASSAGE_KEYS <= p.keys()
        assert ARTICLE_KEYS <= p["article"].keys()
        for other in p["also_in"]:
            assert ARTICLE_KEYS <= other.keys()
