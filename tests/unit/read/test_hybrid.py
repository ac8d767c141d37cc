"""The hybrid reader's logic without the span model (qa.read.hybrid): tidying the model's
spans, the kind of a span, and the choice between sentences with a stub model standing in.
The real model: tests/e2e/test_hybrid.py."""

from __future__ import annotations

import math

import pytest

from qa.read import hybrid, span_model, spans
from qa.read.hybrid import _tidy
from qa.read.span_model import SpanGuess
from qa.read.typed import ReaderParams
from qa.store import lexical
from qa.types import Hit, Query, Sentence
from tests.samples import ARTICLES, FakeEmbedder, article, memory_index, unit


@pytest.mark.parametrize(
    "span,expected",
    [
        ("January 26,", "January 26"),
        ("26 января.", "26 января"),
        ("the U.S.", "the U.S."),
        ("«Газпром»", "«Газпром»"),
        ("«Газпром", "Газпром"),
        ("NATO)", "NATO"),
        ("(NATO)", "(NATO)"),
        ('"quoted', "quoted"),
        ('say "hi"', 'say "hi"'),
        (", — Лавров", "Лавров"),
        (",", ""),
    ],
)
def test_tidy_drops_punctuation_subwords_drag_along(span, expected):
    text = f"xx {span} yy"
    a, b = _tidy(text, 3, 3 + len(span))
    assert text[a:b] == expected


@pytest.mark.parametrize(
    "span, expected",
    [
        ("(NATO", "NATO"),  # an opening bracket never closed
        ("«Газпром» и", "«Газпром» и"),
        ("U.S.", "U.S."),
        ("20.", "20"),  # a sentence's full stop
        ("т.е.", "т.е."),
        ("— 26 января —", "26 января"),
        ("; Lavrov:", "Lavrov"),
        ("  Lavrov  ", "Lavrov"),
        ("'Lavrov'", "'Lavrov'"),
        ("[a]", "[a]"),
        ("a]", "a"),
    ],
)
def test_tidy_more(span, expected):
    text = f"xx {span} yy"
    a, b = _tidy(text, 3, 3 + len(span))
    assert text[a:b] == expected


