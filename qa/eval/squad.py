"""SQuAD-format data for `qa eval` and training: loading parallel files, the SQuAD answer
metrics (normalize, F1), the benchmark corpus, and the train / tune / held-out article split.

Every paragraph becomes an article in a temporary corpus; parallel files (one per language)
are paired by question id, so a question's gold paragraph is either language version.
"""

from __future__ import annotations

import json
import re
import string
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.ingest import lang as langmod

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


def article_ids(story: str) -> frozenset[str]:
    """The ids of both language versions of a story's article in the benchmark corpus
    (write_corpus): what "gold paragraph withheld" leaves out."""
    from qa.ingest import corpus

    return frozenset(corpus.article_id(f"{lg}/{story}.txt") for lg in ("en", "ru"))


def story_of(path: str) -> str:
    return Path(path).stem
