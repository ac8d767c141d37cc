"""The span reader alone on the held-out XQuAD articles: F1 given the sentence that holds the
answer and given the whole paragraph, per question and passage language, and how often its
"no answer" score wins on a window without the answer (qa.read.train.score).

    .venv/bin/python bench/reader_alone.py ../shared/bench/xquad/xquad-dev.en.json \\
        ../shared/bench/xquad/xquad-dev.ru.json [--delta qa/models/reader-delta.safetensors]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.config import load_settings, quiet_third_party
from qa.embed.embedder import Embedder
from qa.read import span_model
from qa.read import train as train_reader


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("en", type=Path)
    ap.add_argument("ru", type=Path)
    ap.add_argument("--delta", type=Path, default=span_model.DELTA)
    ap.add_argument("--split", default="heldout")
    args = ap.parse_args()
    quiet_third_party()
    s = load_settings()
    emb = Embedder(s.model_cache, threads=s.threads)
    model = span_model.SpanModel(s.model_cache, args.delta, embeddings=emb.embeddings)
    res = train_reader.score(model, {"en": args.en, "ru": args.ru}, args.split)
    print(json.dumps({"delta": str(args.delta), "meta": model.meta(), "split": args.split} | res))


if __name__ == "__main__":
    main()
