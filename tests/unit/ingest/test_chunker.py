"""Sentences and chunks keep exact character offsets into Article.text, on the real corpus and
on edge texts, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.config import Settings
from qa.ingest import chunker, corpus
from qa.types import Article
from tests.samples import EDGE_TEXTS

ROOT = Path(__file__).resolve().parents[3]
REAL = corpus.load(ROOT / "corpus")[0]

SIZES = [(Settings().chunk_sentences, Settings().chunk_stride), (1, 1), (2, 1), (5, 2), (4, 4)]


def article(text: str, lang: str) -> Article:
    return Article(id="t0", path="t.txt", title="", lang=lang, text=text, content_hash="0")


def check(a: Article, size: int = 3, stride: int = 1) -> list:
    """All offset invariants; returns the sentences."""
    sents = chunker.sentences(a)
    prev_end = 0
    for i, s in enumerate(sents):
        assert a.text[s.start : s.end] == s.text
        assert s.id == f"{a.id}s{i}" and s.article_id == a.id and s.lang == a.lang
        assert 0 <= prev_end <= s.start < s.end <= len(a.text), "overlap or out of order"
        assert s.text == s.text.strip() and "\n" not in s.text
        assert len(s.text) <= chunker.MAX_SENTENCE
        prev_end = s.end
    chunks = chunker.chunks(a, sents, size, stride)
    assert bool(chunks) == bool(sents)
    covered = set()
    for n, c in enumerate(chunks):
        assert a.text[c.start : c.end] == c.text
        assert c.id == f"{a.id}#{n}" and c.article_id == a.id and c.lang == a.lang
        i, j = c.sentences
        assert 0 <= i < j <= len(sents) and j - i <= size
        assert (c.start, c.end) == (sents[i].start, sents[j - 1].end)
        covered.update(range(i, j))
    assert covered == set(range(len(sents))), "a sentence in no chunk can never be retrieved"
    starts = [c.sentences[0] for c in chunks]
    assert starts == sorted(set(starts))
    return sents


def lost_text(a: Article, sents) -> str:
    """Non-space characters of the article outside every sentence."""
    covered = bytearray(len(a.text))
    for s in sents:
        covered[s.start : s.end] = b"\x01" * (s.end - s.start)
    return "".join(ch for ch, c in zip(a.text, covered) if not c and not ch.isspace())


@pytest.mark.parametrize("size,stride", SIZES)
@pytest.mark.parametrize("a", REAL, ids=[a.path for a in REAL])
def test_real_articles(a, size, stride):
    sents = check(a, size, stride)
    assert len(sents) >= 5
    assert lost_text(a, sents) == ""


@pytest.mark.parametrize("a", REAL, ids=[a.path for a in REAL])
def test_real_title_is_its_own_sentence(a):
    sents = chunker.sentences(a)
    assert sents[0].text == a.title
    assert sents[0].start == 0


EDGE = {
    **EDGE_TEXTS,
    "emoji-text": "😉 Lavrov met Blinken. 😉😉 Лавров встретился с Блинкеном! 😉",
    "spaces": "   \n\n  \t ",
    "padded": "   Lavrov spoke.   \n\n   He left.   ",
    "crlf": "Lavrov spoke.\r\nHe left.\r\n",
    "many-breaks": "One.\n\n\n\nTwo.\n\nThree",
    "abbr-ru-year": "в 2022 г. было",
    "abbr-ru-ie": "т.е.",
    "abbr-ru-sentences": "В 2022 г. было подписано соглашение. Затем начались переговоры, т.е. "
    "консультации. Встреча прошла 10 янв. в Женеве.",
    "abbr-en": "Mr. Lavrov met Dr. Smith at 5 p.m. in Geneva. The U.S. sent a reply.",
    "quotes": '"We are waiting." Grushko said. «Мы ждем», — сказал Грушко.',
    "no-punct-100k": ("lavrov blinken geneva talks security " * 2800)[:100_000],
    "no-punct-ru-100k": ("лавров блинкен женева переговоры безопасность " * 2200)[:100_000],
    "no-spaces-100k": "a" * 100_000,
    "one-long-line": "Lavrov said that " + "the answer, " * 200 + "was negative.",
    "digits": "1997. 2021. 26.01.2022. 10",
    "only-punct": "... !!! ??? — «» ,,,",
}


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("text", list(EDGE.values()), ids=list(EDGE))
def test_edge_texts(text, lang):
    a = article(text, lang)
    for size, stride in SIZES:
        sents = check(a, size, stride)
    assert lost_text(a, sents) == ""
    if text.strip():
        assert sents, "text with characters yields at least one sentence"
    else:
        assert sents == [] and chunker.chunks(a, sents) == []


@pytest.mark.parametrize(
    "text,expected",
    [
        ("в 2022 г. было", ["в 2022 г. было"]),
        ("т.е.", ["т.е."]),
        (
            "В 2022 г. было подписано соглашение. Затем начались переговоры.",
            ["В 2022 г. было подписано соглашение.", "Затем начались переговоры."],
        ),
        (
            "Это важно, т.е. главное. Второе предложение.",
            ["Это важно, т.е. главное.", "Второе предложение."],
        ),
        (
            "Встреча прошла 10 янв. 2022 г. в Женеве. Лавров уехал.",
            ["Встреча прошла 10 янв. 2022 г. в Женеве.", "Лавров уехал."],
        ),
        ("Первая строка\nВторая строка", ["Первая строка", "Вторая строка"]),
    ],
)
def test_russian_abbreviations(text, expected):
    a = article(text, "ru")
    assert [s.text for s in check(a)] == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "Mr. Lavrov met Blinken. The U.S. sent a reply.",
            ["Mr. Lavrov met Blinken.", "The U.S. sent a reply."],
        ),
        ("Title line\nBody line.", ["Title line", "Body line."]),
    ],
)
def test_english_sentences(text, expected):
    assert [s.text for s in check(article(text, "en"))] == expected


def test_long_unpunctuated_text_is_cut_at_spaces():
    text = EDGE["no-punct-100k"]
    sents = check(article(text, "en"))
    assert len(sents) >= len(text) // chunker.MAX_SENTENCE
    for s in sents[:-1]:
        # Cut at a space: no word is split in two.
        assert text[s.end] == " " or text[s.end - 1] == " "


def test_chunk_windows_slide_by_one():
    text = " ".join(f"Sentence number {i}." for i in range(10))
    a = article(text, "en")
    sents = check(a)
    assert len(sents) == 10
    assert [c.sentences for c in chunker.chunks(a, sents, 3, 1)] == [(i, i + 3) for i in range(8)]
    assert [c.sentences for c in chunker.chunks(a, sents, 20, 1)] == [(0, 10)]
