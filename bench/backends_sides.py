"""bench/backends.py, the two sides: one synthetic index saved by the FAISS backend and
written to PostgreSQL (one node, or a coordinator with shards), each timed building and
answering, with the recall@10 of its chunk search against exact inner product.

Imported by bench/backends.py; not a script.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from time import perf_counter

import numpy as np
from common import log, pct
from speed_query import run_stages

from qa.store.postgres import index as pgindex
from qa.store.postgres import schema as pgschema
from qa.store.postgres import server as pgserver
from qa.store.postgres import write as pgwrite
from qa.store.postgres.connect import connect as pgconnect

SERVER = {  # a server sized for a 1M-row HNSW build on a 2-core, 23 GB machine
    "shared_buffers": "'2GB'",
    "maintenance_work_mem": "'4GB'",
    "max_parallel_maintenance_workers": "1",
    "work_mem": "'64MB'",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'30min'",
}


def latency(pipe, idx, qs: list[str]) -> dict:
    """p50/p95 per retriever and for the whole retrieval, over the questions."""
    rows = []
    for text in qs[:3]:
        run_stages(pipe, idx, text)  # warm caches
    for text in qs:
        times, *_ = run_stages(pipe, idx, text)
        times["retrieve"] = times["dense"] + times["bm25"] + times["fusion"]
        rows.append(times)
    keys = ("dense_chunks", "dense_sentences", "bm25", "retrieve")
    return {k: pct([r[k] for r in rows]) for k in keys}


def recall(idx, qvecs: np.ndarray, exact: list[set[str]]) -> float:
    """Mean share of the exact top-10 chunk ids that the backend's chunk search returns."""
    got = [{idx.chunks[r].id for r, _ in idx.dense_search(v, 10)} for v in qvecs]
    return round(float(np.mean([len(g & e) / 10 for g, e in zip(got, exact)])), 4)


def exact_top10(entries, qvecs: np.ndarray) -> list[set[str]]:
    ids = [c.id for e in entries for c in e.chunks]
    scores = qvecs @ np.vstack([e.chunk_vecs for e in entries]).T
    return [{ids[i] for i in np.argsort(-s, kind="stable")[:10]} for s in scores]


def faiss_side(idx, info, pipe, qs, qvecs, exact, tmp: Path) -> dict:
    t = perf_counter()
    idx.save(tmp / "faiss")
    save_s = perf_counter() - t
    build_s = info["index_init_s"] + info["bm25_build_s"] + save_s
    out = {
        "build_s": round(build_s, 1),
        "index_init_s": round(info["index_init_s"], 1),
        "bm25_s": round(info["bm25_build_s"], 1),
        "save_s": round(save_s, 1),
        "chunks_per_s": round(info["chunks"] / build_s),
        "latency": latency(pipe, idx, qs),
        "recall10": recall(idx, qvecs, exact),
    }
    shutil.rmtree(tmp / "faiss", ignore_errors=True)
    return out


def on_postgres(name: str, shards: int | None, n: int, side: dict) -> dict:
    """pg_side on fresh embedded servers: one node, or a coordinator and ``shards`` shards.
    ``side`` holds pg_side's arguments but the DSN."""
    root = pgserver.workdir(prefix="qa-bench-pg-")
    servers = []
    try:
        servers.append(pgserver.start(root / "node", settings=SERVER))
        dsn = servers[0].dsn()
        if shards:
            for i in range(shards):
                servers.append(pgserver.start(root / f"shard{i}", settings=SERVER))
            pgschema.init(dsn, [s.dsn() for s in servers[1:]], "qa")
        log(f"size {n}: {name}")
        return pg_side(dsn=dsn, n_chunks=n, **side)
    except Exception as e:  # keep what was measured
        out = {"error": f"{type(e).__name__}: {e}"}
        log(f"{name} failed: {out['error']}")
        return out
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(root, ignore_errors=True)


def pg_side(entries, manifest, pipe, qs, qvecs, exact, dsn: str, n_chunks: int) -> dict:
    conn = pgconnect(dsn)
    try:
        if not pgschema.exists(conn, "qa"):
            pgschema.create_local(conn, "qa")
        out = _pg_build(conn, entries, manifest, n_chunks)
        log("postgres: loading the catalogue, timing questions")
        t = perf_counter()
        idx = pgindex.load(pgconnect(dsn), "qa")
        out["catalogue_load_s"] = round(perf_counter() - t, 1)
        out["exact_scan"] = idx.exact
        out["latency"] = latency(pipe, idx, qs)
        out["recall10"] = recall(idx, qvecs, exact)
        return out
    finally:
        conn.close()


def _pg_build(conn, entries, manifest, n_chunks: int) -> dict:
    """Rows in one transaction, then the HNSW graphs, then VACUUM ANALYZE, each timed."""
    t = perf_counter()
    pgwrite.write(conn, "qa", entries, [], manifest, "bench", full=True)
    write_s = perf_counter() - t
    log(f"postgres: rows written in {write_s:.0f}s; HNSW graphs")
    t = perf_counter()
    pgschema.ensure_ann(conn, "qa", "chunks", n_chunks)
    hnsw_chunks_s = perf_counter() - t
    t = perf_counter()
    pgschema.ensure_ann(conn, "qa", "sentences", manifest["n_sentences"])
    hnsw_sent_s = perf_counter() - t
    t = perf_counter()
    conn.execute("VACUUM ANALYZE")
    vacuum_s = perf_counter() - t
    size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    build_s = write_s + hnsw_chunks_s + hnsw_sent_s + vacuum_s
    return {
        "build_s": round(build_s, 1),
        "write_s": round(write_s, 1),
        "hnsw_chunks_s": round(hnsw_chunks_s, 1),
        "hnsw_sentences_s": round(hnsw_sent_s, 1),
        "vacuum_analyze_s": round(vacuum_s, 1),
        "chunks_per_s": round(n_chunks / build_s),
        "rows_per_s_without_hnsw": round(n_chunks / write_s),
        "db_size_gb": round(size / 2**30, 2),
    }
