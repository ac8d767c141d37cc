"""`qa eval`: SQuAD-format benchmark of retrieval and answers, through the same code as
`qa build` and `qa ask`.

Every paragraph becomes an article in a temporary corpus; parallel files (one per language)
are paired by question id, so a question's gold paragraph is either language version. Cells:
each question language over the mixed corpus, and cross-lingual (EN questions over Russian
paragraphs only, RU questions over English only). Gold paragraphs can also be withheld to
measure how often the reader abstains when the answer is not there (calibration).
"""

from __future__ import annotations

import json
import re
import string
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from qa import pipeline
from qa.config import Settings
from qa.errors import QAError
from qa.ingest import lang as langmod
from qa.read import spans

_PUNCT = set(string.punctuation) | set("«»„“”‘’—–…№")


def normalize(s: str) -> str:
    """SQuAD v1.1 answer normalization, extended for Russian (ё->е, «»„“ quotes, dashes)."""
    s = s.lower().replace("ё", "е")
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def f1(pred: str, gold: str) -> float:
    p, g = normalize(pred).split(), normalize(gold).split()
    common = sum(min(p.count(w), g.count(w)) for w in set(p) & set(g))
    if not p or not g or common == 0:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class Question:
    qid: str
    lang: str
    text: str
    story: str  # paragraph id shared by the language versions
    golds: tuple[str, ...]  # gold answers in every language version


def load_squad(files: list[Path]) -> tuple[dict[str, dict[str, str]], list[Question]]:
    """({story: {lang: paragraph}}, questions). Stories are paired across files by the
    question ids they hold, so parallel files need not list paragraphs in the same order."""
    paragraphs: dict[str, dict[str, str]] = defaultdict(dict)
    raw = []  # (qid, lang, question, golds, story)
    story_of_qid: dict[str, str] = {}
    for path in files:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))["data"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise QAError(f"{path}: not a SQuAD v1.1 JSON file ({e})") from None
        sample = " ".join(p["context"] for a in data[:3] for p in a["paragraphs"][:2])
        flang = langmod.detect(sample)
        for ai, art in enumerate(data):
            for pi, para in enumerate(art["paragraphs"]):
                qids = [qa["id"] for qa in para["qas"]]
                story = next((story_of_qid[q] for q in qids if q in story_of_qid), None)
                story = story or f"{Path(path).stem.split('.')[0]}-{ai:03d}-{pi:02d}"
                for q in qids:
                    story_of_qid.setdefault(q, story)
                paragraphs[story][flang] = para["context"].lstrip("\ufeff").strip()
                for qa in para["qas"]:
                    golds = tuple(a["text"] for a in qa["answers"])
                    raw.append((qa["id"], flang, qa["question"].strip(), golds, story))
    golds_by_qid: dict[str, list[str]] = defaultdict(list)
    for qid, _, _, golds, _ in raw:
        golds_by_qid[qid].extend(golds)
    questions = [
        Question(qid, lg, q, story, tuple(golds_by_qid[qid])) for qid, lg, q, _, story in raw
    ]
    return dict(paragraphs), questions


def write_corpus(paragraphs: dict[str, dict[str, str]], root: Path) -> None:
    """One article per paragraph and language, unchanged, with a sidecar naming its language."""
    for story, versions in sorted(paragraphs.items()):
        for lg, text in versions.items():
            d = root / lg
            d.mkdir(parents=True, exist_ok=True)
            body = d / f"{story}.txt"
            if not body.exists() or body.read_text(encoding="utf-8") != text + "\n":
                body.write_text(text + "\n", encoding="utf-8")
            side = {"language": lg, "outlet": "XQuAD"}
            (d / f"{story}.json").write_text(json.dumps(side), encoding="utf-8")


def split_of(article: int) -> str:
    """Which part of a SQuAD file an article (its position in the file) belongs to, for the
    trained reader: "train" trains it, "tune" chooses how it is combined with the typed
    extractor, "heldout" is only scored. On the XQuAD dev split that is 14 / 4 / 6 articles
    (401 / 81 / 130 questions per language)."""
    if article % 4 == 3:
        return "heldout"
    return "tune" if article in (1, 9, 13, 17) else "train"


def in_split(questions: list[Question], split: str | None) -> list[Question]:
    """The questions of articles in ``split`` (None: all). A story id ends in its article's
    position in the file and the paragraph's: "xquad-dev-007-02"."""
    if not split:
        return questions
    return [q for q in questions if split_of(int(q.story.rsplit("-", 2)[1])) == split]


def story_of(path: str) -> str:
    return Path(path).stem


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
    from qa.ingest import corpus as corpusmod

    threshold = pipe.settings.min_score
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
        withheld = frozenset(corpusmod.article_id(f"{lg}/{q.story}.txt") for lg in ("en", "ru"))
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
        root = Path(workdir or tmp)
        # On postgres the benchmark gets its own schema, never the user's index.
        s = settings.with_(
            corpus=root / "corpus", index=root / "index", pg_schema=f"{settings.pg_schema}_eval"
        )
        write_corpus(paragraphs, s.corpus)
        report = pipeline.build(s)
        log(
            f"indexed {report.as_dict()['added'] + report.unchanged} paragraphs "
            f"in {report.seconds:.0f}s; asking {len(questions)} questions"
        )
        pipe = pipeline.Pipeline(s)
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
            "min_score": settings.min_score,
            "dense_weight": settings.dense_weight,
            "lexical_weight": settings.lexical_weight,
            "rrf_k": settings.rrf_k,
            "chunk_sentences": settings.chunk_sentences,
        },
        "summary": summarize(rows),
        "calibration": calibration(rows),
        "rows": rows,
    }


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
        f"{'EM':>7}{'F1':>7}{'evid':>7}{'abst':>7}{'F1@abst':>9}"
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
        )
    for key, m in s.items():
        cell, lg, qtype = key.split("|")
        if cell == "withheld" and qtype == "all":
            lines.append(f"gold paragraph withheld, {lg} questions: abstained {m['abstain']:.3f}")
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
