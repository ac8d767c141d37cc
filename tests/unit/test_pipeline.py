"""The one orchestrator (qa.pipeline), with the fake embedder: a reader picks up a newly
built version, a non-question is refused before the model or the index is touched, and
ask() runs end to end on the five sample articles."""

from __future__ import annotations

import pytest

from qa import pipeline
from qa.errors import UsageError
from qa.read import spans
from tests.samples import NEW
from tests.samples import indexed_paths as paths


def test_pipeline_picks_up_new_version(built, fake):
    pipe = pipeline.Pipeline(built, embedder=fake)
    old = pipe.index
    (built.corpus / "en" / "zorvia.txt").write_text(NEW, encoding="utf-8")
    pipeline.build(built, embedder=fake)
    assert pipe.index is not old and "en/zorvia.txt" in paths(pipe.index)
    assert pipe.index is pipe.index  # loaded once per version, not per access
    assert "en/zorvia.txt" not in paths(old)  # a reader's open version is never changed


@pytest.mark.parametrize(
    "question, expected",
    [
        ("ёлка", "ёлка"),
        ("Путин met Biden", "Путин met Biden"),
        ("  Who\tmet\n Putin?  ", "Who met Putin?"),  # whitespace collapsed
        ("x" * pipeline.MAX_QUESTION, "x" * pipeline.MAX_QUESTION),
    ],
)
def test_check_question_accepts(question, expected):
    assert pipeline.check_question(question) == expected


@pytest.mark.parametrize(
    "question, needle",
    [
        ("", "empty question"),
        ("   \n\t", "empty question"),
        ("?", "empty question"),
        ("😉", "empty question"),
        ("!!! ???", "empty question"),
        (None, "empty question"),
        ("x" * 100_000, "100000 characters"),
        ("x" * (pipeline.MAX_QUESTION + 1), f"under {pipeline.MAX_QUESTION}"),
    ],
)
def test_check_question_refuses(question, needle):
    with pytest.raises(UsageError, match=needle) as e:
        pipeline.check_question(question)
    assert "\n" not in str(e.value)


def test_ask_refuses_before_embedding(built, fake):
    pipe = pipeline.Pipeline(built.with_(reader="typed"), embedder=fake)
    with pytest.raises(UsageError):
        pipe.ask("😉")
    assert fake.embedded == [] and pipe._index is None  # no index loaded either


def test_ask_on_the_fake_index(built, fake, monkeypatch):
    """The whole ask() path, fake vectors: retrieval by BM25 and the typed reader (its spans
    from the patterns only: the NER models are for tests/e2e)."""
    monkeypatch.setattr(spans, "candidates", lambda text, lang: tuple(spans._patterns(text, lang)))
    pipe = pipeline.Pipeline(built.with_(reader="typed"), embedder=fake)
    ans = pipe.ask("Who presented the answer in Brussels?", k=3)
    assert ans.question == "Who presented the answer in Brussels?" and ans.language == "en"
    assert ans.version == pipe.index.version and len(ans.hits) >= 3
    cited = {h.chunk.article_id for h in ans.hits} | {a for h in ans.hits for a in h.also_in}
    assert cited <= set(ans.articles)  # rendering needs no index
    assert any("Stoltenberg" in h.chunk.text for h in ans.hits)


def test_threshold_is_the_readers_own_unless_set(built, fake):
    """No QA_MIN_SCORE: each reader abstains below its own default (the hybrid reader's is a
    probability that the answer is right); QA_MIN_SCORE wins for any reader."""
    from qa.read import typed

    hybrid = pipeline.Pipeline(built.with_(reader="hybrid"), embedder=fake)
    assert hybrid.threshold == typed.ReaderParams().threshold
    assert pipeline.Pipeline(built.with_(reader="typed"), embedder=fake).threshold == (
        typed.TYPED_THRESHOLD
    )
    for reader in ("typed", "hybrid"):
        pipe = pipeline.Pipeline(built.with_(reader=reader, min_score=0.73), embedder=fake)
        assert pipe.threshold == 0.73
