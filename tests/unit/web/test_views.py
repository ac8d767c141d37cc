"""The web UI's pure views (qa.web.views): an answer as chat markdown and the article page,
with every corpus string escaped and links built only from ids, offsets and http(s) URLs.
No server, no gradio: the served app is in tests/e2e/test_ui.py."""

from __future__ import annotations

import base64
import hashlib
import html
import re

import pytest

from qa import render
from qa.web import views
from tests.samples import article

HOSTILE = '<script>alert(1)</script> <img src="http://x.invalid/p.gif" onerror=alert(2)> [a](javascript:alert(3)) **b** $x$'


def _article(**kw) -> dict:
    base = {"id": "abc", "path": "en/a.txt", "title": "T", "outlet": "O", "published": None}
    return {**base, "language": "en", "url": None, **kw}


def _obj(sentence: str, title: str = HOSTILE, lang: str = "en") -> dict:
    art = _article(title=title, outlet="<b>O</b>", language=lang)
    start = sentence.index("Zeb")
    return {
        "question": "q",
        "language": lang,
        "answer": {
            "text": "Zeb",
            "score": 0.9,
            "start": 100 + start,
            "end": 100 + start + 3,
            "sentence": sentence,
            "sentence_start": 100,
            "sentence_end": 100 + len(sentence),
            "article": art,
            "also_in": [_article(id="def", title="Copy <i>x</i>")],
        },
        "passages": [
            {"text": sentence, "score": 0.5, "start": 90, "end": 300, "article": art, "also_in": []}
        ],
    }


def test_answer_markdown_escapes_corpus_text():
    md = views.answer_markdown(_obj(f"Before {HOSTILE} Zeb after's."))
    # Only our own tags survive as tags; every "<" from the corpus is an entity.
    tags = set(re.findall(r"<(/?\w+)", md))
    assert tags <= {"strong", "/strong", "details", "/details", "summary", "/summary"}, tags
    assert "&lt;script&gt;" in md and "&lt;img" in md
    assert "](javascript" not in md and "\\[a\\]\\(javascript" in md
    assert "<strong>Zeb</strong>" in md
    assert "after's" in md  # apostrophes stay readable (no "&#x27;" on screen)
    links = re.findall(r"\]\(([^)]*)\)", md)
    assert links and all(link.startswith("/article/") for link in links), links
    assert "Sources (1)" in md and "also in:" in md


def test_answer_markdown_no_answer_in_question_language():
    for lang in ("en", "ru"):
        obj = {"question": "q", "language": lang, "answer": None, "passages": []}
        assert views.answer_markdown(obj) == views.md(render.NO_ANSWER[lang])
    obj = _obj("Zeb.", lang="ru")
    assert "Источники (1)" in views.answer_markdown(obj)


def test_article_href_and_marked_text():
    assert views.article_href("a/b?c") == "/article/a%2Fb%3Fc"
    assert (
        views.article_href("x", 3, 9, (4, 5))
        == "/article/x?start=3&end=9&span_start=4&span_end=5#p-3"
    )
    text = "ab<i>cd</i>ef"
    assert views.marked_text(text, 2, 11, (5, 7)) == (
        'ab<mark id="p-2">&lt;i&gt;<strong>cd</strong>&lt;/i&gt;</mark>ef'
    )
    for bad in [(-1, 3), (3, 2), (0, 99), (None, 3)]:
        assert views.marked_text(text, *bad) == "ab&lt;i&gt;cd&lt;/i&gt;ef"
    assert (
        views.marked_text(text, 0, 2, (1, 99)) == '<mark id="p-0">ab</mark>&lt;i&gt;cd&lt;/i&gt;ef'
    )


def test_safe_http():
    assert views._safe_http("https://tass.com/a?b=1") == "https://tass.com/a?b=1"
    for bad in [
        "javascript:alert(1)",
        "data:text/html,x",
        "//evil",
        'http://a" onmouseover=x',
        None,
    ]:
        assert views._safe_http(bad) is None


# ---- more of the chat markdown --------------------------------------------------------------


def test_answer_markdown_news_lines():
    obj = _obj("On Monday Zeb spoke.")
    other = _article(id="o1", title="Other [x]", outlet="RIA")
    obj["answer"].update(
        resolved_date={"date": "2022-02-14"},
        display="Monday (14 February 2022)",
        reported_by=["TASS", "RIA"],
        corroborated_by=[{"article": other, "start": 5, "end": 30, "sentence": "s"}],
        conflicts=[
            {"text": "Zeb", "start": 1, "end": 4, "article": _article(id="c1"), "sentence": "s"},
            {"text": "Bob*", "start": 7, "end": 11, "article": _article(id="c2"), "sentence": "t"},
        ],
    )
    md = views.answer_markdown(obj)
    assert md.startswith("### Monday \\(14 February 2022\\)\n")  # the resolved date heads it
    assert r"reported by TASS, RIA: [Other \[x\] \(RIA, en\)](/article/o1?start=5&end=30#p-5)" in md
    assert "The sources differ (newest first):" in md
    assert r"**Bob\***: [T \(O, en\)](/article/c2?start=7&end=11#p-7)" in md


