"""Relative dates (qa.ingest.dates.relative_dates) resolved against the article's date: a
weekday is its latest occurrence on or before publication, "this week" is the article's week."""

from __future__ import annotations

import pytest

from qa.ingest import dates


@pytest.mark.parametrize(
    "text, lang, published, expected",
    [
        ("said on Monday", "en", "2022-02-14", "2022-02-14"),
        ("said on Wednesday", "en", "2022-01-26", "2022-01-26"),
        ("said on Tuesday", "en", "2022-02-16", "2022-02-15"),
        ("said yesterday", "en", "2022-02-16", "2022-02-15"),
        ("заявил в понедельник", "ru", "2022-02-14", "2022-02-14"),
        ("сказал во вторник", "ru", "2022-02-16", "2022-02-15"),
        ("сообщил вчера", "ru", "2022-01-26", "2022-01-25"),
    ],
)
def test_relative_days(text, lang, published, expected):
    (found,) = dates.relative_dates(text, published, lang)
    assert found["date"] == expected
    assert text[found["start"] : found["end"]] == found["text"]


@pytest.mark.parametrize("text, lang", [("within this week", "en"), ("на этой неделе", "ru")])
def test_this_week_is_the_articles_week(text, lang):
    (found,) = dates.relative_dates(text, "2022-01-26", lang)
    assert (found["from"], found["to"]) == ("2022-01-24", "2022-01-30")


def test_no_published_date_no_resolution():
    assert dates.relative_dates("on Monday", None, "en") == []


@pytest.mark.parametrize(
    "text, lang, published, frm, to",
    [
        ("last week", "en", "2022-01-26", "2022-01-17", "2022-01-23"),
        ("next week", "en", "2022-01-26", "2022-01-31", "2022-02-06"),
        ("на прошлой неделе", "ru", "2022-01-26", "2022-01-17", "2022-01-23"),
        ("на следующей неделе", "ru", "2022-01-30", "2022-01-31", "2022-02-06"),
    ],
)
def test_other_weeks(text, lang, published, frm, to):
    (found,) = dates.relative_dates(text, published, lang)
    assert (found["from"], found["to"]) == (frm, to)
    assert "date" not in found


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("said today", "en", "2022-02-16"),
        ("will go tomorrow", "en", "2022-02-17"),
        ("заявил сегодня", "ru", "2022-02-16"),
        ("поедет завтра", "ru", "2022-02-17"),
        ("on Wednesday", "en", "2022-02-16"),  # the publication day itself
        ("on Thursday", "en", "2022-02-10"),  # a week back, never ahead
    ],
)
def test_days_around_publication(text, lang, expected):
    (found,) = dates.relative_dates(text, "2022-02-16", lang)
    assert found["date"] == expected


def test_labels_in_the_articles_language():
    (en,) = dates.relative_dates("on Monday", "2022-02-16", "en")
    (ru,) = dates.relative_dates("в понедельник", "2022-02-16", "ru")
    assert en["label"] == "14 February 2022"
    assert ru["label"] == "14 февраля 2022"
    (week,) = dates.relative_dates("this week", "2022-01-26", "en")
    assert week["label"] == "24 January 2022 – 30 January 2022"


def test_each_expression_in_order_with_offsets():
    text = "Lavrov spoke on Monday; yesterday Blinken replied, and talks resume next week."
    found = dates.relative_dates(text, "2022-02-16", "en")
    assert [f["text"] for f in found] == ["on Monday", "yesterday", "next week"]
    assert [f.get("date") for f in found] == ["2022-02-14", "2022-02-15", None]
    for f in found:
        assert text[f["start"] : f["end"]] == f["text"]


def test_only_the_articles_language_is_read():
    assert dates.relative_dates("в понедельник", "2022-02-16", "en") == []
    assert dates.relative_dates("on Monday", "2022-02-16", "ru") == []


def test_words_inside_other_words_are_not_dates():
    assert dates.relative_dates("Mondays and todays", "2022-02-16", "en") == []
    assert dates.relative_dates("понедельники, вчерашний", "2022-02-16", "ru") == []


@pytest.mark.parametrize("published", ["", "yesterday", "2022-02-30", "16.02.2022"])
def test_unreadable_published_date_no_resolution(published):
    assert dates.relative_dates("on Monday", published, "en") == []


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(
    "text",
    ["", "?", "ёлка", "Путин met Biden", "😉", "слово word " * 10_000],
    ids=["empty", "question-mark", "yolka", "mixed", "emoji", "100k"],
)
def test_edge_texts_have_no_relative_dates(text, lang):
    assert dates.relative_dates(text, "2022-02-16", lang) == []


def test_100k_text_finds_every_expression():
    text = "Talks ended yesterday. " * 4_400  # ~100 KB
    found = dates.relative_dates(text, "2022-02-16", "en")
    assert len(found) == 4_400 and {f["date"] for f in found} == {"2022-02-15"}
