"""Synthetic corpora for the speed and backends benchmarks: real sentences (corpus/ plus
XQuAD dev contexts) recombined into new articles, split and chunked by qa.ingest.chunker, with
perturbed real e5 vectors instead of embeddings (1M chunks take hours to embed on 2 cores).

Imported by bench/speed.py and bench/backends.py; not a script.
"""

from __future__ import annotations

import gc
import json
import random
from dataclasses import dataclass
from time import perf_counter

import numpy as np
from common import ROOT, XQUAD

from qa.embed.embedder import DIM, MODEL_ID
from qa.ingest import chunker, corpus
from qa.store.catalog import Entry
from qa.store.faiss_index import Index
from qa.types import Article, Sentence

BLOCK = 100_000  # rows per numpy block: bounds the temporaries at 1M rows


# ---- real sentences and the synthetic-corpus generator ------------------------------------
def real_sentences(xquad_paragraphs: int) -> dict[str, list[str]]:
    """Distinct sentences of corpus/ (split by qa.ingest.chunker) and of the first XQuAD dev
    contexts."""
    out: dict[str, list[str]] = {"en": [], "ru": []}
    articles, _ = corpus.load(ROOT / "corpus")
    for a in articles:
        out[a.lang] += [s.text for s in chunker.sentences(a)]
    for lang in out:
        path = XQUAD / f"xquad-dev.{lang}.json"
        if xquad_paragraphs and path.exists():
            data = json.loads(path.read_text())["data"]
            paras = [p["context"] for art in data for p in art["paragraphs"]][:xquad_paragraphs]
            for p in paras:
                out[lang] += [p[s:e] for s, e in chunker.sentence_spans(p, lang)]
    return {lang: list(dict.fromkeys(v)) for lang, v in out.items()}


@dataclass
class Pool:
    """Paragraph templates (2-4 real sentences each) already split by qa.ingest.chunker, and
    the distinct sentence texts they split into (row = pool id = row of the embedding matrix)."""

    texts: list[str]
    templates: dict[str, list[tuple[str, list[tuple[int, int, int]]]]]


def make_pool(sents: dict[str, list[str]], n_templates: int, rng: random.Random) -> Pool:
    ids: dict[str, int] = {}
    templates = {}
    for lang, pool in sents.items():
        rows = []
        for _ in range(n_templates):
            para = " ".join(rng.sample(pool, min(len(pool), rng.randint(2, 4))))
            cut = chunker.sentence_spans(para, lang)
            rows.append((para, [(s, e, ids.setdefault(para[s:e], len(ids))) for s, e in cut]))
        templates[lang] = rows
    return Pool(list(ids), templates)


def checked_pool(xquad_paragraphs: int, n_templates: int) -> Pool:
    """The query benchmarks' pool (seed 0), its generator checked against qa.ingest.chunker."""
    pool = make_pool(real_sentences(xquad_paragraphs), n_templates, random.Random(0))
    check_generator(pool)
    return pool


def synthetic_articles(pool: Pool, rng: random.Random, prefix: str):
    """Endless (Article, sentences, chunks, pool id per sentence): 3-6 templates per article.
    Paragraphs are split independently by qa.ingest.chunker.sentence_spans, so the spans cached
    per template are exactly what chunker.sentences(article) returns (checked in
    check_generator)."""
    n = 0
    while True:
        lang = "en" if n % 2 == 0 else "ru"
        picks = [rng.choice(pool.templates[lang]) for _ in range(rng.randint(3, 6))]
        spans_, pos = [], 0
        for para, cut in picks:
            spans_ += [(pos + s, pos + e, pid) for s, e, pid in cut]
            pos += len(para) + 2
        text = "\n\n".join(p for p, _ in picks)
        aid = f"{prefix}{n:07d}"
        title = text[spans_[0][0] : spans_[0][1]]
        art = Article(aid, f"{lang}/{aid}.txt", title, lang, text, aid)
        sents = [
            Sentence(f"{aid}s{i}", aid, text[s:e], s, e, lang) for i, (s, e, _) in enumerate(spans_)
        ]
        yield art, sents, chunker.chunks(art, sents, 3, 1), [pid for _, _, pid in spans_]
        n += 1


