"""Language of short questions: the case langdetect gets wrong ("Sanctions?" -> fr)."""

from __future__ import annotations

import pytest

from qa.ingest import lang

EN = [
    "Sanctions?",
    "Who won?",
    "NATO?",
    "When?",
    "Why?",
    "Where?",
    "Geneva talks?",
    "Who is Lavrov?",
    "What did Blinken say?",
    "How many pages?",
    "Is Russia ready?",
    "Ukraine and NATO?",
    "When did talks start?",
    "Who met Putin?",
    "What is the OSCE?",
    "Did the US respond?",
    "Minsk agreements?",
    "Written response when?",
    "What did Лавров say?",
    "Who is Столтенберг?",
]
RU = [
    "Кто победил?",
    "Когда?",
    "Санкции?",
    "НАТО?",
    "Где?",
    "Почему?",
    "Зачем?",
    "Кто такой Лавров?",
    "Что сказал Блинкен?",
    "Сколько страниц?",
    "Где прошли переговоры?",
    "Ответ США?",
    "Когда встреча?",
    "Что такое ОБСЕ?",
    "Россия готова?",
    "Минские соглашения?",
    "Ёлка?",
    "Что решило NATO?",
    "Кто такой Blinken?",
    "Когда ответил Washington?",
]


@pytest.mark.parametrize("question", EN)
def test_short_english(question):
    assert lang.detect(question) == "en"


@pytest.mark.parametrize("question", RU)
def test_short_russian(question):
    assert lang.detect(question) == "ru"


@pytest.mark.parametrize("question", EN + RU)
def test_default_does_not_override_letters(question):
    """The default is for text without letters, not a tie-breaker for real questions."""
    assert lang.detect(question, default="ru") == lang.detect(question, default="en")


@pytest.mark.parametrize("text", ["", "?", "😉", "   ", "123 456", "!!! ???", "\n\t", "—"])
def test_no_letters_gives_the_default(text):
    assert lang.detect(text) == "en"
    assert lang.detect(text, default="ru") == "ru"


@pytest.mark.parametrize(
    "text",
    [
        "ёлка",
        "Путин met Biden",
        "Biden встретился с Путиным",
        "😉 Привет",
        "😉 hello",
        "Ё",
        "x",
        "NATO НАТО",
        "a" * 100_000,
        "слово " * 20_000,
        "word слово " * 10_000,
    ],
)
def test_edge_cases_return_a_supported_language(text):
    got = lang.detect(text)
    assert got in lang.LANGS
    assert lang.detect(text) == got  # deterministic


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ёлка", "ru"),
        ("x", "en"),
        ("😉 Привет", "ru"),
        ("Лавров заявил, что ответ США не может удовлетворить Россию.", "ru"),
        ("Lavrov said the US response cannot satisfy Russia.", "en"),
        # Article text with a few Cyrillic names is English, and vice versa.
        ("Lavrov met Blinken in Geneva, reported РИА Новости on Wednesday.", "en"),
        ("Лавров встретился с Blinken в Женеве, сообщил в среду ТАСС.", "ru"),
    ],
)
def test_clear_cases(text, expected):
    assert lang.detect(text) == expected
