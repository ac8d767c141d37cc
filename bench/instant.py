"""How instant `qa` feels, old code path against new, in one run (issue 15's table).

For each side (a source tree run with `python -m qa`, and an engine), on the seed index:
- cold `qa ask`: wall time of fresh processes (best and median of --runs);
- warm per question: `Pipeline.ask` + the `--json` rendering (news enrichment included) on the
  55 seed questions, after a warm-up, next to the raw query embedding of the same questions
  in the same process, and their ratio;
- `qa serve`: seconds from start until the page (GET /) and GET /api/ask answer, and its RSS;
- build throughput: `qa build --full` of the seed corpus plus XQuAD paragraphs, texts/s.

    git worktree add /tmp/qa-old 7c34e30          # the code before issue 15
    .venv/bin/python bench/instant.py --old-src /tmp/qa-old

Never run it beside another CPU-heavy job; it prints the load average with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from time import perf_counter

from common import ROOT, XQUAD, loadavg, log, save
from speed_cold import COLD_Q, free_port

OUT = ROOT / "bench" / "out" / "instant.json"
PY = sys.executable

# Runs inside a side's own process, so it imports that side's qa.
WARM = r"""
import json, statistics, sys, time
from pathlib import Path
from qa import pipeline, render
from qa.config import Settings
idx, engine, qfile = sys.argv[1], sys.argv[2], sys.argv[3]
qs = [q["question"] for q in json.loads(Path(qfile).read_text())["questions"]]
kw = {"engine": engine} if "engine" in Settings.__dataclass_fields__ else {}
pipe = pipeline.Pipeline(Settings(index=Path(idx), quiet=True, **kw))
pipe.warm_up()
def render_one(ans):
    try:
        return render.answer_json(ans, 5)
    except TypeError:  # the code before the refactor rendered (and enriched) from the index
        return render.answer_json(pipe.index, ans, 5)
for q in qs[:5]:
    render_one(pipe.ask(q)); pipe.embedder.queries([q])
ask, emb = [], []
for _ in range(2):
    for q in qs:
        t = time.perf_counter(); render_one(pipe.ask(q)); ask.append(time.perf_counter() - t)
        t = time.perf_counter(); pipe.embedder.queries([q]); emb.append(time.perf_counter() - t)
print(json.dumps({"ask_ms": statistics.median(ask) * 1000, "ask_p90_ms":
    sorted(ask)[int(0.9 * len(ask))] * 1000, "embed_ms": statistics.median(emb) * 1000}))
