"""Sentence ranking shared by the readers (qa.read.sentences), on hand-made sentences and a
tiny in-memory index: stem matching, the IDF-weighted overlap of the question's words, and
the score that orders the sentences of the top passages."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from qa.embed.embedder import DIM
from qa.read import sentences
from qa.read.typed import ReaderParams
from qa.store import lexical
from qa.store.lexical import LexicalIndex
from qa.types import Hit, Query, Sentence
from tests.samples import ARTICLES, FakeEmbedder, article, memory_index, unit

# ---- present -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term, have, expected",
    [
        ("geneva", {"geneva", "talk"}, True),
        ("ukrain", {"ukrainian"}, True),  # one stem extends the other
        ("ukrainian", {"ukrain"}, True),
        ("соглашен", {"соглашениям"}, True),
        ("nato", {"natos"}, False),  # a short stem must match exactly
        ("nato", {"nato"}, True),
        ("ukrainian", {"ukr"}, False),  # ...and so must a short word it would extend
        ("geneva", {"genf"}, False),
        ("talks", set(), False),
        ("", {"talks"}, False),
    ],
)
def test_present(term, have, expected):
    assert sentences.present(term, have) is expected


# ---- overlap -----------------------------------------------------------------------------

BM25_DOCS = ["Lavrov met Blinken.", "Blinken met Kuleba.", "Lavrov spoke in Geneva.", "Blinken."]


@pytest.fixture(scope="module")
def lex_index():
    return SimpleNamespace(lexical={"en": LexicalIndex.build("en", BM25_DOCS, [0, 1, 2, 3])})


def sentence(text: str, lang: str = "en") -> Sentence:
    return Sentence("a1s0", "a1", text, 0, len(text), lang)


def q(text: str, lang: str = "en", tokens=None, vec=None) -> Query:
    tokens = tuple(lexical.tokens(text, lang)) if tokens is None else tuple(tokens)
    return Query(text, lang, np.zeros(DIM, np.float32) if vec is None else vec, tokens)


def test_overlap_weights_rare_words_more(lex_index):
    idf = lex_index.lexical["en"].idf
    query = q("Lavrov Blinken")  # lavrov in 2 documents, blinken in 3
    only_lavrov = sentences.overlap(lex_index, query, sentence("Lavrov arrived."))
    only_blinken = sentences.overlap(lex_index, query, sentence("Blinken arrived."))
    total = idf("lavrov") + idf("blinken")
    assert only_lavrov == pytest.approx(idf("lavrov") / total)
    assert only_blinken == pytest.approx(idf("blinken") / total)
    assert only_lavrov > 0.5 > only_blinken > 0


def test_overlap_all_none_and_repeats(lex_index):
    query = q("", tokens=("lavrov", "geneva", "lavrov"))
    assert sentences.overlap(lex_index, query, sentence("In Geneva, Lavrov spoke.")) == 1.0
    assert sentences.overlap(lex_index, query, sentence("Nothing to see.")) == 0.0
    once = sentences.overlap(lex_index, q("", tokens=("lavrov", "geneva")), sentence("Lavrov."))
    assert sentences.overlap(lex_index, query, sentence("Lavrov.")) == pytest.approx(once)


def test_overlap_compares_stems(lex_index):
    query = q("Who held the talks?")  # tokens: held, talk
    assert sentences.overlap(lex_index, query, sentence("They were talking and holding.")) < 1.0
    assert sentences.overlap(lex_index, query, sentence("The talk was held.")) == 1.0


def test_overlap_without_question_words(lex_index):
    assert sentences.overlap(lex_index, q("Who?"), sentence("Lavrov spoke.")) == 0.0


def test_overlap_across_languages_only_words_written_alike(lex_index):
    query = q("NATO Lavrov", tokens=("nato", "lavrov"))
    got = sentences.overlap(lex_index, query, sentence("Ответ NATO передал Лавров.", "ru"))
    idf = lex_index.lexical["en"].idf
    assert got == pytest.approx(idf("nato") / (idf("nato") + idf("lavrov")))


def test_overlap_without_a_bm25_index_weighs_words_equally():
    index = SimpleNamespace(lexical={})
    query = q("", tokens=("lavrov", "geneva", "nato", "kyiv"))
    assert sentences.overlap(index, query, sentence("Lavrov in Kyiv.")) == 0.5


# ---- ranked -----------------------------------------------------------------------------

ANSWER = "NATO sent its written answer on January 26."


@pytest.fixture(scope="module")
def tiny():
    """The English sample articles, windows of two sentences; the answer sentence has the
    query's vector (cosine 1), every other text a random one (cosine near 0)."""
    arts = [article(p, t.strip()) for p, t in ARTICLES.items() if p.startswith("en/")]
    vec = lambda t: unit(0) if t == ANSWER else FakeEmbedder._vec(t)  # noqa: E731
    return memory_index(arts, vec, size=2)


def test_ranked_scores_cosine_overlap_and_rank(tiny):
    p = ReaderParams()
    query = q("When did NATO send its answer?", vec=unit(0))
    hits = [Hit(c, 1.0) for c in tiny.chunks[::-1]]  # NATO's windows first
    got = sentences.ranked(tiny, query, hits, p)
    assert got[0].sentence.text == ANSWER and got[0].cos == pytest.approx(1.0)
    assert [s.score for s in got] == sorted((s.score for s in got), reverse=True)
    rank_of = {}
    for rank, h in enumerate(hits[: p.hits]):
        for i in range(*h.chunk.sentences):
            rank_of.setdefault(f"{h.chunk.article_id}s{i}", rank)
    for s in got:
        vec = tiny.sentence_vector(tiny.sentence_row[s.sentence.id])
        assert s.cos == pytest.approx(float(np.dot(vec, query.vec)))
        assert s.overlap == sentences.overlap(tiny, query, s.sentence)
        want = s.cos + p.w_overlap * s.overlap + p.w_rank / (1 + rank_of[s.sentence.id])
        assert s.score == pytest.approx(want)


def test_ranked_reads_each_sentence_once_from_the_first_hits(tiny):
    hits = [Hit(c, 1.0) for c in tiny.chunks]
    got = sentences.ranked(tiny, q("When?", vec=unit(0)), hits, ReaderParams(hits=3))
    want = {f"{h.chunk.article_id}s{i}" for h in hits[:3] for i in range(*h.chunk.sentences)}
    assert len(got) == len(want) and {s.sentence.id for s in got} == want


def test_ranked_passage_rank_breaks_even_sentences(tiny):
    """The same sentence vectors and words: the passage ranked higher wins, by w_rank."""
    nato = [c for c in tiny.chunks if ANSWER in c.text]
    first, second = nato[0], nato[-1]
    assert first != second
    p = ReaderParams()
    got = sentences.ranked(tiny, q("When?", vec=unit(0)), [Hit(second, 1.0), Hit(first, 0.5)], p)
    best = got[0]
    assert best.sentence.text == ANSWER
    assert best.score == pytest.approx(best.cos + p.w_overlap * best.overlap + p.w_rank / 1)


def test_ranked_nothing():
    assert sentences.ranked(SimpleNamespace(), q("When?"), [], ReaderParams()) == []
