"""The hybrid reader (span model + sentence ranking) on the real model and corpus. Its span
tidying and choice logic without the model: tests/unit/read/test_hybrid.py."""

from __future__ import annotations

import pytest

from qa import pipeline
from qa.read import hybrid

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipes(real_pipeline, real_settings, embedder):
    return {
        name: pipeline.Pipeline(real_settings.with_(reader=name), embedder=embedder)
        for name in ("typed", "span", "hybrid")
    }


@pytest.mark.slow
def test_default_reader_is_hybrid(real_pipeline):
    assert real_pipeline.settings.reader == "hybrid" and real_pipeline.span_model is not None


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["typed", "span", "hybrid"])
def test_every_reader_answers_with_offsets_into_the_article(pipes, reader):
    pipe = pipes[reader]
    ans = pipe.ask("When did the US send its written response?")
    assert ans.text is not None and "January 26" in ans.text
    art = pipe.index.articles[ans.article_id]
    assert art.text[ans.start : ans.end] == ans.text
    assert ans.sentence.start <= ans.start < ans.end <= ans.sentence.end


@pytest.mark.slow
def test_hybrid_reads_sentences_from_the_ranking(pipes):
    """The span model reads the best sentences; each choice's span lies inside its sentence
    and the best choice's sentence is among the reader's top sentences."""
    pipe = pipes["hybrid"]
    q = pipe.query("Кто встретился с Путиным в понедельник?")
    hits = pipe.retrieve(q, 5)
    qtype, found = hybrid.span_choices(pipe.index, q, hits, pipe.span_model, pipe.reader_params)
    assert qtype == "person" and found
    for c in found:
        assert 0 <= c.span.start < c.span.end <= len(c.scored.sentence.text)
    texts = [c.scored.sentence.text[c.span.start : c.span.end] for c in found]
    assert any("Лавров" in t for t in texts), texts


@pytest.mark.slow
def test_typed_reader_loads_no_span_model(pipes):
    assert pipes["typed"].span_model is None
