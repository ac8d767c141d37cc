"""Passages -> Answer: pick the evidence sentence, extract a typed span from it, or abstain.

Sentence relevance combines the e5 cosine between the question and the sentence (embedded at
index time, so nothing is embedded here) with IDF-weighted overlap of the question's stemmed
words. Spans come from qa.read.spans, ranked by how well their kind fits the question type and by
how many of the question's words surround them (answers sit next to the words the question
repeats); a span the question already contains never wins. The confidence is a logistic
model of those features, fitted with `qa eval` on the XQuAD dev split (see README).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from qa.read import spans
from qa.read.sentences import Scored, ranked
from qa.store import lexical
from qa.store.base import SearchIndex
from qa.types import Answer, Hit, Query

# How well a span kind answers a question type (rows: question type).
FIT = {
    "date": {"date": 1.0, "number": 0.2},
    "number": {"number": 1.0, "date": 0.3},
    "person": {"person": 1.0, "org": 0.6, "norp": 0.2, "place": 0.2, "other": 0.2},
    "place": {"place": 1.0, "org": 0.5, "other": 0.2, "norp": 0.2},
    "other": {
        "other": 0.8,
        "org": 0.8,
        "person": 0.7,
        "place": 0.7,
        "number": 0.5,
        "date": 0.5,
        "norp": 0.4,
    },
}
TYPED_THRESHOLD = 0.4  # the typed reader's default (calibrated on evidence, not on spans)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class ReaderParams:
    hits: int = 5  # passages whose sentences are considered
    sentences: int = 4  # best sentences the typed reader searches for spans
    w_overlap: float = 0.25
    w_rank: float = 0.03
    w_span: float = 0.05
    w_close: float = 0.5
    w_typed: float = 0.1  # a date/person/place/number question wants a span of that kind
    window: int = 6  # words each side of a span in which question words count as context
    # Logistic confidence, fitted on the dev split by bench/calibrate.py (see README):
    # intercept, cosine, overlap, same language, span fit, context.
    conf: tuple[float, ...] = (-8.2, 9.19, 5.61, -4.24, 1.41, 0.24)
    # The span reader (qa.read.span_model) combined with the sentence ranking above; chosen and
    # fitted on the "tune" articles of the XQuAD dev split by bench/reader_combine.py (README).
    # A candidate's rank: the span's margin over "no answer" + span_sentence x the sentence's
    # score + span_fit x the question type's fit to the span's kind. The sentence score
    # dominates: the model extracts well but ranks sentences worse than the retrievers do.
    span_sentence: float = 100.0
    # Sentences the span model reads (hybrid reader). It was trained on groups of 4
    # (qa.read.train_shared.READ); reading 3 gave the same F1 in every held-out cell, the same
    # precision within one question, and ~20% less time a question (docs/quality.md).
    read: int = 3
    span_fit: float = 0.0  # 0, 1 and 2 scored within a point; snapping to typed spans cost 5
    short_answer: int = 16  # span tokens at most for who/where/when/how-many questions
    long_answer: int = 30  # and for the rest
    # Who/where questions: a runner-up span within `near` logits of the model's best wins when
    # `title_words` or more of the question's words stand right before it, and not before the
    # best (qa.read.hybrid._titled; 0 turns it off).
    title_words: int = 2
    near: float = 12.0
    # Logistic confidence that the answer is right (F1 >= 0.5), fitted on the tune articles by
    # bench/reader_confidence.py: intercept, margin, sentence score, overlap, same language,
    # log(1 + words), lead over the next sentence, log-probability, kind fit (hybrid.features).
    span_conf: tuple[float, ...] = (
        -0.235,
        -0.141,
        1.26,
        1.816,
        -1.651,
        0.004,
        1.203,
        0.555,
        -0.056,
    )
    # The hybrid reader's default threshold. On the tune articles at 0.4: 55% of questions
    # answered, 55% of those right, 97% of withheld-paragraph questions declined. 85% right
    # (the goal) takes 0.7 there and answers 1.5%: XQuAD is harder than news (docs/quality.md).
    threshold: float = 0.4


@dataclass(frozen=True)
class Choice:
    """The reader's pick and the features its confidence is computed from."""

    scored: Scored
    span: spans.Span | None
    fit: float
    context: float
    total: float
    # the span reader: log-probability of this span under one softmax over every span of
    # the sentences read and "no answer" (0 for the typed reader)
    logp: float = 0.0


