"""`qa eval`: the benchmark of retrieval and answers on SQuAD-format files (qa.eval.squad),
through the same code as `qa build` and `qa ask`.

Cells: each question language over the mixed corpus, and cross-lingual (EN questions over
Russian paragraphs only, RU questions over English only). Gold paragraphs can also be withheld
to measure how often the reader abstains when the answer is not there (calibration).
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

from qa import pipeline
from qa.config import Settings
from qa.eval import curves
from qa.eval.squad import (
    Question,
    article_ids,
    f1,
    in_split,
    load_squad,
    normalize,
    story_of,
    write_corpus,
)
from qa.read import spans

# The reader answers every question; the threshold is applied afterwards, so one run gives
# both the answers at the default threshold and the whole calibration curve.
NEVER_ABSTAIN = -1.0
CELLS = {"mixed": None, "en->ru": ("ru",), "ru->en": ("en",)}
THRESHOLDS = [round(0.05 * i, 2) for i in range(0, 21)]


def _ranks(pipe, hits) -> list[str]:
    order: list[str] = []
    for h in hits:
        for aid in (h.chunk.article_id, *h.also_in):
            story = story_of(pipe.index.articles[aid].path)
            if story not in order:
                order.append(story)
    return order


def _answer_row(q: Question, ans, threshold: float) -> dict:
    """EM, F1 and evidence of the reader's pick as if it always answered (comparable with
    SQuAD-style readers, which never abstain), plus F1 counting abstentions as 0."""
    raw = ans.text
    sent = normalize(ans.sentence.text) if ans.sentence is not None else ""
    f1_raw = max((f1(raw, g) for g in q.golds), default=0.0) if raw is not None else 0.0
    answered = raw is not None and ans.score >= threshold
    return {
        "conf": ans.score,
        "raw_f1": f1_raw,
        "answered": answered,
        "em": float(raw is not None and any(normalize(raw) == normalize(g) for g in q.golds)),
        "f1": f1_raw,
        "f1_abstain": f1_raw if answered else 0.0,
        "evidence": float(bool(sent) and any(normalize(g) in sent for g in q.golds)),
    }


def evaluate_questions(pipe, questions: list[Question], progress=None) -> list[dict]:
    """One row per (cell, question) with its retrieval rank and answer scores."""
    threshold = pipe.threshold
    rows = []
    for q in questions:
        query = pipe.query(q.text)
        qtype = spans.question_type(q.text, query.lang)
        for cell, langs in CELLS.items():
            if cell != "mixed" and (langs[0] == q.lang or cell[:2] != q.lang):
                continue
            hits = pipe.retrieve(query, 20, langs)
            order = _ranks(pipe, hits)
            rank = order.index(q.story) + 1 if q.story in order else None
            ans = pipe.read(query, hits, min_score=NEVER_ABSTAIN)
            rows.append(
                {
                    "cell": cell,
                    "qid": q.qid,
                    "lang": q.lang,
                    "qtype": qtype,
                    "rank": rank,
                    **_answer_row(q, ans, threshold),
                }
            )
        withheld = article_ids(q.story)
        ans = pipe.read(
            query, pipe.retrieve(query, 20, None, exclude=withheld), min_score=NEVER_ABSTAIN
        )
        rows.append(
            {
                "cell": "withheld",
                "qid": q.qid,
                "lang": q.lang,
                "qtype": qtype,
                "rank": None,
                "conf": ans.score,
                "answered": ans.score >= threshold,
            }
        )
        if progress:
            progress()
    return rows


def _mean(xs) -> float:
    xs = list(xs)
    return round(sum(xs) / len(xs), 4) if xs else 0.0


def summarize(rows: list[dict]) -> dict:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[f"{r['cell']}|{r['lang']}|all"].append(r)
        groups[f"{r['cell']}|{r['lang']}|{r['qtype']}"].append(r)
    out = {}
    for key, rs in sorted(groups.items()):
        if rs[0]["cell"] == "withheld":
            out[key] = {"n": len(rs), "abstain": _mean(not r["answered"] for r in rs)}
            continue
        rr = [r["rank"] for r in rs]
        given = [r for r in rs if r["answered"]]
        out[key] = {
            "n": len(rs),
            "R@1": _mean(r is not None and r <= 1 for r in rr),
            "R@5": _mean(r is not None and r <= 5 for r in rr),
            "R@20": _mean(r is not None and r <= 20 for r in rr),
            "MRR": _mean(1 / r if r else 0 for r in rr),
            "EM": _mean(r["em"] for r in rs),
            "F1": _mean(r["f1"] for r in rs),
            "evidence": _mean(r["evidence"] for r in rs),
            "abstain": _mean(not r["answered"] for r in rs),
            "F1_with_abstain": _mean(r["f1_abstain"] for r in rs),
            "answered": _mean(r["answered"] for r in rs),
            # of the answers given (None when none is): what a user sees of the threshold
            "precision": _mean(curves.right(r) for r in given) if given else None,
            "precision_at_50": curves.precision_at(rs, 0.5),
        }
    return out


def calibration(rows: list[dict]) -> list[dict]:
    """Per threshold: answerable questions answered (and their F1), withheld ones abstained."""
    mixed = [r for r in rows if r["cell"] == "mixed"]
    held = [r for r in rows if r["cell"] == "withheld"]
    return [
        {
            "threshold": t,
            "answered": _mean(r["conf"] >= t for r in mixed),
            "F1": _mean(r["raw_f1"] if r["conf"] >= t else 0.0 for r in mixed),
            "withheld_abstain": _mean(r["conf"] < t for r in held),
        }
        for t in THRESHOLDS
    ]


def run(
    files: list[Path],
    settings: Settings,
    workdir: Path | None = None,
    limit: int | None = None,
    log=print,
    split: str | None = None,
) -> dict:
    """Build an index of the files' paragraphs and score every question (of the articles in
    ``split``, if given: all paragraphs are indexed either way). Deterministic."""
    paragraphs, questions = load_squad(files)
    questions = in_split(questions, split)
    if limit:
        questions = questions[:limit]
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        pipe, report = bench_pipeline(paragraphs, Path(workdir or tmp), settings)
        log(
            f"indexed {report.as_dict()['added'] + report.unchanged} paragraphs "
            f"in {report.seconds:.0f}s; asking {len(questions)} questions"
        )
        threshold = pipe.threshold
        bar = _bar(len(questions), settings.quiet)
        rows = evaluate_questions(pipe, questions, bar.update if bar else None)
        if bar:
            bar.close()
    return {
        "files": [str(f) for f in files],
        "questions": len(questions),
        "settings": {
            "split": split,
            "reader": settings.reader,
            "min_score": threshold,
            "dense_weight": settings.dense_weight,
            "lexical_weight": settings.lexical_weight,
            "rrf_k": settings.rrf_k,
            "chunk_sentences": settings.chunk_sentences,
        },
        "summary": summarize(rows),
        "calibration": calibration(rows),
        "precision_coverage": curves.table(rows),
        "rows": rows,
    }


def bench_pipeline(paragraphs: dict[str, dict[str, str]], root: Path, settings: Settings):
    """(a Pipeline over an index of ``paragraphs`` under ``root``, built or brought up to date,
    the build report): what `qa eval`, `qa train-reader` and the calibration benches read. On
    postgres the benchmark gets its own schema, never the user's index."""
    s = settings.with_(
        corpus=root / "corpus", index=root / "index", pg_schema=f"{settings.pg_schema}_eval"
    )
    write_corpus(paragraphs, s.corpus)
    report = pipeline.build(s)
    return pipeline.Pipeline(s), report


