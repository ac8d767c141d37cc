"""bench/speed.py, approximate search: HNSW and IVF indexes over a synthetic index's vectors,
their recall against exact search and their latency, for a growing search effort.

Imported by bench/speed_query.py; not a script.
"""

from __future__ import annotations

import os
from time import perf_counter

import numpy as np
from common import pct

from qa.embed.embedder import DIM


def ann_eval(kind: str, flat, qvecs: np.ndarray, texts: list[str], args):
    """Build an approximate index (``hnsw``: IndexHNSWFlat M=32; ``ivf``: IndexIVFFlat with
    ~sqrt(n) lists) over the vectors of ``flat``. For a growing search effort (efSearch from 64,
    nprobe from 8, doubling, until recall@5 >= 0.99): recall@5/@50 against exact search, by
    row and by text (the synthetic corpora repeat sentences, so several rows hold
    near-identical vectors), and single-query latency at k=50, the retriever's depth."""
    import faiss

    vecs = flat.reconstruct_n(0, flat.ntotal)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building is batch work: use every core
    t = perf_counter()
    ann, out, efforts = _build(kind, vecs, args)
    out["build_s"] = perf_counter() - t
    _, exact = flat.search(qvecs, 50)
    faiss.omp_set_num_threads(threads)
    del vecs
    size = faiss.serialize_index(ann).nbytes
    out["extra_mb"] = round((size - flat.ntotal * DIM * 4) / 2**20, 1)
    out["exact_ms"] = _latency(flat, qvecs[: args.questions])
    out["effort"] = {}
    for effort in efforts:
        _set_effort(ann, effort)
        _, got = ann.search(qvecs, 50)
        lat = _latency(ann, qvecs[: args.questions])
        out["effort"][effort] = _recall(got, exact, texts) | {"ms": lat}
        if effort >= efforts[1] and out["effort"][effort]["recall@5"] >= 0.99:
            break
    ok = [e for e, v in out["effort"].items() if v["recall@5"] >= 0.99]
    out["recommended"] = min(ok) if ok else None
    _set_effort(ann, out["recommended"] or max(out["effort"]))
    return out, ann


def _build(kind: str, vecs: np.ndarray, args):
    """(the trained and filled index, its description, the efforts to try)."""
    import faiss

    if kind == "hnsw":
        ann = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        ann.hnsw.efConstruction = args.ef_construction
        out = {"name": f"HNSWFlat M=32, efConstruction {args.ef_construction}", "param": "ef"}
        efforts = [64, 128, 256, 512]
    else:
        nlist = 2 ** round(np.log2(np.sqrt(len(vecs))))
        ann = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(vecs), min(len(vecs), 50 * nlist), False)
        ann.train(vecs[np.sort(sample)])
        out = {"name": f"IVFFlat nlist={nlist} (trained on {len(sample):,})", "param": "nprobe"}
        efforts = [8, 16, 32, 64, 128, 256]
    ann.add(vecs)
    return ann, out, efforts


def _set_effort(ann, effort: int) -> None:
    if hasattr(ann, "hnsw"):
        ann.hnsw.efSearch = effort
    else:
        ann.nprobe = effort


def _recall(got: np.ndarray, exact: np.ndarray, texts: list[str]) -> dict:
    out = {}
    for k in (5, 50):
        by_row = np.mean([len(set(a[:k]) & set(b[:k])) / k for a, b in zip(got, exact)])
        by_text = np.mean(
            [
                len({texts[i] for i in a[:k]} & (want := {texts[i] for i in b[:k]})) / len(want)
                for a, b in zip(got, exact)
            ]
        )
        out[f"recall@{k}"] = round(float(by_row), 4)
        out[f"text_recall@{k}"] = round(float(by_text), 4)
    return out


def _latency(faiss_index, qvecs: np.ndarray) -> dict:
    ts = []
    for v in qvecs:
        t = perf_counter()
        faiss_index.search(v.reshape(1, -1), 50)
        ts.append(perf_counter() - t)
    return pct(ts)
