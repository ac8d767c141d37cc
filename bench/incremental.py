"""Time to add one article to a large corpus, next to a full rebuild of that corpus.

Writes a synthetic corpus of N short articles (default 10,000; half English, half Russian),
each a numbered title plus sentences recombined from the real corpus/ (no download). Then,
with the real model loaded once beforehand (so neither number includes loading it):

  full rebuild   pipeline.build(full=True): every article embedded
  add one        intake.add(FILE): copy into corpus/en/, duplicate check, incremental build
                 (only the new article is embedded; the rest is reading the corpus and the old
                 index, rebuilding BM25 and writing the new version)
  build one      a file dropped into corpus/ by hand, then pipeline.build(): the incremental
                 build alone (no duplicate check, so the corpus is read once, not twice)
  qa add (CLI)   `qa add FILE` through the executable: adds process start and model load

The articles are short (a title and two sentences: 3 sentences, 1 chunk) because embedding on
2 CPU cores runs at ~50-100 texts/s: the 10k full rebuild takes ~15 minutes. Prints a table and
writes JSON to bench/out/incremental-N.json.

    .venv/bin/python bench/incremental.py              # N=10000, ~15-20 min on 2 cores
    .venv/bin/python bench/incremental.py -n 200       # a quick check, ~1 min
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from qa import intake, pipeline
from qa.config import load_settings, quiet_third_party
from qa.embed.embedder import Embedder
from qa.ingest import chunker, corpus
from qa.store import faiss_index as index

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TITLES = {"en": "News digest no. {i}", "ru": "Дайджест новостей № {i}"}
NEW_ARTICLES = [
    "Zorvian envoy signs accord in Tallinn\n\nTALLINN, March 3 - The Zorvian ambassador signed "
    "the accord in Tallinn on 3 March 2022. The ceremony lasted twenty minutes.\n",
    "Quokkaberry harvest doubles\n\nPERTH, March 4 - Growers said the quokkaberry harvest "
    "doubled this season. Prices fell by a third.\n",
    "Walrus council meets in Oslo\n\nOSLO, May 5 - The walrus council met in Oslo and voted "
    "twice. Its next meeting is in June.\n",
]


def sentence_pool(source: Path) -> dict[str, list[str]]:
    """Body sentences of the real corpus by language, of ordinary length, without duplicates."""
    articles, _ = corpus.load(source)
    pool: dict[str, set[str]] = {"en": set(), "ru": set()}
    for a in articles:
        for s in chunker.sentences(a)[1:]:  # [0] is the title
            if 25 <= len(s.text) <= 160 and s.text[-1] in ".!?»\"'":
                pool[a.lang].add(s.text)
    return {lang: sorted(v) for lang, v in pool.items()}


def write_corpus(folder: Path, n: int, per_article: int, seed: int = 0) -> None:
    pool = sentence_pool(ROOT / "corpus")
    rng = random.Random(seed)
    for lang in ("en", "ru"):
        (folder / lang).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        lang = "en" if i % 2 == 0 else "ru"
        body = " ".join(rng.sample(pool[lang], per_article))
        text = f"{TITLES[lang].format(i=i)}\n\n{body}\n"
        (folder / lang / f"{i:05d}.txt").write_text(text, encoding="utf-8")


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def cli_add(settings, path: Path) -> tuple[dict, float]:
    cmd = [Path(sys.executable).parent / "qa", "add", path, "--json", "-q"]
    cmd += ["--corpus", settings.corpus, "--index", settings.index]
    env = {**os.environ, "QA_MODEL_CACHE": str(settings.model_cache)}
    t0 = time.perf_counter()
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"qa add failed: {proc.stderr}")
    return json.loads(proc.stdout), seconds


def run(n: int, per_article: int, workdir: Path) -> dict:
    shutil.rmtree(workdir, ignore_errors=True)
    s = load_settings().with_(corpus=workdir / "corpus", index=workdir / "index", quiet=True)
    write_corpus(s.corpus, n, per_article)
    embedder = Embedder(s.model_cache, s.batch_size, s.threads)
    embedder.queries(["warm up"])  # load the model before timing anything
    full, full_s = timed(pipeline.build, s, full=True, embedder=embedder)
    _, noop_s = timed(pipeline.build, s, embedder=embedder)
    new = [workdir / f"new-{i}.txt" for i in range(len(NEW_ARTICLES))]
    for p, text in zip(new, NEW_ARTICLES, strict=True):
        p.write_text(text, encoding="utf-8")
    added, add_s = timed(intake.add, s, [new[0]], embedder=embedder)
    assert added.copied and added.build.added == added.copied, added
    shutil.copy(new[1], s.corpus / "en" / new[1].name)  # dropped in by hand, then `qa build`
    built, build_s = timed(pipeline.build, s, embedder=embedder)
    assert len(built.added) == 1, built
    via_cli, cli_s = cli_add(s, new[2])
    # Where a small build's time goes: reading (parsing, cleaning) the corpus and the old index.
    _, corpus_s = timed(corpus.load, s.corpus)
    _, load_s = timed(index.load, s.index)
    return {
        "articles": n,
        "sentences_per_article": per_article + 1,
        "chunks": full.chunks_embedded,
        "sentences": full.sentences_embedded,
        "full_rebuild_s": round(full_s, 2),
        "full_rebuild_embedded": full.chunks_embedded + full.sentences_embedded,
        "noop_build_s": round(noop_s, 2),
        "add_one_s": round(add_s, 2),
        "add_one_embedded": added.build.chunks_embedded + added.build.sentences_embedded,
        "add_one_chunks_embedded": added.build.chunks_embedded,
        "build_one_s": round(build_s, 2),
        "build_one_embedded": built.chunks_embedded + built.sentences_embedded,
        "add_one_cli_s": round(cli_s, 2),
        "add_one_cli_chunks_embedded": via_cli["chunks_embedded"],
        "ratio": round(add_s / full_s, 4),
        "corpus_load_s": round(corpus_s, 2),
        "index_load_s": round(load_s, 2),
        "texts_per_s_full": round((full.chunks_embedded + full.sentences_embedded) / full_s, 1),
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "model": embedder.model_id,
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }


def table(r: dict) -> str:
    rows = [
        ("articles", f"{r['articles']:,}"),
        ("chunks / sentences in the index", f"{r['chunks']:,} / {r['sentences']:,}"),
        (
            "full rebuild",
            f"{r['full_rebuild_s']:.1f} s  ({r['full_rebuild_embedded']:,} texts embedded, "
            f"{r['texts_per_s_full']:.0f}/s)",
        ),
        (
            "add one article (`qa add`)",
            f"{r['add_one_s']:.1f} s  ({r['add_one_embedded']} texts embedded: "
            f"{r['add_one_chunks_embedded']} chunk(s) and its sentences)",
        ),
        ("add one / full rebuild", f"{r['ratio']:.2%}"),
        (
            "`qa build` after dropping one file in",
            f"{r['build_one_s']:.1f} s  ({r['build_one_embedded']} texts embedded)",
        ),
        (
            "`qa add` from the shell",
            f"{r['add_one_cli_s']:.1f} s  (with process start, model load)",
        ),
        ("no-op `qa build`", f"{r['noop_build_s']:.1f} s"),
        (
            "every build reads: corpus / old index",
            f"{r['corpus_load_s']:.1f} s / {r['index_load_s']:.1f} s",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--articles", type=int, default=10_000)
    ap.add_argument("--sentences", type=int, default=2, help="body sentences per article")
    ap.add_argument("--workdir", type=Path, default=None, help="default bench/out/incremental-N")
    args = ap.parse_args()
    quiet_third_party()
    workdir = args.workdir or OUT / f"incremental-{args.articles}"
    print(
        f"{args.articles} synthetic articles of {args.sentences + 1} sentences in {workdir}; "
        "the full rebuild embeds them all with the real model "
        f"(~{args.articles * 4 / 100 / 60:.1f} min at ~100 texts/s on 2 cores)...",
        file=sys.stderr,
    )
    result = run(args.articles, args.sentences, workdir)
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"incremental-{args.articles}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(table(result))
    print(f"\n(JSON in {out.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
