"""What the reader answers, on the real model and corpus: the person the question's relation
points at, answers across languages with exact offsets, and names or places rather than the
clause around them. (Scores over many questions: test_seed_questions.py and `qa eval`.)"""

from __future__ import annotations

import shutil

import pytest

from qa import pipeline
from qa.store import lexical

pytestmark = pytest.mark.slow


def words(text: str | None) -> int:
    return len(lexical.words(text or ""))


@pytest.mark.parametrize(
    "question, name, other",
    [
        ("Who is the NATO Secretary General?", "Stoltenberg", "Blinken"),
        ("Кто генеральный секретарь НАТО?", "Столтенберг", "Блинкен"),
    ],
)
def test_who_question_names_the_person_its_relation_points_at(real_pipeline, question, name, other):
    """The corpus has "US Secretary of State Antony Blinken and NATO Secretary General Jens
    Stoltenberg" in one sentence: the answer is the second name, whole, and nothing else."""
    ans = real_pipeline.ask(question)
    assert ans.text is not None, f"declined at {ans.score}"
    assert name in ans.text and other not in ans.text, ans.text
    assert words(ans.text) <= 3, ans.text  # the name, not the clause around it
    first = {"Stoltenberg": "Jens", "Столтенберг": "Йенс"}[name]
    art = real_pipeline.index.articles[ans.article_id]
    assert art.text[ans.start : ans.end] == ans.text
    if first in ans.sentence.text:  # the first name is part of the answer when written
        assert first in ans.text, ans.text


@pytest.fixture(scope="module")
def russian_only(tmp_path_factory, real_settings, embedder):
    """A corpus of the Russian articles alone: English questions must be answered from them."""
    root = tmp_path_factory.mktemp("ru-only")
    shutil.copytree(real_settings.corpus / "ru", root / "corpus" / "ru")
    s = real_settings.with_(corpus=root / "corpus", index=root / "index")
    pipeline.build(s, embedder=embedder)
    return pipeline.Pipeline(s, embedder=embedder)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Where did Lavrov and Blinken hold talks on January 21?", "Женев"),
        ("When did the US and NATO hand over their written responses to Russia?", "26 января"),
    ],
)
def test_english_question_answered_from_a_russian_only_article(russian_only, question, expected):
    ans = russian_only.ask(question)
    assert ans.language == "en"
    assert ans.text is not None, f"declined at {ans.score}"
    art = russian_only.index.articles[ans.article_id]
    assert art.lang == "ru" and expected in ans.text, ans.text
    assert art.text[ans.start : ans.end] == ans.text
    assert art.text[ans.sentence.start : ans.sentence.end] == ans.sentence.text
    assert ans.sentence.start <= ans.start < ans.end <= ans.sentence.end
    assert words(ans.text) <= 3, ans.text


WHO_WHERE = [
    "Who did Lavrov meet with on Monday?",
    "Where was the meeting of the NATO-Russia Council held?",
    "Which Brazilian foreign minister did Lavrov hold talks with?",
    "Who is Ukraine's foreign minister?",
    "Где прошло заседание Совета Россия — НАТО?",
    "Где Лавров заявил, что безопасность России является абсолютным приоритетом?",
    "Кто госсекретарь США?",
]


@pytest.mark.parametrize("question", WHO_WHERE)
def test_who_and_where_answers_are_a_few_words(real_pipeline, question):
    ans = real_pipeline.ask(question)
    assert ans.qtype in ("person", "place")
    if ans.text is not None:  # declining is allowed; a clause is not
        assert words(ans.text) <= 4, ans.text
