"""Question types and the pattern spans (dates, numbers) of qa.read.spans, in English and
Russian. No spaCy or natasha here: spans.candidates() loads them, so its tests are in
tests/e2e/test_spans.py."""

from __future__ import annotations

import pytest

from qa.read import spans
from tests.samples import EDGE_TEXTS

EDGE = {**EDGE_TEXTS, "100k": "x" * 100_000}


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Who met Putin?", "person"),
        ("Whose proposal was it?", "person"),
        ("Which minister spoke first?", "person"),
        ("When did the US respond?", "date"),
        ("In what year was the treaty signed?", "date"),
        ("Where did they meet?", "place"),
        ("Which city hosted the talks?", "place"),
        ("How many pages was the draft?", "number"),
        ("How long did the talks last?", "number"),
        ("What percentage voted?", "number"),
        ("What did Lavrov say?", "other"),
        ("Why did Russia object?", "other"),
        ("WHO MET PUTIN?", "person"),
        ("Who said when the talks would start?", "person"),  # the first question word decides
        ("When did who arrive?", "date"),
        ("Whoever", "other"),  # whole words only
        ("Somewhere?", "other"),
    ],
)
def test_question_type_english(question, expected):
    assert spans.question_type(question, "en") == expected


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Кто встретился с Путиным?", "person"),
        ("Для кого?", "person"),
        ("Чьё это предложение?", "person"),  # ё folded
        ("Какой министр выступил?", "person"),
        ("Когда США ответили?", "date"),
        ("В каком году подписан договор?", "date"),
        ("Где прошли переговоры?", "place"),
        ("Куда поехал Блинкен?", "place"),
        ("В каком городе прошли переговоры?", "place"),
        ("Сколько страниц в проекте?", "number"),
        ("Во сколько началась встреча?", "number"),
        ("Как долго шли переговоры?", "number"),
        ("Что сказал Лавров?", "other"),
        ("Почему Россия возражает?", "other"),
        ("Кто сказал, когда начнутся переговоры?", "person"),  # the first question word decides
        ("Какой должен быть ответ?", "other"),  # "должен" is not "доля"
        ("Kто это?", "other"),  # a Latin K: not the Russian word
    ],
)
def test_question_type_russian(question, expected):
    assert spans.question_type(question, "ru") == expected


@pytest.mark.parametrize("question, lang", [("Где?", "en"), ("Where?", "ru"), ("Кто?", "en")])
def test_question_type_reads_the_question_language_only(question, lang):
    assert spans.question_type(question, lang) == "other"


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("name", list(EDGE))
def test_question_type_edge_texts(name, lang):
    assert spans.question_type(EDGE[name], lang) == "other"


def test_question_type_long_question():
    assert spans.question_type("and then " * 10_000 + "when?", "en") == "date"


# ---- pattern spans: dates and numbers, no model -------------------------------------------


def found(text: str, lang: str, kind: str | None = None) -> list[str]:
    return [text[s.start : s.end] for s in spans._patterns(text, lang) if kind in (None, s.kind)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("They met on January 21, 2022.", ["January 21, 2022"]),
        ("They met on 21 Jan 2022 in Geneva.", ["21 Jan 2022"]),
        ("NATO replied on Feb. 3.", ["Feb. 3"]),
        ("The draft is from March 2022.", ["March 2022"]),
        ("It began in 1997.", ["1997"]),  # "in " and the full stop trimmed
        ("Sanctions apply since 2014, officials said.", ["2014"]),
        ("Relations soured in the 1990s.", ["1990s"]),
        ("He was 21 on the 3rd.", []),  # a bare day is no date
    ],
)
def test_english_dates(text, expected):
    assert found(text, "en", "date") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Встреча прошла 26 января 2022 г. в Женеве.", ["26 января 2022"]),
        ("Переговоры шли 10-11 января.", ["10-11 января"]),
        ("Это было в 2014–2015 годах.", ["2014–2015"]),
        ("Лавров заявил в понедельник.", ["понедельник"]),
        ("Он приедет во вторник.", ["вторник"]),
        ("Ответ пришел в среду.", ["среду"]),
        ("Об этом сообщили вчера.", ["вчера"]),
        ("Ответ ждут на этой неделе.", ["на этой неделе"]),
        ("Вчерашний день и понедельники.", []),  # whole words only
    ],
)
def test_russian_dates(text, expected):
    assert found(text, "ru", "date") == expected


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("The defense gave up just 308 points.", "en", ["308"]),
        ("Turnout was 14 percent, or 1,200 people.", "en", ["14 percent", "1,200"]),
        ("The fund holds 3.5 million dollars.", "en", ["3.5 million"]),
        ("Prices rose 7%.", "en", ["7%"]),
        ("Version v1.2 and 10.5 and x2.", "en", ["10.5"]),  # digits inside words are not numbers
        ("Пришли 40 тыс. человек.", "ru", ["40 тыс"]),
        ("Выделено 2 млрд рублей, 15 процентов бюджета.", "ru", ["2 млрд", "15 процентов"]),
    ],
)
def test_numbers(text, lang, expected):
    assert found(text, lang, "number") == expected


def test_date_and_number_both_found_for_a_year():
    """A year is a date and a number: candidates() keeps the first kind (the date)."""
    got = [(s.start, s.end, s.kind) for s in spans._patterns("It began in 1997.", "en")]
    assert got == [(12, 16, "date"), (12, 16, "number")]


def test_english_months_are_not_read_in_russian():
    assert found("They met on January 21.", "ru", "date") == []
    assert found("Встреча 21 января.", "en", "date") == []


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("name", list(EDGE))
def test_patterns_on_edge_texts(name, lang):
    assert spans._patterns(EDGE[name], lang) == []


def test_patterns_offsets_on_100k():
    one = "On January 21, 2022 the 308 delegates came. "
    assert found(one, "en") == ["January 21, 2022", "21, 2022", "308"]
    text = one * 2_300  # ~100 KB
    got = spans._patterns(text, "en")
    assert len(got) == 3 * 2_300
    for s in got:
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start : s.end] == text[s.start : s.end].strip(" ,.;:")


@pytest.mark.parametrize(
    "text, start, end, expected",
    [
        ("in 1997.", 0, 8, "1997"),
        ("since 2014, ", 0, 12, "2014"),
        ("In 1997", 0, 7, "1997"),
        ("1997", 0, 4, "1997"),
        ("...", 0, 3, ""),
    ],
)
def test_trim(text, start, end, expected):
    s = spans._trim(text, spans.Span(start, end, "date"))
    assert text[s.start : s.end] == expected and s.kind == "date"