def test_answer_markdown_russian_labels():
    obj = _obj("Zeb.", lang="ru")
    obj["answer"].update(
        reported_by=["ТАСС"],
        corroborated_by=[{"article": _article(id="o1"), "start": 0, "end": 3, "sentence": "s"}],
        conflicts=[{"text": "Zeb", "start": 0, "end": 3, "article": _article(id="c1")}],
    )
    md = views.answer_markdown(obj)
    assert "также в:" in md and "сообщают ТАСС:" in md
    assert "Источники расходятся (сначала новые):" in md
    assert "also in" not in md and "Sources" not in md


def test_answer_markdown_unknown_language_falls_back_to_english():
    obj = {"question": "q", "language": "fr", "answer": None, "passages": []}
    assert views.answer_markdown(obj) == views.md(render.NO_ANSWER["en"])


def test_answer_markdown_span_offsets_into_the_sentence():
    obj = _obj("Before Zeb after.")
    md = views.answer_markdown(obj)
    assert md.startswith("### Zeb\n")  # the answer as a headline, then its quote
    assert "\n> Before <strong>Zeb</strong> after\\." in md
    assert "(/article/abc?start=100&end=117&span_start=107&span_end=110#p-100)" in md


def test_sources_markdown():
    passages = [
        {
            "text": "x" * 400,
            "score": 0.123456,
            "start": 0,
            "end": 400,
            "article": _article(),
            "also_in": [],
        },
        {
            "text": "Second\n\n  passage",
            "score": 0.5,
            "start": 9,
            "end": 30,
            "article": _article(id="z", title="Z"),
            "also_in": [_article(id="y", title="Y")],
        },
    ]
    md = views.sources_markdown(passages)
    assert md.startswith('<details class="qa-sources"><summary>Sources (2)</summary>')
    assert md.endswith("</details>")
    assert r"1. [T \(O, en\)](/article/abc?start=0&end=400#p-0) · score 0.1235" in md
    assert "x" * 299 + "…" in md and "x" * 300 not in md  # cut at SNIPPET characters
    assert r"2. [Z \(O, en\)](/article/z?start=9&end=30#p-9) · score 0.5000" in md
    assert "   Second passage" in md  # whitespace flattened
    assert r"   also in: [Y \(O, en\)](/article/y)" in md


def test_sources_markdown_nothing():
    assert views.sources_markdown([]) == ""
    assert views.sources_markdown([], "ru") == ""


@pytest.mark.parametrize(
    "text",
    ["", "?", "ёлка", "Путин met Biden", "😉", "<b>" * 33_000],
    ids=["empty", "question-mark", "yolka", "mixed", "emoji", "100k"],
)
def test_md_is_one_escaped_line(text):
    out = views.md(text + "\n\n*x*")
    assert "\n" not in out and "<" not in out and "\\*x\\*" in out


# ---- the article page ----------------------------------------------------------------------


def test_article_page():
    a = article(
        "en/a.txt",
        "Title <i>x</i>\n\nBody with <script>alert(1)</script> and Zeb.",
        outlet="TASS",
        published="2022-02-14",
        url="https://tass.com/1?a=1&b=2",
    )
    start = a.text.index("Zeb")
    page = views.article_page(a, start, start + 4, (start, start + 3))
    assert page.startswith('<!doctype html><html lang="en">')
    assert "<title>Title &lt;i&gt;x&lt;/i&gt;</title>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert f'<mark id="p-{start}"><strong>Zeb</strong>.</mark>' in page
    assert 'href="https://tass.com/1?a=1&amp;b=2" rel="noopener noreferrer nofollow"' in page
    assert "TASS · 2022-02-14 · en · en/a.txt" in page


@pytest.mark.parametrize("url", [None, "javascript:alert(1)", "//evil", "ftp://x"])
def test_article_page_without_a_safe_url_has_no_link(url):
    a = article("ru/a.txt", "Заголовок\n\nТекст.", url=url)
    page = views.article_page(a)
    assert '<html lang="ru">' in page and "original" not in page and "<mark" not in page


@pytest.mark.parametrize(
    "text",
    ["", "?", "ёлка", "Путин met Biden", "😉", "<i>&" * 25_000],
    ids=["empty", "question-mark", "yolka", "mixed", "emoji", "100k"],
)
def test_marked_text_edge_texts(text):
    out = views.marked_text(text, 0, len(text), (0, 1))
    assert "<i>" not in out and out.count("<mark") == 1
    assert views.marked_text(text, None, None) == html.escape(text)


def test_article_csp_allows_exactly_its_own_style():
    digest = base64.b64encode(hashlib.sha256(views.ARTICLE_CSS.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in views.ARTICLE_CSP
    assert "default-src 'none'" in views.ARTICLE_CSP and "script-src" not in views.ARTICLE_CSP
