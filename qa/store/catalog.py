"""What every backend knows about an index version: the articles in corpus order, their
sentences and chunks (row = position in these lists), and the wire-copy table. Searching is
the backend's part (qa.store.faiss_index.Index, qa.store.postgres.index.PgIndex), behind the
interface in qa.store.base."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from qa.store import lexical
from qa.types import Article, Chunk, Sentence

FORMAT_VERSION = 1
# Cosines equal to this many decimals are ties (float noise: wire copies, summation order).
COS_DECIMALS = 6


@dataclass
class Entry:
    """Everything the index holds about one article; vectors are rows aligned with the lists."""

    article: Article
    sentences: list[Sentence]
    chunks: list[Chunk]
    sentence_vecs: np.ndarray
    chunk_vecs: np.ndarray


class Catalog:
    """What any backend knows about the indexed articles: entries in corpus order, their
    sentences and chunks (row = position in these lists) and the wire-copy table. Searching is
    the backend's part (Index here, qa.store.postgres.index.PgIndex on PostgreSQL)."""

    def __init__(self, entries: list[Entry], manifest: dict):
        self.entries = entries
        self.manifest = manifest
        self.articles = {e.article.id: e.article for e in entries}
        self.sentences = [s for e in entries for s in e.sentences]
        self.chunks = [c for e in entries for c in e.chunks]
        self.sentence_row = {s.id: i for i, s in enumerate(self.sentences)}
        self.version: str | None = None
        self._by_id = {e.article.id: e for e in entries}
        self.sentence_chunk = _sentence_chunks(entries)
        self._copies: dict[str, list[str]] | None = None

    def entry_of(self, article_id: str) -> Entry:
        return self._by_id[article_id]

    def copies(self, key: str) -> list[str]:
        """Ids of the articles holding a sentence with this passage key (wire copies)."""
        if self._copies is None:
            # dict keys keep insertion order and make the membership test O(1): a list made
            # this quadratic in the copies of a sentence (41 s at 1M chunks).
            table: dict[str, dict[str, None]] = {}
            for s in self.sentences:
                table.setdefault(lexical.passage_key(s.text), {})[s.article_id] = None
            self._copies = table
        return list(self._copies.get(key, ()))

    def sentence_hits_to_chunks(self, found, k: int) -> list[tuple[int, float]]:
        """[(chunk row, cosine of its best sentence)] from best-first (sentence row, cosine):
        the chunk centred on each of the best-matching sentences."""
        out, seen = [], set()
        for srow, score in found:
            row = int(self.sentence_chunk[srow])
            if row not in seen:
                seen.add(row)
                out.append((row, score))
        return out[:k]


def _sentence_chunks(entries: list[Entry]) -> np.ndarray:
    """For every sentence row, the chunk row whose window is centred nearest to it."""
    out, crow = [], 0
    for e in entries:
        centres = [(c.sentences[0] + c.sentences[1] - 1) / 2 for c in e.chunks]
        for i in range(len(e.sentences)):
            best = min(range(len(centres)), key=lambda j: abs(centres[j] - i)) if centres else 0
            out.append(crow + best)
        crow += len(e.chunks)
    return np.asarray(out, dtype=np.int64)


def entry_row(e: Entry) -> dict:
    """An entry without its vectors, as JSON: the article, its sentence and chunk offsets."""
    return {
        **asdict(e.article),
        "sentences": [[s.start, s.end] for s in e.sentences],
        "chunks": [[c.start, c.end, *c.sentences] for c in e.chunks],
    }


def entry_from_row(d: dict) -> Entry:
    """The inverse of entry_row (vectors left empty)."""
    a = Article(**{k: v for k, v in d.items() if k in _ARTICLE_FIELDS})
    sents = [
        Sentence(f"{a.id}s{i}", a.id, a.text[s:e], s, e, a.lang)
        for i, (s, e) in enumerate(d["sentences"])
    ]
    chunks = [
        Chunk(f"{a.id}#{i}", a.id, a.text[s:e], s, e, a.lang, (i0, i1))
        for i, (s, e, i0, i1) in enumerate(d["chunks"])
    ]
    return Entry(a, sents, chunks, np.zeros((0, 0)), np.zeros((0, 0)))


_ARTICLE_FIELDS = frozenset(Article.__dataclass_fields__)
