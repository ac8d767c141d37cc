"""The `qa` group and its shared options (qa.cli.base): help on every command with an example
in each language, usage errors exit 2, a bad environment value is one line."""

from __future__ import annotations

import re

import pytest

from qa.cli import cli
from tests.clirun import assert_fails, run

COMMANDS = sorted(cli.commands)


def test_commands_exist():
    assert {"build", "ask", "show"} <= set(COMMANDS)


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name, flag):
    result = run(name, flag)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    doc = (cli.commands[name].help or "").strip()
    assert doc and doc.split("\n")[0][:40] in " ".join(result.stdout.split())
    # House style: the help carries an example in each language.
    assert re.search(r"[a-zA-Z]", doc) and re.search(r"[а-яА-ЯёЁ]", doc), doc
    if name != "train-reader":  # it reads XQuAD, not a corpus or an index
        for opt in ("--index", "--corpus"):
            assert opt in result.stdout


def test_group_help_and_version():
    result = run("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout
    assert run("--version").exit_code == 0


def test_group_help_names_only_real_commands():
    """The examples in `qa --help` must run: every `qa <command>` it shows exists."""
    shown = set(re.findall(r"^\s*qa (\w+)", run("--help").stdout, re.M))
    assert shown and shown <= set(COMMANDS), shown - set(COMMANDS)


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "--bogus", "x"],
        ["--bogus"],
        ["no-such-command"],
        ["ask"],
        ["ask", "-k", "0", "x"],
        ["ask", "--lang", "fr", "x"],
        ["ask", "--reader", "bert", "x"],
        ["train-reader", "--epochs", "0"],
        ["build", "--bogus"],
        ["show"],
    ],
)
def test_usage_errors_exit_2(args, tmp_path):
    result = run(*args, "--index", tmp_path / "i") if args[0] != "--bogus" else run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_bad_env_value_is_one_line(tmp_path):
    result = run("ask", "x", "--index", tmp_path, env={"QA_K": "five"})
    assert_fails(result, "QA_K")
    result = run("ask", "x", "--index", tmp_path, env={"QA_READER": "bert"})
    assert_fails(result, "QA_READER")
