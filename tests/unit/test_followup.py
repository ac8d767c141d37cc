"""Follow-up questions as pure logic (qa.followup, qa.questions), the `interpreted_as` key and
the "Understood as" lines (qa.render, qa.web.views), and the replay cache of
Pipeline.converse, with a stub instead of the model. No index, no model: fast."""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import pytest

from qa import followup, pipeline, render
from qa.ingest import lang as qlang
from qa.types import Answer, Turn
from qa.web import views

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GENEVA = Turn("Where did Lavrov and Blinken hold talks on January 21?", "en", "place", "Geneva")
MISSILES = Turn(
    "What did Putin propose for medium-range missiles in Europe?", "en", "other", "moratorium"
)
DRAFTS = Turn(
    "Когда МИД России опубликовал проекты договора?", "ru", "date", "17 декабря 2021 года"
)
BLINKEN = Turn("Who is the US Secretary of State?", "en", "person", "Antony Blinken")
MONDAY = Turn("When did Lavrov meet Putin?", "en", "date", "Monday")
LAVROV_RU = Turn("Кто министр иностранных дел России?", "ru", "person", "Сергей Лавров")
WORLD_CUP = Turn("Who won the 2018 World Cup?", "en", "person", None)


def resolve(question: str, previous: Turn | None) -> str | None:
    return followup.resolve(question, qlang.detect(question), previous)


@pytest.mark.parametrize(
    "previous, question, expected",
    [
        # elliptical: a new topic for the previous question word
        (GENEVA, "And the OSCE consultations?", "Where were the OSCE consultations?"),
        (
            Turn("Где Лавров и Блинкен провели переговоры?", "ru", "place", "Женеве"),
            "А консультации ОБСЕ?",
            "Где консультации ОБСЕ?",
        ),
        # elliptical: the parallel word swapped
        (
            MISSILES,
            "And what about short-range ones?",
            "What did Putin propose for short-range missiles in Europe?",
        ),
        (WORLD_CUP, "And in 2014?", "Who won the 2014 World Cup?"),
        (
            Turn("Who is the NATO Secretary General?", "en", "person", "Jens Stoltenberg"),
            "And the US Secretary of State?",
            "Who is the US Secretary of State?",
        ),
        (
            Turn("Когда Кулеба говорил с журналистами?", "ru", "date", "в среду"),
            "А Грушко?",
            "Когда Грушко говорил с журналистами?",
        ),
        (
            Turn("What did Lavrov say about NATO?", "en", "other", None),
            "And about sanctions?",
            "What did Lavrov say about sanctions?",
        ),
        # elliptical: only a question word; the previous answer comes along
        (DRAFTS, "А с кем?", "С кем МИД России опубликовал проекты договора 17 декабря 2021 года?"),
        (GENEVA, "When?", "When did Lavrov and Blinken hold talks on January 21 in Geneva?"),
        (MONDAY, "Where?", "Where did Lavrov meet Putin on Monday?"),
        (
            Turn("Who did Lavrov hold talks with in Geneva?", "en", "person", "Blinken"),
            "When?",
            "When did Lavrov hold talks with Blinken in Geneva?",
        ),
        (
            Turn("На размещение каких ракет Путин предложил мораторий?", "ru", "other", "средней"),
            "А где?",
            "Где Путин предложил мораторий на размещение ракет средней?",
        ),
        (
            Turn("Did Lavrov meet Putin?", "en", "other", None),
            "When?",
            "When did Lavrov meet Putin?",
        ),
        # pronouns: the person answer, else the previous question's names
        (
            BLINKEN,
            "When did he hold talks with Lavrov?",
            "When did Antony Blinken hold talks with Lavrov?",
        ),
        (MONDAY, "What did they discuss?", "What did Lavrov and Putin discuss on Monday?"),
        (
            Turn("When did the US and NATO send their responses?", "en", "date", None),
            "Who listed their provisions?",
            "Who listed their (US and NATO) provisions?",
        ),
        (LAVROV_RU, "Что он сказал в Госдуме?", "Что Сергей Лавров сказал в Госдуме?"),
        (LAVROV_RU, "А где его слушали?", "Где его (Сергей Лавров) слушали?"),
        (GENEVA, "What did they sign there?", "What did Lavrov and Blinken sign in Geneva?"),
        (
            Turn(
                "Кто министр иностранных дел России?",
                "ru",
                "person",
                "Сергей Лавров на встрече с Путиным",
            ),
            "Что он сказал?",
            "Что Сергей Лавров сказал?",
        ),
        # another language: only the pronoun's antecedent carries over, in brackets
        (LAVROV_RU, "What did he say?", "What did he (Сергей Лавров) say?"),
        (GENEVA, "А когда?", None),
    ],
)
def test_follow_ups(previous, question, expected):
    assert resolve(question, previous) == expected


