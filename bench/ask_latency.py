"""Warm `qa ask` latency per reader: the same Pipeline code, model and index loaded once, then
every question of tests/fixtures/seed_questions.json asked in turn (3 rounds), timed end to end
(embedding, retrieval, reader). The corpus is ./corpus, built into a temporary index.

    .venv/bin/python bench/ask_latency.py            # typed, span and hybrid readers
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from qa import pipeline
from qa.config import load_settings, quiet_third_party
from qa.embed.embedder import Embedder

ROOT = Path(__file__).resolve().parents[1]


def main():
    quiet_third_party()
    questions = [
        q["question"]
        for q in json.loads((ROOT / "tests/fixtures/seed_questions.json").read_text())["questions"]
    ]
    with tempfile.TemporaryDirectory() as tmp:
        s = load_settings().with_(corpus=ROOT / "corpus", index=Path(tmp) / "index", quiet=True)
        emb = Embedder(s.model_cache, s.batch_size, s.threads)
        pipeline.build(s, embedder=emb)
        out = {}
        for name in ("typed", "span", "hybrid"):
            pipe = pipeline.Pipeline(s.with_(reader=name), embedder=emb)
            pipe.warm_up()
            times = []
            for _ in range(3):
                for q in questions:
                    t0 = time.perf_counter()
                    pipe.ask(q)
                    times.append(1000 * (time.perf_counter() - t0))
            times.sort()
            out[name] = {
                "n": len(times),
                "p50_ms": round(statistics.median(times)),
                "p90_ms": round(times[int(0.9 * len(times))]),
                "max_ms": round(times[-1]),
            }
            print(name, out[name], flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
