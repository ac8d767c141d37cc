"""Fit the hybrid reader's choices and confidence on the "tune" articles of the XQuAD dev split
(the reader never trained on them; "heldout" is never looked at here).

For every tune question (EN and RU; mixed corpus, the other language only, and the mixed
corpus with the gold paragraph withheld) it records every sentence the span model read, with
its span and the features of qa.read.hybrid.features, for each answer-length limit tried. Then,
offline: the rank rule (margin + w x sentence score) and the limit with the best F1; a logistic
confidence of "this answer is right" (F1 >= 0.5; withheld questions are never right), its
calibration error, the lowest threshold whose answers are >= 85% right on tune, and the one
that serves a user best if a wrong answer costs twice what a right one is worth.

    .venv/bin/python bench/reader_confidence.py ../shared/bench/xquad/xquad-dev.en.json \\
        ../shared/bench/xquad/xquad-dev.ru.json --workdir /tmp/evalwd [--delta FILE]

Prints the ReaderParams values to paste (span_sentence, short_answer, span_conf) and the
curve the default threshold (ReaderParams.threshold) is read from.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import calibrate  # bench/calibrate.py, beside this file
import numpy as np

from qa.config import quiet_third_party
from qa.eval import squad as evaluate
from qa.read import hybrid, span_model
from qa.read import typed as reader

WEIGHTS = (0.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
LIMITS = (30, 16, 10)
TARGET = 0.85
COST = 2.0  # "right, or silent": a wrong answer costs twice what a right one is worth


def collect(pipe, questions, limit: int, sentences: int) -> list[dict]:
    p = dataclasses.replace(reader.ReaderParams(), short_answer=limit, read=sentences)
    rows = []
    for q in questions:
        query = pipe.query(q.text)
        for cell, langs, exclude in calibrate.runs(q):
            hits = pipe.retrieve(query, 20, langs, exclude=exclude)
            qtype, found = hybrid.span_choices(pipe.index, query, hits, pipe.span_model, p)
            choices = []
            for c in found:
                text = hybrid._text(c)
                f1 = max(evaluate.f1(text, g) for g in q.golds) if cell != "withheld" else 0.0
                feats = hybrid.features(query, c, found)
                choices.append({"text": text, "f1": f1, "sscore": c.scored.score, "x": feats})
            rows.append({"qid": q.qid, "lang": q.lang, "cell": cell, "qtype": qtype, "c": choices})
    return rows


def pick(row: dict, w: float) -> dict | None:
    return max(row["c"], key=lambda c: c["x"][0] + w * c["sscore"], default=None)


def f1_of(rows, w) -> dict:
    out = {}
    for cell in ("mixed", "cross"):
        for lg in ("en", "ru"):
            rs = [r for r in rows if r["cell"] == cell and r["lang"] == lg]
            got = [pick(r, w) for r in rs]
            out[f"{cell} {lg}"] = round(float(np.mean([g["f1"] if g else 0 for g in got])), 3)
    return out


def fit(rows, w):
    """(coefficients, per-row (cell, lang, probability, right)) of the logistic confidence."""
    X, y, meta = [], [], []
    for r in rows:
        g = pick(r, w)
        if g:
            X.append(g["x"])
            y.append(int(g["f1"] >= 0.5))
            meta.append((r["cell"], r["lang"]))
    coef, prob = calibrate.fit(np.array(X), np.array(y), digits=3, max_iter=5000)
    return coef, [(c, lg, p, t) for (c, lg), p, t in zip(meta, prob, y)]


def report(scored) -> dict:
    answerable = [(p, t) for c, _, p, t in scored if c != "withheld"]
    withheld = [p for c, _, p, _ in scored if c == "withheld"]
    # Expected calibration error over 10 equal-width bins, answerable and withheld together.
    probs = np.array([p for _, _, p, _ in scored])
    truth = np.array([t for *_, t in scored])
    bins = np.minimum((probs * 10).astype(int), 9)
    ece = sum(
        abs(probs[bins == b].mean() - truth[bins == b].mean()) * (bins == b).mean()
        for b in range(10)
        if (bins == b).any()
    )
    curve, chosen, useful = [], None, (0.0, None)
    for t in [round(0.05 * i, 2) for i in range(1, 20)]:
        given = [ok for p, ok in answerable if p >= t]
        prec = float(np.mean(given)) if given else 1.0
        curve.append(
            {
                "t": t,
                "answered": round(len(given) / len(answerable), 3),
                "precision": round(prec, 3),
                "withheld_declined": round(float(np.mean([p < t for p in withheld])), 3),
            }
        )
        if chosen is None and prec >= TARGET:
            chosen = t
        # A right answer is worth 1 to the user, a wrong one costs COST, "no answer" 0.
        value = sum(1.0 if ok else -COST for ok in given) / len(answerable)
        if value > useful[0]:
            useful = (round(value, 4), t)
    return {
        "ece": round(float(ece), 4),
        "threshold_for_target": chosen,
        "threshold_for_value": useful[1],
        "value": useful[0],
        "curve": curve,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--delta", type=Path, default=span_model.DELTA)
    ap.add_argument("--rows", type=Path, help="reuse (or save) the collected rows (JSON)")
    ap.add_argument("--limits", type=int, nargs="+", default=LIMITS, help="answer limits to try")
    ap.add_argument(
        "--sentences",
        type=int,
        default=reader.ReaderParams().read,
        help="sentences the span model reads per question",
    )
    args = ap.parse_args()
    quiet_third_party()
    if args.rows and args.rows.exists():
        by_limit = {int(k): v for k, v in json.loads(args.rows.read_text()).items()}
    else:
        pipe, questions = calibrate.xquad_pipeline(args.files, args.workdir)
        s = pipe.settings
        pipe.span_model = span_model.SpanModel(s.model_cache, args.delta, threads=s.threads)
        tune = evaluate.in_split(questions, "tune")
        by_limit = {n: collect(pipe, tune, n, args.sentences) for n in args.limits}
        if args.rows:
            args.rows.write_text(json.dumps(by_limit, ensure_ascii=False))
    grid = {f"limit {n} w {w:g}": f1_of(rows, w) for n, rows in by_limit.items() for w in WEIGHTS}
    print(json.dumps(grid, indent=1))
    best = max(grid, key=lambda k: sum(grid[k].values()))
    n, w = int(best.split()[1]), float(best.split()[3])
    coef, scored = fit(by_limit[n], w)
    print(json.dumps({"best": best, "span_conf": coef, **report(scored)}, indent=1))


if __name__ == "__main__":
    main()