_WH_HEAD = re.compile(
    r"\b(?:which|what|как(?:ой|ая|ое|ие|ого|ому|им|ом|ую|их|ими)|котор\w+)\s+((?:[^\W\d_]+\s+)?[^\W\d_]+)",
    re.IGNORECASE,
)


def _question_terms(query: Query) -> tuple[set[str], set[str]]:
    """(surface words, stems and transliterations of the question; the words naming what a
    which/what/какой question asks for: "По каким [соглашениям]" is answered by "Минским
    соглашениям", so those words in a span do not mean the question already says it)."""
    words = set(lexical.words(query.text))
    terms = words | set(query.tokens) | {lexical.translit(w) for w in words}
    head = set()
    for m in _WH_HEAD.finditer(query.text):
        for w in lexical.words(m.group(1)):
            head |= {w, *lexical.tokens(w, query.lang)}
    return terms, head


def _token_matches(text: str, lang: str, terms: set[str]) -> list[tuple[int, int, bool]]:
    """(start, end, is a question word) for every word of the sentence."""
    out = []
    for m in _TOKEN.finditer(text):
        w = m.group().lower().replace("ё", "е")
        stem = lexical.tokens(w, lang)
        out.append((m.start(), m.end(), w in terms or bool(stem and stem[0] in terms)))
    return out


def _context(tokens: list[tuple[int, int, bool]], span: spans.Span, window: int) -> float:
    """Question words within ``window`` words either side of the span, nearer ones counting
    more; 0 when none."""
    inside = [i for i, (s, e, _) in enumerate(tokens) if s >= span.start and e <= span.end]
    if not inside:
        return 0.0
    first, last = inside[0], inside[-1]
    score = 0.0
    for i, (_, _, hit) in enumerate(tokens):
        if not hit or first <= i <= last:
            continue
        dist = first - i if i < first else i - last
        if dist <= window:
            score += 1.0 / dist
    return score


def _span_score(
    text, span, qtype, terms, head, tokens, lang, p
) -> tuple[float, float, float] | None:
    """(score, fit, context) of a candidate span, or None if it cannot be the answer."""
    fit = FIT[qtype].get(span.kind, 0.0)
    words = lexical.words(text[span.start : span.end])
    if not words or fit == 0.0:
        return None
    stems = lexical.tokens(" ".join(words), lang)
    known = terms - head
    inside = sum(1 for w in words if w in known or lexical.translit(w) in known)
    inside += sum(1 for s in stems if s in known)
    share = min(1.0, inside / (len(words) + len(stems)))
    if all(w in terms or lexical.translit(w) in terms for w in words):
        return None  # the question already says it
    context = _context(tokens, span, p.window)
    length = max(0, len(words) - 5) * 0.05
    # Multiplicative: context raises a span of the right kind, never rescues the wrong kind.
    score = fit * (1.0 + p.w_close * min(context, 2.0)) - 0.8 * share - length
    return score, fit, context


