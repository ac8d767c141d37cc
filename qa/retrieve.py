"""Question -> ranked passages: dense (e5 + FAISS) and lexical (BM25, question's language)
results fused by weighted reciprocal rank, overlapping windows and wire copies collapsed."""

from __future__ import annotations

from qa.store import lexical
from qa.store.base import SearchIndex
from qa.types import Chunk, Hit, Query


def fuse(
    lists: list[tuple[list[tuple[int, float]], float, int | None]], k: int
) -> dict[int, tuple[float, float | None, float | None]]:
    """Weighted reciprocal-rank fusion of ranked (row, score) lists, each with its weight and
    the slot (1 dense, 2 lexical) its raw score is reported in. Ranks, not scores: the
    retrievers' scales are unrelated (cosines compressed near 0.8, BM25 unbounded)."""
    fused: dict[int, list] = {}
    for ranked, weight, slot in lists:
        for rank, (row, score) in enumerate(ranked):
            v = fused.setdefault(row, [0.0, None, None])
            v[0] += weight / (k + rank + 1)
            if slot and v[slot] is None:
                v[slot] = score
    return {row: tuple(v) for row, v in fused.items()}


def _overlaps(a: Chunk, b: Chunk) -> bool:
    return (
        a.article_id == b.article_id
        and a.sentences[0] < b.sentences[1]
        and b.sentences[0] < a.sentences[1]
    )


def collapse(index: SearchIndex, ranked: list[tuple[int, tuple]], limit: int) -> list[Hit]:
    """Best-first hits without overlapping windows of one article; a passage repeated verbatim
    in other articles (wire copies) becomes one hit listing them in ``also_in``."""
    hits: list[Hit] = []
    kept: list[Chunk] = []
    by_key: dict[str, int] = {}
    for row, (score, dense, lex) in ranked:
        chunk = index.chunks[row]
        if any(_overlaps(chunk, k) for k in kept):
            continue
        key = lexical.passage_key(chunk.text)
        if key in by_key:
            i = by_key[key]
            if (
                chunk.article_id != hits[i].chunk.article_id
                and chunk.article_id not in hits[i].also_in
            ):
                h = hits[i]
                hits[i] = Hit(h.chunk, h.score, h.dense, h.lexical, h.also_in + (chunk.article_id,))
            kept.append(chunk)
            continue
        if len(hits) >= limit:
            continue  # still scanning, so later copies of kept passages are folded in
        by_key[key] = len(hits)
        kept.append(chunk)
        hits.append(Hit(chunk, score, dense, lex))
    return hits


def retrieve(
    index: SearchIndex,
    query: Query,
    *,
    candidates: int,
    limit: int,
    w_dense: float,
    w_lex: float,
    w_sent: float,
    rrf_k: int,
    langs: tuple[str, ...] | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[Hit]:
    """The ``limit`` best passages for the query, optionally only in the given languages and
    never from the ``exclude``d articles."""
    filtered = bool(langs or exclude)
    depth = candidates * 4 if filtered else candidates  # filters thin the candidate lists
    dense = index.dense_search(query.vec, depth)
    sent = index.sentence_search(query.vec, depth)
    lex_index = index.lexical.get(query.lang)
    lex = lex_index.search(list(query.tokens), depth) if lex_index else []
    if filtered:

        def keep(row: int) -> bool:
            c = index.chunks[row]
            return (not langs or c.lang in langs) and c.article_id not in exclude

        dense = [(r, s) for r, s in dense if keep(r)]
        sent = [(r, s) for r, s in sent if keep(r)]
        lex = [(r, s) for r, s in lex if keep(r)]
    lists = [
        (dense[:candidates], w_dense, 1),
        (sent[:candidates], w_sent, 1),
        (lex[:candidates], w_lex, 2),
    ]
    fused = fuse(lists, rrf_k)
    ranked = sorted(fused.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return collapse(index, ranked, limit)