@pytest.mark.parametrize(
    "text",
    ["", "?", "ёлка", "Путин met Biden", "😉", ", — 😉 «", "Lavrov, said. " * 7_200],
    ids=["empty", "question-mark", "yolka", "mixed", "emoji", "punctuation", "100k"],
)
def test_tidy_edge_texts_stay_inside_and_only_shrink(text):
    for start, end in [(0, len(text)), (0, len(text) // 2), (len(text) // 3, len(text))]:
        a, b = _tidy(text, start, end)
        assert start <= a <= b <= end
        if b > a:
            assert text[b - 1] not in ",;:—–- " and not text[a].isspace()


@pytest.mark.parametrize(
    "text, start, end, expected",
    [
        ("Абу Бакр ар-Рази написал", 0, 2, "Абу"),
        ("граф Уильям Железная Рука", 5, 6, "Уильям"),
        ("in the 880s, Rollo", 9, 11, "880s"),
        ("Jens Stoltenberg said", 0, 16, "Jens Stoltenberg"),  # whole already
        ("(Geneva)", 1, 4, "Geneva"),  # punctuation is a boundary
    ],
)
def test_whole_words(text, start, end, expected):
    a, b = span_model.whole_words(text, start, end)
    assert text[a:b] == expected


def test_tidy_empty_span():
    assert _tidy("Lavrov", 3, 3) == (3, 3)


# ---- the kind of a model's span ------------------------------------------------------------

ANSWER = "Lavrov and Blinken held talks in Geneva on January 21."
NAMES = {"Lavrov": "person", "Blinken": "person", "Geneva": "place", "NATO": "org"}


def fake_candidates(text: str, lang: str) -> tuple[spans.Span, ...]:
    """spans.candidates without the NER models: the patterns, then the NAMES in the text."""
    found = list(spans._patterns(text, lang))
    for name, kind in NAMES.items():
        if name in text:
            found.append(spans.Span(text.index(name), text.index(name) + len(name), kind))
    return tuple(found)


@pytest.fixture
def ner(monkeypatch):
    monkeypatch.setattr(spans, "candidates", fake_candidates)


@pytest.mark.parametrize(
    "part, kind",
    [
        ("January 21", "date"),
        ("on January 21", "date"),  # overlaps the date most
        ("Geneva on", None),  # named entities are not looked up at ask time (no NER model)
        ("Lavrov and Blinken", None),
        ("held talks", None),
    ],
)
def test_overlapping(ner, part, kind):
    """Kinds come from the date/number patterns alone, even when NER candidates exist."""
    sent = Sentence("as1", "a", ANSWER, 0, len(ANSWER), "en")
    start = ANSWER.index(part)
    got = hybrid._overlapping(sent, start, start + len(part))
    assert (got.kind if got else None) == kind


# ---- span_choices with a stub model ---------------------------------------------------------


class StubModel:
    """SpanModel.guess stand-in: in each passage, the first of ``answers`` it contains (with a
    trailing comma the reader must tidy) and a margin by that answer's position in the list;
    its full stop (or an empty span), margin -5, when none is there."""

    def __init__(self, *answers: str):
        self.answers, self.asked = answers, []

    def guess(self, question: str, passages: list[str], longest: int = 30) -> list[SpanGuess]:
        self.asked.append((question, list(passages)))
        self.longest = longest
        out = []
        for i, p in enumerate(passages):
            hit = next((a for a in self.answers if a in p), None)
            if hit is None:
                stop = len(p) - p.endswith(".")  # the full stop, or nothing (a title)
                out.append(SpanGuess(i, stop, len(p) if p.endswith(".") else stop, -5.0, 0.0))
                continue
            start = p.index(hit)
            end = start + len(hit) + (p[start + len(hit) : start + len(hit) + 1] == ",")
            out.append(SpanGuess(i, start, end, 10.0 - self.answers.index(hit), 0.0))
        return out


@pytest.fixture(scope="module")
def tiny():
    arts = [article(p, t.strip()) for p, t in ARTICLES.items() if p.startswith("en/")]
    return memory_index(arts, lambda t: unit(0) if t == ANSWER else FakeEmbedder._vec(t))


def q(text: str) -> Query:
    return Query(text, "en", unit(0), tuple(lexical.tokens(text, "en")))


def test_span_choices_read_the_best_sentences(tiny, ner):
    model = StubModel("January 21", "January 19", "January 26")
    hits = [Hit(c, 1.0) for c in tiny.chunks]
    p = ReaderParams()
    qtype, found = hybrid.span_choices(tiny, q("When did they meet?"), hits, model, p)
    ((question, passages),) = model.asked
    assert question == "When did they meet?" and len(passages) == p.read
    assert passages[0] == ANSWER  # the sentence ranking decides what the model reads
    assert qtype == "date"
    texts = [c.scored.sentence.text[c.span.start : c.span.end] for c in found]
    assert texts[0] == "January 21"  # tidied: no comma; best margin first
    assert [c.total for c in found] == sorted((c.total for c in found), reverse=True)
    for c in found:
        assert c.span.end > c.span.start and c.context == 0.0
        if c.span.kind == "date":
            assert c.fit == 1.0
    assert found[0].span.kind == "date" and found[0].total == 10.0


def test_span_choices_drop_spans_tidied_away(tiny, ner):
    model = StubModel()  # a full stop everywhere: nothing left after tidying
    hits = [Hit(c, 1.0) for c in tiny.chunks]
    _, found = hybrid.span_choices(tiny, q("When?"), hits, model, ReaderParams())
    assert len(model.asked[0][1]) == ReaderParams().read and found == []
    ans = hybrid.read(tiny, q("When?"), hits, 0.0, ReaderParams(), model)
    assert ans.text is None and ans.hits == tuple(hits)


def test_read_ranks_by_sentence_score_and_answers_with_offsets(tiny, ner):
    """The sentence score dominates the model's margin (span_sentence = 100)."""
    model = StubModel("Zelensky", "January 21")  # the model prefers the wrong sentence
    hits = [Hit(c, 1.0) for c in tiny.chunks]
    ans = hybrid.read(tiny, q("When did they meet?"), hits, 0.0, ReaderParams(), model)
    assert ans.text == "January 21"
    assert tiny.articles[ans.article_id].text[ans.start : ans.end] == ans.text


@pytest.mark.parametrize("margin", [-1e6, -50.0, 0.0, 50.0, 1e6])
def test_confidence_is_a_probability_for_any_margin(tiny, margin):
    sc = hybrid.ranked(tiny, q("When?"), [Hit(tiny.chunks[1], 1.0)], ReaderParams())[0]
    c = hybrid.Choice(sc, spans.Span(0, 3, "date"), 1.0, 0.0, margin)
    got = hybrid.confidence(q("When?"), c, [c], ReaderParams())
    assert 0.0 <= got <= 1.0


def test_confidence_grows_with_the_spans_probability(tiny):
    """The span's probability among all spans read (one softmax) is what the fitted
    confidence leans on most; everything else equal, a likelier span is more confident."""
    sc = hybrid.ranked(tiny, q("When?"), [Hit(tiny.chunks[1], 1.0)], ReaderParams())[0]
    choices = [hybrid.Choice(sc, None, 1.0, 0.0, 0.0, lp) for lp in (-6.0, -2.0, -0.1)]
    conf = [hybrid.confidence(q("When?"), c, [c], ReaderParams()) for c in choices]
    assert conf[0] < conf[1] < conf[2]


def test_short_questions_get_short_spans(tiny, ner):
    """Who/where/when/how-many questions are read with the short answer limit, the rest with
    the long one: a name or a date, not the clause around it."""
    hits = [Hit(c, 1.0) for c in tiny.chunks]
    p = ReaderParams(short_answer=7, long_answer=29)
    for question, limit in (("When did they meet?", 7), ("Why did they meet?", 29)):
        model = StubModel("January 21")
        hybrid.span_choices(tiny, q(question), hits, model, p)
        assert model.longest == limit, question


def test_one_no_answer_for_all_sentences(tiny, ner):
    """A span's margin is over the mean "no answer" of every sentence read (shared
    normalization): the same span scores lower beside passages that say "no answer" louder."""

    class Nulls(StubModel):
        def __init__(self, null: float):
            super().__init__("January 21")
            self.null = null

        def guess(self, question, passages, longest=30):
            out = super().guess(question, passages, longest)
            return [SpanGuess(g.passage, g.start, g.end, g.score, self.null) for g in out]

    hits = [Hit(c, 1.0) for c in tiny.chunks]
    got = [
        hybrid.span_choices(tiny, q("When did they meet?"), hits, Nulls(n), ReaderParams())[1]
        for n in (0.0, 3.0)
    ]
    assert got[0][0].total == 10.0 and got[1][0].total == 7.0


def test_features_length_and_agreement(tiny):
    """Long answers are told apart, and an answer other sentences repeat sums their
    probabilities (wire copies state the same fact)."""
    scored = hybrid.ranked(tiny, q("When?"), [Hit(c, 1.0) for c in tiny.chunks], ReaderParams())
    a = scored[0]
    word = next(iter(lexical.words(a.sentence.text)))
    at = a.sentence.text.lower().find(word)
    short = hybrid.Choice(a, spans.Span(at, at + len(word), "other"), 0.0, 0.0, 1.0, -2.0)
    whole = hybrid.Choice(a, spans.Span(0, len(a.sentence.text), "other"), 0.0, 0.0, 1.0, -2.0)
    f_short = hybrid.features(q("When?"), short, [short, whole])
    f_whole = hybrid.features(q("When?"), whole, [short, whole])
    assert f_short[4] < f_whole[4]  # log(1 + words)
    assert f_short[6] == -2.0  # its own probability only
    again = hybrid.Choice(a, short.span, 0.0, 0.0, 0.5, -2.0)  # another sentence, same answer
    summed = hybrid.features(q("When?"), short, [short, again, whole])[6]
    assert summed == pytest.approx(-2.0 + math.log(2))
