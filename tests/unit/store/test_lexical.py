"""BM25 and the word handling it shares with the reader (qa.store.lexical), on a few
hand-made documents: words, stems, passage keys, transliteration, build/search/idf."""

from __future__ import annotations

import math

import pytest

from qa.store import lexical
from qa.store.lexical import LexicalIndex
from tests.samples import EDGE_TEXTS

EDGE = {**EDGE_TEXTS, "100k": "Путин met Biden 😉 " * 5_900}


# ---- words, tokens, passage keys ----------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("?", []),
        ("😉", []),
        ("ёлка", ["елка"]),  # ё folded: "ёлка" and "елка" are one word
        ("Путин met Biden", ["путин", "met", "biden"]),
        ("Russia's answer", ["russia's", "answer"]),
        ("don’t", ["don’t"]),  # a typographic apostrophe joins too
        ("snake_case", ["snake", "case"]),
        ("26.01.2022", ["26", "01", "2022"]),
        ("Ёлки-палки!", ["елки", "палки"]),
        ("'quoted'", ["quoted"]),
    ],
)
def test_words(text, expected):
    assert lexical.words(text) == expected


def test_words_of_100k():
    assert lexical.words(EDGE["100k"]) == ["путин", "met", "biden"] * 5_900


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("The talks were held in Geneva", "en", ["talk", "held", "geneva"]),
        ("Переговоры прошли в Женеве", "ru", ["переговор", "прошл", "женев"]),
        ("Who said what and when?", "en", []),  # stop words only
        ("Кто, что и когда?", "ru", []),
        ("ёлка", "ru", ["елк"]),
        ("Путин met Biden", "en", ["путин", "met", "biden"]),  # other alphabet left unstemmed
        ("", "en", []),
        ("😉", "ru", []),
    ],
)
def test_tokens_drop_stop_words_and_stem(text, lang, expected):
    assert lexical.tokens(text, lang) == expected


def test_tokens_stem_each_language_with_its_own_stemmer():
    # The Russian stemmer leaves English words alone, and the English one Russian words.
    assert lexical.tokens("Geneva talks", "ru") == ["geneva", "talks"]
    assert lexical.tokens("переговоры", "en") == ["переговоры"]


@pytest.mark.parametrize(
    "a, b",
    [
        ("Lavrov said: 'YES'!", "lavrov said yes"),
        ("Lavrov  met\nBlinken.", "LAVROV MET BLINKEN"),
        ("Ёлка горит", "елка, горит"),
        ("«Минские соглашения»", "Минские соглашения"),
    ],
)
def test_passage_key_ignores_case_punctuation_and_spacing(a, b):
    assert lexical.passage_key(a) == lexical.passage_key(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("Lavrov met Blinken", "Blinken met Lavrov"),  # word order matters
        ("January 26", "January 2 6"),
        ("Lavrov met Blinken", "Lavrov met Blinken again"),
    ],
)
def test_passage_key_tells_different_passages_apart(a, b):
    assert lexical.passage_key(a) != lexical.passage_key(b)


@pytest.mark.parametrize("name", list(EDGE))
def test_passage_key_of_edge_texts(name):
    key = lexical.passage_key(EDGE[name])
    assert key == " ".join(lexical.words(EDGE[name]))
    assert key == key.strip() and "  " not in key


@pytest.mark.parametrize(
    "word, expected",
    [
        ("Блинкен", "blinken"),
        ("Лавров", "lavrov"),
        ("Щука", "shchuka"),
        ("Зеленский", "zelenskiy"),
        ("подъезд", "podezd"),  # hard and soft signs vanish
        ("Ёлка", "elka"),
        ("NATO", "nato"),  # Latin is only lower-cased
        ("Путин met Biden", "putin met biden"),
        ("😉", "😉"),
        ("", ""),
    ],
)
def test_translit(word, expected):
    assert lexical.translit(word) == expected


# ---- the BM25 index on four documents -----------------------------------------------------

