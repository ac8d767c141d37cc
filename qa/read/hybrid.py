"""The hybrid reader: the trained span model (qa.read.span_model) reads the best sentences the
sentence ranking of qa.read.typed found, and that ranking decides between them.

Chosen on the "tune" articles of the XQuAD dev split by bench/reader_combine.py (see README):
given the right sentence the model's span is far better than the typed extractor's, but it
ranks sentences worse than the retrievers' sentence score does, so that score dominates the
rank; snapping its spans to typed candidates cost 5 points of F1 and was dropped. The
confidence is a logistic model of the span's margin over "no answer" and the sentence's
features, fitted on the same articles.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from qa.read import spans
from qa.read.sentences import ranked
from qa.read.span_model import SpanGuess
from qa.read.typed import FIT, Choice, ReaderParams, _token_matches, finish
from qa.store import lexical
from qa.store.base import SearchIndex
from qa.types import Answer, Hit, Query, Sentence


def read(
    index: SearchIndex, query: Query, hits: list[Hit], min_score: float, p: ReaderParams, model
) -> Answer:
    """The best span the model finds in the best sentences, or Answer(text=None)."""
    qtype, found = span_choices(index, query, hits, model, p)
    found.sort(key=lambda c: -(c.total + p.span_sentence * c.scored.score + p.span_fit * c.fit))
    return finish(
        index, query, hits, qtype, found, lambda c: confidence(query, c, found, p), min_score
    )


def span_choices(index: SearchIndex, query: Query, hits: list[Hit], model, p: ReaderParams):
    """(question type, the span model's best span in each of the best sentences, best first
    by its margin over "no answer", kept in ``Choice.total``).

    The model reads the sentences the retrievers and the sentence score rank best (those it was
    trained on: qa.read.train_shared), with one "no answer" for them all (the mean of their
    no-answer logits): a span's margin over it compares across sentences. Who, where, when and
    how-many questions get spans of at most ``p.short_answer`` tokens: a name, a place, a date,
    not the clause around it. A span's kind is that of the date or number pattern it overlaps
    (or "other"), and FIT of that kind is kept in ``Choice.fit``: it lets dates and numbers
    from other articles be compared (qa.news conflicts). Named-entity kinds (spaCy, natasha)
    are not looked up: ~1.6 s of imports and ~20 ms a sentence for nothing measurable."""
    qtype = spans.question_type(query.text, query.lang)
    top = ranked(index, query, hits, p)[: p.read]
    # The span model reads at most 256 tokens of question and passage together: a question of
    # up to 1000 characters (the pipeline's limit) could fill them alone.
    asked = query.text[:QUESTION_CHARS]
    longest = p.short_answer if qtype != "other" else p.long_answer
    guesses = model.guess(asked, [x.sentence.text for x in top], longest=longest)
    null = sum(g.null for g in guesses) / len(guesses) if guesses else 0.0
    norm = float(np.logaddexp.reduce([null] + [g.mass for g in guesses]))
    terms = _content_terms(query) if qtype in ("person", "place") and p.title_words else None
    out = []
    for sc, g in zip(top, guesses):
        if terms:
            g = _titled(sc.sentence, g, terms, len(set(query.tokens)), p)
        start, end = _tidy(sc.sentence.text, g.start, g.end)
        if end <= start:
            continue
        typed = _overlapping(sc.sentence, start, end)
        if typed:  # never half a date or a number: "26" of "January 26" is "January 26"
            start, end = min(start, typed.start), max(end, typed.end)
        kind = typed.kind if typed else "other"
        span = spans.Span(start, end, kind)
        fit = FIT[qtype].get(kind, 0.0)
        out.append(Choice(sc, span, fit, 0.0, g.score - null, min(0.0, g.score - norm)))
    out.sort(key=lambda c: -c.total)
    return qtype, out


_PAIRS = {")": "(", "]": "[", "»": "«"}
QUESTION_CHARS = 200  # ~60 tokens of ordinary text, ~200 at worst: passages keep room


def _tidy(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the punctuation subword tokens drag along ("January 26," -> "January
    26"): commas, colons and dashes at either end, a sentence's full stop (not an
    abbreviation's: "U.S."), and a bracket or quote left unmatched."""
    while start < end and (text[start].isspace() or text[start] in ",;:—–-"):
        start += 1
    while end > start:
        ch, span = text[end - 1], text[start:end]
        dot = ch == "." and not re.search(r"\b\w\.\w?\.$", span)
        unmatched = (ch in _PAIRS and span.count(ch) > span.count(_PAIRS[ch])) or (
            ch in "\"'" and span.count(ch) % 2 == 1
        )
        if ch.isspace() or ch in ",;:—–-" or dot or unmatched:
            end -= 1
        elif _unopened(span):
            start += 1
        else:
            break
    return start, end


