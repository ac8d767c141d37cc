"""Data that crosses module boundaries: frozen dataclasses, no logic, no heavy imports.

Every offset is a character offset into ``Article.text`` (the cleaned article text), so
``article.text[x.start:x.end] == x.text`` holds for chunks, sentences and answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Article:
    id: str  # hash of the corpus-relative path: stable across rebuilds
    path: str  # relative to the corpus directory, with forward slashes
    title: str
    lang: str  # "en" | "ru"
    text: str  # cleaned text: title, blank line, body paragraphs
    content_hash: str  # hash of the raw file (and its sidecar): drives incremental builds
    outlet: str | None = None
    published: str | None = None  # ISO date "YYYY-MM-DD"
    date_uncertain: bool = False  # year or day was inferred, not read
    url: str | None = None
    translation_of: str | None = None  # corpus-relative path of the original
    author: str | None = None  # as the page or sidecar names it


@dataclass(frozen=True)
class Sentence:
    id: str  # article id + "s" + ordinal
    article_id: str
    text: str
    start: int
    end: int
    lang: str


@dataclass(frozen=True)
class Chunk:
    id: str  # article id + "#" + ordinal
    article_id: str
    text: str
    start: int
    end: int
    lang: str
    sentences: tuple[int, int] = (0, 0)  # ordinals [first, last) of the article's sentences


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused relevance, higher is better
    dense: float | None = None  # cosine similarity, if the dense retriever found it
    lexical: float | None = None  # BM25 score, if the lexical retriever found it
    also_in: tuple[str, ...] = ()  # ids of other articles carrying the same passage


@dataclass(frozen=True)
class Query:
    text: str
    lang: str
    vec: np.ndarray  # e5 query embedding, normalized
    tokens: tuple[str, ...]  # stemmed content words in the question's language


@dataclass(frozen=True, eq=False)
class Answer:
    question: str
    language: str
    text: str | None  # None means "the articles don't say"
    score: float
    start: int | None = None
    end: int | None = None
    sentence: Sentence | None = None
    article_id: str | None = None
    also_in: tuple[str, ...] = ()
    qtype: str = "other"
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    # Confident answers of the same kind from other articles that say something else.
    alternatives: tuple[Answer, ...] = ()
    # Filled in by Pipeline.ask (qa.news.enrich): corroborated_by, conflicts, reported_by,
    # dates, resolved_date; None for "no answer" or a bare reader result.
    news: dict[str, Any] | None = None
    # Every article the answer, its alternatives and its passages cite, by id, so rendering
    # needs no index; and the index version they come from.
    articles: dict[str, Article] = field(default_factory=dict)
    version: str | None = None
    # A follow-up's question as the pipeline understood it, resolved against the conversation
    # (qa.followup); None when the question was answered as asked.
    interpreted_as: str | None = None


@dataclass(frozen=True)
class Turn:
    """What a later question in a conversation may lean on: the question as understood (the
    interpretation, or the question as asked), its language, type and answer (None: none)."""

    question: str
    lang: str
    qtype: str = "other"
    answer: str | None = None
