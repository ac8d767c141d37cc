"""`qa build` and `qa add` (qa.cli.index): expected failures are one line with exit 1, the
--json summaries (fake embedder patched in)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from qa.cli import cli
from qa.store import faiss_index as index
from qa.store import versions as store_versions
from tests.clirun import assert_fails, run
from tests.samples import ARTICLES, NEW


def test_build_empty_corpus(tmp_path):
    (tmp_path / "corpus").mkdir()
    result = run("build", "--json", "--corpus", tmp_path / "corpus", "--index", tmp_path / "i")
    assert_fails(result, "no readable articles")


def test_build_missing_corpus(tmp_path):
    result = run("build", "--corpus", tmp_path / "nope", "--index", tmp_path / "i")
    assert_fails(result, "--corpus")


def test_build_only_unreadable_files(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "x.txt").write_bytes(b"\x00\x01\x02")
    result = run("build", "--json", "--corpus", tmp_path / "corpus", "--index", tmp_path / "i")
    assert_fails(result, "no readable articles")


def test_cli_add_json(built, cli_fake, incoming):
    (incoming / "zorvia.txt").write_text(NEW, encoding="utf-8")
    (incoming / "dup.txt").write_text(ARTICLES["en/nato.txt"], encoding="utf-8")
    args = ["--corpus", built.corpus, "--index", built.index, "-q", "--json"]
    result = CliRunner().invoke(cli, ["add", str(incoming), *map(str, args)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["added"], summary["duplicates"], summary["unchanged"]) == (1, 1, len(ARTICLES))
    assert summary["files"]["copied"] == ["en/zorvia.txt"]
    assert summary["files"]["duplicates"][0]["same_as"] == "en/nato.txt"
    assert summary["chunks_embedded"] > 0 and summary["version"] == index.load(built.index).version


def test_cli_add_text_and_errors(built, cli_fake, incoming):
    (incoming / "zorvia.txt").write_text(NEW, encoding="utf-8")
    where = ["--corpus", str(built.corpus), "--index", str(built.index)]
    result = CliRunner().invoke(cli, ["add", str(incoming / "zorvia.txt"), *where])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 copied, 0 duplicates; 1 added")
    again = CliRunner().invoke(cli, ["add", str(incoming / "zorvia.txt"), *where])
    assert again.exit_code == 0 and "duplicate" in again.stderr
    (incoming / "junk.txt").write_bytes(b"\x00\x01")
    bad = CliRunner().invoke(cli, ["add", str(incoming / "junk.txt"), *where])
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1 and "nothing added" in bad.stderr
    missing = CliRunner().invoke(cli, ["add", str(incoming / "nope.txt"), *where])
    assert missing.exit_code == 2


def test_cli_build_refused_while_locked(built, cli_fake):
    where = ["--corpus", str(built.corpus), "--index", str(built.index), "-q"]
    with store_versions.build_lock(built.index):
        result = CliRunner().invoke(cli, ["build", *where])
    assert result.exit_code == 1 and "another `qa build`" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
