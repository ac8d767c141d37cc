"""Ranking (qa.retrieve) on hand-made lists: weighted reciprocal-rank fusion, collapsing of
overlapping windows and wire copies, filters, and retrieval over a tiny in-memory index."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from qa import retrieve
from qa.embed.embedder import DIM
from qa.store import lexical
from qa.types import Chunk, Hit, Query
from tests.samples import ARTICLES, FakeEmbedder, article, memory_index

# ---- fuse ---------------------------------------------------------------------------------


def test_fuse_one_list_scores_by_rank():
    fused = retrieve.fuse([([(5, 0.9), (3, 0.8), (8, 0.1)], 1.0, 1)], 10)
    assert fused == {5: (1 / 11, 0.9, None), 3: (1 / 12, 0.8, None), 8: (1 / 13, 0.1, None)}


def test_fuse_sums_weighted_reciprocal_ranks():
    dense = [(1, 0.9), (2, 0.8)]
    lex = [(2, 14.0), (3, 9.0)]
    fused = retrieve.fuse([(dense, 1.0, 1), (lex, 0.5, 2)], 10)
    assert fused[1][0] == pytest.approx(1 / 11)
    assert fused[2][0] == pytest.approx(1 / 12 + 0.5 / 11)
    assert fused[3][0] == pytest.approx(0.5 / 12)
    assert fused[2][0] > fused[1][0] > fused[3][0]  # found by both beats first in one


def test_fuse_uses_ranks_not_scores():
    """BM25 runs to ~20 and cosines sit near 0.8: a huge raw score at rank 2 is still rank 2."""
    fused = retrieve.fuse([([(1, 0.01), (2, 1e9)], 1.0, 2)], 10)
    assert fused[1][0] > fused[2][0]


@pytest.mark.parametrize("k, ratio", [(0, 2.0), (10, 12 / 11), (60, 62 / 61)])
def test_fuse_k_flattens_the_ranks(k, ratio):
    fused = retrieve.fuse([([(1, 0.0), (2, 0.0)], 1.0, 1)], k)
    assert fused[1][0] / fused[2][0] == pytest.approx(ratio)


def test_fuse_slots_report_the_first_raw_score():
    """Dense and sentence cosines share slot 1: the first list that ranks a row reports it;
    BM25 goes to slot 2; a list without a slot reports nothing."""
    dense = [(1, 0.80), (2, 0.70)]
    sent = [(2, 0.95), (3, 0.90)]
    lex = [(3, 12.5)]
    extra = [(4, 0.5)]
    fused = retrieve.fuse([(dense, 1.0, 1), (sent, 1.0, 1), (lex, 1.0, 2), (extra, 1.0, None)], 10)
    assert fused[1][1:] == (0.80, None)
    assert fused[2][1:] == (0.70, None)  # dense's cosine, not the sentence's higher one
    assert fused[3][1:] == (0.90, 12.5)
    assert fused[4] == (pytest.approx(1 / 11), None, None)


def test_fuse_ties_are_exact():
    """Rank 1 of two lists of equal weight: the same fused score to the last bit, so the order
    between them is decided by retrieve's tie rule, never by float noise."""
    fused = retrieve.fuse([([(7, 0.9)], 1.0, 1), ([(4, 3.0)], 1.0, 2)], 10)
    assert fused[7][0] == fused[4][0]


@pytest.mark.parametrize("lists", [[], [([], 1.0, 1)], [([], 1.0, 1), ([], 0.5, 2)]])
def test_fuse_nothing(lists):
    assert retrieve.fuse(lists, 10) == {}


# ---- collapse -----------------------------------------------------------------------------

GENEVA = "Lavrov met Blinken in Geneva. They talked for two hours."


def chunk(aid: str, n: int, text: str, sents: tuple[int, int], lang: str = "en") -> Chunk:
    return Chunk(f"{aid}#{n}", aid, text, 0, len(text), lang, sents)


CHUNKS = [
    chunk("A", 0, GENEVA, (0, 2)),  # 0
    chunk("A", 1, "They talked for two hours. Both sides called it useful.", (1, 3)),  # 1
    chunk("A", 2, "Both sides called it useful. Moscow waits.", (2, 4)),  # 2
    chunk("B", 0, "LAVROV met Blinken in Geneva -- they talked, for two hours!", (0, 2)),  # 3
    chunk("C", 0, GENEVA, (4, 6)),  # 4
    chunk("D", 0, "NATO sent its written answer on January 26.", (0, 2)),  # 5
    chunk("E", 0, "Blinken arrived in Kyiv on January 19.", (0, 2)),  # 6
    chunk("B", 1, GENEVA, (2, 4)),  # 7: B's second copy
    chunk("A", 3, GENEVA, (6, 8)),  # 8: the passage again, in its own article
    chunk("B", 2, "In Geneva they talked. Then they left.", (1, 3)),  # 9: overlaps B#0
]
INDEX = SimpleNamespace(chunks=CHUNKS)