def check_generator(pool: Pool, n: int = 40) -> None:
    gen = synthetic_articles(pool, random.Random(99), "chk")
    for _ in range(n):
        art, sents, _, _ = next(gen)
        real = [(s.start, s.end) for s in chunker.sentences(art)]
        assert real == [(s.start, s.end) for s in sents], (
            "generator disagrees with qa.ingest.chunker"
        )


# ---- synthetic index with perturbed real vectors --------------------------------------------
def _unit(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _noisy(base: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    out = np.empty_like(base)
    for i in range(0, len(base), BLOCK):
        b = base[i : i + BLOCK]
        out[i : i + len(b)] = _unit(b + sigma * rng.standard_normal(b.shape, dtype=np.float32))
    return out


def synthetic_vectors(
    E: np.ndarray, pids: np.ndarray, windows: np.ndarray, sigma: float, seed: int
):
    """Sentence vectors: real embedding + noise. Chunk vectors: normalized mean of the real
    embeddings of the window's sentences + noise. ``windows`` holds global sentence rows."""
    rng = np.random.default_rng(seed)
    S = np.empty((len(pids), DIM), np.float32)
    for i in range(0, len(pids), BLOCK):
        S[i : i + BLOCK] = E[pids[i : i + BLOCK]]
    S = _noisy(S, sigma, rng)
    ext = np.vstack([E, np.zeros((1, DIM), np.float32)])
    pad = np.append(pids, len(E)).astype(np.int64)
    C = np.empty((len(windows), DIM), np.float32)
    for i in range(0, len(windows), BLOCK):
        w = windows[i : i + BLOCK]
        acc = np.zeros((len(w), DIM), np.float32)
        for j in range(3):
            row = np.where(w[:, 0] + j < w[:, 1], w[:, 0] + j, len(pids))
            acc += ext[pad[row]]
        C[i : i + len(w)] = _unit(acc)
    return S, _noisy(C, sigma, rng)


def _articles(pool: Pool, n_chunks: int, seed: int) -> list:
    gen = synthetic_articles(pool, random.Random(seed), f"s{seed}-")
    parts, total = [], 0
    while total < n_chunks:
        parts.append(next(gen))
        total += len(parts[-1][2])
    return parts


def _vectors(parts: list, E: np.ndarray, sigma: float, seed: int):
    pids, windows, base = [], [], 0
    for _, sents, chunks, pid in parts:
        pids += pid
        windows += [(base + c.sentences[0], base + c.sentences[1]) for c in chunks]
        base += len(sents)
    return synthetic_vectors(E, np.asarray(pids), np.asarray(windows), sigma, seed)


def _entries(parts: list, S: np.ndarray, C: np.ndarray) -> list[Entry]:
    entries, si, ci = [], 0, 0
    for art, sents, chunks, _ in parts:
        entries.append(Entry(art, sents, chunks, S[si : si + len(sents)], C[ci : ci + len(chunks)]))
        si, ci = si + len(sents), ci + len(chunks)
    return entries


def synthetic_index(pool: Pool, E: np.ndarray, n_chunks: int, sigma: float, seed: int):
    """An in-memory qa.store.faiss_index.Index of about ``n_chunks`` chunks, and how long each
    part took."""
    info: dict = {}
    t = perf_counter()
    parts = _articles(pool, n_chunks, seed)
    info["generate_s"] = perf_counter() - t
    t = perf_counter()
    S, C = _vectors(parts, E, sigma, seed)
    info["vectors_s"] = perf_counter() - t
    entries = _entries(parts, S, C)
    del parts
    manifest = {"model": MODEL_ID, "dim": DIM, "chunk_sentences": 3, "chunk_stride": 1}
    t = perf_counter()
    idx = Index(entries, manifest, lex={})  # BM25 built (and timed) just below
    info["index_init_s"] = perf_counter() - t
    t = perf_counter()
    idx.lexical = idx._build_lexical()  # the real Index code, timed on its own
    info["bm25_build_s"] = perf_counter() - t
    # Like a loaded index: no per-entry chunk vectors, sentence vectors are views.
    row = 0
    for e in entries:
        e.chunk_vecs = np.zeros((0, 0), np.float32)
        e.sentence_vecs = idx.sentence_vecs[row : row + len(e.sentences)]
        row += len(e.sentences)
    del S, C, entries
    gc.collect()
    info.update(articles=len(idx.entries), chunks=len(idx.chunks), sentences=len(idx.sentences))
    return idx, info