def choices(
    index: SearchIndex, query: Query, hits: list[Hit], p: ReaderParams
) -> tuple[str, list[Choice]]:
    """(question type, the best span of each of the best sentences, best first)."""
    qtype = spans.question_type(query.text, query.lang)
    scored = ranked(index, query, hits, p)
    terms, head = _question_terms(query)
    out = []
    for sc in scored[: p.sentences]:
        text, lang = sc.sentence.text, sc.sentence.lang
        tokens = _token_matches(text, lang, terms)
        best = None
        for span in spans.candidates(text, lang):
            got = _span_score(text, span, qtype, terms, head, tokens, lang, p)
            if got is None:
                continue
            typed = p.w_typed if qtype != "other" and got[1] >= 0.5 else 0.0
            total = sc.score + p.w_span * got[0] + typed
            if best is None or total > best.total:
                best = Choice(sc, span, got[1], got[2], total)
        if best:
            out.append(best)
    out.sort(key=lambda c: -c.total)
    if not out and scored:
        out.append(Choice(scored[0], None, 0.0, 0.0, scored[0].score))
    return qtype, out


def choose(
    index: SearchIndex, query: Query, hits: list[Hit], p: ReaderParams
) -> tuple[str, Choice | None]:
    """(question type, best sentence and span) before any abstention."""
    qtype, found = choices(index, query, hits, p)
    return qtype, found[0] if found else None


def features(query: Query, c: Choice) -> list[float]:
    same = float(c.scored.sentence.lang == query.lang)
    return [c.scored.cos, c.scored.overlap, same, c.fit, min(c.context, 2.0)]


def confidence(query: Query, c: Choice, p: ReaderParams) -> float:
    z = p.conf[0] + sum(w * x for w, x in zip(p.conf[1:], features(query, c)))
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def read(
    index: SearchIndex,
    query: Query,
    hits: list[Hit],
    min_score: float,
    p: ReaderParams = ReaderParams(),
) -> Answer:
    """The best typed span in the best sentences, or Answer(text=None) below ``min_score``."""
    qtype, found = choices(index, query, hits, p)
    return finish(index, query, hits, qtype, found, lambda c: confidence(query, c, p), min_score)


def finish(index, query: Query, hits, qtype: str, found: list[Choice], conf_of, min_score: float):
    """The Answer for the best of ``found`` (best first), abstaining below ``min_score``,
    with confident differing answers from other articles as alternatives."""
    if not found:
        return Answer(query.text, query.lang, None, 0.0, qtype=qtype, hits=tuple(hits))
    c = found[0]
    conf = conf_of(c)
    if c.span is None or conf < min_score:
        return Answer(query.text, query.lang, None, conf, qtype=qtype, hits=tuple(hits))
    floor = max(min_score, conf - 0.2)
    others = _alternatives(index, query, c, found[1:], qtype, floor, conf_of)
    return _answer(index, query, c, conf, qtype, hits, others)


def _alternatives(index, query, best, rest, qtype, floor, conf_of) -> tuple[Answer, ...]:
    """Confident typed answers from other articles whose text differs from the best one:
    candidates for "the sources disagree" (qa.news drops those that corroborate it)."""
    if qtype == "other":
        return ()
    key = lexical.passage_key(best.scored.sentence.text[best.span.start : best.span.end])
    out, seen = [], {best.scored.sentence.article_id}
    for c in rest:
        s = c.scored.sentence
        if c.span is None or c.fit < 0.5 or s.article_id in seen:
            continue
        if lexical.passage_key(s.text[c.span.start : c.span.end]) == key:
            continue
        conf_c = conf_of(c)
        if conf_c >= floor:
            seen.add(s.article_id)
            out.append(_answer(index, query, c, conf_c, qtype, [], ()))
    return tuple(out)


def _answer(index, query, c: Choice, conf: float, qtype: str, hits, others) -> Answer:
    s = c.scored.sentence
    start, end = s.start + c.span.start, s.start + c.span.end
    article = index.articles[s.article_id]
    copies = tuple(a for a in index.copies(lexical.passage_key(s.text)) if a != s.article_id)
    return Answer(
        query.text,
        query.lang,
        article.text[start:end],
        conf,
        start,
        end,
        s,
        s.article_id,
        copies,
        qtype,
        tuple(hits),
        others,
    )
