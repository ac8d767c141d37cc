"""The one orchestrator: build(settings) and Pipeline(settings).ask(question).

Everything user-facing (CLI, web UI, `qa eval`) goes through here, so they all give the
same answers. ask() returns the enriched answer: the reader's span, the news enrichment
(corroboration, conflicts, resolved dates) and the articles it cites, so rendering it needs
no index.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Sequence

from qa import followup, news, retrieve, store
from qa.config import Settings
from qa.embed.embedder import Embedder
from qa.errors import UsageError
from qa.indexer import BuildReport, build, update_locked  # noqa: F401 (the public build API)
from qa.ingest import lang
from qa.read import typed
from qa.store import lexical
from qa.store.base import SearchIndex
from qa.types import Answer, Query, Turn

MAX_QUESTION = 1000  # characters; longer input is a pasted document, not a question
# Earlier questions replayed for a stateless request (/api/ask?history=, the web chat): a
# follow-up leans on the turn before it, which leans on its own; chains rarely run longer.
MAX_HISTORY = 6
TURN_CACHE = 256  # resolved turns kept, so replaying a chat's history costs no model work


def check_question(question: str) -> str:
    q = " ".join((question or "").split())
    if not q or not any(ch.isalnum() for ch in q):
        raise UsageError("empty question: type a question in English or Russian")
    if len(q) > MAX_QUESTION:
        raise UsageError(f"question is {len(q)} characters; keep it under {MAX_QUESTION}")
    return q


class Pipeline:
    """Loads the model and the index once; picks up a newly built index on the next question."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.embedder = embedder or Embedder(
            settings.model_cache, settings.batch_size, settings.threads, engine=settings.engine
        )
        self._index: SearchIndex | None = None
        self._store = None  # the backend, opened on first use (a server connection)
        self.span_model = None
        self._turns: OrderedDict[tuple, Turn] = OrderedDict()
        self._turns_lock = threading.Lock()
        if settings.reader != "typed":
            from qa.read.span_model import SpanModel

            self.span_model = SpanModel(
                settings.model_cache,
                threads=settings.threads,
                # torch only: share the embedder's embedding layer (test fakes have none)
                embeddings=getattr(self.embedder, "embeddings", None),
                engine=settings.engine,
            )

    @property
    def index(self) -> SearchIndex:
        self._store = self._store or store.open_backend(self.settings)
        live = self._store.live_version()
        if self._index is None or (live is not None and live != self._index.version):
            self._index = self._store.load(self.embedder.model_id)
        return self._index

    @property
    def reader_params(self) -> typed.ReaderParams:
        if self.settings.reader == "span":  # the span model's own pick, no typed reranking
            return typed.ReaderParams(span_fit=0.0, span_sentence=0.0)
        return typed.ReaderParams()

    @property
    def threshold(self) -> float:
        """The confidence below which the reader abstains (QA_MIN_SCORE, or the reader's own)."""
        if self.settings.min_score is not None:
            return self.settings.min_score
        return self.reader_params.threshold if self.span_model else typed.TYPED_THRESHOLD

    def warm_up(self) -> None:
        """Load models, index and NER now, so the first question is as fast as the rest."""
        self.embedder.queries(["warm up"])
        if self.span_model is not None:
            self.span_model.guess("warm up", ["warm up"])
        _ = self.index
        if self.span_model is None:  # only the typed reader runs the NER models
            from qa.read import spans

            spans.warm_up()

    def query(self, question: str) -> Query:
        q = check_question(question)
        qlang = lang.detect(q)
        vec = self.embedder.queries([q])[0]
        return Query(q, qlang, vec, tuple(lexical.tokens(q, qlang)))

    def retrieve(
        self,
        query: Query,
        limit: int,
        langs: tuple[str, ...] | None = None,
        exclude: frozenset[str] = frozenset(),
        idx: SearchIndex | None = None,
    ):
        s = self.settings
        return retrieve.retrieve(
            idx or self.index,
            query,
            candidates=s.candidates,
            limit=limit,
            w_dense=s.dense_weight,
            w_lex=s.lexical_weight,
            w_sent=s.sentence_weight,
            rrf_k=s.rrf_k,
            langs=langs,
            exclude=exclude,
        )

    def read(
        self,
        query: Query,
        hits,
        idx: SearchIndex | None = None,
        min_score: float | None = None,
    ) -> Answer:
        """The reader on these hits; ``min_score`` overrides the abstention threshold."""
        threshold = self.threshold if min_score is None else min_score
        idx = idx or self.index
        if self.span_model is None:
            return typed.read(idx, query, hits, threshold)
        from qa.read import hybrid

        return hybrid.read(idx, query, hits, threshold, self.reader_params, self.span_model)

    def ask(
        self,
        question: str,
        k: int | None = None,
        langs: tuple[str, ...] | None = None,
        since: str | None = None,
        until: str | None = None,
        outlets: tuple[str, ...] = (),
        previous: Turn | None = None,
    ) -> Answer:
        """Answer a question: retrieve passages, extract the answer span (or abstain), and
        enrich it with what other articles say. ``since``/``until`` (ISO dates, inclusive) and
        ``outlets`` restrict the articles. With the ``previous`` turn of a conversation, a
        follow-up is answered as the question it stands for (``Answer.interpreted_as``)."""
        asked = check_question(question)
        interpreted = followup.resolve(asked, lang.detect(asked), previous)
        query = self.query(interpreted or asked)
        # One version for every step: a build may switch CURRENT in between, and the reader
        # looks the hits' articles and sentence vectors up in the version they came from.
        idx = self.index
        exclude = excluded(idx, since, until, outlets)
        hits = self.retrieve(query, max(k or self.settings.k, 5), langs, exclude, idx=idx)
        ans = enrich(idx, self.read(query, hits, idx))
        return dataclasses.replace(ans, question=asked, interpreted_as=interpreted)

    def converse(
        self, question: str, history: Sequence[str] = (), k: int | None = None, **where
    ) -> Answer:
        """Answer ``question`` as the next turn after the earlier questions ``history``
        (oldest first), replayed with the same filters; stateless, so the web routes can use
        it. Earlier questions that are not questions (empty, too long) are skipped."""
        previous = None
        for q in list(history)[-MAX_HISTORY:]:
            try:
                previous = self._turn(q, previous, k, where)
            except UsageError:
                continue
        ans = self.ask(question, k, previous=previous, **where)
        self._remember((ans.question, previous, k, _key(where), self.index.version), turn_of(ans))
        return ans

    def _turn(self, question: str, previous: Turn | None, k, where: dict) -> Turn:
        key = (check_question(question), previous, k, _key(where), self.index.version)
        with self._turns_lock:
            if key in self._turns:
                self._turns.move_to_end(key)
                return self._turns[key]
        turn = turn_of(self.ask(question, k, previous=previous, **where))
        self._remember(key, turn)
        return turn

    def _remember(self, key: tuple, turn: Turn) -> None:
        with self._turns_lock:
            self._turns[key] = turn
            while len(self._turns) > TURN_CACHE:
                self._turns.popitem(last=False)


