"""Rendering (qa.render) of a hand-built answer: the `qa ask --json` object, plain text, and
markdown escaping. Pure functions: no index, no model."""

from __future__ import annotations

import copy
import html
import json
import re

import pytest

from qa import render
from qa.types import Answer, Chunk, Hit, Sentence
from tests.samples import article

TASS = article(
    "en/tass.txt",
    "US handed over its response\n\nMOSCOW, February 14. /TASS/. On January 26, the US "
    "handed over written responses. Lavrov said so on Monday.",
    outlet="TASS",
    published="2022-02-14",
    url="https://tass.com/1",
    date_uncertain=True,
)
TASS_RU = article(
    "ru/tass.txt",
    "США передали ответ\n\n26 января США передали письменные ответы.",
    outlet="TASS",
    published="2022-02-14",
    translation_of="en/tass.txt",
)
RIA = article(
    "en/ria.txt",
    "Responses delivered\n\nThe written responses were delivered on January 26, RIA said.",
    outlet="RIA Novosti",
    published="2022-01-27",
)
OLD = article("en/old.txt", "Old news\n\nThe answer came on January 10.", published="2022-01-11")
ARTICLES = {a.id: a for a in (TASS, TASS_RU, RIA, OLD)}


def _sentence(a, text: str) -> Sentence:
    start = a.text.index(text)
    return Sentence(f"{a.id}s1", a.id, text, start, start + len(text), a.lang)


def _chunk(a, n: int, text: str) -> Chunk:
    start = a.text.index(text)
    return Chunk(f"{a.id}#{n}", a.id, text, start, start + len(text), a.lang, (n, n + 1))


SENT = _sentence(TASS, "On January 26, the US handed over written responses.")
START = TASS.text.index("January 26")
HITS = (
    Hit(_chunk(TASS, 1, SENT.text), 0.123456789, 0.8123456789, None, (TASS_RU.id,)),
    Hit(_chunk(RIA, 1, RIA.text.split("\n\n")[1]), 0.05, None, 7.25),
    Hit(_chunk(OLD, 1, "The answer came on January 10."), 0.01, 0.5, 1.0),
)
RIA_SENT = RIA.text.split("\n\n")[1]
NEWS = {
    "corroborated_by": [
        {
            "article_id": RIA.id,
            "sentence": RIA_SENT,
            "start": RIA.text.index(RIA_SENT),
            "end": len(RIA.text),
            "similarity": 0.93,
        }
    ],
    "conflicts": [
        {
            "text": "January 26",
            "start": START,
            "end": START + 10,
            "sentence": SENT.text,
            "article_id": TASS.id,
            "published": "2022-02-14",
            "confidence": 0.9,
        },
        {
            "text": "January 10",
            "start": OLD.text.index("January 10"),
            "end": OLD.text.index("January 10") + 10,
            "sentence": "The answer came on January 10.",
            "article_id": OLD.id,
            "published": "2022-01-11",
            "confidence": 0.7,
        },
    ],
    "reported_by": ["TASS", "RIA Novosti"],
    "dates": [],
    "resolved_date": None,
}


def answer(**kw) -> Answer:
    base = dict(
        question="When did the US hand over its response?",
        language="en",
        text="January 26",
        score=0.87,
        start=START,
        end=START + 10,
        sentence=SENT,
        article_id=TASS.id,
        also_in=(TASS_RU.id,),
        qtype="date",
        hits=HITS,
        news=copy.deepcopy(NEWS),
        articles=ARTICLES,
        version="v-1",
    )
    return Answer(**{**base, **kw})


def no_answer(**kw) -> Answer:
    none = dict(text=None, start=None, end=None, sentence=None, article_id=None, news=None)
    return answer(**{**none, "also_in": (), "score": 0.03, **kw})


# ---- answer_json ---------------------------------------------------------------------------


def test_answer_json_keys_and_values():
    obj = render.answer_json(answer(), 5)
    assert obj["question"] == "When did the US hand over its response?"
    assert (obj["language"], obj["question_type"], obj["confidence"]) == ("en", "date", 0.87)
    ans = obj["answer"]
    assert (ans["text"], ans["score"], ans["start"], ans["end"]) == (
        "January 26",
        0.87,
        START,
        START + 10,
    )
    assert (ans["sentence"], ans["sentence_start"], ans["sentence_end"]) == (
        SENT.text,
        SENT.start,
        SENT.end,
    )
    assert TASS.text[ans["start"] : ans["end"]] == ans["text"]
    assert ans["article"] == render.article_json(TASS)
    assert ans["also_in"] == [render.article_json(TASS_RU)]
    assert ans["display"] == "January 26"  # no relative date to resolve
    assert ans["reported_by"] == ["TASS", "RIA Novosti"]
    json.dumps(obj, ensure_ascii=False)  # serializable as is


def test_article_json_is_the_full_contract():
    assert render.article_json(TASS) == {
        "id": TASS.id,
        "path": "en/tass.txt",
        "title": "US handed over its response",
        "outlet": "TASS",
        "published": "2022-02-14",
        "language": "en",
        "url": "https://tass.com/1",
        "date_uncertain": True,
        "translation_of": None,
    }
    assert render.article_json(TASS_RU)["translation_of"] == "en/tass.txt"


def test_answer_json_news_articles_are_resolved():
    ans = answer()
    obj = render.answer_json(ans, 5)["answer"]
    (c,) = obj["corroborated_by"]
    assert c["article"] == render.article_json(RIA) and "article_id" not in c
    assert [r["article"]["path"] for r in obj["conflicts"]] == ["en/tass.txt", "en/old.txt"]
    assert ans.news == NEWS  # the answer's own news is not changed by rendering