@pytest.mark.parametrize(
    "previous, question",
    [
        (GENEVA, "Who won the 2018 World Cup?"),  # a topic switch
        (GENEVA, "When did Lavrov meet Putin?"),
        (GENEVA, "And where did the NATO-Russia Council meet?"),  # "And", but a whole question
        (GENEVA, "What did Lavrov say after his talks?"),  # "his" is Lavrov
        (GENEVA, "Is there a chance of an agreement?"),  # "there" is no place
        (GENEVA, "How many households have kids living in them?"),  # "them" is the households
        (LAVROV_RU, "Кого критиковали за то, что он не пришёл?"),  # "он" in its own clause
        (LAVROV_RU, "Кто генеральный секретарь НАТО?"),
        (LAVROV_RU, "А где прошли консультации ОБСЕ?"),  # "А", but its own verb
        (GENEVA, "Why were the talks held?"),  # its own subject
    ],
)
def test_standalone_questions_are_taken_as_asked(previous, question):
    assert resolve(question, previous) is None


def test_no_history_no_interpretation():
    assert resolve("And the OSCE consultations?", None) is None
    assert resolve("А с кем?", None) is None


@pytest.mark.parametrize(
    "question", ["", "?", "ёлка", "Путин met Biden", "😉", "And", "А", "x" * 100_000], ids=repr
)
@pytest.mark.parametrize("previous", [GENEVA, LAVROV_RU, Turn("?", "en")], ids=["en", "ru", "bare"])
def test_edge_cases_do_not_crash(question, previous):
    got = resolve(question, previous)
    assert got is None or (got.endswith("?") and len(got) < len(question) + 200)


def test_seed_questions_stand_alone():
    """The 55 journalist questions all stand on their own: none is rewritten after a turn."""
    seeds = json.loads((FIXTURES / "seed_questions.json").read_text(encoding="utf-8"))
    for q in seeds["questions"]:
        for previous in (GENEVA, LAVROV_RU, BLINKEN):
            assert resolve(q["question"], previous) is None, q["question"]


def test_conversation_fixture_decisions():
    """Every turn of tests/fixtures/conversations.json is a follow-up or not as written, when
    the earlier turns are answered as expected (the end-to-end test uses the real answers)."""
    data = json.loads((FIXTURES / "conversations.json").read_text(encoding="utf-8"))
    for conv in data["conversations"]:
        previous = None
        for turn in conv["turns"]:
            lang = qlang.detect(turn["q"])
            got = followup.resolve(turn["q"], lang, previous)
            assert (got is not None) == turn["followup"], (conv["id"], turn["q"], got)
            answer = (turn["expect"] or [None])[0]
            previous = Turn(got or turn["q"], lang, _qtype(got or turn["q"]), answer)


def _qtype(q: str) -> str:
    low = q.lower()
    if re.search(r"\b(who|кто|кем|кого)\b", low):
        return "person"
    return "place" if re.search(r"\b(where|где)\b", low) else "other"


# ---- the JSON key and the lines that show the interpretation ----------------------------------


def _answer(**kw) -> Answer:
    return Answer("А с кем?", "ru", None, 0.1, **kw)


