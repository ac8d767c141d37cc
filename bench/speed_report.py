"""bench/speed.py, the report: one markdown table of every section's numbers (from the result
dict that also goes to bench/out/speed.json), with the machine, load and method around it.

Imported by bench/speed.py; not a script.
"""

from __future__ import annotations

from speed_cold import cold_rows
from speed_memory import memory_rows


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
            f"**{b['texts_per_s']} texts/s** ({b['chunks_per_s']} chunks/s); "
            f"CPU {b['cpu_ms_per_text']} ms/text",
            f"whole build (read, chunk, embed, BM25, save), model preloaded; "
            f"**{b['ratio_vs_st']}x** the raw encode below; load {b['load1'][0]}->{b['load1'][1]}",
        )
    ]
    rows += [_engine_row(name, r) for name, r in ix["engines"].items()]
    rows = [r for r in rows if r]
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


def _engine_row(name: str, r) -> tuple | None:
    if not isinstance(r, dict) or "texts_per_s" not in r:
        return None
    note = ""
    if "quality" in r:
        q, cos = r["quality"], r["cos_vs_st"]
        note = (
            f"cos vs ST mean {cos['mean']:.4f} min {cos['min']:.4f}; "
            f"answer in dense top-5 {q['answer_in_top5']}"
        )
        if "top5_overlap_vs_st" in q:
            note += f", top-5 overlap with ST {q['top5_overlap_vs_st']:.2f}"
        note += "; "
    return (
        "Indexing",
        name,
        f"**{r['texts_per_s']} texts/s**; CPU {r['cpu_ms_per_text']} ms/text"
        + (f"; model load {r['load_s']} s" if "load_s" in r else ""),
        note + f"load avg {r['load1'][0]}->{r['load1'][1]}",
    )


def size_rows(n: int, r: dict) -> list[tuple]:
    area = f"Query @ {_k(n)}"
    lat = r["latency"]
    rows = [
        (
            area,
            f"synthetic index: {r['chunks']:,} chunks, {r['sentences']:,} sentences, "
            f"{r['articles']:,} articles",
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
        verdict = (
            f"**{a['param']} {rec}** keeps R@5 >= 0.99"
            if rec
            else "no setting tried reaches R@5 0.99"
        )
        rows.append(
            (
                area,
                f"{a['name']} over {what}",
                sweep,
                f"exact {_ms(a['exact_ms'])} ms; build {a['build_s']:.0f} s; +{a['extra_mb']} MB; "
                + verdict,
            )
        )
    lat = h["latency"]
    rows.append(
        (
            area,
            "questions again with " + "; ".join(f"{w}: {v}" for w, v in h["swapped"].items()),
            f"total {_ms(lat['total'])} ms, dense {_ms(lat['dense'])} ms",
            f"same top-5 hits as exact: {h['same_top5_hits']:.0%}, "
            f"same top-1: {h['same_top1_hit']:.0%}",
        )
    )
    return rows


def _threads_row(th: dict) -> tuple:
    return (
        "Threads",
        "one query embedding (p50 of 6), by torch thread setting",
        ", ".join(
            f"{k[:-3].replace('_', ' ')}: {v} ms" for k, v in th.items() if k.endswith("_ms")
        ),
        "main thread = `qa ask`/`qa build`; worker thread = `qa serve` (FastAPI thread pool)",
    )


def _rows(result: dict) -> list[tuple]:
    rows = [_threads_row(result["threads"])] if "threads" in result else []
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
    return rows + memory_rows(result)


def _header(result: dict) -> list[str]:
    m = result["machine"]
    ls, le = result["load_start"], result.get("load_end", ["?"] * 3)
    same = result["qa_source_start"] == result.get("qa_source_end")
    return [
        f"## qa speed ({result['started_at']}, {result.get('seconds', 0) / 60:.1f} min)",
        "",
        f"Machine: {m['nproc']} x {m['cpu']}, {m['mem_gb']} GB RAM; torch {m['torch']} "
        f"({m['torch_threads']} threads), sentence-transformers {m['sentence_transformers']}, "
        f"faiss {m['faiss']}. Load average (1/5/15 min) at start {'/'.join(map(str, ls))}, "
        f"at end {'/'.join(map(str, le))}: the cores were shared with other jobs, so timings "
        "are noisy; CPU ms/text is less sensitive to that than texts/s.",
        "",
        f"Reproduce: `{result['command']}`. qa/**/*.py sha256 {result['qa_source_start']} at "
        f"start, {result.get('qa_source_end')} at end"
        + ("" if same else " (code changed mid-run)")
        + ".",
        "",
        "| Area | Measure | Result | Notes |",
        "|---|---|---|---|",
    ]


def _method(result: dict) -> str:
    pool = result.get("pool", {})
    return (
        f"Latencies are warm, per question, over {result.get('n_questions')} questions "
        "(seed questions, then XQuAD dev questions), in ms p50 / p95. Query corpora are "
        f"synthetic: {pool.get('sentences', '?')} distinct real sentences (corpus/ + "
        f"{pool.get('xquad_paragraphs')} XQuAD dev paragraphs per language) recombined into "
        f"{pool.get('templates')} paragraph templates per language and 3-6 paragraphs per "
        "article, split and chunked by qa.ingest.chunker. **Vectors are not embedded**: "
        f"sentence = real e5 embedding of its text + N(0, {result.get('sigma')}^2) per "
        "dimension, chunk = normalized mean of its sentences' embeddings + the same noise, "
        "renormalized. FAISS, BM25, fusion, collapse and reader are the real code. ANN "
        "recall@k = overlap of the approximate top-k with the exact top-k over "
        f"{result.get('n_recall_queries')} real question embeddings (text: counting rows with "
        "the same text as one). Indexing engines all run the same texts with the same thread "
        f"count ({result.get('threads_used') or 'library defaults'}); quality = dense-only "
        "top-5 of the seed questions over the built chunks."
    )


def render(result: dict) -> str:
    lines = _header(result)
    lines += [
        "| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in row) + " |"
        for row in _rows(result)
    ]
    lines += ["", _method(result)]
    if result.get("onnx_packages"):
        lines.append(
            f"\nONNX: {result['onnx_packages']} pip-installed into the venv for this benchmark "
            "(no other package changed); not in pyproject.toml."
        )
    return "\n".join(lines)