"""


def env_for(src: Path, engine: str | None) -> dict:
    # Each side's own default threads (the old code: 1; the new: one per core for the span
    # reader and builds): what a user gets. QA_THREADS from the caller's environment is dropped.
    env = {k: v for k, v in os.environ.items() if k != "QA_THREADS"} | {"PYTHONPATH": str(src)}
    if engine:
        env["QA_ENGINE"] = engine
    return env


def qa(side: dict, *args, tmp: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PY, "-m", "qa", *args], env=side["env"], cwd=tmp, capture_output=True, text=True, **kw
    )


def cold_ask(side: dict, idx: Path, tmp: Path, runs: int) -> dict:
    walls = []
    for _ in range(runs):
        t = perf_counter()
        r = qa(side, "ask", COLD_Q, "--index", str(idx), "--json", tmp=tmp, check=True)
        walls.append(perf_counter() - t)
    answer = (json.loads(r.stdout).get("answer") or {}).get("text")
    return {"best_s": min(walls), "median_s": statistics.median(walls), "answer": answer}


def warm(side: dict, idx: Path, tmp: Path) -> dict:
    seed = ROOT / "tests" / "fixtures" / "seed_questions.json"
    r = subprocess.run(
        [PY, "-c", WARM, str(idx), side["engine"] or "torch", str(seed)],
        env=side["env"],
        cwd=tmp,
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["ratio"] = out["ask_ms"] / out["embed_ms"]
    return out


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _until_ok(url: str, t0: float, proc, timeout: float = 120) -> float:
    while perf_counter() - t0 < timeout and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                resp.read()
                return perf_counter() - t0
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url}: no answer (exit {proc.poll()})")


def serve(side: dict, idx: Path, tmp: Path) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [PY, "-m", "qa", "serve", "--index", str(idx), "--port", str(port), "--quiet"]
    t0 = perf_counter()
    proc = subprocess.Popen(args, env=side["env"], cwd=tmp, stdout=subprocess.DEVNULL)
    try:
        page = _until_ok(base + "/", t0, proc)
        ask = _until_ok(f"{base}/api/ask?" + urllib.parse.urlencode({"q": COLD_Q}), t0, proc)
        for q in ("Who met Putin?", "Где прошли переговоры?", "When did Lavrov meet Putin?"):
            _until_ok(f"{base}/api/ask?" + urllib.parse.urlencode({"q": q}), t0, proc)
        return {"page_s": page, "answer_s": ask, "rss_mb": _rss_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(20)


def build_corpus(tmp: Path, paragraphs: int) -> Path:
    """The seed corpus plus the first XQuAD dev paragraphs (EN and RU) as articles."""
    corpus = tmp / "build-corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    for lang in ("en", "ru"):
        data = json.loads((XQUAD / f"xquad-dev.{lang}.json").read_text(encoding="utf-8"))["data"]
        paras = [p["context"] for a in data for p in a["paragraphs"]][:paragraphs]
        for i, text in enumerate(paras):
            (corpus / lang / f"xquad-{i:03d}.txt").write_text(f"Paragraph {i}\n\n{text}\n")
    return corpus


def build(side: dict, corpus: Path, tmp: Path) -> dict:
    idx = tmp / f"build-index-{side['name']}"
    r = qa(side, "build", "--full", "--json", "--quiet", "--corpus", str(corpus),
           "--index", str(idx), tmp=tmp, check=True)  # fmt: skip
    rep = json.loads(r.stdout)
    texts = rep["chunks_embedded"] + rep["sentences_embedded"]
    return {"texts": texts, "seconds": rep["seconds"], "texts_per_s": texts / rep["seconds"]}


def measure(side: dict, tmp: Path, corpus: Path, runs: int) -> dict:
    idx = tmp / f"seed-index-{side['name']}"
    log(f"{side['name']}: seed index")
    qa(side, "build", "--quiet", "--corpus", str(ROOT / "corpus"), "--index", str(idx),
       tmp=tmp, check=True)  # fmt: skip
    log(f"{side['name']}: cold ask x{runs}")
    out = {"cold_ask": cold_ask(side, idx, tmp, runs)}
    log(f"{side['name']}: warm questions")
    out["warm"] = warm(side, idx, tmp)
    log(f"{side['name']}: serve")
    out["serve"] = serve(side, idx, tmp)
    log(f"{side['name']}: build throughput")
    out["build"] = build(side, corpus, tmp)
    return out


def table(results: dict) -> str:
    rows = [
        ("cold `qa ask`, best of runs (s)", lambda r: r["cold_ask"]["best_s"], "{:.2f}"),
        ("cold `qa ask`, median (s)", lambda r: r["cold_ask"]["median_s"], "{:.2f}"),
        ("warm question, median (ms)", lambda r: r["warm"]["ask_ms"], "{:.1f}"),
        ("warm question, p90 (ms)", lambda r: r["warm"]["ask_p90_ms"], "{:.1f}"),
        ("raw query embedding (ms)", lambda r: r["warm"]["embed_ms"], "{:.1f}"),
        ("warm question / query embedding", lambda r: r["warm"]["ratio"], "{:.1f}x"),
        ("`qa serve` until the page (s)", lambda r: r["serve"]["page_s"], "{:.2f}"),
        ("`qa serve` until /api/ask answers (s)", lambda r: r["serve"]["answer_s"], "{:.2f}"),
        ("`qa serve` RSS after 4 questions (MB)", lambda r: r["serve"]["rss_mb"], "{:.0f}"),
        ("build, texts/s", lambda r: r["build"]["texts_per_s"], "{:.1f}"),
    ]
    names = list(results)
    lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, get, fmt in rows:
        lines.append(
            f"| {label} | " + " | ".join(fmt.format(get(results[n])) for n in names) + " |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old-src", type=Path, help="a checkout of the old code (run as torch)")
    ap.add_argument("--runs", type=int, default=5, help="fresh `qa ask` processes per side")
    ap.add_argument("--paragraphs", type=int, default=60, help="XQuAD paragraphs per language")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    sides = []
    if args.old_src:
        sides.append({"name": "old code", "env": env_for(args.old_src, None), "engine": None})
    for engine in ("torch", "onnx"):
        sides.append({"name": f"new, {engine}", "env": env_for(ROOT, engine), "engine": engine})
    load0 = loadavg()
    with tempfile.TemporaryDirectory(prefix="qa-instant-") as d:
        tmp = Path(d)
        corpus = build_corpus(tmp, args.paragraphs)
        results = {s["name"]: measure(s, tmp, corpus, args.runs) for s in sides}
    text = table(results)
    print(text)
    print(f"\nload average before {load0}, after {loadavg()}; `{' '.join(sys.argv)}`")
    save({"results": results, "table": text, "load": [load0, loadavg()]}, args.out)


if __name__ == "__main__":
    main()
