"""Passages -> Answer: pick the evidence sentence, extract a typed span from it, or abstain.

Sentence relevance combines the e5 cosine between the question and the sentence (embedded at
index time, so nothing is embedded here) with IDF-weighted overlap of the question's stemmed
words. Spans come from qa.spans, ranked by how well their kind fits the question type and how
close they sit to the question's words; a span the question already contains never wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa import lexical, spans
from qa.index import Index
from qa.retriever import Query
from qa.types import Answer, Hit, Sentence

# How well a span kind answers a question type (rows: question type).
FIT = {
    "date": {"date": 1.0, "number": 0.2},
    "number": {"number": 1.0, "date": 0.3},
    "person": {"person": 1.0, "org": 0.7, "place": 0.3, "other": 0.2},
    "place": {"place": 1.0, "org": 0.4, "other": 0.2},
    "other": {"other": 0.8, "org": 0.8, "person": 0.7, "place": 0.7, "number": 0.5, "date": 0.5},
}


@dataclass(frozen=True)
class ReaderParams:
    hits: int = 5  # passages whose sentences are considered
    sentences: int = 4  # best sentences searched for spans
    w_overlap: float = 0.25
    w_rank: float = 0.03
    w_span: float = 0.15
    w_close: float = 0.5
    # Confidence = how far the evidence sentence stands above unrelated text for e5 (cosine
    # ~0.77) plus word overlap; see `qa eval` for the calibration.
    cos_floor: float = 0.78
    cos_span: float = 0.12


@dataclass
class _Scored:
    sentence: Sentence
    row: int
    cos: float
    overlap: float
    score: float


def _overlap(index: Index, query: Query, sentence: Sentence) -> float:
    """IDF-weighted share of the question's content words found in the sentence."""
    if not query.tokens:
        return 0.0
    lex = index.lexical.get(query.lang)
    if sentence.lang == query.lang:
        have = set(lexical.tokens(sentence.text, sentence.lang))
    else:  # across languages only names and numbers written alike can match
        have = set(lexical.words(sentence.text))
    weights = {t: (lex.idf(t) if lex else 1.0) for t in set(query.tokens)}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in have) / total if total else 0.0


def _sentences(index: Index, query: Query, hits: list[Hit], p: ReaderParams) -> list[_Scored]:
    seen, out = set(), []
    for rank, hit in enumerate(hits[: p.hits]):
        art = index.entry_of(hit.chunk.article_id)
        for i in range(*hit.chunk.sentences):
            s = art.sentences[i]
            if s.id in seen:
                continue
            seen.add(s.id)
            row = index.sentence_row[s.id]
            cos = float(np.dot(index.sentence_vecs[row], query.vec))
            ovl = _overlap(index, query, s)
            score = cos + p.w_overlap * ovl + p.w_rank / (1 + rank)
            out.append(_Scored(s, row, cos, ovl, score))
    out.sort(key=lambda x: -x.score)
    return out


def _question_words(question: str, lang: str) -> set[str]:
    return set(lexical.words(question)) | set(lexical.tokens(question, lang))


def _span_score(
    text: str, span: spans.Span, qtype: str, qwords: set[str], lang: str, p: ReaderParams
) -> float | None:
    fit = FIT[qtype].get(span.kind, 0.0)
    words = lexical.words(text[span.start : span.end])
    if not words or fit == 0.0:
        return None
    stems = lexical.tokens(text[span.start : span.end], lang) or words
    inside = sum(1 for w, s in zip(words, stems + words) if w in qwords or s in qwords)
    if inside >= len(words):
        return None  # the question already says it
    # Distance (in words) from the span to the nearest word the question shares.
    positions = [
        m.start()
        for m in re.finditer(r"\w+", text)
        if m.group().lower().replace("ё", "е") in qwords
        or lexical.tokens(m.group(), lang)[:1]
        and lexical.tokens(m.group(), lang)[0] in qwords
    ]
    if positions:
        gap = min(
            abs(len(text[min(pos, span.start) : max(pos, span.start)].split())) for pos in positions
        )
        close = 1.0 / (1.0 + gap / 4.0)
    else:
        close = 0.0
    length = max(0, len(words) - 5) * 0.05
    return fit + p.w_close * close - 0.4 * inside / len(words) - length


def confidence(best: _Scored, p: ReaderParams) -> float:
    dense = min(1.0, max(0.0, (best.cos - p.cos_floor) / p.cos_span))
    return round(0.6 * dense + 0.4 * best.overlap, 4)


def read(
    index: Index, query: Query, hits: list[Hit], min_score: float, p: ReaderParams = ReaderParams()
) -> Answer:
    """The best typed span in the best sentences, or Answer(text=None) below ``min_score``."""
    qtype = spans.question_type(query.text, query.lang)
    scored = _sentences(index, query, hits, p)
    none = Answer(query.text, query.lang, None, 0.0, qtype=qtype, hits=tuple(hits))
    if not scored:
        return none
    qwords = _question_words(query.text, query.lang)
    best = None
    for sc in scored[: p.sentences]:
        text = sc.sentence.text
        for span in spans.candidates(text, sc.sentence.lang):
            s = _span_score(text, span, qtype, qwords, sc.sentence.lang, p)
            if s is None:
                continue
            total = sc.score + p.w_span * s
            if best is None or total > best[0]:
                best = (total, sc, span)
    top = best[1] if best else scored[0]
    conf = confidence(top, p)
    if best is None or conf < min_score:
        return Answer(
            query.text, query.lang, None, conf, sentence=None, qtype=qtype, hits=tuple(hits)
        )
    _, sc, span = best
    s = sc.sentence
    start, end = s.start + span.start, s.start + span.end
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
    )
