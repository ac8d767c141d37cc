"""bench/speed.py, the query side: one question through the real stages of Pipeline.ask, each
timed on its own; per corpus size, warm latency over the questions (exact search, then the
best approximate index swapped in), memory and disk; query-embedding latency by thread count.

Imported by bench/speed.py (and run_stages by bench/backends_sides.py); not a script.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
from pathlib import Path
from time import perf_counter

import numpy as np
from common import log, pct, rss_mb, seed_questions
from speed_ann import ann_eval
from speed_memory import disk_usage, loaded_rss
from synthetic import synthetic_index

from qa import retrieve
from qa.read import spans, typed
from qa.store.versions import current_version

STAGES = ("embed", "dense", "bm25", "fusion", "reader")


def run_stages(pipe, idx, text: str):
    """One question through the real stages of Pipeline.ask (unfiltered path of
    qa.retrieve.retrieve, the typed reader), each timed on its own."""
    s = pipe.settings
    depth, limit = s.candidates, max(s.k, 5)
    t0 = perf_counter()
    q = pipe.query(text)
    t1 = perf_counter()
    dense = idx.dense_search(q.vec, depth)
    t1b = perf_counter()
    sent = idx.sentence_search(q.vec, depth)
    t2 = perf_counter()
    lex_index = idx.lexical.get(q.lang)
    lex = lex_index.search(list(q.tokens), depth) if lex_index else []
    t3 = perf_counter()
    lists = [
        (dense[:depth], s.dense_weight, 1),
        (sent[:depth], s.sentence_weight, 1),
        (lex[:depth], s.lexical_weight, 2),
    ]
    fused = retrieve.fuse(lists, s.rrf_k)
    ranked = sorted(fused.items(), key=lambda kv: (-kv[1][0], kv[0]))
    hits = retrieve.collapse(idx, ranked, limit)
    t4 = perf_counter()
    # spans.candidates is memoized per sentence; the synthetic corpora repeat a few hundred
    # sentences, so without this the reader would look far cheaper than on a real corpus.
    spans.candidates.cache_clear()
    t4b = perf_counter()
    ans = typed.read(idx, q, hits, s.min_score)
    t5 = perf_counter()
    times = {
        "embed": t1 - t0,
        "dense": t2 - t1,
        "dense_chunks": t1b - t1,
        "dense_sentences": t2 - t1b,
        "bm25": t3 - t2,
        "fusion": t4 - t3,
        "reader": t5 - t4b,
    }
    times["total"] = sum(times[k] for k in STAGES)
    return times, q, hits, ans


def time_queries(pipe, idx, qs: list[str]) -> tuple[dict, list]:
    """Warm up (and check the staged path equals Pipeline.retrieve/read), then time every
    question."""
    for text in qs[:3]:
        _, q, hits, ans = run_stages(pipe, idx, text)
        assert [h.chunk.id for h in hits] == [
            h.chunk.id for h in pipe.retrieve(q, max(pipe.settings.k, 5), idx=idx)
        ]
        assert ans.text == pipe.read(q, hits, idx).text
    rows, tops = [], []
    for text in qs:
        times, _, hits, _ = run_stages(pipe, idx, text)
        rows.append(times)
        tops.append([h.chunk.id for h in hits])
    keys = list(rows[0])
    return {k: pct([r[k] for r in rows]) for k in keys}, tops


def bench_size(n: int, ctx: dict, args) -> dict:
    log(f"size {n}: generating the synthetic index")
    gc.collect()
    rss0 = rss_mb()
    idx, info = synthetic_index(ctx["pool"], ctx["E"], n, args.sigma, seed=n)
    info["rss_delta_mb"] = round(rss_mb() - rss0, 1)
    t = perf_counter()
    idx.copies("")
    info["copies_table_s"] = perf_counter() - t
    log(f"size {n}: {info['chunks']} chunks; timing {len(ctx['questions'])} questions")
    info["latency"], flat_tops = time_queries(ctx["pipe"], idx, ctx["questions"])
    if n >= args.ann_min and args.ann_kinds:
        info["ann"] = ann_size(idx, ctx, args, n, flat_tops)
    if n <= args.save_max:
        with tempfile.TemporaryDirectory(dir=ctx["tmp"]) as d:
            idx.save(Path(d))
            folder = Path(d) / current_version(Path(d))
            info["disk"] = disk_usage(folder)
            del idx
            gc.collect()
            log(f"size {n}: loading the saved index in a fresh process")
            info["serving"] = loaded_rss(Path(d))
    return info


def ann_size(idx, ctx, args, n, flat_tops) -> dict:
    """Every --ann kind over chunk vectors (and sentence vectors up to --sentence-ann-max);
    then the questions again with the fastest index within 1 point of recall@5 (or the most
    accurate one) swapped into the Index."""
    targets = [("chunks", "faiss", [c.text for c in idx.chunks])]
    if n <= args.sentence_ann_max:
        targets.append(("sentences", "sentence_faiss", [x.text for x in idx.sentences]))
    out, best = _ann_sweep(idx, ctx["recall_qvecs"], targets, args, n)
    flat = {attr: getattr(idx, attr) for _, attr, _ in targets}
    for what, attr, _ in targets:
        setattr(idx, attr, best[what][1])
    out["swapped"] = {what: best[what][2] for what in best}
    log(f"size {n}: timing the questions again with {out['swapped']}")
    out["latency"], tops = time_queries(ctx["pipe"], idx, ctx["questions"])
    out["same_top5_hits"] = round(float(np.mean([a == b for a, b in zip(tops, flat_tops)])), 3)
    out["same_top1_hit"] = round(
        float(np.mean([a[:1] == b[:1] for a, b in zip(tops, flat_tops)])), 3
    )
    for attr, index_ in flat.items():
        setattr(idx, attr, index_)
    return out


def _ann_sweep(idx, qv: np.ndarray, targets: list, args, n: int) -> tuple[dict, dict]:
    """(each kind's results by "{kind}_{what}", the best (key, index, label) per target)."""
    out, best = {}, {}
    for what, attr, texts in targets:
        for kind in args.ann_kinds:
            log(f"size {n}: {kind} over {what}")
            res, ann = ann_eval(kind, getattr(idx, attr), qv, texts, args)
            out[f"{kind}_{what}"] = res
            effort = res["recommended"] or max(res["effort"])
            chosen = res["effort"][effort]
            # Prefer the fastest setting within 1 point of recall@5, else the most accurate.
            ok = res["recommended"] is not None
            key = (0, chosen["ms"]["p50"]) if ok else (1, -chosen["recall@5"])
            if what not in best or key < best[what][0]:
                best[what] = (key, ann, f"{res['name']}, {res['param']} {effort}")
    return out, best


def thread_check(pipe, default: int, chosen: int) -> dict:
    """Query-embedding latency with torch's default thread count in the main thread (as in
    `qa ask` and `qa build`), with ``chosen`` threads, and in a worker thread (as in `qa serve`,
    whose FastAPI handler runs in a thread pool)."""
    from concurrent.futures import ThreadPoolExecutor

    import torch

    qs = [q["question"] for q in seed_questions()[:6]]

    def p50() -> float:
        ts = []
        for q in qs:
            t = perf_counter()
            pipe.embedder.queries([q])
            ts.append(perf_counter() - t)
        return round(statistics.median(ts) * 1000, 1)

    log("threads: query-embedding latency by thread setting")
    out = {"default_threads": default, f"main_{default}_threads_ms": p50()}
    with ThreadPoolExecutor(1) as ex:
        out[f"worker_{default}_threads_ms"] = ex.submit(p50).result()
    if chosen and chosen != default:
        torch.set_num_threads(chosen)
        out[f"main_{chosen}_threads_ms"] = p50()
        torch.set_num_threads(default)
    return out