def turn_of(ans: Answer) -> Turn:
    """What the next question of a conversation may lean on."""
    return Turn(ans.interpreted_as or ans.question, ans.language, ans.qtype, ans.text)


def _key(where: dict) -> tuple:
    return tuple(
        sorted((name, v if not isinstance(v, list) else tuple(v)) for name, v in where.items())
    )


def enrich(idx: SearchIndex, ans: Answer) -> Answer:
    """The answer with its news enrichment and every article it cites attached."""
    extra = news.enrich(idx, ans) if ans.text is not None else None
    ids = {h.chunk.article_id for h in ans.hits} | {a for h in ans.hits for a in h.also_in}
    if ans.article_id:
        ids |= {ans.article_id, *ans.also_in}
    if extra:
        ids |= {c["article_id"] for c in extra["corroborated_by"] + extra["conflicts"]}
    articles = {a: idx.articles[a] for a in sorted(ids)}
    return dataclasses.replace(ans, news=extra, articles=articles, version=idx.version)


def excluded(
    idx: SearchIndex, since: str | None, until: str | None, outlets: tuple[str, ...] = ()
) -> frozenset[str]:
    """Ids of the articles outside a date range or an outlet list (undated articles are
    outside any date range: we cannot say they are inside it)."""
    if not (since or until or outlets):
        return frozenset()
    wanted = {o.lower() for o in outlets}
    out = set()
    for a in idx.articles.values():
        if (since or until) and not a.published:
            out.add(a.id)
        elif (since and a.published < since) or (until and a.published > until):
            out.add(a.id)
        elif wanted and (a.outlet or "").lower() not in wanted:
            out.add(a.id)
    return frozenset(out)
