"""Sentence ranking, shared by the typed and the hybrid readers: every sentence of the top
passages scored by its e5 cosine to the question (embedded at index time, so nothing is
embedded here), the IDF-weighted overlap of the question's stemmed words, and its passage's
rank."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.store import lexical
from qa.store.base import SearchIndex
from qa.types import Hit, Query, Sentence


@dataclass
class Scored:
    sentence: Sentence
    cos: float
    overlap: float
    score: float


def overlap(index: SearchIndex, query: Query, sentence: Sentence) -> float:
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
    return sum(w for t, w in weights.items() if present(t, have)) / total if total else 0.0


def present(term: str, have: set[str]) -> bool:
    """Exact stem match, or one stem extends the other (stemmers leave "ukrain" and
    "ukrainian", "соглашен" and "соглашениям" apart); short stems must match exactly."""
    if term in have:
        return True
    if len(term) < 5:
        return False
    return any(len(h) >= 5 and (h.startswith(term) or term.startswith(h)) for h in have)


def ranked(index: SearchIndex, query: Query, hits: list[Hit], p) -> list[Scored]:
    """The sentences of the first ``p.hits`` passages, best first (``p``: ReaderParams)."""
    seen, out = set(), []
    for rank, hit in enumerate(hits[: p.hits]):
        art = index.entry_of(hit.chunk.article_id)
        for i in range(*hit.chunk.sentences):
            s = art.sentences[i]
            if s.id in seen:
                continue
            seen.add(s.id)
            cos = float(np.dot(index.sentence_vector(index.sentence_row[s.id]), query.vec))
            ovl = overlap(index, query, s)
            out.append(Scored(s, cos, ovl, cos + p.w_overlap * ovl + p.w_rank / (1 + rank)))
    out.sort(key=lambda x: -x.score)
    return out