def ranked(*rows: int) -> list[tuple[int, tuple]]:
    """Best first, with distinct scores (and raw scores) to follow through."""
    return [(r, (1.0 - i / 10, 0.5 + r / 100, float(r) or None)) for i, r in enumerate(rows)]


def ids(hits: list[Hit]) -> list[str]:
    return [h.chunk.id for h in hits]


def test_collapse_drops_windows_overlapping_a_better_one():
    hits = retrieve.collapse(INDEX, ranked(0, 1, 2), 10)
    assert ids(hits) == ["A#0", "A#2"]  # A#1 shares sentence 1 with A#0; A#2 shares none


def test_collapse_same_sentences_of_another_article_are_no_overlap():
    hits = retrieve.collapse(INDEX, ranked(0, 5, 6), 10)
    assert ids(hits) == ["A#0", "D#0", "E#0"]


def test_collapse_keeps_scores_of_the_ranking():
    hits = retrieve.collapse(INDEX, ranked(5, 0), 10)
    assert [(h.score, h.dense, h.lexical) for h in hits] == [(1.0, 0.55, 5.0), (0.9, 0.5, None)]
    assert all(h.also_in == () for h in hits)


def test_collapse_folds_wire_copies_into_also_in():
    hits = retrieve.collapse(INDEX, ranked(0, 5, 3, 4), 10)
    assert ids(hits) == ["A#0", "D#0"]
    assert hits[0].also_in == ("B", "C")  # case, punctuation and spacing differ: same key
    assert (hits[0].score, hits[0].dense) == (1.0, 0.5)  # the best copy's scores


def test_collapse_also_in_follows_the_ranking():
    assert retrieve.collapse(INDEX, ranked(4, 0, 3), 10)[0].also_in == ("A", "B")
    assert retrieve.collapse(INDEX, ranked(3, 4, 0), 10)[0].also_in == ("C", "A")


def test_collapse_lists_an_article_once():
    hits = retrieve.collapse(INDEX, ranked(0, 3, 7), 10)
    assert ids(hits) == ["A#0"] and hits[0].also_in == ("B",)


def test_collapse_repeat_in_the_same_article_is_not_a_copy():
    hits = retrieve.collapse(INDEX, ranked(0, 8, 5), 10)
    assert ids(hits) == ["A#0", "D#0"] and hits[0].also_in == ()


def test_collapse_drops_windows_overlapping_a_folded_copy():
    hits = retrieve.collapse(INDEX, ranked(0, 3, 9, 5), 10)
    assert ids(hits) == ["A#0", "D#0"]  # B#2 overlaps B#0, shown as a copy of A#0


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_collapse_limit(limit):
    hits = retrieve.collapse(INDEX, ranked(0, 5, 6, 2), limit)
    assert ids(hits) == ["A#0", "D#0", "E#0", "A#2"][:limit]


def test_collapse_folds_copies_found_past_the_limit():
    hits = retrieve.collapse(INDEX, ranked(0, 5, 6, 3, 4), 1)
    assert ids(hits) == ["A#0"] and hits[0].also_in == ("B", "C")


def test_collapse_nothing():
    assert retrieve.collapse(INDEX, [], 5) == []
    assert retrieve.collapse(INDEX, ranked(0, 5), 0) == []


# ---- retrieve, on a stub index with fixed result lists ------------------------------------


class StubLexical:
    def __init__(self, found):
        self.found, self.asked = found, []

    def search(self, tokens, k):
        self.asked.append((tuple(tokens), k))
        return self.found[:k]


class StubIndex:
    """What retrieve() uses of an index: the chunks and three fixed ranked lists."""

    def __init__(self, chunks, dense, sent, lex: dict[str, list]):
        self.chunks, self.dense, self.sent = chunks, dense, sent
        self.lexical = {lang: StubLexical(found) for lang, found in lex.items()}
        self.asked: list[int] = []

    def dense_search(self, qvec, k):
        self.asked.append(k)
        return self.dense[:k]

    def sentence_search(self, qvec, k):
        self.asked.append(k)
        return self.sent[:k]


STUB_CHUNKS = [
    chunk("A", 0, "Alpha one.", (0, 2)),
    chunk("B", 0, "Bravo one.", (0, 2)),
    chunk("C", 0, "Charlie one.", (0, 2), "ru"),
    chunk("D", 0, "Delta one.", (0, 2), "ru"),
    chunk("E", 0, "Echo one.", (0, 2)),
]
WEIGHTS = dict(w_dense=1.0, w_lex=1.0, w_sent=1.0, rrf_k=10)


def query(lang: str = "en") -> Query:
    return Query("q", lang, np.zeros(DIM, np.float32), ("alpha",))


