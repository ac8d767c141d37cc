"""The one orchestrator: build(settings) and Pipeline(settings).ask(question).

Everything user-facing (CLI, web UI, `qa eval`) goes through here, so they all give the
same answers.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa import backends, chunker, corpus, hybrid, index, lang, lexical, reader, retriever
from qa.config import Settings
from qa.embedder import DIM, Embedder
from qa.types import Answer, QAError

MAX_QUESTION = 1000  # characters; longer input is a pasted document, not a question


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    problems: list[dict] = field(default_factory=list)
    version: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
            "chunks_embedded": self.chunks_embedded,
            "sentences_embedded": self.sentences_embedded,
            "problems": self.problems,
            "version": self.version,
            "seconds": round(self.seconds, 2),
            "files": {"added": self.added, "updated": self.updated, "removed": self.removed},
        }


def shape(settings: Settings, embedder: Embedder) -> dict:
    """The settings an index is built with; a mismatch means a full rebuild."""
    return {
        "model": embedder.model_id,
        "dim": DIM,
        "chunk_sentences": settings.chunk_sentences,
        "chunk_stride": settings.chunk_stride,
        "qa_version": _version(),
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qa")
    except PackageNotFoundError:
        return "0"


@contextmanager
def build_lock(root: Path):
    """One build at a time per index directory; a second one is refused, never interleaved."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "LOCK", "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            raise QAError(
                f"another `qa build` (pid {holder}) is updating {root}; "
                "wait for it to finish and run again"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            f.truncate(0)
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _previous(settings: Settings, embedder: Embedder, full: bool, notes: list[str], store):
    if full or store.live_version() is None:
        return {}
    try:
        manifest, old = store.previous()
    except index.IndexCorrupt as e:
        notes.append(f"previous index unusable ({e}); rebuilding everything")
        return {}
    want = shape(settings, embedder)
    for key in ("model", "dim", "chunk_sentences", "chunk_stride"):
        if manifest.get(key) != want[key]:
            raise QAError(
                f"index was built with {key}={manifest.get(key)!r}, settings say "
                f"{want[key]!r}: run `qa build --full` to rebuild it"
            )
    return old


def build(
    settings: Settings, full: bool = False, embedder: Embedder | None = None, log=None
) -> BuildReport:
    """Bring the index up to date with the corpus, embedding only new or changed articles."""
    store = backends.open_backend(settings)
    with store.lock():
        index.crash_at("locked", settings.failpoint)
        return update_locked(settings, full, embedder, log, store)


def update_locked(
    settings: Settings, full: bool, embedder: Embedder | None, log, store=None
) -> BuildReport:
    """build() for a caller that already holds build_lock (qa add copies files under it)."""
    t0 = time.perf_counter()
    store = store or backends.open_backend(settings)
    embedder = embedder or Embedder(settings.model_cache, settings.batch_size, settings.threads)
    report, notes = BuildReport(), []
    fp = settings.failpoint
    articles, problems = corpus.load(settings.corpus)
    report.problems = [{"path": p.path, "error": p.message} for p in problems]
    if not articles:
        raise QAError(f"no readable articles in {settings.corpus} (.txt, .md, .html): add some")
    old = _previous(settings, embedder, full, notes, store)
    entries, todo = _plan(settings, articles, old, report)
    if not todo and not report.removed and old:
        store.collect_garbage()  # leftovers of a build killed after its switch
        report.version = store.live_version()
        report.seconds = time.perf_counter() - t0
        return report
    index.crash_at("loaded", fp)
    _embed(embedder, todo, progress=not settings.quiet, settings=settings)
    index.crash_at("embedded", fp)
    report.chunks_embedded = sum(len(e.chunks) for e in todo)
    report.sentences_embedded = sum(len(e.sentences) for e in todo)
    kept = {e.article.id for e in entries} - {e.article.id for e in todo}
    gone = [aid for aid in old if aid not in kept]  # removed, or changed and re-embedded
    report.version = store.commit(entries, todo, gone, shape(settings, embedder), not old, fp)
    report.seconds = time.perf_counter() - t0
    if log:
        for n in notes:
            log(n)
    return report


def _plan(settings: Settings, articles: list, old: dict, report: BuildReport):
    """(all entries in corpus order, the new or changed ones still to embed); fills report."""
    entries, todo = [], []
    for a in articles:
        prev = old.get(a.id)
        if prev is not None and prev.article.content_hash == a.content_hash:
            entries.append(prev)
            report.unchanged += 1
            continue
        (report.updated if prev is not None else report.added).append(a.path)
        sents = chunker.sentences(a)
        chunks = chunker.chunks(a, sents, settings.chunk_sentences, settings.chunk_stride)
        entry = index.Entry(a, sents, chunks, None, None)
        entries.append(entry)
        todo.append(entry)
    current = {a.id for a in articles}
    report.removed = sorted(e.article.path for aid, e in old.items() if aid not in current)
    return entries, todo


def _embed(embedder: Embedder, todo: list, progress: bool, settings: Settings) -> None:
    texts = [c.text for e in todo for c in e.chunks] + [s.text for e in todo for s in e.sentences]
    if texts and (settings.embed_workers or settings.dask_scheduler):
        from qa import distembed

        vecs = distembed.passages(texts, settings)
    elif texts:
        vecs = embedder.passages(texts, progress=progress)
    else:
        vecs = np.zeros((0, DIM), np.float32)
    n_chunks = sum(len(e.chunks) for e in todo)
    chunk_vecs, sent_vecs = vecs[:n_chunks], vecs[n_chunks:]
    ci = si = 0
    for e in todo:
        e.chunk_vecs = chunk_vecs[ci : ci + len(e.chunks)]
        e.sentence_vecs = sent_vecs[si : si + len(e.sentences)]
        ci += len(e.chunks)
        si += len(e.sentences)


def check_question(question: str) -> str:
    q = " ".join((question or "").split())
    if not q or not any(ch.isalnum() for ch in q):
        raise QAError("empty question: type a question in English or Russian")
    if len(q) > MAX_QUESTION:
        raise QAError(f"question is {len(q)} characters; keep it under {MAX_QUESTION}")
    return q


class Pipeline:
    """Loads the model and the index once; picks up a newly built index on the next question."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.embedder = embedder or Embedder(
            settings.model_cache, settings.batch_size, settings.threads
        )
        self._index: index.Index | None = None
        self._store = None  # the backend, opened on first use (a server connection)
        self.span_model = None
        if settings.reader != "typed":
            from qa.span_model import SpanModel

            self.span_model = SpanModel(
                settings.model_cache,
                threads=settings.threads,
                embeddings=getattr(self.embedder, "embeddings", None),  # test fakes have none
            )

    @property
    def index(self) -> index.Index:
        self._store = self._store or backends.open_backend(self.settings)
        live = self._store.live_version()
        if self._index is None or (live is not None and live != self._index.version):
            self._index = self._store.load(self.embedder.model_id)
        return self._index

    @property
    def reader_params(self) -> reader.ReaderParams:
        if self.settings.reader == "span":  # the span model's own pick, no typed reranking
            return reader.ReaderParams(span_fit=0.0, span_sentence=0.0)
        return reader.ReaderParams()

    def warm_up(self) -> None:
        """Load models, index and NER now, so the first question is as fast as the rest."""
        self.embedder.queries(["warm up"])
        if self.span_model is not None:
            self.span_model.guess("warm up", ["warm up"])
        _ = self.index
        from qa import spans

        spans.warm_up()

    def query(self, question: str) -> retriever.Query:
        q = check_question(question)
        qlang = lang.detect(q)
        vec = self.embedder.queries([q])[0]
        return retriever.Query(q, qlang, vec, tuple(lexical.tokens(q, qlang)))

    def retrieve(
        self,
        query: retriever.Query,
        limit: int,
        langs: tuple[str, ...] | None = None,
        exclude: frozenset[str] = frozenset(),
        idx: index.Index | None = None,
    ):
        s = self.settings
        return retriever.retrieve(
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
        query: retriever.Query,
        hits,
        idx: index.Index | None = None,
        min_score: float | None = None,
    ) -> Answer:
        """The reader on these hits; ``min_score`` overrides the abstention threshold."""
        threshold = self.settings.min_score if min_score is None else min_score
        idx = idx or self.index
        if self.span_model is None:
            return reader.read(idx, query, hits, threshold)
        return hybrid.read(idx, query, hits, threshold, self.reader_params, self.span_model)

    def ask(
        self,
        question: str,
        k: int | None = None,
        langs: tuple[str, ...] | None = None,
        since: str | None = None,
        until: str | None = None,
        outlets: tuple[str, ...] = (),
        idx: index.Index | None = None,
    ) -> Answer:
        """Answer a question: retrieve passages, then extract the answer span (or abstain).
        ``since``/``until`` (ISO dates, inclusive) and ``outlets`` restrict the articles.
        Pass ``idx`` (a `self.index` taken once) to render the answer from the same version."""
        query = self.query(question)
        # One version for both steps: a build may switch CURRENT in between, and the reader
        # looks the hits' articles and sentence vectors up in the version they came from.
        idx = idx or self.index
        exclude = excluded(idx, since, until, outlets)
        hits = self.retrieve(query, max(k or self.settings.k, 5), langs, exclude, idx=idx)
        return self.read(query, hits, idx)


def excluded(
    idx: index.Index, since: str | None, until: str | None, outlets: tuple[str, ...] = ()
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
