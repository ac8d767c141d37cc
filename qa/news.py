"""News-aware enrichment of an answer: who else reports it, and what its relative dates mean.

Wire copies are rarely verbatim: outlets trim and reword ("handed over" / "submitted"), and
the same story runs in English and Russian. A sentence corroborates the evidence when its e5
vector is nearly the same and it shares the evidence's words (same language) or its numbers
(across languages), so unrelated sentences on the same topic do not count.
"""

from __future__ import annotations

import re

import numpy as np

from qa import dates, lexical
from qa.index import Index
from qa.types import Answer, Sentence

SAME_LANG_COS = 0.88  # rewordings of one wire sentence score 0.90-1.0, same-topic ones ~0.8
CROSS_LANG_COS = 0.86  # e5 translation pairs score 0.88-0.93
MIN_SHARED_WORDS = 0.3  # stem Jaccard for same-language rewordings
_DIGITS = re.compile(r"\d+")


def _jaccard(a: Sentence, b: Sentence) -> float:
    x, y = set(lexical.tokens(a.text, a.lang)), set(lexical.tokens(b.text, b.lang))
    return len(x & y) / len(x | y) if x and y else 0.0


def _agrees(a: Sentence, b: Sentence, cos: float, answer: str) -> bool:
    """Does ``b`` state what ``a`` states, answer included? Same language: the answer's words
    must be in ``b`` too (topically close sentences with another fact do not count)."""
    if a.lang == b.lang:
        need = set(lexical.tokens(answer, a.lang)) or set(lexical.words(answer))
        have = set(lexical.tokens(b.text, b.lang)) | set(lexical.words(b.text))
        return cos >= SAME_LANG_COS and need <= have and _jaccard(a, b) >= MIN_SHARED_WORDS
    digits_a, digits_b = set(_DIGITS.findall(a.text)), set(_DIGITS.findall(b.text))
    if digits_a != digits_b:
        return False
    return cos >= (CROSS_LANG_COS if digits_a else CROSS_LANG_COS + 0.04)


def corroborating(
    index: Index, sentence: Sentence, answer: str, limit: int = 50
) -> list[tuple[Sentence, float]]:
    """Sentences of other articles that state the same answer, best first (one per article)."""
    row = index.sentence_row[sentence.id]
    vec = index.sentence_vecs[row]
    scores, rows = index.sentence_faiss.search(
        vec.reshape(1, -1).astype(np.float32), min(limit, index.sentence_faiss.ntotal)
    )
    seen, out = {sentence.article_id}, []
    for r, cos in zip(rows[0], scores[0]):
        if r < 0:
            continue
        other = index.sentences[int(r)]
        if other.article_id in seen or not _agrees(sentence, other, float(cos), answer):
            continue
        seen.add(other.article_id)
        out.append((other, round(float(cos), 4)))
    return out


def enrich(index: Index, answer: Answer) -> dict:
    """Extra answer fields: corroborating passages, outlets reporting it, resolved dates."""
    if answer.text is None or answer.sentence is None:
        return {}
    s = answer.sentence
    article = index.articles[s.article_id]
    support = corroborating(index, s, answer.text)
    outlets = []
    for a in [article] + [index.articles[o.article_id] for o, _ in support]:
        if a.outlet and a.outlet not in outlets:
            outlets.append(a.outlet)
    found = dates.relative_dates(s.text, article.published, s.lang)
    resolved = None
    for d in found:  # the answer is (or contains, or sits in) a relative date expression
        lo, hi = s.start + d["start"], s.start + d["end"]
        if lo < answer.end and answer.start < hi:
            resolved = {**d, "start": lo, "end": hi, "display": f"{answer.text} ({d['label']})"}
            break
    return {
        "corroborated_by": [
            {
                "article_id": o.article_id,
                "sentence": o.text,
                "start": o.start,
                "end": o.end,
                "similarity": cos,
            }
            for o, cos in support
        ],
        "reported_by": outlets,
        "dates": [{**d, "start": s.start + d["start"], "end": s.start + d["end"]} for d in found],
        "resolved_date": resolved,
    }
