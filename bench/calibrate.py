"""Fit the reader's confidence (a logistic model) on a SQuAD-format dev split.

Positives: questions whose chosen evidence sentence holds a gold answer (mixed corpus and
cross-lingual cells). Negatives: the same questions asked with their gold paragraph withheld
(both language versions), where the honest reply is "no answer". Prints the coefficients to
paste into qa.read.typed.ReaderParams.conf and the answered / abstained rates per threshold.

    .venv/bin/python bench/calibrate.py ../shared/bench/xquad/xquad-dev.en.json \
        ../shared/bench/xquad/xquad-dev.ru.json --workdir /tmp/qa-eval
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from qa.config import load_settings, quiet_third_party
from qa.eval import squad as evaluate
from qa.eval.run import bench_pipeline
from qa.read import typed as reader


def runs(q) -> list[tuple[str, tuple[str, ...] | None, frozenset[str]]]:
    """(cell, languages, excluded article ids) to ask a question in: the mixed corpus, the
    other language only, and the mixed corpus without its gold paragraph (both versions)."""
    held = evaluate.article_ids(q.story)
    return [
        ("mixed", None, frozenset()),
        ("cross", ("ru",) if q.lang == "en" else ("en",), frozenset()),
        ("withheld", None, held),
    ]


def xquad_pipeline(files: list[Path], workdir: Path):
    """(a Pipeline over an index of every paragraph of ``files`` in ``workdir``, built or
    brought up to date as `qa eval` does, the files' questions)."""
    paragraphs, questions = evaluate.load_squad(files)
    pipe, _ = bench_pipeline(paragraphs, workdir, load_settings().with_(quiet=True))
    return pipe, questions


def fit(X, y, digits: int, max_iter: int):
    """(intercept + coefficients rounded to ``digits``, fitted probabilities) of a logistic
    model of y on X: the form ReaderParams.conf and .span_conf take."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=max_iter).fit(X, y)
    coef = [round(float(model.intercept_[0]), digits)]
    coef += [round(float(c), digits) for c in model.coef_[0]]
    return coef, model.predict_proba(X)[:, 1]


def collect(pipe, questions):
    X, y, cell = [], [], []
    p = reader.ReaderParams()
    for q in questions:
        query = pipe.query(q.text)
        for name, langs, exclude in runs(q):
            hits = pipe.retrieve(query, 20, langs, exclude=exclude)
            _, choice = reader.choose(pipe.index, query, hits, p)
            if choice is None or choice.span is None:
                continue
            sent = evaluate.normalize(choice.scored.sentence.text)
            good = any(evaluate.normalize(g) in sent for g in q.golds)
            X.append(reader.features(query, choice))
            y.append(int(good and name != "withheld"))
            cell.append(name)
    return np.array(X), np.array(y), np.array(cell)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--workdir", type=Path, required=True)
    args = ap.parse_args()
    quiet_third_party()
    pipe, questions = xquad_pipeline(args.files, args.workdir)
    X, y, cell = collect(pipe, questions)
    coef, prob = fit(X, y, digits=2, max_iter=1000)
    rows = []
    for t in [round(0.05 * i, 2) for i in range(1, 20)]:
        rows.append(
            {
                "threshold": t,
                **{
                    f"answered_{c}": round(float((prob[cell == c] >= t).mean()), 3)
                    for c in ("mixed", "cross", "withheld")
                },
                "precision": round(float(y[prob >= t].mean()) if (prob >= t).any() else 1, 3),
            }
        )
    print(
        json.dumps(
            {
                "conf": coef,
                "features": ["cos", "overlap", "same_lang", "fit", "context"],
                "curve": rows,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
