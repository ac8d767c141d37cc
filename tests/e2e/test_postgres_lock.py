"""`qa add --backend postgres` takes the PostgreSQL build lock (a session advisory lock), not
the FAISS index directory's file lock: a build running elsewhere refuses it, and nothing is
copied into the corpus."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from qa import intake, store
from qa.cli import cli
from qa.config import Settings
from qa.errors import IndexBusy
from qa.store.postgres import server as pgserver

pytestmark = pytest.mark.slow  # starts a PostgreSQL server


@pytest.fixture(scope="module")
def node():
    root = pgserver.workdir()
    server = pgserver.start(root / "lock-node", durable=False)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def settings(node, tmp_path) -> Settings:
    (tmp_path / "corpus" / "en").mkdir(parents=True)
    return Settings(
        corpus=tmp_path / "corpus",
        index=tmp_path / "index",
        backend="postgres",
        dsn=node.dsn(),
        pg_schema="locktest",
        quiet=True,
    )


@pytest.fixture
def article(tmp_path):
    path = tmp_path / "incoming.txt"
    path.write_text("Zorvia held talks.\n\nZorvia and Blen met in Geneva on Monday.", "utf-8")
    return path


def test_add_refused_while_another_build_holds_the_lock(settings, article):
    with store.open_backend(settings).lock():  # another build, on its own connection
        with pytest.raises(IndexBusy, match="another `qa build`"):
            intake.add(settings, [article], embedder=object())
    assert list(settings.corpus.rglob("*.txt")) == []  # nothing copied
    assert not settings.index.exists()  # the FAISS lock file was never the one taken


def test_cli_add_refused_is_one_line(settings, article):
    where = ["--corpus", settings.corpus, "--backend", "postgres", "--dsn", settings.dsn, "-q"]
    with store.open_backend(settings).lock():
        result = CliRunner(env={"QA_PG_SCHEMA": "locktest"}).invoke(
            cli, ["add", str(article), *map(str, where)]
        )
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("qa: error: another `qa build`")
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(settings.corpus.rglob("*.txt")) == []


def test_lock_is_released_after_a_build(settings):
    with store.open_backend(settings).lock():
        pass
    with store.open_backend(settings).lock():  # a second build may now start
        pass