DOCS = [
    "Lavrov met Blinken in Geneva.",
    "Blinken visited Kyiv and met Zelensky.",
    "NATO sent its answer; NATO waited.",
    "Lavrov and Blinken held talks in Geneva again.",
]
ROWS = [10, 11, 12, 13]  # rows in the global chunk list, not positions in this index


@pytest.fixture(scope="module")
def four() -> LexicalIndex:
    return LexicalIndex.build("en", DOCS, ROWS)


def test_df_counts_documents_not_occurrences(four):
    assert four.n == 4
    assert four.df["nato"] == 1  # twice in one document
    assert four.df["blinken"] == 3
    assert four.df["lavrov"] == 2 and four.df["geneva"] == 2
    assert "the" not in four.df and "and" not in four.df  # stop words are not indexed


def test_idf_smoothed_and_rarer_is_higher(four):
    assert four.idf("nato") == pytest.approx(math.log(1 + 5 / 1.5))
    assert four.idf("blinken") == pytest.approx(math.log(1 + 5 / 3.5))
    unseen = four.idf("quokkaberry")
    assert unseen == pytest.approx(math.log(1 + 5 / 0.5))
    assert unseen > four.idf("nato") > four.idf("lavrov") > four.idf("blinken") > 0


def test_search_returns_global_rows_best_first(four):
    got = four.search(["geneva", "talk"], 10)
    assert [r for r, _ in got] == [13, 10]  # both words beat one
    assert got[0][1] > got[1][1] > 0


def test_search_only_documents_with_a_known_term(four):
    assert [r for r, _ in four.search(["nato"], 10)] == [12]
    assert [r for r, _ in four.search(["lavrov"], 10)] == [10, 13]  # the shorter one first


@pytest.mark.parametrize("question", [[], ["quokkaberry"], [""], ["the"]])
def test_search_without_a_known_term_is_empty(four, question):
    assert four.search(question, 10) == []


def test_search_keeps_k(four):
    assert len(four.search(["blinken"], 2)) == 2
    assert len(four.search(["blinken"], 10)) == 3


def test_ties_rank_the_earlier_row_first():
    """Wire copies score the same: the earlier global row wins, whatever order bm25s returns
    them in, so rankings are reproducible and the same on every backend."""
    idx = LexicalIndex.build("en", ["Geneva talks", "Kyiv visit", "Geneva talks"], [7, 5, 3])
    got = idx.search(["geneva"], 10)
    assert [r for r, _ in got] == [3, 7]
    assert got[0][1] == pytest.approx(got[1][1])
    assert [r for r, _ in idx.search(["geneva"], 1)] == [3]  # also at the cut


def test_empty_index():
    idx = LexicalIndex.build("ru", [], [])
    assert idx.n == 0 and idx.bm25 is None
    assert idx.search(["женев"], 5) == []
    assert idx.idf("женев") == pytest.approx(math.log(3))


def test_documents_of_stop_words_only_are_never_found():
    idx = LexicalIndex.build("en", ["The and of.", "Geneva talks"], [0, 1])
    assert idx.n == 2 and [r for r, _ in idx.search(["geneva", "talk"], 5)] == [1]


def test_russian_index_finds_inflected_forms():
    idx = LexicalIndex.build(
        "ru", ["Переговоры прошли в Женеве.", "Блинкен прибыл в Киев."], [0, 1]
    )
    assert [r for r, _ in idx.search(lexical.tokens("переговоров в Женева", "ru"), 5)] == [0]


def test_save_and_load_give_the_same_answers(four, tmp_path):
    four.save(tmp_path / "en")
    back = LexicalIndex.load(tmp_path / "en")
    assert (back.lang, back.rows, back.n, back.df) == ("en", ROWS, 4, four.df)
    for q in (["geneva", "talk"], ["blinken"], ["nato"], ["zzz"]):
        assert back.search(q, 10) == four.search(q, 10)
    assert back.idf("nato") == four.idf("nato")