def _content_terms(query: Query) -> set[str]:
    """The question's content words (stems and surface forms), without "who", "the", "is"."""
    stems = set(query.tokens)
    words = {w for w in lexical.words(query.text) if set(lexical.tokens(w, query.lang)) & stems}
    return stems | words


def _titled(sent: Sentence, g: SpanGuess, terms: set[str], need: int, p: ReaderParams) -> SpanGuess:
    """For who/where questions: a runner-up span within ``p.near`` logits of the model's best
    wins when the question's whole relation introduces it and not the best one: all ``need``
    content words of the question (at least ``p.title_words``) right before it, nothing between
    ("NATO Secretary General [Jens Stoltenberg]" for "Who is the NATO Secretary General?", not
    "US Secretary of State [Antony Blinken]" earlier in the same sentence). Measured on
    XQuAD's tune articles, a looser rule (some of the question's words before the span) picked
    the wrong name more often than the right one."""
    tokens = _token_matches(sent.text, sent.lang, terms)

    def lead(start: int) -> int:
        n = 0
        for _, _, asked in reversed([t for t in tokens if t[1] <= start]):
            if not asked:
                break
            n += 1
        return n

    best = lead(g.start)
    enough = max(p.title_words, need)
    options = [o for o in g.others if o[2] >= g.score - p.near and lead(o[0]) >= enough]
    if not options:
        return g
    a, b, _ = max(options, key=lambda o: (lead(o[0]), o[2]))
    if lead(a) <= best:
        return g
    # The best span's score stays: it says how sure the model is that the sentence answers;
    # the question's own words only told which of its names does.
    return dataclasses.replace(g, start=a, end=b)


def _unopened(span: str) -> bool:
    """The span starts with an opening bracket or quote that it never closes."""
    first = span[0]
    if first == '"':
        return span.count('"') % 2 == 1
    closer = {v: k for k, v in _PAIRS.items()}.get(first)
    return closer is not None and closer not in span


def _overlapping(sent: Sentence, start: int, end: int) -> spans.Span | None:
    """The date or number span of the sentence that overlaps [start, end) most, if any."""
    best, found = 0, None
    for c in spans.typed_by_pattern(sent.text, sent.lang):
        inter = min(end, c.end) - max(start, c.start)
        if inter > best:
            best, found = inter, c
    return found


def _text(c: Choice) -> str:
    return c.scored.sentence.text[c.span.start : c.span.end] if c.span else ""


def features(query: Query, c: Choice, found: list[Choice]) -> list[float]:
    """What the confidence is computed from: the span's margin over "no answer", the sentence's
    score and word overlap, same language as the question, the answer's length in words (long
    "answers" are clauses, and wrong), how far the sentence's score is ahead of the next best
    one read, the answer's probability among all spans read and "no answer" (summed over every
    sentence that gives the same answer: wire copies repeat facts), and how well its kind
    fits the question (a date for a when-question)."""
    same = float(c.scored.sentence.lang == query.lang)
    key = lexical.passage_key(_text(c))
    others = [o for o in found if o is not c]
    gap = c.scored.score - max((o.scored.score for o in others), default=c.scored.score - 0.1)
    words = len(lexical.words(_text(c)))
    agree = [o.logp for o in others if key and o.span and lexical.passage_key(_text(o)) == key]
    logp = float(np.logaddexp.reduce([c.logp, *agree]))
    return [c.total, c.scored.score, c.scored.overlap, same, math.log1p(words), gap, logp, c.fit]


def confidence(query: Query, c: Choice, found: list[Choice], p: ReaderParams) -> float:
    z = p.span_conf[0] + sum(w * x for w, x in zip(p.span_conf[1:], features(query, c, found)))
    return round(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))), 4)
