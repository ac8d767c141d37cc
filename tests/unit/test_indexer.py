"""Incremental builds (qa.indexer) on the five-article sample corpus with the fake embedder:
what each build embeds, keeps and drops, and the settings that force `qa build --full`. The
real model and the real corpus are in tests/e2e/test_crash.py and test_seed_questions.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from qa import pipeline
from qa.errors import QAError
from qa.ingest import corpus
from qa.store import faiss_index as index
from tests.samples import ARTICLES, NEW, FakeEmbedder, n_texts
from tests.samples import indexed_paths as paths
from tests.samples import load_index as load


def lexical_paths(idx: index.Index, lang: str, word: str) -> set[str]:
    from qa.store import lexical

    rows = idx.lexical[lang].search(lexical.tokens(word, lang), 10)
    return {idx.articles[idx.chunks[r].article_id].path for r, _ in rows}


def test_first_build_embeds_everything(settings, fake):
    report = pipeline.build(settings, embedder=fake)
    idx = load(settings)
    assert sorted(report.added) == sorted(ARTICLES)
    assert report.chunks_embedded == len(idx.chunks)
    assert report.sentences_embedded == len(idx.sentences)
    assert len(fake.embedded) == len(idx.chunks) + len(idx.sentences)
    assert report.version == idx.version == index.current_version(settings.index)
    assert idx.faiss.ntotal == len(idx.chunks) == idx.manifest["n_chunks"]
    for c in idx.chunks:
        assert idx.articles[c.article_id].text[c.start : c.end] == c.text


def test_unchanged_corpus_embeds_nothing(built, fake):
    before = index.current_version(built.index)
    report = pipeline.build(built, embedder=fake)
    assert report.unchanged == len(ARTICLES)
    assert (report.added, report.updated, report.removed) == ([], [], [])
    assert fake.embedded == [] and report.chunks_embedded == 0
    assert report.version == before == index.current_version(built.index)


def test_incremental_embeds_only_new_and_changed(built, fake):
    old = load(built)
    old_vecs = {e.article.path: e for e in old.reusable().values()}
    (built.corpus / "en" / "zorvia.txt").write_text(NEW, encoding="utf-8")
    (built.corpus / "en" / "kyiv.txt").write_text(
        ARTICLES["en/kyiv.txt"].replace("one day", "three days"), encoding="utf-8"
    )
    report = pipeline.build(built, embedder=fake)
    idx = load(built)
    assert report.added == ["en/zorvia.txt"] and report.updated == ["en/kyiv.txt"]
    assert report.unchanged == len(ARTICLES) - 1 and report.removed == []
    want = n_texts(idx, "en/zorvia.txt") + n_texts(idx, "en/kyiv.txt")
    assert len(fake.embedded) == want == report.chunks_embedded + report.sentences_embedded
    assert "three days" in " ".join(fake.embedded) and "Quokkaberry" in " ".join(fake.embedded)
    assert not any("Stoltenberg" in t for t in fake.embedded)
    # Unchanged articles keep their vectors (copied, not re-embedded), rows stay aligned.
    for e in idx.reusable().values():
        if e.article.path in old_vecs and e.article.path != "en/kyiv.txt":
            np.testing.assert_array_equal(e.chunk_vecs, old_vecs[e.article.path].chunk_vecs)
            np.testing.assert_array_equal(e.sentence_vecs, old_vecs[e.article.path].sentence_vecs)
        for c, v in zip(e.chunks, e.chunk_vecs, strict=True):
            np.testing.assert_allclose(v, FakeEmbedder._vec(c.text), atol=1e-6)
    # The lexical index follows: the new word is found, in the new article only.
    assert lexical_paths(idx, "en", "Quokkaberry") == {"en/zorvia.txt"}
    assert lexical_paths(idx, "en", "three") == {"en/kyiv.txt"}


def test_removal_drops_chunks(built, fake):
    (built.corpus / "en" / "nato.txt").unlink()
    (built.corpus / "ru" / "kyiv.txt").unlink()
    report = pipeline.build(built, embedder=fake)
    assert report.removed == ["en/nato.txt", "ru/kyiv.txt"]
    assert fake.embedded == []
    idx = load(built)
    assert paths(idx) == set(ARTICLES) - {"en/nato.txt", "ru/kyiv.txt"}
    gone = {corpus.article_id("en/nato.txt"), corpus.article_id("ru/kyiv.txt")}
    assert not any(c.article_id in gone for c in idx.chunks)
    assert not any(s.article_id in gone for s in idx.sentences)
    assert idx.faiss.ntotal == len(idx.chunks) and len(idx.sentence_vecs) == len(idx.sentences)
    assert lexical_paths(idx, "en", "Stoltenberg") == set()
    assert lexical_paths(idx, "ru", "Зеленским") == set()


def test_full_rebuild(built, fake):
    report = pipeline.build(built, full=True, embedder=fake)
    idx = load(built)
    assert sorted(report.added) == sorted(ARTICLES) and report.unchanged == 0
    assert len(fake.embedded) == len(idx.chunks) + len(idx.sentences)


@pytest.mark.parametrize("change", [{"chunk_sentences": 2}, {"chunk_stride": 2}])
def test_chunk_setting_change_needs_full(built, fake, change):
    before = index.current_version(built.index)
    changed = built.with_(**change)
    with pytest.raises(QAError, match="qa build --full") as e:
        pipeline.build(changed, embedder=fake)
    assert next(iter(change)) in str(e.value) and "\n" not in str(e.value)
    assert fake.embedded == [] and index.current_version(built.index) == before
    report = pipeline.build(changed, full=True, embedder=fake)
    assert len(report.added) == len(ARTICLES)
    assert load(built).manifest[next(iter(change))] == next(iter(change.values()))


def test_model_change_needs_full(built):
    other = FakeEmbedder("fake/another-model")
    with pytest.raises(QAError, match="qa build --full"):
        pipeline.build(built, embedder=other)
    with pytest.raises(index.IndexCorrupt, match="qa build --full"):
        index.load(built.index, other.model_id)
    pipeline.build(built, full=True, embedder=other)
    assert index.load(built.index, other.model_id).manifest["model"] == other.model_id