def _bar(total: int, quiet: bool):
    if quiet:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="questions", unit="q", file=__import__("sys").stderr)


def table(result: dict) -> str:
    """The summary as a plain-text table (one row per cell and question language)."""
    s = result["summary"]
    head = (
        f"{'cell':<9}{'lang':<5}{'n':>5}{'R@1':>7}{'R@5':>7}{'R@20':>7}{'MRR':>7}"
        f"{'EM':>7}{'F1':>7}{'evid':>7}{'abst':>7}{'F1@abst':>9}{'prec':>7}{'p@50%':>7}"
    )
    lines = [head]
    for key, m in s.items():
        cell, lg, qtype = key.split("|")
        if qtype != "all" or cell == "withheld":
            continue
        lines.append(
            f"{cell:<9}{lg:<5}{m['n']:>5}{m['R@1']:>7.3f}{m['R@5']:>7.3f}"
            f"{m['R@20']:>7.3f}{m['MRR']:>7.3f}{m['EM']:>7.3f}{m['F1']:>7.3f}"
            f"{m['evidence']:>7.3f}{m['abstain']:>7.3f}{m['F1_with_abstain']:>9.3f}"
            f"{m['precision'] if m['precision'] is not None else 1:>7.3f}{m['precision_at_50']:>7.3f}"
        )
    for key, m in s.items():
        cell, lg, qtype = key.split("|")
        if cell == "withheld" and qtype == "all":
            lines.append(f"gold paragraph withheld, {lg} questions: abstained {m['abstain']:.3f}")
    lines.append("")
    lines += curves.lines(result["rows"])
    lines.append("")
    lines.append(f"{'by type (mixed)':<22}{'n':>5}{'EM':>7}{'F1':>7}{'evid':>7}{'R@1':>7}")
    for key, m in s.items():
        cell, lg, qtype = key.split("|")
        if cell == "mixed" and qtype != "all":
            lines.append(
                f"{lg + ' ' + qtype:<22}{m['n']:>5}{m['EM']:>7.3f}{m['F1']:>7.3f}"
                f"{m['evidence']:>7.3f}{m['R@1']:>7.3f}"
            )
    return "\n".join(lines)
