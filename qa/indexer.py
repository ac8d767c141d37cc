"""Indexing: bring the index up to date with the corpus, embedding only new or changed
articles (by content hash); `--full` rebuilds from scratch. The backend commits a whole new
version atomically (qa.store)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from qa import store
from qa.config import Settings
from qa.embed.embedder import DIM, Embedder
from qa.errors import CorpusError, IndexCorrupt
from qa.ingest import chunker, corpus
from qa.store.catalog import Entry
from qa.store.versions import crash_at


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


def _previous(settings: Settings, embedder: Embedder, full: bool, notes: list[str], backend):
    if full or backend.live_version() is None:
        return {}
    try:
        manifest, old = backend.previous()
    except IndexCorrupt as e:
        notes.append(f"previous index unusable ({e}); rebuilding everything")
        return {}
    want = shape(settings, embedder)
    for key in ("model", "dim", "chunk_sentences", "chunk_stride"):
        if manifest.get(key) != want[key]:
            raise IndexCorrupt(
                f"index was built with {key}={manifest.get(key)!r}, settings say "
                f"{want[key]!r}: run `qa build --full` to rebuild it"
            )
    return old


def build(
    settings: Settings, full: bool = False, embedder: Embedder | None = None, log=None
) -> BuildReport:
    """Bring the index up to date with the corpus, embedding only new or changed articles."""
    backend = store.open_backend(settings)
    with backend.lock():
        crash_at("locked", settings.failpoint)
        return update_locked(settings, full, embedder, log, backend)


def update_locked(
    settings: Settings, full: bool, embedder: Embedder | None, log, backend=None
) -> BuildReport:
    """build() for a caller that already holds the backend's lock (qa add copies files under it)."""
    t0 = time.perf_counter()
    backend = backend or store.open_backend(settings)
    embedder = embedder or Embedder(
        settings.model_cache, settings.batch_size, settings.threads, engine=settings.engine
    )
    report, notes = BuildReport(), []
    fp = settings.failpoint
    articles, problems = corpus.load(settings.corpus)
    report.problems = [{"path": p.path, "error": p.message} for p in problems]
    if not articles:
        raise CorpusError(f"no readable articles in {settings.corpus} (.txt, .md, .html): add some")
    old = _previous(settings, embedder, full, notes, backend)
    entries, todo = _plan(settings, articles, old, report)
    if not todo and not report.removed and old:
        backend.collect_garbage()  # leftovers of a build killed after its switch
        report.version = backend.live_version()
        report.seconds = time.perf_counter() - t0
        return report
    crash_at("loaded", fp)
    if todo and hasattr(embedder, "ensure_ready"):  # test fakes have nothing to export
        embedder.ensure_ready(quiet=settings.quiet)  # the ONNX export, once, said on stderr
    _embed(embedder, todo, progress=not settings.quiet, settings=settings)
    crash_at("embedded", fp)
    report.chunks_embedded = sum(len(e.chunks) for e in todo)
    report.sentences_embedded = sum(len(e.sentences) for e in todo)
    kept = {e.article.id for e in entries} - {e.article.id for e in todo}
    gone = [aid for aid in old if aid not in kept]  # removed, or changed and re-embedded
    report.version = backend.commit(entries, todo, gone, shape(settings, embedder), not old, fp)
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
        entry = Entry(a, sents, chunks, None, None)
        entries.append(entry)
        todo.append(entry)
    current = {a.id for a in articles}
    report.removed = sorted(e.article.path for aid, e in old.items() if aid not in current)
    return entries, todo


def _embed(embedder: Embedder, todo: list, progress: bool, settings: Settings) -> None:
    texts = [c.text for e in todo for c in e.chunks] + [s.text for e in todo for s in e.sentences]
    if texts and (settings.embed_workers or settings.dask_scheduler):
        from qa.embed import distributed as distembed

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
