"""How should the trained span reader and the typed extractor be combined? Measured on the
"tune" articles of the XQuAD dev split (never on "heldout", never on "train").

For every tune question (mixed corpus, cross-lingual, and with its gold paragraph withheld) it
records the typed extractor's pick and the span model's best span in each of the top passages,
then scores combination rules offline and fits the combined reader's logistic confidence
(positives: the evidence sentence holds the answer; negatives: gold paragraph withheld).

    .venv/bin/python bench/reader_combine.py ../shared/bench/xquad/xquad-dev.en.json \\
        ../shared/bench/xquad/xquad-dev.ru.json --workdir /tmp/qa-eval8 [--split tune]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import calibrate  # bench/calibrate.py, beside this file
import numpy as np

from qa.config import quiet_third_party
from qa.eval import squad as evaluate
from qa.read import hybrid, span_model
from qa.read import typed as reader
from qa.read.span_model import SpanModel


def _pick(c, snap: bool) -> tuple[str, str]:
    """(answer text, evidence sentence) of a choice; with ``snap`` a span of a fitting kind
    becomes the typed candidate it overlaps (tried; it cost F1, so the reader does not)."""
    s = c.scored.sentence
    span = c.span
    if snap and c.fit >= 0.5:
        span = hybrid._overlapping(s, span.start, span.end) or span
    return s.text[span.start : span.end], s.text


def collect(pipe, model, questions):
    rows = []
    p = reader.ReaderParams()
    for n, q in enumerate(questions):
        query = pipe.query(q.text)
        for cell, langs, exclude in calibrate.runs(q):
            hits = pipe.retrieve(query, 20, langs, exclude=exclude)
            qtype, typed = reader.choices(pipe.index, query, hits, p)
            _, neural = hybrid.span_choices(pipe.index, query, hits, model, p)
            row = {"qid": q.qid, "lang": q.lang, "qtype": qtype, "cell": cell, "golds": q.golds}
            if typed and typed[0].span is not None:
                t = typed[0]
                row["typed"] = {
                    "text": _pick(t, False)[0],
                    "sent": t.scored.sentence.text,
                    "conf": reader.confidence(query, t, p),
                }
            row["neural"] = [
                {
                    "text": _pick(c, False)[0],
                    "snap": _pick(c, True)[0],
                    "sent": c.scored.sentence.text,
                    "margin": c.total,
                    "fit": c.fit,
                    "cos": c.scored.cos,
                    "sscore": c.scored.score,
                    "overlap": c.scored.overlap,
                    "same": float(c.scored.sentence.lang == query.lang),
                }
                for c in neural
            ]
            rows.append(row)
        if n % 20 == 0:
            print(f"{n}/{len(questions)}", flush=True)
    return rows


def _score(text, sent, golds):
    em = float(any(evaluate.normalize(text) == evaluate.normalize(g) for g in golds))
    f1 = max(evaluate.f1(text, g) for g in golds)
    ev = float(any(evaluate.normalize(g) in evaluate.normalize(sent) for g in golds))
    return em, f1, ev


RULES = {"typed": None}
for w_s in (0.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 1e6):
    for w_fit in (0.0, 1.0, 2.0):
        for snap in (False, True):
            RULES[f"s{w_s:g}-f{w_fit:g}{'-snap' if snap else ''}"] = (w_fit, w_s, snap)


def pick(row, rule):
    if rule is None:
        t = row.get("typed")
        return (t["text"], t["sent"], None) if t else None
    w_fit, w_cos, snap = rule
    if not row["neural"]:
        return None
    best = max(row["neural"], key=lambda c: c["margin"] + w_fit * c["fit"] + w_cos * c["sscore"])
    return (best["snap"] if snap else best["text"]), best["sent"], best


def table(rows):
    out = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["cell"] == "withheld":
            continue
        for name, rule in RULES.items():
            got = pick(r, rule)
            em, f1, ev = _score(got[0], got[1], r["golds"]) if got else (0.0, 0.0, 0.0)
            for key in (f"{r['cell']} {r['lang']}", f"mixed {r['lang']} {r['qtype']}"):
                if key.startswith(r["cell"]):
                    out[key][name].append((em, f1, ev))
    res = {}
    for key, per in sorted(out.items()):
        res[key] = {
            name: [round(float(np.mean([x[i] for x in v])), 3) for i in range(3)] + [len(v)]
            for name, v in per.items()
        }
    return res


def fit_confidence(rows, rule):
    X, y, cells = [], [], []
    for r in rows:
        got = pick(r, rule)
        if not got:
            continue
        c = got[2]
        X.append([c["margin"], c["cos"], c["overlap"], c["same"], c["fit"]])
        good = _score(got[0], got[1], r["golds"])[2] if r["cell"] != "withheld" else 0
        y.append(int(good))
        cells.append(r["cell"])
    X, y, cells = np.array(X), np.array(y), np.array(cells)
    coef, prob = calibrate.fit(X, y, digits=3, max_iter=2000)
    curve = []
    for t in [round(0.05 * i, 2) for i in range(1, 20)]:
        curve.append(
            {"t": t}
            | {c: round(float((prob[cells == c] >= t).mean()), 3) for c in ("mixed", "cross")}
            | {"withheld_abstain": round(float((prob[cells == "withheld"] < t).mean()), 3)}
        )
    return coef, curve


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--split", default="tune")
    ap.add_argument("--rows", type=Path, help="reuse rows collected earlier (JSON)")
    ap.add_argument("--rule", default="s100-f0", help="rule to fit confidence for")
    ap.add_argument("--delta", type=Path, default=None, help="a reader other than the shipped")
    args = ap.parse_args()
    quiet_third_party()
    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text())
    else:
        pipe, questions = calibrate.xquad_pipeline(args.files, args.workdir)
        s = pipe.settings
        model = SpanModel(
            s.model_cache, args.delta or span_model.DELTA, embeddings=pipe.embedder.embeddings
        )
        rows = collect(pipe, model, evaluate.in_split(questions, args.split))
        if args.rows:
            args.rows.write_text(json.dumps(rows, ensure_ascii=False))
    print(json.dumps(table(rows), indent=1))
    coef, curve = fit_confidence(rows, RULES[args.rule])
    print(json.dumps({"rule": args.rule, "conf": coef, "curve": curve}, indent=1))


if __name__ == "__main__":
    main()
