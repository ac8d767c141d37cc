"""News-aware answers: corroboration across outlets and languages, relative dates resolved
against the article's date, and date/outlet filters (real model, real corpus). Resolving
relative dates on their own: tests/unit/ingest/test_dates.py."""

from __future__ import annotations

import pytest

from qa import render

pytestmark = pytest.mark.slow


def _json(pipe, question, **kw):
    ans = pipe.ask(question, **kw)
    return render.answer_json(ans, 5)


@pytest.mark.parametrize(
    "question",
    ["When did the US send its written response?", "Когда США передали России письменный ответ?"],
)
def test_january_26_lists_every_article_and_outlet_that_states_it(real_pipeline, question):
    obj = _json(real_pipeline, question)
    ans = obj["answer"]
    assert ans["text"] in ("January 26", "26 января")
    stating = {ans["article"]["path"]} | {c["article"]["path"] for c in ans["corroborated_by"]}
    stating |= {a["path"] for a in ans["also_in"]}
    assert not {c["article"]["path"] for c in ans["corroborated_by"]} & {
        a["path"] for a in ans["also_in"]
    }  # a verbatim copy is listed once, under also_in
    # The handover is stated by the three TASS articles, in English and in Russian.
    for stem in ("001_630c59ff8cc43173", "003_1221e1e9ff6ea553", "004_68635443282a5ed9"):
        assert {f"en/{stem}.txt", f"ru/{stem}.txt"} <= stating
    # ...and by no RIA Novosti or Sputnik article (they only expect a response "this week").
    assert not any(p.split("/")[1].startswith(("000_", "002_")) for p in stating)
    assert ans["reported_by"] == ["TASS"]
    for c in ans["corroborated_by"]:
        text = real_pipeline.index.articles[c["article"]["id"]].text
        assert text[c["start"] : c["end"]] == c["sentence"]
        assert "26" in c["sentence"]


def test_on_monday_resolves_to_14_february_2022(real_pipeline):
    obj = _json(real_pipeline, "When did Lavrov meet Putin?")
    ans = obj["answer"]
    assert ans["text"] == "Monday"
    assert ans["resolved_date"]["date"] == "2022-02-14"
    assert ans["display"] == "Monday (14 February 2022)"
    assert "Monday (14 February 2022)" in render.text(obj)


def test_russian_weekday_resolves_too(real_pipeline):
    ans = _json(real_pipeline, "Когда Лавров встречался с Путиным?")["answer"]
    assert ans is not None and ans["resolved_date"]["date"] == "2022-02-14"
    assert ans["display"].endswith("(14 февраля 2022)")


def test_outlet_filter_changes_the_cited_articles(real_pipeline):
    q = "When did the US send its written response?"
    tass = _json(real_pipeline, q, outlets=("TASS",))
    ria = _json(real_pipeline, q, outlets=("RIA Novosti",))
    assert {p["article"]["outlet"] for p in tass["passages"]} == {"TASS"}
    assert {p["article"]["outlet"] for p in ria["passages"]} == {"RIA Novosti"}
    assert tass["answer"]["text"] == "January 26"


def test_date_filter_changes_the_cited_articles(real_pipeline):
    q = "When did the US send its written response?"
    early = _json(real_pipeline, q, until="2022-01-31")
    late = _json(real_pipeline, q, since="2022-02-01")
    assert all(p["article"]["published"] <= "2022-01-31" for p in early["passages"])
    assert all(p["article"]["published"] >= "2022-02-01" for p in late["passages"])
    assert late["answer"]["text"] == "January 26"
    assert early["answer"] is None or early["answer"]["article"]["published"] <= "2022-01-31"


def test_agreeing_dates_are_not_a_conflict(real_pipeline):
    # RIA Novosti's "within this week" (24-30 January) agrees with TASS's "January 26".
    ans = _json(real_pipeline, "When did the US send its written response?")["answer"]
    assert ans["conflicts"] == []


def _answer_at(pipe, path, phrase):
    """An Answer for ``phrase`` as it stands in the article at ``path`` (real offsets)."""
    from qa.types import Answer

    idx = pipe.index
    art = next(a for a in idx.articles.values() if a.path == path)
    start = art.text.index(phrase)
    sent = next(s for s in idx.entry_of(art.id).sentences if s.start <= start < s.end)
    return Answer("q", "en", phrase, 0.9, start, start + len(phrase), sent, art.id, qtype="date")


def test_conflicting_dates_are_shown_newest_first(real_pipeline):
    from dataclasses import replace

    from qa import news

    first = _answer_at(real_pipeline, "en/000_262729808d390fdb.txt", "January 10")
    handed = _answer_at(real_pipeline, "en/003_1221e1e9ff6ea553.txt", "January 26")
    week = _answer_at(real_pipeline, "en/000_262729808d390fdb.txt", "this week")
    assert news.conflicts(real_pipeline.index, replace(handed, alternatives=(week,)), set()) == []
    rows = news.conflicts(real_pipeline.index, replace(first, alternatives=(handed,)), set())
    assert [r["text"] for r in rows] == ["January 26", "January 10"]  # newest article first
    assert [r["published"] for r in rows] == ["2022-02-14", "2022-01-26"]