def stub(**lex) -> StubIndex:
    dense = [(4, 0.9), (0, 0.8), (2, 0.7), (1, 0.6), (3, 0.5)]
    sent = [(0, 0.95), (4, 0.9), (3, 0.6)]
    return StubIndex(STUB_CHUNKS, dense, sent, lex or {"en": [(1, 9.0), (0, 3.0)]})


def test_retrieve_fuses_all_three_lists():
    idx = stub()
    hits = retrieve.retrieve(idx, query(), candidates=5, limit=5, **WEIGHTS)
    # A: dense 2nd, sentence 1st, BM25 2nd; E: dense 1st, sentence 2nd; B: BM25 1st, dense 4th.
    assert ids(hits) == ["A#0", "E#0", "B#0", "D#0", "C#0"]
    assert (hits[0].dense, hits[0].lexical) == (0.8, 3.0)
    assert (hits[1].dense, hits[1].lexical) == (0.9, None)
    assert idx.asked == [5, 5] and idx.lexical["en"].asked == [(("alpha",), 5)]


def test_retrieve_ties_go_to_the_lower_row():
    idx = StubIndex(STUB_CHUNKS, [(4, 0.9)], [], {"en": [(1, 2.0)]})
    hits = retrieve.retrieve(idx, query(), candidates=5, limit=5, **WEIGHTS)
    assert ids(hits) == ["B#0", "E#0"] and hits[0].score == hits[1].score


def test_retrieve_weights():
    idx = stub()
    no_lex = retrieve.retrieve(idx, query(), candidates=5, limit=5, **{**WEIGHTS, "w_lex": 0.0})
    assert ids(no_lex) == ["A#0", "E#0", "D#0", "C#0", "B#0"]  # B was BM25's best
    lex_heavy = retrieve.retrieve(idx, query(), candidates=5, limit=5, **{**WEIGHTS, "w_lex": 5})
    assert ids(lex_heavy) == ["A#0", "B#0", "E#0", "D#0", "C#0"]  # both BM25 hits lead


def test_retrieve_lexical_only_in_the_questions_language():
    idx = stub()
    hits = retrieve.retrieve(idx, query("ru"), candidates=5, limit=5, **WEIGHTS)
    assert idx.lexical["en"].asked == []  # no Russian BM25 here: dense and sentences only
    assert all(h.lexical is None for h in hits)


def test_retrieve_candidates_cut_each_list():
    idx = stub()
    hits = retrieve.retrieve(idx, query(), candidates=1, limit=5, **WEIGHTS)
    assert ids(hits) == ["A#0", "B#0", "E#0"]  # the top of each list only: all tie, row order


def test_retrieve_language_filter_searches_deeper():
    idx = stub()
    hits = retrieve.retrieve(idx, query(), candidates=2, limit=5, langs=("ru",), **WEIGHTS)
    assert idx.asked == [8, 8]  # filters thin the lists: 4x the candidates
    assert {h.chunk.lang for h in hits} == {"ru"}
    assert ids(hits) == ["D#0", "C#0"]


def test_retrieve_exclude_articles():
    idx = stub()
    hits = retrieve.retrieve(
        idx, query(), candidates=5, limit=5, exclude=frozenset({"A", "E"}), **WEIGHTS
    )
    assert ids(hits) == ["B#0", "D#0", "C#0"]


def test_retrieve_limit():
    hits = retrieve.retrieve(stub(), query(), candidates=5, limit=2, **WEIGHTS)
    assert ids(hits) == ["A#0", "E#0"]


# ---- retrieve, on a tiny in-memory index (fake embedder) ----------------------------------


@pytest.fixture(scope="module")
def tiny():
    return memory_index([article(p, t) for p, t in ARTICLES.items()])


def test_retrieve_in_memory_index(tiny):
    target = next(c for c in tiny.chunks if "Stoltenberg" in c.text)
    vec = FakeEmbedder._vec(target.text)  # the fake query vector of the window itself
    q = Query("Stoltenberg", "en", vec, tuple(lexical.tokens("Stoltenberg", "en")))
    hits = retrieve.retrieve(tiny, q, candidates=10, limit=5, **WEIGHTS)
    assert hits[0].chunk == target
    assert hits[0].dense == pytest.approx(1.0, abs=1e-5) and hits[0].lexical > 0
    assert len(hits) == 5 and len({h.chunk.id for h in hits}) == 5
    for a in hits:  # no two windows of one article share a sentence
        for b in hits:
            assert a is b or not retrieve._overlaps(a.chunk, b.chunk)
    ru = retrieve.retrieve(tiny, q, candidates=10, limit=5, langs=("ru",), **WEIGHTS)
    assert ru and {h.chunk.lang for h in ru} == {"ru"} and all(h.lexical is None for h in ru)
