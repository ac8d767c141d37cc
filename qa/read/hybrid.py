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

import math
import re

from qa.read import spans
from qa.read.sentences import ranked
from qa.read.typed import FIT, Choice, ReaderParams, finish
from qa.store.base import SearchIndex
from qa.types import Answer, Hit, Query, Sentence


def read(
    index: SearchIndex, query: Query, hits: list[Hit], min_score: float, p: ReaderParams, model
) -> Answer:
    """The best span the model finds in the best sentences, or Answer(text=None)."""
    qtype, found = span_choices(index, query, hits, model, p)
    found.sort(key=lambda c: -(c.total + p.span_sentence * c.scored.score + p.span_fit * c.fit))
    return finish(index, query, hits, qtype, found, lambda c: confidence(query, c, p), min_score)


def span_choices(index: SearchIndex, query: Query, hits: list[Hit], model, p: ReaderParams):
    """(question type, the span model's best span in each of the best sentences, best first
    by its margin over "no answer", kept in ``Choice.total``).

    The model reads sentences, not windows: ranked by the retrievers and the sentence score it
    picks the right passage less often than that score does (the gold sentence beat the
    paragraph's other sentences 44-70% of the time on the tune articles), but given the right
    sentence its span is far better than the typed extractor's. A span's kind is that of the
    date or number pattern it overlaps (or "other"), and FIT of that kind is kept in
    ``Choice.fit``: it lets dates and numbers from other articles be compared (qa.news
    conflicts). Named-entity kinds (spaCy, natasha) are not looked up: they cost ~1.6 s of
    imports and ~20 ms a sentence for a feature whose weight in the confidence is -0.05."""
    qtype = spans.question_type(query.text, query.lang)
    top = ranked(index, query, hits, p)[: p.sentences]
    out = []
    # The span model reads at most 256 tokens of question and passage together: a question of
    # up to 1000 characters (the pipeline's limit) could fill them alone.
    asked = query.text[:QUESTION_CHARS]
    for sc, g in zip(top, model.guess(asked, [x.sentence.text for x in top])):
        start, end = _tidy(sc.sentence.text, g.start, g.end)
        if end <= start:
            continue
        typed = _overlapping(sc.sentence, start, end)
        kind = typed.kind if typed else "other"
        span = spans.Span(start, end, kind)
        out.append(Choice(sc, span, FIT[qtype].get(kind, 0.0), 0.0, g.margin))
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


def features(query: Query, c: Choice) -> list[float]:
    same = float(c.scored.sentence.lang == query.lang)
    return [c.total, c.scored.cos, c.scored.overlap, same, c.fit]


def confidence(query: Query, c: Choice, p: ReaderParams) -> float:
    z = p.span_conf[0] + sum(w * x for w, x in zip(p.span_conf[1:], features(query, c)))
    return round(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))), 4)
