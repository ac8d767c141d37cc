"""The default backend: an index version in a directory, held in memory once loaded: chunk
vectors (FAISS), sentence vectors, the chunk/article store, the per-language BM25 indexes and
a manifest. Versions are written and switched atomically (qa.store.versions).
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from pathlib import Path

import numpy as np

from qa.errors import IndexCorrupt, IndexMissing
from qa.store import lexical
from qa.store.catalog import COS_DECIMALS, FORMAT_VERSION, Catalog, Entry, entry_from_row, entry_row
from qa.store.versions import (
    CURRENT,
    build_lock,
    collect_garbage,
    crash_at,
    current_version,
    fsync_dir,
    fsync_write,
    jsonl,
)

_FILES = ("articles.jsonl", "chunks.jsonl", "chunks.faiss", "sentences.npy")
# From this many vectors on, an exact scan costs >= 10 ms per question on one core, twice
# (chunks and sentences), growing to ~110 ms each at 1M. IVFFlat with ~sqrt(n) lists and
# nprobe 64 kept recall@5 against exact search >= 0.99 at 100k (chunks .992, sentences 1.0)
# and at 1M chunks (.993, 9 ms), where HNSW M=32 did not (.970 at efSearch 512) and took 4x
# longer to build (bench/speed.py).
ANN_MIN = 100_000
IVF_NPROBE = 64


class Index(Catalog):
    """An index version held in memory: built from entries or loaded from disk."""

    def __init__(
        self, entries: list[Entry], manifest: dict, lex=None, chunk_faiss=None, sent_faiss=None
    ):
        super().__init__(entries, manifest)
        dim = manifest["dim"]
        self.sentence_vecs = _stack([e.sentence_vecs for e in entries], dim)
        self.lexical = lex if lex is not None else self._build_lexical()
        self.faiss = chunk_faiss if chunk_faiss is not None else self._build_faiss(entries, dim)
        self.sentence_faiss = (
            sent_faiss if sent_faiss is not None else _vectors(self.sentence_vecs, dim)
        )

    def _build_lexical(self) -> dict[str, lexical.LexicalIndex]:
        out = {}
        for lang in ("en", "ru"):
            rows = [i for i, c in enumerate(self.chunks) if c.lang == lang]
            out[lang] = lexical.LexicalIndex.build(lang, [self.chunks[i].text for i in rows], rows)
        return out

    @staticmethod
    def _build_faiss(entries: list[Entry], dim: int):
        return _vectors(_stack([e.chunk_vecs for e in entries], dim), dim)

    def reusable(self) -> dict[str, Entry]:
        """Entries by article id with their chunk vectors read back from FAISS, so an
        incremental build copies them instead of embedding the article again."""
        out, row, srow = {}, 0, 0
        for e in self.entries:
            n, m = len(e.chunks), len(e.sentences)
            vecs = self.faiss.reconstruct_n(row, n) if n else np.zeros((0, self.manifest["dim"]))
            out[e.article.id] = Entry(
                e.article, e.sentences, e.chunks, self.sentence_vecs[srow : srow + m], vecs
            )
            row, srow = row + n, srow + m
        return out

    def dense_search(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """[(chunk row, cosine)] best first."""
        return _search(self.faiss, qvec, k)

    def sentence_search(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """[(chunk row, cosine of its best sentence)] best first: the chunk centred on each of
        the best-matching sentences. A short sentence that states the answer outscores the
        three-sentence window around it, most of all across languages."""
        return self.sentence_hits_to_chunks(_search(self.sentence_faiss, qvec, k * 2), k)

    def sentence_vector(self, row: int) -> np.ndarray:
        """The stored e5 vector of sentence ``row``."""
        return self.sentence_vecs[row]

    def similar_sentences(self, vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """[(sentence row, cosine)] nearest to ``vec``, in FAISS's own order."""
        n = min(k, self.sentence_faiss.ntotal)
        if n == 0:
            return []
        scores, rows = self.sentence_faiss.search(vec.reshape(1, -1).astype(np.float32), n)
        return [(int(r), float(c)) for r, c in zip(rows[0], scores[0]) if r >= 0]

    # ---- persistence -------------------------------------------------------------------
    def save(self, root: Path, failpoint: str | None = None) -> str:
        """Write a new version directory, then point CURRENT at it. Returns the version name."""
        import faiss

        root.mkdir(parents=True, exist_ok=True)
        before = current_version(root)
        name = time.strftime("v-%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        tmp = root / f".tmp-{name}"
        tmp.mkdir()
        art_rows = [entry_row(e) for e in self.entries]
        fsync_write(tmp / "articles.jsonl", jsonl(art_rows))
        fsync_write(tmp / "chunks.jsonl", jsonl({"id": c.id} for c in self.chunks))
        faiss.write_index(self.faiss, str(tmp / "chunks.faiss"))
        if not isinstance(self.sentence_faiss, faiss.IndexFlat):
            # Training the lists takes ~50 s at 1M rows: keep them rather than rebuild them
            # from sentences.npy on every load.
            faiss.write_index(self.sentence_faiss, str(tmp / "sentences.faiss"))
        # float16 halves memory and disk; cosine changes by < 1e-3, far below score gaps.
        with open(tmp / "sentences.npy", "wb") as f:
            np.save(f, self.sentence_vecs.astype(np.float16), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        for lang, lex in self.lexical.items():
            lex.save(tmp / "lexical" / lang)
        # bm25s and numpy write without fsync; a power cut after the switch must not leave
        # the live version with empty lexical files (a SIGKILL alone cannot: the page cache
        # survives it).
        for p in sorted((tmp / "lexical").rglob("*"), reverse=True):
            fsync_dir(p)
        manifest = {
            **self.manifest,
            "format_version": FORMAT_VERSION,
            "n_articles": len(self.entries),
            "n_chunks": len(self.chunks),
            "n_sentences": len(self.sentences),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": {
                f: (tmp / f).stat().st_size
                for f in (*_FILES, "sentences.faiss")
                if (tmp / f).exists()
            },
            "previous": before,  # kept by garbage collection: readers may still be loading it
        }
        crash_at("files-written", failpoint)
        fsync_write(tmp / "manifest.json", json.dumps(manifest, indent=2).encode())
        fsync_dir(tmp)
        crash_at("manifest-written", failpoint)
        os.rename(tmp, root / name)
        crash_at("renamed", failpoint)
        pointer = root / f".{CURRENT}.{uuid.uuid4().hex[:6]}"
        fsync_write(pointer, name.encode())
        os.replace(pointer, root / CURRENT)  # the switch: atomic on POSIX
        fsync_dir(root)
        crash_at("switched", failpoint)
        self.manifest, self.version = manifest, name
        collect_garbage(root)
        return name


def _search(index, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
    if index.ntotal == 0:
        return []
    scores, rows = index.search(qvec.reshape(1, -1).astype(np.float32), min(k, index.ntotal))
    out = [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
    # Cosines equal to 6 decimals (float noise: wire copies, summation order) rank the later
    # row first, as FAISS orders exact ties; every backend does the same (qa.store.postgres.index).
    out.sort(key=lambda x: (-round(x[1], COS_DECIMALS), -x[0]))
    return out


def _vectors(vecs: np.ndarray, dim: int):
    """Exact inner product (cosine on normalized vectors) below ANN_MIN rows: the most accurate
    and fast enough there. Above, IVFFlat: a scan of the nprobe lists nearest the query."""
    if len(vecs) < ANN_MIN:
        return _flat(vecs, dim)
    import faiss

    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    nlist = 2 ** round(math.log2(math.sqrt(len(vecs))))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    # 50 training points per list is plenty for k-means; a fixed seed keeps builds repeatable.
    rows = np.random.default_rng(0).choice(len(vecs), min(len(vecs), 50 * nlist), replace=False)
    index.train(vecs[np.sort(rows)])
    index.add(vecs)
    index.make_direct_map()  # reusable() reads the vectors back with reconstruct_n
    index.nprobe = IVF_NPROBE  # stored by faiss.write_index
    return index


def _flat(vecs: np.ndarray, dim: int):
    import faiss

    index = faiss.IndexFlatIP(dim)
    if len(vecs):
        index.add(np.ascontiguousarray(vecs, dtype=np.float32))
    return index


def _stack(parts: list[np.ndarray], dim: int) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    if not parts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def load(root: Path, model_id: str | None = None) -> Index:
    """Load the live version, checking it is whole and matches the model in use."""
    import faiss

    name = current_version(root)
    if name is None:
        raise IndexMissing(f"no index in {root}: run `qa build` first")
    folder = root / name
    fix = "run `qa build --full` to rebuild it"
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files", {}), dict):
        raise IndexCorrupt(f"index {folder} has no readable manifest: {fix}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"index {folder} has format {manifest.get('format_version')}, "
            f"this qa reads {FORMAT_VERSION}: {fix}"
        )
    if model_id and manifest.get("model") != model_id:
        raise IndexCorrupt(f"index was built with {manifest.get('model')}, not {model_id}: {fix}")
    for fname, size in manifest.get("files", {}).items():
        p = folder / fname
        if not p.exists() or p.stat().st_size != size:
            raise IndexCorrupt(f"index file {p} is missing or truncated: {fix}")
    try:
        entries = _read_entries(folder, manifest)
        chunk_faiss = faiss.read_index(str(folder / "chunks.faiss"))
        sent_path = folder / "sentences.faiss"
        sent_faiss = faiss.read_index(str(sent_path)) if sent_path.exists() else None
        lex = {lang: lexical.LexicalIndex.load(folder / "lexical" / lang) for lang in ("en", "ru")}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as e:
        raise IndexCorrupt(f"index {folder} is damaged ({type(e).__name__}): {fix}") from None
    index = Index(entries, manifest, lex, chunk_faiss, sent_faiss)
    if index.faiss.ntotal != len(index.chunks) or len(index.chunks) != manifest["n_chunks"]:
        raise IndexCorrupt(
            f"index {folder}: {index.faiss.ntotal} vectors for {len(index.chunks)} chunks: {fix}"
        )
    index.version = name
    return index


def _read_entries(folder: Path, manifest: dict) -> list[Entry]:
    sent_vecs = np.load(folder / "sentences.npy", allow_pickle=False).astype(np.float32)
    if len(sent_vecs) != manifest["n_sentences"]:
        raise ValueError("sentence vector count")
    entries, row = [], 0
    with open(folder / "articles.jsonl", encoding="utf-8") as f:
        for line in f:
            e = entry_from_row(json.loads(line))
            n = len(e.sentences)
            e.sentence_vecs = sent_vecs[row : row + n]
            entries.append(e)
            row += n
    return entries


class FaissBackend:
    """Index versions as directories under ``root`` (see qa.store.versions)."""

    name = "faiss"

    def __init__(self, root: Path):
        self.root = Path(root)

    def lock(self):
        return build_lock(self.root)

    def live_version(self) -> str | None:
        return current_version(self.root)

    def load(self, model_id: str | None = None) -> Index:
        return load(self.root, model_id)

    def previous(self) -> tuple[dict, dict]:
        old = load(self.root)
        return old.manifest, old.reusable()

    def commit(self, entries, add, remove_ids, manifest, full, failpoint=None) -> str:
        # The whole index is rewritten as a new version directory (vectors of kept articles
        # are copies): FAISS flat and IVF indexes cannot drop rows cheaply.
        return Index(entries, manifest).save(self.root, failpoint)

    def collect_garbage(self) -> None:
        collect_garbage(self.root)
