"""Typed candidate spans (qa.read.spans.candidates) with the real NER models: spaCy for
English, natasha for Russian (seconds to load, hence `slow`). The patterns alone:
tests/unit/read/test_spans.py."""

from __future__ import annotations

import pytest

from qa.read import spans

pytestmark = pytest.mark.slow

KINDS = {"date", "person", "place", "org", "norp", "number", "other"}


def kinds(text: str, lang: str) -> dict[str, str]:
    return {text[s.start : s.end]: s.kind for s in spans.candidates(text, lang)}


def test_english_entities_and_patterns():
    got = kinds("Lavrov and Blinken held talks in Geneva on January 21, 2022.", "en")
    assert got["January 21, 2022"] == "date"
    assert got["Geneva"] == "place"
    assert {"Lavrov", "Blinken", "talks"} <= got.keys()  # entities and noun phrases


def test_russian_entities_and_patterns():
    got = kinds("Лавров и Блинкен провели переговоры в Женеве 21 января.", "ru")
    assert got["21 января"] == "date"
    assert got["Лавров"] == "person" and got["Блинкен"] == "person"
    assert got["Женеве"] == "place"
    assert got["переговоры"] == "other"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_one_span_per_offsets_patterns_first(lang):
    text = "Встреча прошла в 2022 году." if lang == "ru" else "The meeting took place in 2022."
    found = spans.candidates(text, lang)
    offsets = [(s.start, s.end) for s in found]
    assert len(offsets) == len(set(offsets))
    year = next(s for s in found if text[s.start : s.end] == "2022")
    assert year.kind == "date"  # the pattern's kind, though it is also a number


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(
    "text",
    ["", "?", "ёлка", "Путин met Biden", "😉", "Lavrov met Blinken. " * 5_000],
    ids=["empty", "question-mark", "yolka", "mixed", "emoji", "100k"],
)
def test_edge_texts(text, lang):
    found = spans.candidates(text, lang)
    for s in found:
        assert 0 <= s.start < s.end <= len(text) and s.kind in KINDS
    if not text:
        assert found == ()