def test_interpreted_as_is_the_last_json_key():
    obj = render.answer_json(_answer(), 5)
    assert list(obj)[-1] == "interpreted_as" and obj["interpreted_as"] is None
    obj = render.answer_json(_answer(interpreted_as="С кем МИД опубликовал проекты?"), 5)
    assert obj["interpreted_as"] == "С кем МИД опубликовал проекты?"
    assert render.text(obj).splitlines()[0] == "Вопрос понят как: С кем МИД опубликовал проекты?"


def test_understood_line_and_confidence_words():
    obj = {"language": "en", "interpreted_as": "Where were the OSCE consultations?"}
    assert render.understood_line(obj) == "Understood as: Where were the OSCE consultations?"
    assert render.understood_line({"language": "en", "interpreted_as": None}) is None
    assert render.confidence_word(0.85, "en") == "likely"
    assert render.confidence_word(0.45, "en") == "uncertain"
    assert render.confidence_word(0.85, "ru") == "вероятно"
    assert render.confidence_word(0.45, "ru") == "не уверен"


HOSTILE = "<img src=x onerror=alert(1)> [a](javascript:alert(2)) **b**"


def test_markdown_headline_confidence_and_escaped_interpretation():
    sentence = "Talks were held in Geneva on January 21."
    art = {"id": "a1", "path": "en/a.txt", "title": "T", "outlet": "O", "published": None}
    art |= {"language": "en", "url": None}
    start = sentence.index("Geneva")
    ans = {"text": "Geneva", "score": 0.5, "start": start, "end": start + 6}
    ans |= {"sentence": sentence, "sentence_start": 0, "sentence_end": len(sentence)}
    ans |= {"article": art, "also_in": []}
    obj = {"question": "q", "language": "en", "answer": ans, "passages": []}
    obj["interpreted_as"] = f"Where did {HOSTILE} meet?"
    md = views.answer_markdown(obj)
    first, rest = md.split("\n\n", 1)
    assert first.startswith("_Understood as\\: Where did &lt;img") and "onerror" in first
    assert "<img" not in md and "](javascript" not in md
    assert rest.startswith("### Geneva\n_uncertain_ · confidence 0.50")
    assert "<strong>Geneva</strong>" in md
    obj["answer"] = None
    assert views.answer_markdown(obj).endswith(views.md(render.NO_ANSWER["en"]))


# ---- Pipeline.converse: history replayed once, then from the cache ----------------------------


class StubPipeline(pipeline.Pipeline):
    """Pipeline.converse with a canned reader: records every question actually answered."""

    def __init__(self):
        self._turns, self._turns_lock, self.asked = OrderedDict(), threading.Lock(), []
        self.version = "v1"

    @property
    def index(self):
        return SimpleNamespace(version=self.version)

    def ask(self, question, k=None, langs=None, since=None, until=None, outlets=(), previous=None):
        self.asked.append(question)
        interpreted = followup.resolve(question, qlang.detect(question), previous)
        return Answer(
            question, "en", "Antony Blinken", 0.9, qtype="person", interpreted_as=interpreted
        )


def test_converse_replays_history_once():
    pipe = StubPipeline()
    history = ["Who is the US Secretary of State?", "  ", "When did he meet Lavrov?"]
    ans = pipe.converse("Where?", history, k=5)
    assert pipe.asked == [history[0], history[2], "Where?"]  # the blank line is skipped
    assert ans.interpreted_as.startswith("Where did Antony Blinken meet Lavrov")
    pipe.asked.clear()
    pipe.converse("Why?", [*history, "Where?"], k=5)
    assert pipe.asked == ["Why?"]  # the earlier turns come from the cache
    pipe.converse("Why?", [*history, "Where?"], k=5, langs=("ru",))
    assert len(pipe.asked) == 5  # other filters: other answers, replayed
    pipe.version = "v2"
    pipe.asked.clear()
    pipe.converse("Why?", history, k=5)
    assert pipe.asked == [history[0], history[2], "Why?"]  # a new index: replayed


def test_converse_keeps_only_the_last_turns():
    pipe = StubPipeline()
    history = [f"Who is minister number {i}?" for i in range(20)]
    pipe.converse("When?", history)
    assert pipe.asked == [*history[-pipeline.MAX_HISTORY :], "When?"]