def test_answer_json_resolved_date_is_displayed():
    news = {**copy.deepcopy(NEWS), "resolved_date": {"display": "Monday (14 February 2022)"}}
    obj = render.answer_json(answer(text="Monday", news=news), 5)
    assert obj["answer"]["display"] == "Monday (14 February 2022)"


def test_answer_json_passages():
    obj = render.answer_json(answer(), 5)
    p0, p1, p2 = obj["passages"]
    assert (p0["text"], p0["start"], p0["end"]) == (SENT.text, SENT.start, SENT.end)
    assert (p0["score"], p0["dense"], p0["lexical"]) == (0.123457, 0.812346, None)
    assert p0["also_in"] == [render.article_json(TASS_RU)]
    assert (p1["dense"], p1["lexical"], p1["article"]["outlet"]) == (None, 7.25, "RIA Novosti")
    assert p2["article"]["path"] == "en/old.txt"


@pytest.mark.parametrize("k", [0, 1, 2, 3, 10])
def test_answer_json_k_passages(k):
    assert len(render.answer_json(answer(), k)["passages"]) == min(k, 3)


def test_answer_json_no_answer_still_lists_passages():
    obj = render.answer_json(no_answer(), 5)
    assert obj["answer"] is None and obj["confidence"] == 0.03
    assert len(obj["passages"]) == 3


# ---- text ----------------------------------------------------------------------------------


def test_text_answer():
    lines = render.text(render.answer_json(answer(), 5)).splitlines()
    assert lines[0] == "January 26"
    assert lines[1] == f'  "{SENT.text}"'
    assert lines[2] == "  — US handed over its response (TASS, 2022-02-14, en)"
    assert lines[3] == f"    en/tass.txt [{START}:{START + 10}]  id {TASS.id}  confidence 0.87"
    assert lines[4] == "    also in: США передали ответ (TASS, 2022-02-14, ru)  ru/tass.txt"
    assert "    the sources differ (newest first):" in lines
    assert "      January 10  — Old news (2022-01-11, en)" in lines
    assert "    reported by TASS, RIA Novosti (2 articles state it)" in lines
    i = lines.index("Sources:")
    assert lines[i + 1].startswith("  [1] US handed over its response (TASS, 2022-02-14, en)")
    assert lines[i + 1].endswith(f"en/tass.txt [{SENT.start}:{SENT.end}]")
    assert lines[i + 2] == f"      {SENT.text}"
    assert lines[i + 3] == "      also in: США передали ответ (TASS, 2022-02-14, ru)"
    assert sum(re.match(r"  \[\d\] ", line) is not None for line in lines) == 3


def test_text_bold_wraps_exactly_the_span():
    out = render.text(render.answer_json(answer(), 5), bold=("<<", ">>"))
    assert '"On <<January 26>>, the US handed over written responses."' in out


def test_text_shows_the_resolved_date():
    news = {**copy.deepcopy(NEWS), "resolved_date": {"display": "January 26 (26 January 2022)"}}
    out = render.text(render.answer_json(answer(news=news), 5))
    assert out.splitlines()[0] == "January 26 (26 January 2022)"


def test_text_one_outlet_without_corroboration_says_nothing_of_it():
    news = {**copy.deepcopy(NEWS), "corroborated_by": [], "conflicts": [], "reported_by": ["TASS"]}
    out = render.text(render.answer_json(answer(news=news), 5))
    assert "reported by" not in out and "differ" not in out


@pytest.mark.parametrize("lang", ["en", "ru", "fr"])
def test_text_no_answer_in_the_questions_language(lang):
    out = render.text(render.answer_json(no_answer(language=lang), 0))
    assert out == render.NO_ANSWER.get(lang, render.NO_ANSWER["en"])


def test_text_long_passages_are_cut_and_flattened():
    text = "word \n\t " * 100
    hit = Hit(Chunk(f"{OLD.id}#9", OLD.id, text, 0, len(text), "en", (0, 1)), 0.1)
    out = render.text(render.answer_json(no_answer(hits=(hit,)), 5))
    snippet = out.splitlines()[-1]
    assert snippet == "      " + ("word " * 32)[:157] + "..."


# ---- escape_md -----------------------------------------------------------------------------

SPECIAL = "\\`*_{}[]()#+-.!|<>~=:"


def _unescape(md: str) -> str:
    return html.unescape(re.sub(r"\\(.)", r"\1", md))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ""),
        ("?", "?"),
        ("ёлка", "ёлка"),
        ("Путин met Biden", "Путин met Biden"),
        ("😉", "😉"),
        ("<script>", "&lt;script&gt;"),
        ("[a](javascript:x)", "\\[a\\]\\(javascript\\:x\\)"),
        ("**b** _i_", "\\*\\*b\\*\\* \\_i\\_"),
        ("a & b", "a &amp; b"),
        ('it\'s "q"', 'it\'s "q"'),  # quotes stay readable
        ("1. item", "1\\. item"),
        ("# h", "\\# h"),
    ],
)
def test_escape_md(text, expected):
    assert render.escape_md(text) == expected


@pytest.mark.parametrize("ch", list(SPECIAL))
def test_escape_md_every_special_character(ch):
    out = render.escape_md(f"a{ch}b")
    assert out == (f"a{html.escape(ch)}b" if ch in "<>" else f"a\\{ch}b")
    assert _unescape(out) == f"a{ch}b"


def test_escape_md_100k():
    text = ("<b>*x*</b> " * 10_000)[:100_000]
    out = render.escape_md(text)
    assert "<" not in out and "*x*" not in out
    assert _unescape(out) == text
