"""What the speed and backends benchmarks share: paths, logging to stderr, timing and memory
probes, the machine description, the question list, and writing results as JSON.

Imported by bench/speed.py, bench/backends.py and their section modules; not a script.
Importing it keeps third-party libraries offline and quiet, so import it before qa's models.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

from qa.config import quiet_third_party

quiet_third_party()

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "fixtures" / "seed_questions.json"
XQUAD = ROOT.parent / "shared" / "bench" / "xquad"


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


def loadavg() -> list[float]:
    """The 1/5/15-minute load averages, rounded: the cores are shared with other jobs."""
    return [round(x, 2) for x in os.getloadavg()]


def pct(values: list[float]) -> dict:
    """p50/p95 in milliseconds of values in seconds."""
    if not values:
        return {"p50": None, "p95": None}
    p50, p95 = np.percentile(np.asarray(values) * 1000, [50, 95])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2)}


def source_hash() -> str:
    """Hash of qa/**/*.py, stored at start and end: the code may change under a long run."""
    import hashlib

    h = hashlib.sha256()
    qa = ROOT / "qa"
    for p in sorted(qa.rglob("*.py")):
        h.update(p.relative_to(qa).as_posix().encode() + p.read_bytes())
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


def save(result: dict, path: Path) -> None:
    """Every number of a run, rewritten after each section so a crash keeps what was measured."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))


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
