"""The storage interface every backend implements, as typing Protocols.

A backend (``Backend``) keeps index versions and switches between them atomically; a loaded
version (``SearchIndex``) answers the searches that retrieval, the reader and the news
enrichment need. ``faiss`` (qa.store.faiss_index) keeps versions as files; ``postgres``
(qa.store.postgres) keeps the same data in PostgreSQL and gives the same answers.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np

from qa.store.catalog import Entry
from qa.types import Article, Chunk, Sentence


class Lexical(Protocol):
    """BM25 over one language's chunks."""

    def idf(self, token: str) -> float: ...

    def search(self, question_tokens: list[str], k: int) -> list[tuple[int, float]]:
        """[(chunk row, BM25 score)] best first."""
        ...


class SearchIndex(Protocol):
    """One loaded index version: its catalogue (qa.store.catalog.Catalog) and its searches."""

    version: str | None
    manifest: dict
    articles: dict[str, Article]
    sentences: list[Sentence]
    chunks: list[Chunk]
    sentence_row: dict[str, int]
    lexical: dict[str, Lexical]

    def entry_of(self, article_id: str) -> Entry: ...

    def copies(self, key: str) -> list[str]:
        """Ids of the articles holding a sentence with this passage key (wire copies)."""
        ...

    def dense_search(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """[(chunk row, cosine)] best first."""
        ...

    def sentence_search(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """[(chunk row, cosine of its best sentence)] best first."""
        ...

    def similar_sentences(self, vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """[(sentence row, cosine)] of the sentences nearest to ``vec``."""
        ...

    def sentence_vector(self, row: int) -> np.ndarray:
        """The stored vector of sentence ``row``."""
        ...


class Backend(Protocol):
    """Where index versions live."""

    name: str

    def lock(self) -> AbstractContextManager:
        """Held for a whole build: a second build is refused (IndexBusy), never interleaved."""
        ...

    def live_version(self) -> str | None:
        """The version readers should be serving (cheap: asked before every question)."""
        ...

    def load(self, model_id: str | None = None) -> SearchIndex: ...

    def previous(self) -> tuple[dict, dict[str, Entry]]:
        """The live version's manifest and entries (what an incremental build keeps)."""
        ...

    def commit(self, entries, add, remove_ids, manifest, full, failpoint=None) -> str:
        """Add the new entries, remove the articles gone or changed, switch the version
        atomically; returns the new version's name."""
        ...

    def collect_garbage(self) -> None: ...
