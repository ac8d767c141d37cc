"""The typed reader's ranking (qa.read.typed) on small hand-made data: question words
around a span, a span's score, the choice of sentence and span on a tiny in-memory index,
and the answer it makes (sentence ranking itself: test_sentences.py). Candidate spans come from the date and number
patterns plus a hand-made list of names (spans.candidates would load spaCy and natasha)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qa.embed.embedder import DIM
from qa.read import spans, typed
from qa.read.sentences import Scored
from qa.read.typed import ReaderParams
from qa.store import lexical
from qa.types import Hit, Query
from tests.samples import ARTICLES, FakeEmbedder, article, memory_index, unit

P = ReaderParams()


def q(text: str, lang: str = "en", vec=None) -> Query:
    vec = np.zeros(DIM, np.float32) if vec is None else vec
    return Query(text, lang, vec, tuple(lexical.tokens(text, lang)))


# ---- _context ----------------------------------------------------------------------------

TEXT = "Lavrov met Blinken in Geneva on Monday"
TOKENS = typed._token_matches(TEXT, "en", {"lavrov", "geneva"})


def span_of(text: str, part: str, kind: str = "other") -> spans.Span:
    start = text.index(part)
    return spans.Span(start, start + len(part), kind)


def test_token_matches():
    assert [TEXT[s:e] for s, e, hit in TOKENS if hit] == ["Lavrov", "Geneva"]
    assert len(TOKENS) == 7
    ru = typed._token_matches("Лавров встретился с Блинкеном", "ru", {"блинкен"})
    assert [hit for _, _, hit in ru] == [False, False, False, True]  # by its stem


@pytest.mark.parametrize(
    "part, window, expected",
    [
        ("Blinken", 6, 1 / 2 + 1 / 2),  # two words from each question word
        ("Monday", 6, 1 / 2 + 1 / 6),  # nearer counts more
        ("Monday", 5, 1 / 2),  # beyond the window counts nothing
        ("Lavrov met", 6, 1 / 3),  # a question word inside the span is not context
        ("met", 6, 1 + 1 / 3),
        ("Monday", 1, 0.0),
        ("avro", 6, 0.0),  # not on word boundaries: no word inside
    ],
)
def test_context(part, window, expected):
    assert typed._context(TOKENS, span_of(TEXT, part), window) == pytest.approx(expected)


# ---- _span_score -------------------------------------------------------------------------


def score(question: str, text: str, part: str, kind: str, lang: str = "en", head=True):
    query = q(question, lang)
    terms, heads = typed._question_terms(query)
    qtype = spans.question_type(question, lang)
    tokens = typed._token_matches(text, lang, terms)
    span = span_of(text, part, kind)
    return typed._span_score(text, span, qtype, terms, heads if head else set(), tokens, lang, P)


def test_span_score_right_kind_in_context():
    text = "Lavrov and Blinken held talks in Geneva on January 21."
    got = score("When did Lavrov and Blinken hold talks?", text, "January 21", "date")
    # fit 1 x (1 + w_close x context): "talks" 4 words before, "Blinken" 6 ("held" is not
    # "hold", "Lavrov" is 8 away); no share, no length penalty.
    assert got == pytest.approx((1.0 * (1 + 0.5 * (1 / 4 + 1 / 6)), 1.0, 1 / 4 + 1 / 6))


def test_span_score_context_is_capped():
    text = "Geneva Geneva Geneva Geneva January 21 Geneva Geneva Geneva"
    got = score("When was the Geneva Geneva meeting?", text, "January 21", "date")
    assert got[2] > 2 and got[0] == pytest.approx(1.0 * (1 + 0.5 * 2))


@pytest.mark.parametrize(
    "question, part, kind",
    [
        ("When did they meet?", "Lavrov", "person"),  # a date question: a person does not fit
        ("Who met Blinken?", "January 21", "date"),
        ("How many met?", "Geneva", "place"),
    ],
)
def test_span_score_wrong_kind_is_none(question, part, kind):
    text = "Lavrov met Blinken in Geneva on January 21."
    assert score(question, text, part, kind) is None


@pytest.mark.parametrize(
    "question, text, part, lang",
    [
        ("Who met Blinken in Geneva?", "Lavrov met Blinken in Geneva.", "Blinken", "en"),
        ("Who met Blinken in Geneva?", "Lavrov met Blinken in Geneva.", "Geneva", "en"),
        ("Кто встречался с Blinken?", "Лавров встретился с Блинкен.", "Блинкен", "ru"),
        ("When was it, January 21?", "It was on January 21.", "January 21", "en"),
    ],
)
def test_span_score_what_the_question_says_never_wins(question, text, part, lang):
    kind = "date" if part[0].isdigit() or part.startswith("Jan") else "person"
    assert score(question, text, part, kind, lang) is None


@pytest.mark.parametrize("part", ["—", "😉", "?!"])
def test_span_score_without_words_is_none(part):
    text = f"Lavrov met Blinken {part} in Geneva."
    assert score("What happened?", text, part, "other") is None


def test_span_score_question_words_in_the_span_cost():
    text = "talks in Geneva"
    got = score("Where is Geneva?", text, "talks in Geneva", "other")
    # place question, "other" span: fit 0.2; "geneva" word and stem known: share 2 / (3 + 2).
    assert got == pytest.approx((0.2 - 0.8 * 2 / 5, 0.2, 0.0))


def test_span_score_words_naming_what_is_asked_are_not_known():
    """ "Which agreements": "Minsk agreements" answers it; the head word is no penalty."""
    question, text = "Which agreements did they sign?", "They signed the Minsk agreements."
    with_head = score(question, text, "Minsk agreements", "other")
    without = score(question, text, "Minsk agreements", "other", head=False)
    context = with_head[2]  # "signed" and "They" before it
    assert context == pytest.approx(1 / 2 + 1 / 3) and without[2] == context
    assert with_head[0] == pytest.approx(0.8 * (1 + 0.5 * context))
    assert without[0] == pytest.approx(with_head[0] - 0.8 * 2 / 4)  # "agreements", "agreement"


def test_span_score_long_spans_cost():
    text = "the talks of the foreign ministers of the two great powers ended"
    part = "talks of the foreign ministers of the two great powers"  # 10 words
    got = score("What ended?", text, part, "other")
    assert got[0] == pytest.approx(0.8 * (1 + 0.5 * got[2]) - 5 * 0.05)


# ---- choose and choices on a tiny index --------------------------------------------------

ANSWER_SENTENCE = "Lavrov and Blinken held talks in Geneva on January 21."
NAMES = {
    "Lavrov": "person",
    "Blinken": "person",
    "Antony Blinken": "person",
    "Zelensky": "person",
    "Jens Stoltenberg": "person",
    "Geneva": "place",
    "Kyiv": "place",
    "Brussels": "place",
    "Moscow": "place",
    "NATO": "org",
}


def fake_candidates(text: str, lang: str) -> tuple[spans.Span, ...]:
    """spans.candidates without the NER models: the patterns, then every NAMES occurrence."""
    found = list(spans._patterns(text, lang))
    for name, kind in NAMES.items():
        start = text.find(name)
        while start >= 0:
            found.append(spans.Span(start, start + len(name), kind))
            start = text.find(name, start + 1)
    seen = {}
    for s in found:
        seen.setdefault((s.start, s.end), s)
    return tuple(seen.values())


@pytest.fixture(scope="module")
def tiny():
    """The English sample articles; the sentence holding the answer has the query's vector
    (cosine 1), every other text a random one (cosine near 0)."""
    arts = [article(p, t.strip()) for p, t in ARTICLES.items() if p.startswith("en/")]
    return memory_index(arts, lambda t: unit(0) if t == ANSWER_SENTENCE else FakeEmbedder._vec(t))


@pytest.fixture
def ner(monkeypatch):
    monkeypatch.setattr(spans, "candidates", fake_candidates)


def hits_of(index) -> list[Hit]:
    return [Hit(c, 1.0) for c in index.chunks]


@pytest.mark.parametrize(
    "question, qtype, answer",
    [
        ("When did Lavrov and Blinken hold talks?", "date", "January 21"),
        ("Where did Lavrov and Blinken hold talks?", "place", "Geneva"),
        ("Who held talks with Blinken?", "person", "Lavrov"),
    ],
)
def test_choose_the_typed_span_of_the_best_sentence(tiny, ner, question, qtype, answer):
    got_type, best = typed.choose(tiny, q(question, vec=unit(0)), hits_of(tiny), P)
    assert got_type == qtype
    text = best.scored.sentence.text
    assert text == ANSWER_SENTENCE and best.scored.cos == pytest.approx(1.0)
    assert text[best.span.start : best.span.end] == answer
    assert best.fit == 1.0


def test_choices_one_per_sentence_best_first(tiny, ner):
    qtype, found = typed.choices(tiny, q("When did NATO answer?", vec=unit(0)), hits_of(tiny), P)
    assert qtype == "date" and 0 < len(found) <= P.sentences
    assert [c.total for c in found] == sorted((c.total for c in found), reverse=True)
    assert len({c.scored.sentence.id for c in found}) == len(found)
    terms, head = typed._question_terms(q("When did NATO answer?"))
    for c in found:  # sentence score + w_span x span score + w_typed for a span of the kind
        text, lang = c.scored.sentence.text, c.scored.sentence.lang
        tokens = typed._token_matches(text, lang, terms)
        got = typed._span_score(text, c.span, "date", terms, head, tokens, lang, P)
        typed_bonus = P.w_typed if got[1] >= 0.5 else 0.0
        assert (c.fit, c.context) == got[1:]
        assert c.total == pytest.approx(c.scored.score + P.w_span * got[0] + typed_bonus)


def test_choices_fall_back_to_the_best_sentence_without_spans(tiny, monkeypatch):
    monkeypatch.setattr(spans, "candidates", lambda text, lang: ())
    qtype, found = typed.choices(tiny, q("When did it happen?", vec=unit(0)), hits_of(tiny), P)
    assert len(found) == 1 and found[0].span is None
    assert found[0].scored.sentence.text == ANSWER_SENTENCE


def test_choose_without_hits(tiny, ner):
    assert typed.choose(tiny, q("When?", vec=unit(0)), [], P) == ("date", None)


def test_read_gives_offsets_into_the_article(tiny, ner):
    query = q("When did Lavrov and Blinken hold talks?", vec=unit(0))
    ans = typed.read(tiny, query, hits_of(tiny), min_score=0.0)
    assert ans.text == "January 21" and ans.qtype == "date"
    assert tiny.articles[ans.article_id].text[ans.start : ans.end] == ans.text
    assert ans.sentence.start <= ans.start < ans.end <= ans.sentence.end
    assert 0.0 < ans.score < 1.0 and len(ans.hits) == len(tiny.chunks)


def test_read_abstains_below_the_threshold(tiny, ner):
    query = q("When did Lavrov and Blinken hold talks?", vec=unit(0))
    ans = typed.read(tiny, query, hits_of(tiny), min_score=1.01)
    assert ans.text is None and ans.start is None and ans.hits and 0 < ans.score < 1


def test_confidence_grows_with_cosine_and_overlap(tiny, ner):
    query = q("When did Lavrov and Blinken hold talks?", vec=unit(0))
    _, best = typed.choose(tiny, query, hits_of(tiny), P)
    base = typed.confidence(query, best, P)
    worse = Scored(best.scored.sentence, 0.5, best.scored.overlap, best.scored.score)
    lower = typed.Choice(worse, best.span, best.fit, best.context, best.total)
    assert typed.confidence(query, lower, P) < base
    z = P.conf[0] + sum(w * x for w, x in zip(P.conf[1:], typed.features(query, best)))
    assert base == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-4)
